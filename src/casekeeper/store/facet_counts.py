"""Facet counts gathered from any source (tally sums, a full or a weighted sample) into a
``FilterValues``, ordered and capped the same way whatever the source."""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.query import FilterValues
from casekeeper.store import tags
from casekeeper.store.case_rows import CATEGORY_OF, PRIORITY_OF, STATUS_OF

MAX_BUCKETS = 1000  # keys per tag facet, values per key, assignees


class Facets:
    """Counts (weighted when sampled) per facet value."""

    def __init__(self) -> None:
        self.statuses: defaultdict[int, float] = defaultdict(float)
        self.priorities: defaultdict[int, float] = defaultdict(float)
        self.categories: defaultdict[int, float] = defaultdict(float)
        self.assigned: defaultdict[str, float] = defaultdict(float)
        self.unassigned = 0.0
        self.tags: dict[str, defaultdict[str, defaultdict[str, float]]] = {
            kind: defaultdict(lambda: defaultdict(float))
            for kind in (tags.GROUPING, tags.LABEL, tags.ALERT_ID)
        }

    def case(
        self, status: int, priority: int, category: int, assignee: str | None, n: float
    ) -> None:
        """``n`` cases with these fields (the assignee None when unassigned)."""
        self.statuses[status] += n
        self.priorities[priority] += n
        self.categories[category] += n
        if assignee is None:
            self.unassigned += n
        else:
            self.assigned[assignee] += n

    def tag(self, kind: str, key: str, value: str, n: float) -> None:
        self.tags[kind][key][value] += n

    def result(self, *, alert_ids: bool, estimated: bool = False, sampled: int = 0) -> FilterValues:
        matching = _count(sum(self.statuses.values()))
        top = sorted(
            ((who, _count(n)) for who, n in self.assigned.items() if n > 0),
            key=lambda item: (-item[1], item[0]),  # ties by code points, on every database
        )[:MAX_BUCKETS]
        return FilterValues(
            priorities=_enum(self.priorities, PRIORITY_OF),
            categories=_enum(self.categories, CATEGORY_OF),
            statuses=_enum(self.statuses, STATUS_OF),
            groupings=self._tag_facet(tags.GROUPING),
            labels=self._tag_facet(tags.LABEL),
            alert_ids=dict(self._tag_facet(tags.ALERT_ID).get("", {})) if alert_ids else {},
            assignees=dict(top),
            unassigned=_count(self.unassigned),
            estimated=estimated,
            sampled=sampled,
            matching=matching,
        )

    def _tag_facet(self, kind: str) -> dict[str, dict[str, int]]:
        """The first ``MAX_BUCKETS`` keys by code points, each with its ``MAX_BUCKETS`` most
        frequent values (ties by code points): the order the full GROUP BY gave on SQLite and
        on PostgreSQL's C collation."""
        out: dict[str, dict[str, int]] = {}
        for key in sorted(self.tags[kind]):
            counted = [(v, _count(n)) for v, n in self.tags[kind][key].items() if n > 0]
            if not counted:
                continue
            counted.sort(key=lambda item: (-item[1], item[0]))
            out[key] = dict(counted[:MAX_BUCKETS])
            if len(out) >= MAX_BUCKETS:
                break
        return out


def _count(n: float) -> int:
    """A weighted count as a whole number; a value seen at all counts at least once."""
    return 0 if n <= 0 else max(1, round(n))


E = TypeVar("E", CaseStatus, CasePriority, CaseCategory)


def _enum(counts: dict[int, float], of: dict[int, E]) -> dict[E, int]:
    return {of[k]: _count(n) for k, n in sorted(counts.items()) if n > 0}

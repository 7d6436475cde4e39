"""The facet tallies (schema_facets): what each case adds to them, and the write of the
difference when cases come, change or go. CaseRepository calls ``apply`` in the transaction
of every case write, so the tallies are exact whenever a reader sees a commit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import sqlalchemy as sa

from casekeeper.domain.model import Case
from casekeeper.store import driver, tags
from casekeeper.store.schema import case as c
from casekeeper.store.schema import case_tag as t

# The tag kinds with a facet in GetFilterValues.
FACET_KINDS: Final = (tags.GROUPING, tags.LABEL, tags.ALERT_ID)

TagKey = tuple[int, str, str, str, int, int, int, bool]
AssigneeKey = tuple[int, str, int, int, int]
AssigneeTagKey = tuple[int, str, str, str, str, int, int, int]
TotalKey = tuple[int, str, str, str]
Tag = tuple[str, str, str]

_TAG_KEYS: Final = ("space_id", "kind", "key", "value", "status", "priority", "category",
                    "assigned")  # fmt: skip
_ASSIGNEE_KEYS: Final = ("space_id", "assignee", "status", "priority", "category")
_ASSIGNEE_TAG_KEYS: Final = ("space_id", "assignee", "kind", "key", "value", "status",
                             "priority", "category")  # fmt: skip
_TOTAL_KEYS: Final = ("space_id", "kind", "key", "value")


@dataclass
class Deltas:
    """Signed changes to the three tallies."""

    tag: Counter[TagKey] = field(default_factory=Counter)
    assignee: Counter[AssigneeKey] = field(default_factory=Counter)
    assignee_tag: Counter[AssigneeTagKey] = field(default_factory=Counter)
    total: Counter[TotalKey] = field(default_factory=Counter)

    def count(
        self, space_id: int, status: int, priority: int, category: int, assignee: str | None,
        facet_tags: Iterable[Tag], sign: int,
    ) -> None:  # fmt: skip
        """Add (``sign`` 1) or take away (-1) one case with these fields and tags."""
        for kind, key, value in facet_tags:
            row = (space_id, kind, key, value, status, priority, category, assignee is not None)
            self.tag[row] += sign
            self.total[(space_id, kind, key, value)] += sign  # cancels out on a status change
            if assignee is not None:
                fine = (space_id, assignee, kind, key, value, status, priority, category)
                self.assignee_tag[fine] += sign
        if assignee is not None:
            self.assignee[(space_id, assignee, status, priority, category)] += sign

    def case(self, x: Case, sign: int) -> None:
        self.count(x.space_id, int(x.status), int(x.priority.effective), int(x.category),
                   x.assignee, facet_tags(x), sign)  # fmt: skip


def facet_tags(x: Case) -> set[Tag]:
    """The case's tags of the facet kinds, once each (as case_tag holds them)."""
    return {tag for tag in tags.case_tags(x) if tag[0] in FACET_KINDS}


def counted_changed(old: Case, new: Case) -> bool:
    """Whether replacing ``old`` by ``new`` moves the case between tally rows."""
    return (
        old.status != new.status
        or old.priority.effective != new.priority.effective
        or old.category != new.category
        or old.assignee != new.assignee
        or ((old.indicators != new.indicators) and facet_tags(old) != facet_tags(new))
    )


def changes(pairs: Sequence[tuple[Case, Case]]) -> Deltas:
    d = Deltas()
    for old, new in pairs:
        if counted_changed(old, new):
            d.case(old, -1)
            d.case(new, 1)
    return d


def added(cases: Iterable[Case]) -> Deltas:
    d = Deltas()
    for x in cases:
        d.case(x, 1)
    return d


def deleting(conn: sa.Connection, space_id: int, rows: Sequence[Sequence[Any]]) -> Deltas:
    """What the cases of ``rows`` (id, status, priority, category, assignee), about to be
    deleted, take away: their facet tags are read before the delete cascades them."""
    d = Deltas()
    ids = [r[0] for r in rows]
    found: dict[str, list[Tag]] = {i: [] for i in ids}
    for i in range(0, len(ids), 500):
        stmt = sa.select(t.c.case_id, t.c.kind, t.c.key, t.c.value).where(
            t.c.case_id.in_(ids[i : i + 500]), t.c.kind.in_(FACET_KINDS)
        )
        for case_id, kind, key, value in conn.execute(stmt):
            found[case_id].append((kind, key, value))
    for r in rows:
        d.count(space_id, int(r[1]), int(r[2]), int(r[3]), r[4], found[r[0]], -1)
    return d


def apply(conn: sa.Connection, d: Deltas) -> None:
    """Write the non-zero changes, each table in key order (two writers never wait on each
    other's rows crosswise), tables always in the same order."""
    mark = driver.mark(conn)
    tables: tuple[tuple[str, tuple[str, ...], Counter[TagKey] | Counter[AssigneeKey]
                        | Counter[AssigneeTagKey] | Counter[TotalKey]], ...] = (
        ("case_tag_tally", _TAG_KEYS, d.tag),
        ("case_assignee_tally", _ASSIGNEE_KEYS, d.assignee),
        ("case_assignee_tag_tally", _ASSIGNEE_TAG_KEYS, d.assignee_tag),
        ("case_tag_total", _TOTAL_KEYS, d.total),
    )  # fmt: skip
    for table, keys, delta in tables:
        rows = [(*key, n) for key, n in sorted(delta.items()) if n]
        if rows:
            driver.executemany(conn, driver.upsert_count_sql(mark, table, keys), rows)


# Key of a case row for ``deleting``.
DELETE_COLUMNS: Final = (c.c.id, c.c.status, c.c.priority, c.c.category, c.c.assignee)

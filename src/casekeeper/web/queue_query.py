"""The queue's URL ↔ a case query. Every filter is a query parameter, so a view is a link: it
can be bookmarked, shared, saved by name, and reloaded by the live updates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlencode

from casekeeper.domain.enums import (
    CaseCategory,
    CasePriority,
    CaseStatus,
    DateRangeMode,
    OrderDirection,
    OrderField,
)
from casekeeper.domain.errors import invalid
from casekeeper.domain.query import (
    CaseFilters,
    CaseOrder,
    CaseQuery,
    DateRange,
    FilterGroup,
    PageRequest,
)

PAGE_SIZE: Final = 50
STATUSES: Final = {s.name.lower().replace("_", "-"): s for s in CaseStatus if s.value}
OPEN: Final = ("pending-activation", "active", "acknowledged")
PRIORITIES: Final = {p.name: p for p in CasePriority if p.value}
CATEGORIES: Final = {c.name.lower(): c for c in CaseCategory if c.value}
RANGES: Final = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
SORTS: Final = {
    "priority": OrderField.PRIORITY, "created": OrderField.CREATED_AT,
    "updated": OrderField.UPDATED_AT, "status": OrderField.STATUS,
    "category": OrderField.CATEGORY, "duration": OrderField.DURATION,
}  # fmt: skip
# The parameters that choose cases (a saved view keeps these; paging is not part of a view).
FILTER_PARAMS: Final = ("status", "priority", "category", "assignee", "label", "grouping", "q",
                        "range", "sort", "dir")  # fmt: skip


@dataclass(frozen=True, slots=True)
class QueueState:
    """What the queue shows, as the URL said it."""

    statuses: tuple[str, ...] = OPEN
    priorities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()  # user ids, "me", "unassigned"
    labels: tuple[tuple[str, str], ...] = ()
    groupings: tuple[tuple[str, str], ...] = ()
    text: str = ""
    range: str = ""
    sort: str = "priority"
    descending: bool = True
    after: str | None = None
    before: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def params(self, **changes: object) -> list[tuple[str, str]]:
        """This state's query parameters (paging left out), ``changes`` applied."""
        s = {
            "status": self.statuses if self.statuses != OPEN else (),
            "priority": self.priorities, "category": self.categories,
            "assignee": self.assignees,
            "label": tuple(f"{k}={v}" for k, v in self.labels),
            "grouping": tuple(f"{k}={v}" for k, v in self.groupings),
            "q": (self.text,) if self.text else (), "range": (self.range,) if self.range else (),
            "sort": (self.sort,) if self.sort != "priority" else (),
            "dir": ("asc",) if not self.descending else (),
        }  # fmt: skip
        if not self.statuses:
            s["status"] = ("any",)
        for name, value in changes.items():
            s[name] = tuple(value) if isinstance(value, list | tuple) else (str(value),)
        return [(k, v) for k, values in s.items() for v in values if v != ""]

    def url(self, base: str, **changes: object) -> str:
        params = self.params(**changes)
        return base + ("?" + urlencode(params) if params else "")

    def toggled(self, base: str, name: str, value: str) -> str:
        """The URL with ``value`` of ``name`` switched on or off (a facet's link)."""
        current = {"status": self.statuses, "priority": self.priorities,
                   "category": self.categories, "assignee": self.assignees}[name]  # fmt: skip
        values = [v for v in current if v != value]
        if len(values) == len(current):
            values.append(value)
        if name == "status" and not values:
            values = ["any"]
        return self.url(base, **{name: values})

    def pair_toggled(self, base: str, name: str, key: str, value: str) -> str:
        current = self.labels if name == "label" else self.groupings
        pairs = [f"{k}={v}" for k, v in current if (k, v) != (key, value)]
        if len(pairs) == len(current):
            pairs.append(f"{key}={value}")
        return self.url(base, **{name: pairs})


def _pairs(raw: Sequence[str], name: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise invalid(f"a {name} filter is key=value (got {item[:100]!r})", field=name)
        out.append((key.strip(), value.strip()))
    return tuple(out)


def _known(raw: Sequence[str], names: dict[str, object], field_name: str) -> tuple[str, ...]:
    for value in raw:
        if value not in names:
            choices = ", ".join(names)
            raise invalid(
                f"unknown {field_name} {value[:50]!r}: one of {choices}", field=field_name
            )
    return tuple(dict.fromkeys(raw))


def parse(get: dict[str, list[str]]) -> QueueState:
    """The queue state of the query parameters ``get``; INVALID_ARGUMENT naming the parameter
    for a value the queue does not know."""

    def one(name: str) -> str:
        values = get.get(name) or [""]
        return values[0].strip()

    raw_status = [v for v in get.get("status", []) if v]
    if raw_status == ["any"]:
        statuses: tuple[str, ...] = ()
    elif raw_status:
        statuses = _known(raw_status, dict(STATUSES), "status")
    else:
        statuses = OPEN
    range_ = one("range")
    if range_ and range_ not in RANGES:
        raise invalid(f"unknown range {range_[:20]!r}: one of {', '.join(RANGES)}", field="range")
    sort = one("sort") or "priority"
    if sort not in SORTS:
        raise invalid(f"unknown sort {sort[:20]!r}: one of {', '.join(SORTS)}", field="sort")
    return QueueState(
        statuses=statuses,
        priorities=_known([v.upper() for v in get.get("priority", []) if v], dict(PRIORITIES),
                          "priority"),
        categories=_known([v.lower() for v in get.get("category", []) if v], dict(CATEGORIES),
                          "category"),
        assignees=tuple(dict.fromkeys(v.strip() for v in get.get("assignee", []) if v.strip())),
        labels=_pairs([v for v in get.get("label", []) if v], "label"),
        groupings=_pairs([v for v in get.get("grouping", []) if v], "grouping"),
        text=one("q")[:200],
        range=range_,
        sort=sort,
        descending=one("dir") != "asc",
        after=one("after") or None,
        before=one("before") or None,
    )  # fmt: skip


def _groups(pairs: tuple[tuple[str, str], ...]) -> tuple[FilterGroup, ...]:
    by_key: dict[str, list[str]] = {}
    for key, value in pairs:
        by_key.setdefault(key, []).append(value)
    return tuple(FilterGroup(k, tuple(v)) for k, v in by_key.items())


def filters_of(state: QueueState, me: str, now: int) -> CaseFilters:
    assignees = tuple(me if a == "me" else a for a in state.assignees if a != "unassigned")
    date_range = None
    if state.range:
        # Opened within the range: an index range on creation time. ("Open at some time in
        # it" would walk every long-closed case of a status for a page; docs/WEB.md.)
        date_range = DateRange(now - RANGES[state.range] * 1_000_000, now,
                               DateRangeMode.CREATED_AT)  # fmt: skip
    return CaseFilters(
        statuses=tuple(STATUSES[s] for s in state.statuses),
        priorities=tuple(PRIORITIES[p] for p in state.priorities),
        categories=tuple(CATEGORIES[c] for c in state.categories),
        assignees=assignees,
        include_unassigned="unassigned" in state.assignees,
        labels=_groups(state.labels),
        groupings=_groups(state.groupings),
        text_search=state.text or None,
        date_range=date_range,
    )


def query_of(state: QueueState, me: str, now: int) -> CaseQuery:
    direction = OrderDirection.DESCENDING if state.descending else OrderDirection.ASCENDING
    token = state.before or state.after
    return CaseQuery(
        filters_of(state, me, now),
        CaseOrder(SORTS[state.sort], direction),
        PageRequest(PAGE_SIZE, token, backward=state.before is not None),
    )

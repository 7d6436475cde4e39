"""What an operation on a case produces: the case's next version and its timeline events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from casekeeper.domain.model import Case, Micros, evolve
from casekeeper.domain.timeline import TimelineEvent


@dataclass(frozen=True, slots=True)
class Change:
    case: Case
    events: list[TimelineEvent] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.events)

    @classmethod
    def none(cls, case: Case) -> Change:
        return cls(case, [])


def next_version(case: Case, now: Micros, **changes: Any) -> Case:
    """The case's next version: ``changes``, the update time, and the version bumped. The store
    writes it only over the row version it was made from (optimistic concurrency)."""
    return evolve(case, update_time=now, version=case.version + 1, **changes)

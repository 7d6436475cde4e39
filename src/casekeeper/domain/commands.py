"""What a caller asks of a case, in no dialect's words: every dialect translates its requests
into these, and the lifecycle applies them (``lifecycle.apply``).

A ``CaseChange`` applies several commands to one case at once, all or nothing, optionally only
if the case is still at ``expected_version`` (a caller that read version 3 and sends
``expected_version=3`` gets a conflict if someone changed the case since, rather than
overwriting that change).
"""

from __future__ import annotations

from dataclasses import dataclass

from casekeeper.domain.enums import CasePriority, Severity
from casekeeper.domain.model import Json


@dataclass(frozen=True, slots=True)
class Assign:
    """Make ``user_id`` the one assignee (a dialect with one assignee per case)."""

    user_id: str


@dataclass(frozen=True, slots=True)
class Unassign:
    """Remove every assignee."""


@dataclass(frozen=True, slots=True)
class SetAssignees:
    """Replace the assignees with ``user_ids`` (at most ``MAX_ASSIGNEES``, in this order)."""

    user_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Acknowledge:
    pass


@dataclass(frozen=True, slots=True)
class Unacknowledge:
    pass


@dataclass(frozen=True, slots=True)
class SetOnHold:
    """Put an acknowledged case on hold, or take it off hold."""

    on_hold: bool


@dataclass(frozen=True, slots=True)
class Resolve:
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Close:
    pass


@dataclass(frozen=True, slots=True)
class Reopen:
    """A resolved or closed case becomes active again."""


@dataclass(frozen=True, slots=True)
class SetPriorityOverride:
    priority: CasePriority


@dataclass(frozen=True, slots=True)
class ClearPriorityOverride:
    pass


@dataclass(frozen=True, slots=True)
class Retitle:
    title: str


@dataclass(frozen=True, slots=True)
class SetDescription:
    """``None`` clears the description."""

    text: str | None


@dataclass(frozen=True, slots=True)
class SetResolutionReason:
    reason: str


@dataclass(frozen=True, slots=True)
class SetTags:
    """Replace the tags with ``tags`` (duplicates dropped, first spelling kept)."""

    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AddTags:
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveTags:
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetSeverity:
    severity: Severity


@dataclass(frozen=True, slots=True)
class SetExtension:
    """Store ``value`` as dialect ``namespace``'s own fields of the case (``None`` removes
    them). The domain keeps it and gives it back; it never reads it."""

    namespace: str
    value: Json | None


CaseCommand = (
    Assign
    | Unassign
    | SetAssignees
    | Acknowledge
    | Unacknowledge
    | SetOnHold
    | Resolve
    | Close
    | Reopen
    | SetPriorityOverride
    | ClearPriorityOverride
    | Retitle
    | SetDescription
    | SetResolutionReason
    | SetTags
    | AddTags
    | RemoveTags
    | SetSeverity
    | SetExtension
)
COMMANDS: tuple[type[CaseCommand], ...] = CaseCommand.__args__


@dataclass(frozen=True, slots=True)
class CaseChange:
    """``commands`` applied to the case ``ref`` (a UUID or a readable id), in order, at once."""

    ref: str
    commands: tuple[CaseCommand, ...]
    expected_version: int | None = None

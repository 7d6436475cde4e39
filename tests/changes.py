"""Short forms of the service's two change entry points, for tests that change cases to set
up what they check (``one(container.cases, p, case.id, cmd.Acknowledge())``), and one example
of every command with the permission it needs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CasePriority, Severity
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import MAX_ASSIGNEES, Case
from casekeeper.service.auth import Principal
from casekeeper.service.cases import BulkResult, CaseService, Renderer
from casekeeper.service.permissions import Permission

USERS: Final = [str(uuid.UUID(int=i + 1)) for i in range(MAX_ASSIGNEES + 1)]

# One example of every command, and the permission it must need (written out, not derived).
EXAMPLES: Final[list[tuple[cmd.CaseCommand, Permission]]] = [
    (cmd.Assign(USERS[0]), Permission.CASE_ASSIGN),
    (cmd.Unassign(), Permission.CASE_ASSIGN),
    (cmd.SetAssignees((USERS[0], USERS[1])), Permission.CASE_ASSIGN),
    (cmd.Acknowledge(), Permission.CASE_ACKNOWLEDGE),
    (cmd.Unacknowledge(), Permission.CASE_ACKNOWLEDGE),
    (cmd.SetOnHold(True), Permission.CASE_ACKNOWLEDGE),
    (cmd.Resolve("fixed"), Permission.CASE_CLOSE),
    (cmd.Close(), Permission.CASE_CLOSE),
    (cmd.Reopen(), Permission.CASE_CLOSE),
    (cmd.SetPriorityOverride(CasePriority.P1), Permission.CASE_UPDATE),
    (cmd.ClearPriorityOverride(), Permission.CASE_UPDATE),
    (cmd.Retitle("new title"), Permission.CASE_UPDATE),
    (cmd.SetDescription("what happened"), Permission.CASE_UPDATE),
    (cmd.SetResolutionReason("cause"), Permission.CASE_UPDATE),
    (cmd.SetTags(("a",)), Permission.CASE_UPDATE),
    (cmd.AddTags(("a",)), Permission.CASE_UPDATE),
    (cmd.RemoveTags(("a",)), Permission.CASE_UPDATE),
    (cmd.SetSeverity(Severity.HIGH), Permission.CASE_UPDATE),
    (cmd.SetExtension("kibana", {"owner": "securitySolution"}), Permission.CASE_UPDATE),
]

_BY_OPERATION: dict[Operation, cmd.CaseCommand] = {
    Operation.ACKNOWLEDGE: cmd.Acknowledge(),
    Operation.UNACKNOWLEDGE: cmd.Unacknowledge(),
    Operation.CLOSE: cmd.Close(),
    Operation.RESOLVE: cmd.Resolve(),
    Operation.REOPEN: cmd.Reopen(),
}


def command_for(op: Operation) -> cmd.CaseCommand:
    """The command a caller sends for status operation ``op``."""
    return _BY_OPERATION[op]


def one(
    cases: CaseService,
    p: Principal,
    ref: str,
    *commands: cmd.CaseCommand,
    expected_version: int | None = None,
) -> Case:
    return cases.change(p, CaseChange(ref, commands, expected_version))


def many(
    cases: CaseService,
    p: Principal,
    refs: Sequence[str],
    *commands: cmd.CaseCommand,
    render: Renderer | None = None,
) -> BulkResult:
    return cases.change_many(p, [CaseChange(r, commands) for r in refs], render=render)

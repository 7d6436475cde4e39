"""Short forms of the service's two change entry points, for tests that change cases to set
up what they check (``one(container.cases, p, case.id, cmd.Acknowledge())``)."""

from __future__ import annotations

from collections.abc import Sequence

from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case
from casekeeper.service.auth import Principal
from casekeeper.service.cases import BulkResult, CaseService, Renderer

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

"""Permission names, and the permission each command needs.

The service checks them for every caller (``Principal.require``): a change of several fields
needs each one's permission. Names are the Coralogix specs' spelling (``case:Read``); the
seed's ``CASE:READ`` is accepted case-insensitively.

``OPERATION_PERMISSIONS`` names the permission of each gRPC method (REST routes name the same
operations): the Coralogix dialect checks it before it reads a request, so a key without it is
refused before anything about its request is looked at. Its case entries are derived from the
commands each operation sends, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from casekeeper.domain import commands as cmd

CASES = "/com.coralogixapis.cases.v1.CasesService/"
EVENTS = "/com.coralogixapis.cases.v1.CaseEventsService/"
ADMIN = "/casekeeper.v1.CaseAdminService/"
KEYS = "/casekeeper.v1.ApiKeysService/"


class Permission(StrEnum):
    CASE_READ = "case:Read"
    CASE_UPDATE = "case:Update"
    CASE_ASSIGN = "case:Assign"
    CASE_ACKNOWLEDGE = "case:Acknowledge"
    CASE_CLOSE = "case:Close"
    CASE_COMMENT = "case:Comment"
    CASE_CONFIG_READ = "case-config:Read"
    CASE_CONFIG_UPDATE = "case-config:Update"
    CASE_CREATE = "case:Create"
    API_KEY_MANAGE = "api-key:Manage"


_BY_LOWER: Final = {p.value.lower(): p for p in Permission}


def parse_permission(text: str) -> Permission | None:
    """``case:Read``, ``CASE:READ`` and ``case:read`` all name the same permission."""
    return _BY_LOWER.get(text.strip().lower())


P = Permission

# What each command needs. A test proves every command has an entry.
REQUIRES: Final[dict[type[cmd.CaseCommand], Permission]] = {
    cmd.Assign: P.CASE_ASSIGN,
    cmd.Unassign: P.CASE_ASSIGN,
    cmd.SetAssignees: P.CASE_ASSIGN,
    cmd.Acknowledge: P.CASE_ACKNOWLEDGE,
    cmd.Unacknowledge: P.CASE_ACKNOWLEDGE,
    cmd.SetOnHold: P.CASE_ACKNOWLEDGE,
    cmd.Resolve: P.CASE_CLOSE,
    cmd.Close: P.CASE_CLOSE,
    cmd.Reopen: P.CASE_CLOSE,
    cmd.SetPriorityOverride: P.CASE_UPDATE,
    cmd.ClearPriorityOverride: P.CASE_UPDATE,
    cmd.Retitle: P.CASE_UPDATE,
    cmd.SetDescription: P.CASE_UPDATE,
    cmd.SetResolutionReason: P.CASE_UPDATE,
    cmd.SetTags: P.CASE_UPDATE,
    cmd.AddTags: P.CASE_UPDATE,
    cmd.RemoveTags: P.CASE_UPDATE,
    cmd.SetSeverity: P.CASE_UPDATE,
    cmd.SetExtension: P.CASE_UPDATE,
}


def needed(commands: Iterable[cmd.CaseCommand]) -> tuple[Permission, ...]:
    """The permissions a change of ``commands`` needs, each once, in catalog order."""
    wanted = {REQUIRES[type(c)] for c in commands}
    return tuple(p for p in Permission if p in wanted)


def _needs(*commands: type[cmd.CaseCommand]) -> Permission:
    (one,) = {REQUIRES[c] for c in commands}
    return one


OPERATION_PERMISSIONS: Final[dict[str, Permission]] = {
    CASES + "GetCase": P.CASE_READ,
    CASES + "ListCases": P.CASE_READ,
    CASES + "UpdateCase": _needs(cmd.Retitle, cmd.SetResolutionReason),
    CASES + "SetPriorityOverride": _needs(cmd.SetPriorityOverride),
    CASES + "ClearPriorityOverride": _needs(cmd.ClearPriorityOverride),
    CASES + "AssignCase": _needs(cmd.Assign),
    CASES + "UnassignCase": _needs(cmd.Unassign),
    CASES + "AcknowledgeCase": _needs(cmd.Acknowledge),
    CASES + "UnacknowledgeCase": _needs(cmd.Unacknowledge),
    CASES + "ResolveCase": _needs(cmd.Resolve),
    CASES + "CloseCase": _needs(cmd.Close),
    CASES + "BulkAssign": _needs(cmd.Assign),
    CASES + "BulkUnassign": _needs(cmd.Unassign),
    CASES + "BulkAcknowledge": _needs(cmd.Acknowledge),
    CASES + "BulkResolve": _needs(cmd.Resolve),
    CASES + "BulkClose": _needs(cmd.Close),
    CASES + "BulkSetPriorityOverride": _needs(cmd.SetPriorityOverride),
    CASES + "BulkClearPriorityOverride": _needs(cmd.ClearPriorityOverride),
    CASES + "GetFilterValues": P.CASE_READ,
    CASES + "GetGroupingKeys": P.CASE_READ,
    CASES + "GetCaseDeepLinks": P.CASE_READ,
    CASES + "GetCaseByIndicator": P.CASE_READ,
    EVENTS + "ListEvents": P.CASE_READ,
    EVENTS + "GetEvent": P.CASE_READ,
    EVENTS + "CreateComment": P.CASE_COMMENT,
    EVENTS + "UpdateComment": P.CASE_COMMENT,
    EVENTS + "DeleteComment": P.CASE_COMMENT,
    EVENTS + "SyncExternalCaseEvents": P.CASE_COMMENT,
    ADMIN + "CreateCase": P.CASE_CREATE,
    KEYS + "CreateApiKey": P.API_KEY_MANAGE,
    KEYS + "ListApiKeys": P.API_KEY_MANAGE,
    KEYS + "RevokeApiKey": P.API_KEY_MANAGE,
}

"""Permission names and the one table that maps every operation to the permission it needs.

Operations are named by their gRPC method path; REST routes (and any later dialect) name the
same operation, so a rule is written once. Names are the specs' canonical spelling
(``case:Read``); the seed's ``CASE:READ`` is accepted case-insensitively.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

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

OPERATION_PERMISSIONS: Final[dict[str, Permission]] = {
    CASES + "GetCase": P.CASE_READ,
    CASES + "ListCases": P.CASE_READ,
    CASES + "UpdateCase": P.CASE_UPDATE,
    CASES + "SetPriorityOverride": P.CASE_UPDATE,
    CASES + "ClearPriorityOverride": P.CASE_UPDATE,
    CASES + "AssignCase": P.CASE_ASSIGN,
    CASES + "UnassignCase": P.CASE_ASSIGN,
    CASES + "AcknowledgeCase": P.CASE_ACKNOWLEDGE,
    CASES + "UnacknowledgeCase": P.CASE_ACKNOWLEDGE,
    CASES + "ResolveCase": P.CASE_CLOSE,
    CASES + "CloseCase": P.CASE_CLOSE,
    CASES + "BulkAssign": P.CASE_ASSIGN,
    CASES + "BulkUnassign": P.CASE_ASSIGN,
    CASES + "BulkAcknowledge": P.CASE_ACKNOWLEDGE,
    CASES + "BulkResolve": P.CASE_CLOSE,
    CASES + "BulkClose": P.CASE_CLOSE,
    CASES + "BulkSetPriorityOverride": P.CASE_UPDATE,
    CASES + "BulkClearPriorityOverride": P.CASE_UPDATE,
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

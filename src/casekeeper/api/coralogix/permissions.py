"""Each Coralogix and casekeeper.v1 RPC's permission, checked before a request is read.

The service authorizes every command anyway; this early check makes a key without the RPC's
permission PERMISSION_DENIED before anything about its request is looked at (as the real API
does), with the RPC named. REST routes name the same operations. Case entries are derived from
the commands each RPC sends (``service.permissions.REQUIRES``), so the two cannot disagree.
"""

from __future__ import annotations

from typing import Final

from casekeeper.domain import commands as cmd
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.auth import Principal
from casekeeper.service.permissions import REQUIRES, Permission

CASES = "/com.coralogixapis.cases.v1.CasesService/"
EVENTS = "/com.coralogixapis.cases.v1.CaseEventsService/"
ADMIN = "/casekeeper.v1.CaseAdminService/"
KEYS = "/casekeeper.v1.ApiKeysService/"
INCIDENTS = "/com.coralogixapis.incidents.v1.IncidentsService/"
SETTINGS = "/com.coralogixapis.cases.v1.CaseSettingsService/"
NOTIFICATIONS = "/com.coralogixapis.cases.v1.CasesNotificationService/"

P = Permission


# Incidents RPCs that only read. GetIncidentUsingCorrelationKey is internal (no REST binding,
# no permission in the spec): it reads like the others.
_INCIDENT_READS = (
    "GetIncident",
    "BatchGetIncident",
    "ListIncidents",
    "ListIncidentAggregations",
    "GetFilterValues",
    "GetIncidentEvents",
    "GetIncidentByEventId",
    "ListIncidentEvents",
    "ListIncidentEventsTotalCount",
    "ListIncidentEventsFilterValues",
    "GetIncidentUsingCorrelationKey",
)


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
    ADMIN + "RecordAlertEvent": P.SIGNALS_WRITE,
    KEYS + "CreateApiKey": P.API_KEY_MANAGE,
    KEYS + "ListApiKeys": P.API_KEY_MANAGE,
    KEYS + "RevokeApiKey": P.API_KEY_MANAGE,
    **{INCIDENTS + rpc: P.INCIDENTS_READ for rpc in _INCIDENT_READS},
    INCIDENTS + "AssignIncidents": P.INCIDENTS_ASSIGN,
    INCIDENTS + "UnassignIncidents": P.INCIDENTS_ASSIGN,
    INCIDENTS + "AcknowledgeIncidents": P.INCIDENTS_ACKNOWLEDGE,
    INCIDENTS + "AcknowledgeIncidentByEventId": P.INCIDENTS_ACKNOWLEDGE,
    INCIDENTS + "CloseIncidents": P.INCIDENTS_CLOSE,
    INCIDENTS + "ResolveIncidents": P.INCIDENTS_CLOSE,
    INCIDENTS + "ResolveIncidentByEventId": P.INCIDENTS_CLOSE,
    SETTINGS + "CreateCaseSettings": P.CASE_CONFIG_UPDATE,
    SETTINGS + "GetCaseSettings": P.CASE_CONFIG_READ,
    SETTINGS + "UpdateCaseSettings": P.CASE_CONFIG_UPDATE,
    SETTINGS + "DeleteCaseSettings": P.CASE_CONFIG_UPDATE,
    SETTINGS + "GetActiveCaseSettings": P.CASE_CONFIG_READ,
    SETTINGS + "GetSystemDefaultCaseSettings": P.CASE_CONFIG_READ,
    NOTIFICATIONS + "ListNotificationDeliveries": P.CASE_READ,
}


def authorize(principal: Principal, operation: str) -> None:
    """Raise PERMISSION_DENIED unless ``principal`` may run ``operation`` (a gRPC method path)."""
    needed = OPERATION_PERMISSIONS.get(operation)
    if needed is None:
        raise CasekeeperError(ErrorCode.PERMISSION_DENIED, f"unknown operation {operation}")
    if needed not in principal.permissions:
        raise CasekeeperError(
            ErrorCode.PERMISSION_DENIED,
            f"this API key lacks the permission {needed.value!r} needed for "
            f"{operation.rsplit('/', 1)[-1]}",
        )

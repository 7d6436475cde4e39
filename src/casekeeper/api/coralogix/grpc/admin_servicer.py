"""casekeeper.v1 services: case creation, alert events (incidents) and API key administration."""

from __future__ import annotations

from concurrent.futures import Executor

from casekeeper.api.coralogix import vocabulary
from casekeeper.api.coralogix.convert import case_to_pb, key_values, set_time, to_json
from casekeeper.api.coralogix.grpc.admin_incidents import alert_from_pb, incident_to_pb
from casekeeper.api.coralogix.grpc.rpc import Call, Servicer, rpc
from casekeeper.api.coralogix.permissions import ADMIN, KEYS
from casekeeper.bootstrap import Container
from casekeeper.domain.enums import CasePriority
from casekeeper.domain.errors import CasekeeperError
from casekeeper.proto.casekeeper.v1 import api_keys_pb2 as keys_pb
from casekeeper.proto.casekeeper.v1 import api_keys_pb2_grpc as keys_grpc
from casekeeper.proto.casekeeper.v1 import case_admin_pb2 as admin_pb
from casekeeper.proto.casekeeper.v1 import case_admin_pb2_grpc as admin_grpc
from casekeeper.service.admin import NewCase
from casekeeper.service.auth import ApiKeyRow

# Canonical field → CreateCaseRequest's JSON name, in the service's errors.
_CREATE_FIELDS = {
    "assignee": "assigneeUserId",
    "ai_summary": "aiSummary",
    "impacted_entities": "impactedEntities",
}

admin = rpc(ADMIN)
keys = rpc(KEYS)


class CaseAdminServicer(Servicer, admin_grpc.CaseAdminServiceServicer):
    def __init__(self, container: Container, executor: Executor) -> None:
        super().__init__(container, executor)
        self.svc = container.admin
        self.clock = container.cases.clock

    @admin
    def CreateCase(
        self, req: admin_pb.CreateCaseRequest, call: Call
    ) -> admin_pb.CreateCaseResponse:
        # A bad priority is named where the service checks priority (after the title, ...),
        # in this dialect's words: the service sees none and refuses it there.
        bad_priority: CasekeeperError | None = None
        try:
            priority = vocabulary.priority(req.priority)
        except CasekeeperError as err:
            priority, bad_priority = CasePriority.UNSPECIFIED, err
        has = req.HasField("case_indicators")
        indicators = (
            to_json(req.case_indicators, "caseIndicators", with_defaults=True) if has else {}
        )
        spec = NewCase(
            title=req.title,
            category=vocabulary.category(req.category),
            priority=priority,
            assignee=req.assignee_user_id if req.HasField("assignee_user_id") else None,
            labels=key_values(req.labels),
            groupings=key_values(req.groupings),
            impacted_entities=[
                to_json(e, "impactedEntities", with_defaults=True) for e in req.impacted_entities
            ],
            indicators=indicators,
            ai_summary=req.ai_summary if req.HasField("ai_summary") else None,
            pending=req.pending,
        )
        try:
            case = self.svc.create_case(call.principal, spec)
        except CasekeeperError as err:
            if bad_priority is not None and err.field == "priority":
                raise bad_priority from None
            raise err.rename(_CREATE_FIELDS) from None
        out = admin_pb.CreateCaseResponse()
        case_to_pb(case, self.clock(), out.case)
        return out

    @admin
    def RecordAlertEvent(
        self, req: admin_pb.RecordAlertEventRequest, call: Call
    ) -> admin_pb.RecordAlertEventResponse:
        alert = alert_from_pb(req, self.c.alerts.clock())
        incident = self.c.alerts.record(call.principal, alert)
        out = admin_pb.RecordAlertEventResponse()
        incident_to_pb(incident, self.c.alerts.clock(), out.incident)
        return out


def _key_to_pb(row: ApiKeyRow, out: keys_pb.ApiKey) -> None:
    out.id = row.id
    out.name = row.name
    out.permissions.extend(row.permissions)
    out.space = row.space_name
    out.prefix = row.prefix
    set_time(out.create_time, row.create_time)
    if row.revoke_time is not None:
        set_time(out.revoke_time, row.revoke_time)
    if row.last_used_time is not None:
        set_time(out.last_used_time, row.last_used_time)


class ApiKeysServicer(Servicer, keys_grpc.ApiKeysServiceServicer):
    """Keys are managed within the caller's own space."""

    @keys
    def CreateApiKey(
        self, req: keys_pb.CreateApiKeyRequest, call: Call
    ) -> keys_pb.CreateApiKeyResponse:
        new = self.keys.create(
            name=req.name,
            permissions=req.permissions,
            space=call.principal.space_name,
            granted_by=call.principal,
        )
        out = keys_pb.CreateApiKeyResponse(key=new.key)
        _key_to_pb(new.row, out.api_key)
        return out

    @keys
    def ListApiKeys(
        self, req: keys_pb.ListApiKeysRequest, call: Call
    ) -> keys_pb.ListApiKeysResponse:
        out = keys_pb.ListApiKeysResponse()
        for row in self.keys.list(call.principal, include_revoked=req.include_revoked):
            _key_to_pb(row, out.api_keys.add())
        return out

    @keys
    def RevokeApiKey(
        self, req: keys_pb.RevokeApiKeyRequest, call: Call
    ) -> keys_pb.RevokeApiKeyResponse:
        row = self.keys.revoke(call.principal, req.id)
        out = keys_pb.RevokeApiKeyResponse()
        _key_to_pb(row, out.api_key)
        return out

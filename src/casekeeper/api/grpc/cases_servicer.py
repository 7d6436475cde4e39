"""com.coralogixapis.cases.v1.CasesService: each RPC is one service call and a conversion."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from google.protobuf.message import Message

from casekeeper.api.grpc.convert import case_to_pb, cases_to_pb, filter_values_to_pb, micros_of
from casekeeper.api.grpc.links import deep_links_to_pb
from casekeeper.api.grpc.query import filters_from_pb, query_from_pb
from casekeeper.api.grpc.rpc import Call, rpc
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import invalid
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc as pb_grpc
from casekeeper.service import validation
from casekeeper.service.cases import BulkResult
from casekeeper.service.permissions import CASES

cases = rpc(CASES)
R = TypeVar("R", bound=Message)


class CasesServicer(pb_grpc.CasesServiceServicer):
    def __init__(self, container: Container) -> None:
        self.keys = container.keys
        self.svc = container.cases
        self.clock = container.cases.clock
        self.base_url = container.settings.ui_base_url

    def _one(self, response: R, case: Case) -> R:
        case_to_pb(case, self.clock(), cast(Any, response).case)
        return response

    def _bulk(self, response: R, result: BulkResult, call: Call) -> R:
        cases_to_pb(result.cases, self.clock(), cast(Any, response).cases)
        call.report_failures(result.failures)
        return response

    @cases
    def GetCase(self, req: pb.GetCaseRequest, call: Call) -> pb.GetCaseResponse:
        return self._one(pb.GetCaseResponse(), self.svc.get(call.principal, req.id))

    @cases
    def ListCases(self, req: pb.ListCasesRequest, call: Call) -> pb.ListCasesResponse:
        found, token = self.svc.list_cases(call.principal, query_from_pb(req))
        out = pb.ListCasesResponse()
        cases_to_pb(found, self.clock(), out.cases)
        out.pagination.SetInParent()
        if token:
            out.pagination.next_page_token = token
        out.pbac_truncated = False
        return out

    @cases
    def UpdateCase(self, req: pb.UpdateCaseRequest, call: Call) -> pb.UpdateCaseResponse:
        patch = req.patch
        title = patch.title if patch.HasField("title") else None
        reason = patch.resolution_reason if patch.HasField("resolution_reason") else None
        if title is None and reason is None:
            raise invalid("patch: give a title and/or a resolutionReason")
        case = self.svc.update(call.principal, req.id, title=title, resolution_reason=reason)
        return self._one(pb.UpdateCaseResponse(), case)

    @cases
    def SetPriorityOverride(
        self, req: pb.SetPriorityOverrideRequest, call: Call
    ) -> pb.SetPriorityOverrideResponse:
        case = self.svc.set_priority_override(call.principal, req.id, req.priority)
        return self._one(pb.SetPriorityOverrideResponse(), case)

    @cases
    def ClearPriorityOverride(
        self, req: pb.ClearPriorityOverrideRequest, call: Call
    ) -> pb.ClearPriorityOverrideResponse:
        return self._one(
            pb.ClearPriorityOverrideResponse(),
            self.svc.clear_priority_override(call.principal, req.id),
        )

    @cases
    def AssignCase(self, req: pb.AssignCaseRequest, call: Call) -> pb.AssignCaseResponse:
        case = self.svc.assign(call.principal, req.id, req.assignee.user_id)
        return self._one(pb.AssignCaseResponse(), case)

    @cases
    def UnassignCase(self, req: pb.UnassignCaseRequest, call: Call) -> pb.UnassignCaseResponse:
        return self._one(pb.UnassignCaseResponse(), self.svc.unassign(call.principal, req.id))

    @cases
    def AcknowledgeCase(
        self, req: pb.AcknowledgeCaseRequest, call: Call
    ) -> pb.AcknowledgeCaseResponse:
        return self._one(pb.AcknowledgeCaseResponse(), self.svc.acknowledge(call.principal, req.id))

    @cases
    def UnacknowledgeCase(
        self, req: pb.UnacknowledgeCaseRequest, call: Call
    ) -> pb.UnacknowledgeCaseResponse:
        return self._one(
            pb.UnacknowledgeCaseResponse(), self.svc.unacknowledge(call.principal, req.id)
        )

    @cases
    def ResolveCase(self, req: pb.ResolveCaseRequest, call: Call) -> pb.ResolveCaseResponse:
        reason = req.reason if req.HasField("reason") else None
        return self._one(pb.ResolveCaseResponse(), self.svc.resolve(call.principal, req.id, reason))

    @cases
    def CloseCase(self, req: pb.CloseCaseRequest, call: Call) -> pb.CloseCaseResponse:
        return self._one(pb.CloseCaseResponse(), self.svc.close(call.principal, req.id))

    @cases
    def BulkAssign(self, req: pb.BulkAssignRequest, call: Call) -> pb.BulkAssignResponse:
        result = self.svc.bulk_assign(call.principal, req.ids, req.assignee.user_id)
        return self._bulk(pb.BulkAssignResponse(), result, call)

    @cases
    def BulkUnassign(self, req: pb.BulkUnassignRequest, call: Call) -> pb.BulkUnassignResponse:
        return self._bulk(
            pb.BulkUnassignResponse(), self.svc.bulk_unassign(call.principal, req.ids), call
        )

    @cases
    def BulkAcknowledge(
        self, req: pb.BulkAcknowledgeRequest, call: Call
    ) -> pb.BulkAcknowledgeResponse:
        if not req.HasField("actor") or not req.actor.user_id:
            raise invalid('actor: required; give {"userId": "<uuid>"} of who acknowledges')
        validation.user_id(req.actor.user_id, field="actor.userId")
        result = self.svc.bulk_transition(call.principal, req.ids, Operation.ACKNOWLEDGE)
        return self._bulk(pb.BulkAcknowledgeResponse(), result, call)

    @cases
    def BulkResolve(self, req: pb.BulkResolveRequest, call: Call) -> pb.BulkResolveResponse:
        reason = req.reason if req.HasField("reason") else None
        return self._bulk(
            pb.BulkResolveResponse(), self.svc.bulk_resolve(call.principal, req.ids, reason), call
        )

    @cases
    def BulkClose(self, req: pb.BulkCloseRequest, call: Call) -> pb.BulkCloseResponse:
        result = self.svc.bulk_transition(call.principal, req.ids, Operation.CLOSE)
        return self._bulk(pb.BulkCloseResponse(), result, call)

    @cases
    def BulkSetPriorityOverride(
        self, req: pb.BulkSetPriorityOverrideRequest, call: Call
    ) -> pb.BulkSetPriorityOverrideResponse:
        result = self.svc.bulk_set_priority_override(call.principal, req.ids, req.priority)
        return self._bulk(pb.BulkSetPriorityOverrideResponse(), result, call)

    @cases
    def BulkClearPriorityOverride(
        self, req: pb.BulkClearPriorityOverrideRequest, call: Call
    ) -> pb.BulkClearPriorityOverrideResponse:
        result = self.svc.bulk_clear_priority_override(call.principal, req.ids)
        return self._bulk(pb.BulkClearPriorityOverrideResponse(), result, call)

    @cases
    def GetFilterValues(
        self, req: pb.GetFilterValuesRequest, call: Call
    ) -> pb.GetFilterValuesResponse:
        out = pb.GetFilterValuesResponse()
        filter_values_to_pb(
            self.svc.filter_values(call.principal, filters_from_pb(req.filters)), out
        )
        return out

    @cases
    def GetGroupingKeys(
        self, req: pb.GetGroupingKeysRequest, call: Call
    ) -> pb.GetGroupingKeysResponse:
        return pb.GetGroupingKeysResponse(grouping_keys=self.svc.grouping_keys(call.principal))

    @cases
    def GetCaseDeepLinks(
        self, req: pb.GetCaseDeepLinksRequest, call: Call
    ) -> pb.GetCaseDeepLinksResponse:
        case = self.svc.get(call.principal, req.case_id)
        out = pb.GetCaseDeepLinksResponse()
        deep_links_to_pb(case, self.base_url, out.deep_links)
        return out

    @cases
    def GetCaseByIndicator(
        self, req: pb.GetCaseByIndicatorRequest, call: Call
    ) -> pb.GetCaseByIndicatorResponse:
        alert = req.prometheus_alert
        if not req.HasField("prometheus_alert") or not alert.HasField("started_at"):
            raise invalid("prometheusAlert: 'fingerprint' and 'startedAt' are required")
        case = self.svc.get_by_prometheus_alert(
            call.principal, alert.fingerprint, micros_of(alert.started_at)
        )
        return self._one(pb.GetCaseByIndicatorResponse(), case)

"""com.coralogixapis.cases.v1.CasesService: each RPC runs its operation and renders protobuf."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar, cast

from google.protobuf.message import Message

from casekeeper.api.coralogix import cases as ops
from casekeeper.api.coralogix.convert import (
    case_to_pb,
    cases_to_pb,
    estimate_note,
    filter_values_to_pb,
)
from casekeeper.api.coralogix.grpc.rpc import Call, Servicer, rpc
from casekeeper.api.coralogix.links import deep_links_to_pb
from casekeeper.api.coralogix.permissions import CASES
from casekeeper.bootstrap import Container
from casekeeper.domain.model import Case
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc as pb_grpc
from casekeeper.service.auth import Principal
from casekeeper.service.cases import BulkResult, Renderer

cases = rpc(CASES)
R = TypeVar("R", bound=Message)
Q = TypeVar("Q", bound=Message)
BulkOp = Callable[[Container, Principal, Q, Renderer], BulkResult]


class CasesServicer(Servicer, pb_grpc.CasesServiceServicer):
    def __init__(self, container: Container, executor: Executor) -> None:
        super().__init__(container, executor)
        self.clock = container.cases.clock

    def _one(self, response: R, case: Case) -> R:
        case_to_pb(case, self.clock(), cast(Any, response).case)
        return response

    def _bulk(self, response: R, call: Call, op: BulkOp[Q], req: Q) -> R:
        """Run a bulk operation; its cases are converted while the change commits."""
        out = cast(Any, response).cases
        started: list[bool] = []  # set once converting alongside a COMMIT began

        def render(cases: list[Case]) -> object:
            started.append(True)
            cases_to_pb(cases, self.clock(), out, cached=False)  # new versions
            return out

        result = op(self.c, call.principal, req, render)
        if result.rendered is None:  # not converted alongside a commit: convert here
            del out[:]  # what a failed attempt left
            # Unchanged cases may be in the cache already; new versions are not worth adding.
            cases_to_pb(result.cases, self.clock(), out, cached=not started)
        call.report_failures(result.failures)
        return response

    @cases
    def GetCase(self, req: pb.GetCaseRequest, call: Call) -> pb.GetCaseResponse:
        return self._one(pb.GetCaseResponse(), ops.get_case(self.c, call.principal, req))

    @cases
    def ListCases(self, req: pb.ListCasesRequest, call: Call) -> pb.ListCasesResponse:
        page = ops.list_cases(self.c, call.principal, req)
        out = pb.ListCasesResponse(pbac_truncated=False)
        cases_to_pb(page.cases, self.clock(), out.cases)
        out.pagination.SetInParent()
        if page.next_token:
            out.pagination.next_page_token = page.next_token
        return out

    @cases
    def UpdateCase(self, req: pb.UpdateCaseRequest, call: Call) -> pb.UpdateCaseResponse:
        return self._one(pb.UpdateCaseResponse(), ops.update_case(self.c, call.principal, req))

    @cases
    def SetPriorityOverride(
        self, req: pb.SetPriorityOverrideRequest, call: Call
    ) -> pb.SetPriorityOverrideResponse:
        case = ops.set_priority_override(self.c, call.principal, req)
        return self._one(pb.SetPriorityOverrideResponse(), case)

    @cases
    def ClearPriorityOverride(
        self, req: pb.ClearPriorityOverrideRequest, call: Call
    ) -> pb.ClearPriorityOverrideResponse:
        case = ops.clear_priority_override(self.c, call.principal, req)
        return self._one(pb.ClearPriorityOverrideResponse(), case)

    @cases
    def AssignCase(self, req: pb.AssignCaseRequest, call: Call) -> pb.AssignCaseResponse:
        return self._one(pb.AssignCaseResponse(), ops.assign_case(self.c, call.principal, req))

    @cases
    def UnassignCase(self, req: pb.UnassignCaseRequest, call: Call) -> pb.UnassignCaseResponse:
        return self._one(pb.UnassignCaseResponse(), ops.unassign_case(self.c, call.principal, req))

    @cases
    def AcknowledgeCase(
        self, req: pb.AcknowledgeCaseRequest, call: Call
    ) -> pb.AcknowledgeCaseResponse:
        case = ops.acknowledge_case(self.c, call.principal, req)
        return self._one(pb.AcknowledgeCaseResponse(), case)

    @cases
    def UnacknowledgeCase(
        self, req: pb.UnacknowledgeCaseRequest, call: Call
    ) -> pb.UnacknowledgeCaseResponse:
        case = ops.unacknowledge_case(self.c, call.principal, req)
        return self._one(pb.UnacknowledgeCaseResponse(), case)

    @cases
    def ResolveCase(self, req: pb.ResolveCaseRequest, call: Call) -> pb.ResolveCaseResponse:
        return self._one(pb.ResolveCaseResponse(), ops.resolve_case(self.c, call.principal, req))

    @cases
    def CloseCase(self, req: pb.CloseCaseRequest, call: Call) -> pb.CloseCaseResponse:
        return self._one(pb.CloseCaseResponse(), ops.close_case(self.c, call.principal, req))

    @cases
    def BulkAssign(self, req: pb.BulkAssignRequest, call: Call) -> pb.BulkAssignResponse:
        return self._bulk(pb.BulkAssignResponse(), call, ops.bulk_assign, req)

    @cases
    def BulkUnassign(self, req: pb.BulkUnassignRequest, call: Call) -> pb.BulkUnassignResponse:
        return self._bulk(pb.BulkUnassignResponse(), call, ops.bulk_unassign, req)

    @cases
    def BulkAcknowledge(
        self, req: pb.BulkAcknowledgeRequest, call: Call
    ) -> pb.BulkAcknowledgeResponse:
        return self._bulk(pb.BulkAcknowledgeResponse(), call, ops.bulk_acknowledge, req)

    @cases
    def BulkResolve(self, req: pb.BulkResolveRequest, call: Call) -> pb.BulkResolveResponse:
        return self._bulk(pb.BulkResolveResponse(), call, ops.bulk_resolve, req)

    @cases
    def BulkClose(self, req: pb.BulkCloseRequest, call: Call) -> pb.BulkCloseResponse:
        return self._bulk(pb.BulkCloseResponse(), call, ops.bulk_close, req)

    @cases
    def BulkSetPriorityOverride(
        self, req: pb.BulkSetPriorityOverrideRequest, call: Call
    ) -> pb.BulkSetPriorityOverrideResponse:
        return self._bulk(
            pb.BulkSetPriorityOverrideResponse(), call, ops.bulk_set_priority_override, req
        )

    @cases
    def BulkClearPriorityOverride(
        self, req: pb.BulkClearPriorityOverrideRequest, call: Call
    ) -> pb.BulkClearPriorityOverrideResponse:
        return self._bulk(
            pb.BulkClearPriorityOverrideResponse(), call, ops.bulk_clear_priority_override, req
        )

    @cases
    def GetFilterValues(
        self, req: pb.GetFilterValuesRequest, call: Call
    ) -> pb.GetFilterValuesResponse:
        out = pb.GetFilterValuesResponse()
        fv = ops.get_filter_values(self.c, call.principal, req)
        filter_values_to_pb(fv, out)
        call.estimate = estimate_note(fv)
        return out

    @cases
    def GetGroupingKeys(
        self, req: pb.GetGroupingKeysRequest, call: Call
    ) -> pb.GetGroupingKeysResponse:
        keys = ops.get_grouping_keys(self.c, call.principal, req)
        return pb.GetGroupingKeysResponse(grouping_keys=keys)

    @cases
    def GetCaseDeepLinks(
        self, req: pb.GetCaseDeepLinksRequest, call: Call
    ) -> pb.GetCaseDeepLinksResponse:
        links = ops.get_case_deep_links(self.c, call.principal, req)
        out = pb.GetCaseDeepLinksResponse()
        deep_links_to_pb(links.case, self.c.settings.ui_base_url, out.deep_links)
        return out

    @cases
    def GetCaseByIndicator(
        self, req: pb.GetCaseByIndicatorRequest, call: Call
    ) -> pb.GetCaseByIndicatorResponse:
        case = ops.get_case_by_indicator(self.c, call.principal, req)
        return self._one(pb.GetCaseByIndicatorResponse(), case)

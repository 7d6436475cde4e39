"""Every Coralogix case operation as one function of (container, principal, request message).

Both dialects decode into the same protobuf request messages — gRPC natively, REST by parsing
its JSON — and call these, so each request rule (optional fields, required markers, filter
parsing) is written once. Results are domain objects; each dialect renders them its own way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from casekeeper.api.grpc.convert import actor_from_pb, micros_of, to_json
from casekeeper.api.grpc.query import filters_from_pb, query_from_pb
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import invalid
from casekeeper.domain.events import CaseEvent
from casekeeper.domain.lifecycle import Operation as Op
from casekeeper.domain.model import Case, Json
from casekeeper.domain.query import FilterValues
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as epb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.service import validation
from casekeeper.service.auth import Principal
from casekeeper.service.cases import BulkResult, Renderer
from casekeeper.service.timeline import ExternalMessage


@dataclass(frozen=True, slots=True)
class Page:
    cases: list[Case]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class Links:
    case: Case


def _opt(msg: Any, field: str) -> Any:
    return getattr(msg, field) if msg.HasField(field) else None


# -- CasesService --------------------------------------------------------------------------------


def get_case(c: Container, p: Principal, r: pb.GetCaseRequest) -> Case:
    return c.cases.get(p, r.id)


def list_cases(c: Container, p: Principal, r: pb.ListCasesRequest) -> Page:
    found, token = c.cases.list_cases(p, query_from_pb(r))
    return Page(found, token)


def update_case(c: Container, p: Principal, r: pb.UpdateCaseRequest) -> Case:
    title, reason = _opt(r.patch, "title"), _opt(r.patch, "resolution_reason")
    if title is None and reason is None:
        raise invalid("patch: give a title and/or a resolutionReason")
    return c.cases.update(p, r.id, title=title, resolution_reason=reason)


def set_priority_override(c: Container, p: Principal, r: pb.SetPriorityOverrideRequest) -> Case:
    return c.cases.set_priority_override(p, r.id, r.priority)


def clear_priority_override(c: Container, p: Principal, r: pb.ClearPriorityOverrideRequest) -> Case:
    return c.cases.clear_priority_override(p, r.id)


def assign_case(c: Container, p: Principal, r: pb.AssignCaseRequest) -> Case:
    return c.cases.assign(p, r.id, r.assignee.user_id)


def unassign_case(c: Container, p: Principal, r: pb.UnassignCaseRequest) -> Case:
    return c.cases.unassign(p, r.id)


def acknowledge_case(c: Container, p: Principal, r: pb.AcknowledgeCaseRequest) -> Case:
    if r.HasField("actor") and r.actor.user_id:
        validation.user_id(r.actor.user_id, field="actor.userId")
    return c.cases.acknowledge(p, r.id)


def unacknowledge_case(c: Container, p: Principal, r: pb.UnacknowledgeCaseRequest) -> Case:
    return c.cases.unacknowledge(p, r.id)


def resolve_case(c: Container, p: Principal, r: pb.ResolveCaseRequest) -> Case:
    return c.cases.resolve(p, r.id, _opt(r, "reason"))


def close_case(c: Container, p: Principal, r: pb.CloseCaseRequest) -> Case:
    return c.cases.close(p, r.id)


def bulk_assign(
    c: Container, p: Principal, r: pb.BulkAssignRequest, render: Renderer | None = None
) -> BulkResult:
    return c.cases.bulk_assign(p, r.ids, r.assignee.user_id, render=render)


def bulk_unassign(
    c: Container, p: Principal, r: pb.BulkUnassignRequest, render: Renderer | None = None
) -> BulkResult:
    return c.cases.bulk_unassign(p, r.ids, render=render)


def bulk_acknowledge(
    c: Container, p: Principal, r: pb.BulkAcknowledgeRequest, render: Renderer | None = None
) -> BulkResult:
    if not r.HasField("actor") or not r.actor.user_id:
        raise invalid('actor: required; give {"userId": "<uuid>"} of who acknowledges')
    validation.user_id(r.actor.user_id, field="actor.userId")
    return c.cases.bulk_transition(p, r.ids, Op.ACKNOWLEDGE, render=render)


def bulk_resolve(
    c: Container, p: Principal, r: pb.BulkResolveRequest, render: Renderer | None = None
) -> BulkResult:
    return c.cases.bulk_resolve(p, r.ids, _opt(r, "reason"), render=render)


def bulk_close(
    c: Container, p: Principal, r: pb.BulkCloseRequest, render: Renderer | None = None
) -> BulkResult:
    return c.cases.bulk_transition(p, r.ids, Op.CLOSE, render=render)


def bulk_set_priority_override(
    c: Container,
    p: Principal,
    r: pb.BulkSetPriorityOverrideRequest,
    render: Renderer | None = None,
) -> BulkResult:
    return c.cases.bulk_set_priority_override(p, r.ids, r.priority, render=render)


def bulk_clear_priority_override(
    c: Container,
    p: Principal,
    r: pb.BulkClearPriorityOverrideRequest,
    render: Renderer | None = None,
) -> BulkResult:
    return c.cases.bulk_clear_priority_override(p, r.ids, render=render)


def get_filter_values(c: Container, p: Principal, r: pb.GetFilterValuesRequest) -> FilterValues:
    return c.cases.filter_values(p, filters_from_pb(r.filters))


def get_grouping_keys(c: Container, p: Principal, _: pb.GetGroupingKeysRequest) -> list[str]:
    return c.cases.grouping_keys(p)


def get_case_deep_links(c: Container, p: Principal, r: pb.GetCaseDeepLinksRequest) -> Links:
    return Links(c.cases.get(p, r.case_id, field="case_id"))


def get_case_by_indicator(c: Container, p: Principal, r: pb.GetCaseByIndicatorRequest) -> Case:
    alert = r.prometheus_alert
    if not r.HasField("prometheus_alert") or not alert.HasField("started_at"):
        raise invalid("prometheusAlert: 'fingerprint' and 'startedAt' are required")
    return c.cases.get_by_prometheus_alert(
        p, alert.fingerprint, micros_of(alert.started_at, "prometheusAlert.startedAt")
    )


# -- CaseEventsService ---------------------------------------------------------------------------


def _attachments(items: Any) -> list[Json]:
    out = []
    for i, a in enumerate(items):
        if a.WhichOneof("attachment") is None:
            raise invalid(f"attachments[{i}]: give one of 'log', 'customWidget' or 'file'")
        out.append(to_json(a, f"attachments[{i}]", with_defaults=True))
    return out


def list_events(c: Container, p: Principal, r: epb.ListEventsRequest) -> list[CaseEvent]:
    return c.timeline.list_events(p, r.case_id)


def get_event(c: Container, p: Principal, r: epb.GetEventRequest) -> CaseEvent:
    return c.timeline.get(p, r.event_id)


def create_comment(c: Container, p: Principal, r: epb.CreateCommentRequest) -> CaseEvent:
    return c.timeline.create_comment(p, r.case_id, r.text, _attachments(r.attachments))


def update_comment(c: Container, p: Principal, r: epb.UpdateCommentRequest) -> CaseEvent:
    return c.timeline.update_comment(p, r.event_id, r.text, _attachments(r.attachments))


def delete_comment(c: Container, p: Principal, r: epb.DeleteCommentRequest) -> None:
    c.timeline.delete_comment(p, r.event_id)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _external(m: epb.ExternalThreadMessage) -> ExternalMessage:
    source = m.WhichOneof("source")
    return ExternalMessage(
        external_id=m.external_id,
        text=m.text,
        event_time=micros_of(m.event_time, "messages.eventTime")
        if m.HasField("event_time")
        else None,
        source={_camel(source): to_json(getattr(m, source), "messages")} if source else None,
        actor=actor_from_pb(m.actor) if m.HasField("actor") else None,
    )


def sync_external_case_events(
    c: Container, p: Principal, r: epb.SyncExternalCaseEventsRequest
) -> bool:
    return c.timeline.sync_external(p, r.case_id, [_external(m) for m in r.messages])


Run = Callable[[Container, Principal, Any], Any]

# RPC name → (request message type, implementation). Both dialects dispatch through this table.
CASES_OPERATIONS: dict[str, tuple[type[Any], Run]] = {
    "GetCase": (pb.GetCaseRequest, get_case),
    "ListCases": (pb.ListCasesRequest, list_cases),
    "UpdateCase": (pb.UpdateCaseRequest, update_case),
    "SetPriorityOverride": (pb.SetPriorityOverrideRequest, set_priority_override),
    "ClearPriorityOverride": (pb.ClearPriorityOverrideRequest, clear_priority_override),
    "AssignCase": (pb.AssignCaseRequest, assign_case),
    "UnassignCase": (pb.UnassignCaseRequest, unassign_case),
    "AcknowledgeCase": (pb.AcknowledgeCaseRequest, acknowledge_case),
    "UnacknowledgeCase": (pb.UnacknowledgeCaseRequest, unacknowledge_case),
    "ResolveCase": (pb.ResolveCaseRequest, resolve_case),
    "CloseCase": (pb.CloseCaseRequest, close_case),
    "BulkAssign": (pb.BulkAssignRequest, bulk_assign),
    "BulkUnassign": (pb.BulkUnassignRequest, bulk_unassign),
    "BulkAcknowledge": (pb.BulkAcknowledgeRequest, bulk_acknowledge),
    "BulkResolve": (pb.BulkResolveRequest, bulk_resolve),
    "BulkClose": (pb.BulkCloseRequest, bulk_close),
    "BulkSetPriorityOverride": (pb.BulkSetPriorityOverrideRequest, bulk_set_priority_override),
    "BulkClearPriorityOverride": (
        pb.BulkClearPriorityOverrideRequest,
        bulk_clear_priority_override,
    ),
    "GetFilterValues": (pb.GetFilterValuesRequest, get_filter_values),
    "GetGroupingKeys": (pb.GetGroupingKeysRequest, get_grouping_keys),
    "GetCaseDeepLinks": (pb.GetCaseDeepLinksRequest, get_case_deep_links),
    "GetCaseByIndicator": (pb.GetCaseByIndicatorRequest, get_case_by_indicator),
}
EVENTS_OPERATIONS: dict[str, tuple[type[Any], Run]] = {
    "ListEvents": (epb.ListEventsRequest, list_events),
    "GetEvent": (epb.GetEventRequest, get_event),
    "CreateComment": (epb.CreateCommentRequest, create_comment),
    "UpdateComment": (epb.UpdateCommentRequest, update_comment),
    "DeleteComment": (epb.DeleteCommentRequest, delete_comment),
    "SyncExternalCaseEvents": (epb.SyncExternalCaseEventsRequest, sync_external_case_events),
}

# Reads of one indexed row. On SQLite they run on the server's event loop: the read costs less
# than a hand-off to a worker thread and back. Everything else, and every call on PostgreSQL
# (a network round trip), runs in a worker thread so the loop keeps serving other calls.
POINT_READS = frozenset({"GetCase", "GetCaseByIndicator", "GetCaseDeepLinks", "GetEvent"})


def runs_inline(rpc: str, c: Container) -> bool:
    """Whether operation ``rpc`` may run on the event loop (both dialects ask this)."""
    return rpc in POINT_READS and c.db.sqlite

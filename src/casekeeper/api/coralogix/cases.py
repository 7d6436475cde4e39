"""Every Coralogix case operation as one function of (container, principal, request message).

Both dialects decode into the same protobuf request messages — gRPC natively, REST by parsing
its JSON — and call these, so each request rule (optional fields, required markers, filter
parsing) is written once. Results are domain objects; each dialect renders them its own way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from casekeeper.api.coralogix import vocabulary
from casekeeper.api.coralogix.convert import actor_from_pb, micros_of, to_json
from casekeeper.api.coralogix.errors import in_our_words, refusal_message
from casekeeper.api.coralogix.permissions import CASES, EVENTS
from casekeeper.api.coralogix.query import filters_from_pb, query_from_pb
from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import EventKind
from casekeeper.domain.errors import event_not_found, invalid
from casekeeper.domain.events import CaseEvent
from casekeeper.domain.model import MAX_TITLE, Case, Json
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


# The spec's limit on a single ResolveCase's and an UpdateCase's reason (a bulk takes 4096).
_REASON_MAX = 500


def get_case(c: Container, p: Principal, r: pb.GetCaseRequest) -> Case:
    return c.cases.get(p, r.id)


@in_our_words
def list_cases(c: Container, p: Principal, r: pb.ListCasesRequest) -> Page:
    found, token = c.cases.list_cases(p, query_from_pb(r))
    return Page(found, token)


def _change(c: Container, p: Principal, ref: str, *commands: cmd.CaseCommand) -> Case:
    return c.cases.change(p, CaseChange(ref, commands))


def _change_many(
    c: Container,
    p: Principal,
    ids: Sequence[str],
    commands: tuple[cmd.CaseCommand, ...],
    render: Renderer | None,
) -> BulkResult:
    if not ids or len(ids) > validation.MAX_BULK:
        for command in commands:  # this dialect has always named a bad value before the ids
            validation.command(command)
    result = c.cases.change_many(p, [CaseChange(i, commands) for i in ids], render=render)
    if not any(f.detail for f in result.failures):
        return result
    failures = [
        dataclasses.replace(f, message=refusal_message(f.detail) or f.message)
        for f in result.failures
    ]
    return dataclasses.replace(result, failures=failures)


@in_our_words
def update_case(c: Container, p: Principal, r: pb.UpdateCaseRequest) -> Case:
    title, reason = _opt(r.patch, "title"), _opt(r.patch, "resolution_reason")
    if title is None and reason is None:
        raise invalid("patch: give a title and/or a resolutionReason")
    validation.optional_text(title, field="patch.title", max_len=MAX_TITLE)
    validation.optional_text(reason, field="patch.resolutionReason", max_len=_REASON_MAX)
    commands: list[cmd.CaseCommand] = []
    if title is not None:
        commands.append(cmd.Retitle(title))
    if reason is not None:
        commands.append(cmd.SetResolutionReason(reason))
    return _change(c, p, r.id, *commands)


@in_our_words
def set_priority_override(c: Container, p: Principal, r: pb.SetPriorityOverrideRequest) -> Case:
    return _change(c, p, r.id, cmd.SetPriorityOverride(vocabulary.priority(r.priority)))


@in_our_words
def clear_priority_override(c: Container, p: Principal, r: pb.ClearPriorityOverrideRequest) -> Case:
    return _change(c, p, r.id, cmd.ClearPriorityOverride())


@in_our_words
def assign_case(c: Container, p: Principal, r: pb.AssignCaseRequest) -> Case:
    return _change(c, p, r.id, cmd.Assign(r.assignee.user_id))


@in_our_words
def unassign_case(c: Container, p: Principal, r: pb.UnassignCaseRequest) -> Case:
    return _change(c, p, r.id, cmd.Unassign())


@in_our_words
def acknowledge_case(c: Container, p: Principal, r: pb.AcknowledgeCaseRequest) -> Case:
    if r.HasField("actor") and r.actor.user_id:
        validation.user_id(r.actor.user_id, field="actor.userId")
    return _change(c, p, r.id, cmd.Acknowledge())


@in_our_words
def unacknowledge_case(c: Container, p: Principal, r: pb.UnacknowledgeCaseRequest) -> Case:
    return _change(c, p, r.id, cmd.Unacknowledge())


@in_our_words
def resolve_case(c: Container, p: Principal, r: pb.ResolveCaseRequest) -> Case:
    reason = validation.optional_text(_opt(r, "reason"), field="reason", max_len=_REASON_MAX)
    return _change(c, p, r.id, cmd.Resolve(reason))


@in_our_words
def close_case(c: Container, p: Principal, r: pb.CloseCaseRequest) -> Case:
    return _change(c, p, r.id, cmd.Close())


@in_our_words
def bulk_assign(
    c: Container, p: Principal, r: pb.BulkAssignRequest, render: Renderer | None = None
) -> BulkResult:
    return _change_many(c, p, r.ids, (cmd.Assign(r.assignee.user_id),), render)


@in_our_words
def bulk_unassign(
    c: Container, p: Principal, r: pb.BulkUnassignRequest, render: Renderer | None = None
) -> BulkResult:
    return _change_many(c, p, r.ids, (cmd.Unassign(),), render)


@in_our_words
def bulk_acknowledge(
    c: Container, p: Principal, r: pb.BulkAcknowledgeRequest, render: Renderer | None = None
) -> BulkResult:
    if not r.HasField("actor") or not r.actor.user_id:
        raise invalid('actor: required; give {"userId": "<uuid>"} of who acknowledges')
    validation.user_id(r.actor.user_id, field="actor.userId")
    return _change_many(c, p, r.ids, (cmd.Acknowledge(),), render)


@in_our_words
def bulk_resolve(
    c: Container, p: Principal, r: pb.BulkResolveRequest, render: Renderer | None = None
) -> BulkResult:
    return _change_many(c, p, r.ids, (cmd.Resolve(_opt(r, "reason")),), render)


@in_our_words
def bulk_close(
    c: Container, p: Principal, r: pb.BulkCloseRequest, render: Renderer | None = None
) -> BulkResult:
    return _change_many(c, p, r.ids, (cmd.Close(),), render)


@in_our_words
def bulk_set_priority_override(
    c: Container,
    p: Principal,
    r: pb.BulkSetPriorityOverrideRequest,
    render: Renderer | None = None,
) -> BulkResult:
    priority = vocabulary.priority(r.priority)
    return _change_many(c, p, r.ids, (cmd.SetPriorityOverride(priority),), render)


@in_our_words
def bulk_clear_priority_override(
    c: Container,
    p: Principal,
    r: pb.BulkClearPriorityOverrideRequest,
    render: Renderer | None = None,
) -> BulkResult:
    return _change_many(c, p, r.ids, (cmd.ClearPriorityOverride(),), render)


@in_our_words
def get_filter_values(c: Container, p: Principal, r: pb.GetFilterValuesRequest) -> FilterValues:
    return c.cases.filter_values(p, filters_from_pb(r.filters))


def get_grouping_keys(c: Container, p: Principal, _: pb.GetGroupingKeysRequest) -> list[str]:
    return c.cases.grouping_keys(p)


def get_case_deep_links(c: Container, p: Principal, r: pb.GetCaseDeepLinksRequest) -> Links:
    return Links(c.cases.get(p, r.case_id, field="case_id"))


@in_our_words
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


# The spec's event kinds. Changes to fields the Coralogix model lacks (description, tags, ...)
# are on the same timeline, but are not this dialect's to show.
EVENT_KINDS = frozenset(
    {
        EventKind.ASSIGNED,
        EventKind.UNASSIGNED,
        EventKind.COMMENT,
        EventKind.STATUS_CHANGED,
        EventKind.NOTIFICATION_SENT,
        EventKind.NOTIFICATION_FAILED,
        EventKind.CREATED,
        EventKind.PRIORITY_DETAILS_CHANGED,
        EventKind.TITLE_CHANGED,
        EventKind.RESOLUTION_REASON_CHANGED,
        EventKind.CHANGE_ASSIGNEE_FAILED,
        EventKind.KPI_BREACHED,
    }
)


def list_events(c: Container, p: Principal, r: epb.ListEventsRequest) -> list[CaseEvent]:
    return [e for e in c.timeline.list_events(p, r.case_id) if e.kind in EVENT_KINDS]


def get_event(c: Container, p: Principal, r: epb.GetEventRequest) -> CaseEvent:
    event = c.timeline.get(p, r.event_id)
    if event.kind not in EVENT_KINDS:
        raise event_not_found(r.event_id)
    return event


@in_our_words
def create_comment(c: Container, p: Principal, r: epb.CreateCommentRequest) -> CaseEvent:
    return c.timeline.create_comment(p, r.case_id, r.text, _attachments(r.attachments))


@in_our_words
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


@in_our_words
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
POINT_READS = frozenset(
    {
        CASES + "GetCase",
        CASES + "GetCaseByIndicator",
        CASES + "GetCaseDeepLinks",
        EVENTS + "GetEvent",
    }
)


def runs_inline(operation: str, c: Container) -> bool:
    """Whether ``operation`` (a gRPC method path) may run on the event loop (both transports
    ask this)."""
    return operation in POINT_READS and c.db.sqlite

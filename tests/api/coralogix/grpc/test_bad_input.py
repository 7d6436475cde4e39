"""Bad input is INVALID_ARGUMENT with a message naming the field, never INTERNAL, and nothing is
half-applied: every refused call leaves the case and its timeline exactly as they were."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from casekeeper.proto.casekeeper.v1 import api_keys_pb2 as keys_pb
from casekeeper.proto.casekeeper.v1 import case_admin_pb2 as admin_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_event_pb2 as ev_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as events_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_filters_pb2 as f_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2 as common_pb
from tests.api.coralogix.grpc.conftest import Client, bulk_failures, expect_error, stable
from tests.conftest import MakeCase

P = c_pb.CasePriority
USER = "8d3bd6c1-0d41-4c65-9a58-5f6f2f1a1e01"
BAD_IDS = ["", "x" * 65, "bad id!"]
# A Timestamp outside google.protobuf.Timestamp's valid range (0001-01-01 .. 9999-12-31).
OUT_OF_RANGE = Timestamp(seconds=2**62)


def invalid(fn: Callable[[Any], Any], request: Any, *words: str) -> str:
    """``fn(request)`` must be INVALID_ARGUMENT and its message must name every word."""
    details = expect_error(grpc.StatusCode.INVALID_ARGUMENT, fn, request).details() or ""
    for word in words:
        assert word in details, f"{word!r} not in {details!r}"
    return details


@dataclass
class Snapshot:
    case: c_pb.Case
    events: list[ev_pb.CaseEvent]


@dataclass
class Victim:
    """A case with an override, an assignee and a comment; ``unchanged()`` checks it still is."""

    api: Client
    id: str
    comment_id: str
    before: Snapshot

    def snapshot(self) -> Snapshot:
        case = self.api.cases.GetCase(pb.GetCaseRequest(id=self.id)).case
        timeline = self.api.events.ListEvents(events_pb.ListEventsRequest(case_id=self.id))
        return Snapshot(stable(case), list(timeline.events))

    def unchanged(self) -> None:
        now = self.snapshot()
        assert now.case == self.before.case
        assert now.events == self.before.events


@pytest.fixture
def victim(api: Client, make_case: MakeCase) -> Iterator[Victim]:
    case = make_case(title="victim", priority=3)
    api.cases.SetPriorityOverride(
        pb.SetPriorityOverrideRequest(id=case.id, priority=P.CASE_PRIORITY_P2)
    )
    api.cases.AssignCase(
        pb.AssignCaseRequest(id=case.id, assignee=common_pb.UserDetails(user_id=USER))
    )
    event = api.events.CreateComment(
        events_pb.CreateCommentRequest(case_id=case.id, text="original")
    ).event
    v = Victim(api, case.id, event.event_id, Snapshot(c_pb.Case(), []))
    v.before = v.snapshot()
    yield v
    v.unchanged()  # every test here must leave the victim alone


# -- malformed ids ----------------------------------------------------------------------------

CASE_ID_RPCS: dict[str, tuple[str, str, Callable[[str], Any], str]] = {
    "GetCase": ("cases", "GetCase", lambda i: pb.GetCaseRequest(id=i), "id"),
    "UpdateCase": (
        "cases",
        "UpdateCase",
        lambda i: pb.UpdateCaseRequest(id=i, patch=pb.CasePatch(title="t")),
        "id",
    ),
    "SetPriorityOverride": (
        "cases",
        "SetPriorityOverride",
        lambda i: pb.SetPriorityOverrideRequest(id=i, priority=P.CASE_PRIORITY_P1),
        "id",
    ),
    "ClearPriorityOverride": (
        "cases",
        "ClearPriorityOverride",
        lambda i: pb.ClearPriorityOverrideRequest(id=i),
        "id",
    ),
    "AssignCase": (
        "cases",
        "AssignCase",
        lambda i: pb.AssignCaseRequest(id=i, assignee=common_pb.UserDetails(user_id=USER)),
        "id",
    ),
    "UnassignCase": ("cases", "UnassignCase", lambda i: pb.UnassignCaseRequest(id=i), "id"),
    "AcknowledgeCase": (
        "cases",
        "AcknowledgeCase",
        lambda i: pb.AcknowledgeCaseRequest(id=i),
        "id",
    ),
    "UnacknowledgeCase": (
        "cases",
        "UnacknowledgeCase",
        lambda i: pb.UnacknowledgeCaseRequest(id=i),
        "id",
    ),
    "ResolveCase": ("cases", "ResolveCase", lambda i: pb.ResolveCaseRequest(id=i), "id"),
    "CloseCase": ("cases", "CloseCase", lambda i: pb.CloseCaseRequest(id=i), "id"),
    "GetCaseDeepLinks": (
        "cases",
        "GetCaseDeepLinks",
        lambda i: pb.GetCaseDeepLinksRequest(case_id=i),
        "case_id",
    ),
    "ListEvents": (
        "events",
        "ListEvents",
        lambda i: events_pb.ListEventsRequest(case_id=i),
        "case_id",
    ),
    "CreateComment": (
        "events",
        "CreateComment",
        lambda i: events_pb.CreateCommentRequest(case_id=i, text="hello"),
        "case_id",
    ),
    "SyncExternalCaseEvents": (
        "events",
        "SyncExternalCaseEvents",
        lambda i: events_pb.SyncExternalCaseEventsRequest(case_id=i),
        "case_id",
    ),
}


def _case_id_params() -> Iterator[Any]:
    for name in sorted(CASE_ID_RPCS):
        for i, bad in enumerate(BAD_IDS):
            yield pytest.param(name, bad, id=f"{name}-{['empty', 'long', 'chars'][i]}")


@pytest.mark.parametrize(("name", "bad"), list(_case_id_params()))
def test_malformed_case_id(api: Client, name: str, bad: str) -> None:
    service, rpc, build, field = CASE_ID_RPCS[name]
    details = invalid(getattr(getattr(api, service), rpc), build(bad))
    assert details.startswith(f"{field}:"), details


@pytest.mark.parametrize(
    "bad", ["", "not-a-uuid", "x" * 65, "00000000-0000-4000-8000-00000000000g"]
)
def test_malformed_event_id(api: Client, victim: Victim, bad: str) -> None:
    invalid(api.events.GetEvent, events_pb.GetEventRequest(event_id=bad), "event_id")
    invalid(
        api.events.UpdateComment,
        events_pb.UpdateCommentRequest(event_id=bad, text="x"),
        "event_id",
    )
    invalid(api.events.DeleteComment, events_pb.DeleteCommentRequest(event_id=bad), "event_id")


def test_ids_that_look_like_ids_are_not_found_not_invalid(api: Client) -> None:
    for ref in ("CASE-999999999999999999", "CASE-99999999999999999999", "INC-5"):
        expect_error(grpc.StatusCode.NOT_FOUND, api.cases.GetCase, pb.GetCaseRequest(id=ref))
    fullwidth = "\uff23\uff21\uff33\uff25-\uff11"  # CASE-1 in fullwidth letters
    for ref in ("caße", "\x00", fullwidth, "case 1", "CASE-1; DROP TABLE case"):
        invalid(api.cases.GetCase, pb.GetCaseRequest(id=ref), "id:")


# -- enums ------------------------------------------------------------------------------------


def test_priority_override_bad_values(api: Client, victim: Victim) -> None:
    # Raw numbers outside CasePriority on purpose; the stubs accept only its ValueType.
    for value, word in ((99, "unknown value 99"), (-1, "unknown value -1"), (0, "required")):
        invalid(
            api.cases.SetPriorityOverride,
            pb.SetPriorityOverrideRequest(id=victim.id, priority=value),  # type: ignore[arg-type]
            "priority",
            word,
        )
        invalid(
            api.cases.BulkSetPriorityOverride,
            pb.BulkSetPriorityOverrideRequest(
                ids=[victim.id],
                priority=value,  # type: ignore[arg-type]
            ),
            "priority",
            word,
        )


# Raw enum numbers (unknown or unspecified values) are deliberate here: the stubs accept only each
# enum's ValueType, hence the ignores. The stubs also leave out DateRangeFilter's ``from`` (a
# Python keyword, so it can only be passed as ``**{"from": ...}``).
LIST_FILTERS: dict[str, tuple[Callable[[], f_pb.CaseFilters], str]] = {
    "status-42": (
        lambda: f_pb.CaseFilters(statuses=[42]),  # type: ignore[list-item]
        "filters.statuses",
    ),
    "status-unspecified": (
        lambda: f_pb.CaseFilters(statuses=[0]),  # type: ignore[list-item]
        "filters.statuses",
    ),
    "priority-9": (
        lambda: f_pb.CaseFilters(priorities=[9]),  # type: ignore[list-item]
        "filters.priorities",
    ),
    "category-7": (
        lambda: f_pb.CaseFilters(categories=[7]),  # type: ignore[list-item]
        "filters.categories",
    ),
    "indicator-type-9": (
        lambda: f_pb.CaseFilters(indicator_types=[9]),  # type: ignore[list-item]
        "filters.indicatorTypes",
    ),
    "breached-9": (
        lambda: f_pb.CaseFilters(breached=[9]),  # type: ignore[list-item]
        "filters.breached",
    ),
    "connector-99": (
        lambda: f_pb.CaseFilters(
            connector_type_filters=[
                f_pb.ConnectorTypeFilter(connector_type=99),  # type: ignore[arg-type]
            ]
        ),
        "filters.connectorTypeFilters",
    ),
    "connector-empty": (
        lambda: f_pb.CaseFilters(connector_type_filters=[f_pb.ConnectorTypeFilter()]),
        "filters.connectorTypeFilters",
    ),
    "assignee-empty": (
        lambda: f_pb.CaseFilters(assignees=[f_pb.AssigneeOption()]),
        "filters.assignees",
    ),
    "grouping-no-values": (
        lambda: f_pb.CaseFilters(groupings=[f_pb.FilterGroup(key="team")]),
        "filters.groupings",
    ),
    "grouping-long-key": (
        lambda: f_pb.CaseFilters(groupings=[f_pb.FilterGroup(key="k" * 4097, values=["v"])]),
        "filters.groupings.key",
    ),
    "label-blank-value": (
        lambda: f_pb.CaseFilters(labels=[f_pb.FilterGroup(key="env", values=[" "])]),
        "filters.labels.values",
    ),
    "entity-empty": (
        lambda: f_pb.CaseFilters(impacted_entities=[f_pb.ImpactedEntityFilter()]),
        "filters.impactedEntities",
    ),
    "alert-id-not-uuid": (
        lambda: f_pb.CaseFilters(alert_filters=f_pb.AlertFilters(alert_ids=["alert-1"])),
        "filters.alertFilters.alertIds",
    ),
    "text-search-blank": (lambda: f_pb.CaseFilters(text_search="  "), "filters.textSearch"),
    "date-range-mode-9": (
        lambda: f_pb.CaseFilters(
            date_range=f_pb.DateRangeFilter(
                **{"from": Timestamp(seconds=1)},
                to=Timestamp(seconds=2),
                mode=9,  # type: ignore[arg-type]
            )
        ),
        "filters.dateRange.mode",
    ),
    "date-range-no-to": (
        lambda: f_pb.CaseFilters(
            date_range=f_pb.DateRangeFilter(
                **{"from": Timestamp(seconds=1)},  # type: ignore[arg-type]
            )
        ),
        "filters.dateRange",
    ),
    "date-range-reversed": (
        lambda: f_pb.CaseFilters(
            date_range=f_pb.DateRangeFilter(
                **{"from": Timestamp(seconds=10)},  # type: ignore[arg-type]
                to=Timestamp(seconds=2),
            )
        ),
        "filters.dateRange",
    ),
}


@pytest.mark.parametrize("name", sorted(LIST_FILTERS))
def test_bad_filters(api: Client, name: str) -> None:
    build, field = LIST_FILTERS[name]
    invalid(api.cases.ListCases, pb.ListCasesRequest(filters=build()), field)
    invalid(api.cases.GetFilterValues, pb.GetFilterValuesRequest(filters=build()), field)


@pytest.mark.parametrize(
    ("order", "field"),
    [
        ({"field": 99}, "orderBy.field"),
        ({"field": 1, "direction": 99}, "orderBy.direction"),
    ],
)
def test_bad_order_by(api: Client, order: dict[str, int], field: str) -> None:
    # Raw enum numbers on purpose; the stubs accept only the enums' ValueTypes.
    invalid(
        api.cases.ListCases,
        pb.ListCasesRequest(order_by=f_pb.CaseOrderBy(**order)),  # type: ignore[arg-type]
        field,
    )


def test_create_case_bad_values_create_nothing(api: Client) -> None:
    # Loose field values on purpose (raw enum numbers, dicts for messages): the stubs want each
    # field's own type.
    ok = {"title": "t", "category": 2, "priority": 3}
    cases: list[tuple[dict[str, object], str]] = [
        ({"category": 9}, "category"),
        ({"category": 0}, "category"),
        ({"priority": 99}, "priority"),
        ({"priority": 0}, "priority"),
        ({"title": "x" * 513}, "title"),
        ({"title": " \t "}, "title"),
        ({"assignee_user_id": "bob"}, "assigneeUserId"),
        ({"labels": [{"key": "", "value": "v"}]}, "labels.key"),
        ({"groupings": [{"key": "k", "value": "v" * 4097}]}, "groupings.value"),
        ({"ai_summary": "x" * 10_001}, "aiSummary"),
    ]
    for change, field in cases:
        invalid(
            api.admin.CreateCase,
            admin_pb.CreateCaseRequest(**{**ok, **change}),  # type: ignore[arg-type]
            field,
        )
    assert len(api.cases.ListCases(pb.ListCasesRequest()).cases) == 0
    title = api.admin.CreateCase(
        admin_pb.CreateCaseRequest(**{**ok, "title": "x" * 512}),  # type: ignore[arg-type]
    )
    assert len(title.case.title) == 512


# -- text lengths -----------------------------------------------------------------------------


def test_update_case_text_limits(api: Client, victim: Victim) -> None:
    upd = api.cases.UpdateCase
    for title in ("x" * 513, "   "):
        invalid(upd, pb.UpdateCaseRequest(id=victim.id, patch=pb.CasePatch(title=title)), "title")
    invalid(upd, pb.UpdateCaseRequest(id=victim.id, patch=pb.CasePatch()), "patch")
    invalid(
        upd,
        pb.UpdateCaseRequest(
            id=victim.id, patch=pb.CasePatch(title="ok", resolution_reason="x" * 501)
        ),
        "patch.resolutionReason",
        "500",
    )


def test_resolution_reason_limits(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    for reason in ("x" * 501, " "):
        invalid(api.cases.ResolveCase, pb.ResolveCaseRequest(id=case.id, reason=reason), "reason")
    assert api.cases.GetCase(pb.GetCaseRequest(id=case.id)).case.status == c_pb.CASE_STATUS_ACTIVE
    resolved = api.cases.ResolveCase(pb.ResolveCaseRequest(id=case.id, reason="y" * 500)).case
    assert resolved.resolution_details.reason == "y" * 500
    invalid(
        api.cases.UpdateCase,
        pb.UpdateCaseRequest(id=case.id, patch=pb.CasePatch(resolution_reason="z" * 501)),
        "patch.resolutionReason",
    )
    got = api.cases.GetCase(pb.GetCaseRequest(id=case.id)).case
    assert got.resolution_details.reason == "y" * 500


def test_bulk_resolve_reason_limit(api: Client, make_case: MakeCase) -> None:
    cases = [make_case(), make_case()]
    ids = [c.id for c in cases]
    invalid(api.cases.BulkResolve, pb.BulkResolveRequest(ids=ids, reason="x" * 4097), "reason")
    for c in cases:
        status = api.cases.GetCase(pb.GetCaseRequest(id=c.id)).case.status
        assert status == c_pb.CASE_STATUS_ACTIVE
    done = api.cases.BulkResolve(pb.BulkResolveRequest(ids=ids, reason="x" * 4096))
    assert [c.resolution_details.reason for c in done.cases] == ["x" * 4096] * 2


def test_comment_text_limits(api: Client, victim: Victim) -> None:
    for text in ("x" * 10_001, "", " \n\t "):
        invalid(
            api.events.CreateComment,
            events_pb.CreateCommentRequest(case_id=victim.id, text=text),
            "text",
        )
        invalid(
            api.events.UpdateComment,
            events_pb.UpdateCommentRequest(event_id=victim.comment_id, text=text),
            "text",
        )


def test_comment_of_exactly_10000_chars(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    event = api.events.CreateComment(
        events_pb.CreateCommentRequest(case_id=case.id, text="x" * 10_000)
    ).event
    assert len(event.event_data.comment.unsafe_text) == 10_000


def test_bad_attachments(api: Client, victim: Victim) -> None:
    file = ev_pb.CommentAttachment(file=ev_pb.FileAttachment(file_name="f", file_id=USER))
    for attachments, word in (
        ([file, ev_pb.CommentAttachment()], "attachments[1]"),
        ([file] * 101, "attachments"),
    ):
        invalid(
            api.events.CreateComment,
            events_pb.CreateCommentRequest(case_id=victim.id, text="x", attachments=attachments),
            word,
        )
        invalid(
            api.events.UpdateComment,
            events_pb.UpdateCommentRequest(
                event_id=victim.comment_id, text="x", attachments=attachments
            ),
            word,
        )


def test_sync_external_bad_message_applies_none(api: Client, victim: Victim) -> None:
    good = events_pb.ExternalThreadMessage(external_id="m-1", text="fine")
    for bad, word in (
        (events_pb.ExternalThreadMessage(external_id=" ", text="x"), "messages.externalId"),
        (events_pb.ExternalThreadMessage(external_id="m-2", text=" "), "text"),
        (events_pb.ExternalThreadMessage(external_id="m-3", text="x" * 10_001), "text"),
    ):
        invalid(
            api.events.SyncExternalCaseEvents,
            events_pb.SyncExternalCaseEventsRequest(case_id=victim.id, messages=[good, bad]),
            word,
        )


# -- bulk ids and actors ----------------------------------------------------------------------

BULK: dict[str, Callable[[list[str]], Any]] = {
    "BulkAssign": lambda ids: pb.BulkAssignRequest(
        ids=ids, assignee=common_pb.UserDetails(user_id=USER)
    ),
    "BulkUnassign": lambda ids: pb.BulkUnassignRequest(ids=ids),
    "BulkAcknowledge": lambda ids: pb.BulkAcknowledgeRequest(
        ids=ids, actor=common_pb.UserDetails(user_id=USER)
    ),
    "BulkResolve": lambda ids: pb.BulkResolveRequest(ids=ids),
    "BulkClose": lambda ids: pb.BulkCloseRequest(ids=ids),
    "BulkSetPriorityOverride": lambda ids: pb.BulkSetPriorityOverrideRequest(
        ids=ids, priority=P.CASE_PRIORITY_P1
    ),
    "BulkClearPriorityOverride": lambda ids: pb.BulkClearPriorityOverrideRequest(ids=ids),
}


@pytest.mark.parametrize("rpc", sorted(BULK))
def test_bulk_id_count_limits(api: Client, victim: Victim, rpc: str) -> None:
    fn = getattr(api.cases, rpc)
    invalid(fn, BULK[rpc]([]), "ids", "at least one")
    invalid(fn, BULK[rpc]([victim.id] * 1001), "ids", "1000", "1001")


def test_bulk_acknowledge_actor_required(api: Client, victim: Victim) -> None:
    fn = api.cases.BulkAcknowledge
    invalid(fn, pb.BulkAcknowledgeRequest(ids=[victim.id]), "actor")
    # Plain dicts for UserDetails: protobuf accepts them at runtime, the stubs do not.
    invalid(
        fn,
        pb.BulkAcknowledgeRequest(
            ids=[victim.id],
            actor={"user_id": ""},  # type: ignore[arg-type]
        ),
        "actor",
    )
    invalid(
        fn,
        pb.BulkAcknowledgeRequest(
            ids=[victim.id],
            actor={"user_id": "bob"},  # type: ignore[arg-type]
        ),
        "actor.userId",
    )


def test_assignee_must_be_a_uuid(api: Client, victim: Victim) -> None:
    # Plain dicts for UserDetails: protobuf accepts them at runtime, the stubs do not.
    for user in ("", "bob", "x" * 300):
        invalid(
            api.cases.AssignCase,
            pb.AssignCaseRequest(
                id=victim.id,
                assignee={"user_id": user},  # type: ignore[arg-type]
            ),
            "assignee.userId",
        )
        invalid(
            api.cases.BulkAssign,
            pb.BulkAssignRequest(
                ids=[victim.id],
                assignee={"user_id": user},  # type: ignore[arg-type]
            ),
            "assignee.userId",
        )
    invalid(api.cases.AssignCase, pb.AssignCaseRequest(id=victim.id), "assignee.userId")


def test_bulk_with_only_bad_ids_reports_each(api: Client, victim: Victim) -> None:
    resp, call = api.cases.BulkClose.with_call(pb.BulkCloseRequest(ids=BAD_IDS))
    assert len(resp.cases) == 0
    failures = bulk_failures(call)
    assert [(f["id"], f["code"]) for f in failures] == [(i, "INVALID_ARGUMENT") for i in BAD_IDS]
    assert all(f["message"].startswith("ids:") for f in failures)


# -- pagination -------------------------------------------------------------------------------


def _token(raw: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _list_with_token(token: str, order: f_pb.CaseOrderBy | None = None) -> pb.ListCasesRequest:
    req = pb.ListCasesRequest(order_by=order)
    req.pagination.page_size = 1
    req.pagination.page_token = token
    return req


def test_bad_page_tokens(api: Client, make_case: MakeCase) -> None:
    for _ in range(3):
        make_case()
    for token in ("garbage!", "e30", _token([6, True, 1, [1.5, "x"]]), "A" * 4097):
        invalid(api.cases.ListCases, _list_with_token(token), "pageToken")
    by_priority = f_pb.CaseOrderBy(field=f_pb.CASE_ORDER_BY_FIELD_PRIORITY)
    req = pb.ListCasesRequest(order_by=by_priority)
    req.pagination.page_size = 1
    token = api.cases.ListCases(req).pagination.next_page_token
    assert token
    # A token is bound to its ordering.
    invalid(api.cases.ListCases, _list_with_token(token), "pageToken")
    assert len(api.cases.ListCases(_list_with_token(token, by_priority)).cases) == 1


def test_bad_pagination_numbers(api: Client) -> None:
    req = pb.ListCasesRequest()
    req.pagination.skip = 1_000_001
    invalid(api.cases.ListCases, req, "pagination.skip")
    req.pagination.skip = 1_000_000
    assert len(api.cases.ListCases(req).cases) == 0


@pytest.mark.parametrize(
    ("order_field", "values"),
    [(6, [10**30, "x"]), (6, [-(10**30), "x"]), (1, [10**30, 1, "x"])],
    ids=["created-huge", "created-negative", "priority-huge"],
)
def test_tampered_page_token_out_of_range(
    api: Client,
    make_case: MakeCase,
    order_field: f_pb.CaseOrderByField.ValueType,
    values: list[object],
) -> None:
    make_case()
    order = f_pb.CaseOrderBy(field=order_field, direction=f_pb.CASE_ORDER_BY_DIRECTION_DESCENDING)
    req = _list_with_token(_token([order_field, True, 1, values]), order)
    invalid(api.cases.ListCases, req, "pageToken")


# -- timestamps outside google.protobuf.Timestamp's range -------------------------------------


def _date_range(start: Timestamp, end: Timestamp) -> f_pb.CaseFilters:
    # The stubs leave out DateRangeFilter's ``from`` (a Python keyword).
    return f_pb.CaseFilters(
        date_range=f_pb.DateRangeFilter(**{"from": start}, to=end),  # type: ignore[arg-type]
    )


def test_date_range_at_timestamp_limits_is_fine(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    lowest, highest = Timestamp(seconds=-62_135_596_800), Timestamp(seconds=253_402_300_799)
    req = pb.ListCasesRequest(filters=_date_range(lowest, highest))
    assert [c.id for c in api.cases.ListCases(req).cases] == [case.id]


def test_date_range_out_of_range_is_invalid(api: Client) -> None:
    req = pb.ListCasesRequest(filters=_date_range(Timestamp(seconds=0), OUT_OF_RANGE))
    invalid(api.cases.ListCases, req, "filters.dateRange")


def test_sync_event_time_out_of_range_is_invalid(api: Client, victim: Victim) -> None:
    message = events_pb.ExternalThreadMessage(external_id="m-1", text="x", event_time=OUT_OF_RANGE)
    invalid(
        api.events.SyncExternalCaseEvents,
        events_pb.SyncExternalCaseEventsRequest(case_id=victim.id, messages=[message]),
        "eventTime",
    )


def test_comment_attachment_time_out_of_range_is_invalid(api: Client, victim: Victim) -> None:
    log = ev_pb.LogAttachment(log_id=USER, log_timestamp=OUT_OF_RANGE, log_content="c")
    invalid(
        api.events.CreateComment,
        events_pb.CreateCommentRequest(
            case_id=victim.id, text="x", attachments=[ev_pb.CommentAttachment(log=log)]
        ),
        "attachments",
    )


def test_create_case_indicator_time_out_of_range_is_invalid(api: Client) -> None:
    indicators = c_pb.CaseIndicators(
        prometheus_alert_indicators=[c_pb.PrometheusAlertIndicator(received_at=OUT_OF_RANGE)]
    )
    req = admin_pb.CreateCaseRequest(
        title="t",
        category=c_pb.CASE_CATEGORY_AVAILABILITY,
        priority=P.CASE_PRIORITY_P3,
        case_indicators=indicators,
    )
    invalid(api.admin.CreateCase, req, "caseIndicators")


# -- the rest ---------------------------------------------------------------------------------


def test_get_case_by_indicator_bad_input(api: Client) -> None:
    fn = api.cases.GetCaseByIndicator
    invalid(fn, pb.GetCaseByIndicatorRequest(), "prometheusAlert")
    for fp in ("", "x" * 257):
        req = pb.GetCaseByIndicatorRequest(
            prometheus_alert=c_pb.PrometheusAlertManagerIndicator(
                fingerprint=fp, started_at=Timestamp(seconds=1)
            )
        )
        invalid(fn, req, "prometheusAlert.fingerprint")


def test_api_key_bad_input(api: Client) -> None:
    fn = api.keys.CreateApiKey
    invalid(fn, keys_pb.CreateApiKeyRequest(name="k", permissions=["case:Fly"]), "case:Fly")
    invalid(fn, keys_pb.CreateApiKeyRequest(name="k"), "permission")
    invalid(fn, keys_pb.CreateApiKeyRequest(name=" ", permissions=["case:Read"]), "name")
    listed = api.keys.ListApiKeys(keys_pb.ListApiKeysRequest()).api_keys
    assert [k.id for k in listed] == [api.key_id]
    expect_error(
        grpc.StatusCode.NOT_FOUND,
        api.keys.RevokeApiKey,
        keys_pb.RevokeApiKeyRequest(id=str(uuid.uuid4())),
    )

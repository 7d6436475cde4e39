"""CaseSettingsService over a real gRPC channel: every RPC, round trips of every part, the
one-record-per-space rule (ALREADY_EXISTS), NOT_FOUND, validation naming the field, and each
RPC's permission."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format

from casekeeper.bootstrap import Container
from casekeeper.domain.case_settings import DAY, MINUTE, SECOND, IndicatorPriority, KpiType
from casekeeper.domain.enums import CasePriority
from casekeeper.proto.com.coralogixapis.cases.v1 import case_settings_pb2 as s_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_settings_service_pb2 as pb
from tests.api.coralogix.settings.conftest import (
    FULL,
    READ,
    SETTINGS_SERVICE,
    UNKNOWN_ID,
    UPDATE,
    Grpc,
    MakeGrpc,
    grpc_error,
)

C = grpc.StatusCode


def _create(api: Grpc, body: dict[str, object] | None = None) -> s_pb.CaseSettings:
    request = json_format.ParseDict(body if body is not None else FULL,
                                    pb.CreateCaseSettingsRequest())  # fmt: skip
    made: s_pb.CaseSettings = api.CreateCaseSettings(request).case_settings
    return made


def test_create_then_get_and_get_active_round_trip_every_part(
    api: Grpc, container: Container
) -> None:
    made = _create(api)
    assert len(made.id) == 36
    assert made.id == made.id.lower()
    assert made.name == "SRE Case Settings"
    assert made.create_time == made.update_time
    assert made.create_time.seconds > 0
    as_json = json_format.MessageToDict(made)
    assert as_json["globalIndicatorSettings"] == FULL["globalIndicatorSettings"]
    assert as_json["caseLifecycle"] == FULL["caseLifecycle"]

    got = api.GetCaseSettings(pb.GetCaseSettingsRequest(id=made.id)).case_settings
    active = api.GetActiveCaseSettings(pb.GetActiveCaseSettingsRequest()).case_settings
    assert got == made == active

    # What ingestion reads: the domain settings, with microseconds and domain enums.
    stored = container.case_settings.get_active(api.principal)
    life = stored.lifecycle
    assert (life.suppression_period, life.resolution_snooze_period) == (300 * SECOND, 10 * MINUTE)
    assert (life.auto_resolve, life.inactive_period) == (False, DAY)
    assert life.post_resolution_period == 3600 * SECOND
    assert life.kpi(KpiType.TIME_TO_ACKNOWLEDGE, CasePriority.P1) is not None
    assert life.kpis[1].threshold == 1_500_000
    assert not life.kpis[1].enabled
    assert stored.filters[0].priorities == (IndicatorPriority.P1, IndicatorPriority.P2)
    assert stored.filters[0].entity_labels is None
    assert stored.admits(IndicatorPriority.P1, {})
    assert not stored.admits(IndicatorPriority.P3, {})


def test_a_second_create_in_a_space_is_already_exists_and_stores_nothing(api: Grpc) -> None:
    first = _create(api)
    details = grpc_error(C.ALREADY_EXISTS, api.CreateCaseSettings,
                         json_format.ParseDict({**FULL, "name": "other"},
                                               pb.CreateCaseSettingsRequest()))  # fmt: skip
    assert first.id in details
    active = api.GetActiveCaseSettings(pb.GetActiveCaseSettingsRequest()).case_settings
    assert active.name == "SRE Case Settings"


def test_create_with_only_the_required_part_takes_the_defaults(api: Grpc) -> None:
    made = _create(api, {"globalIndicatorSettings": {}})
    defaults = api.GetSystemDefaultCaseSettings(pb.GetSystemDefaultCaseSettingsRequest())
    assert made.name  # a default name: the spec's name is 1..4096 characters
    assert made.global_indicator_settings == defaults.global_indicator_settings
    assert made.case_lifecycle == defaults.case_lifecycle


def test_create_without_global_indicator_settings_is_invalid(api: Grpc) -> None:
    details = grpc_error(C.INVALID_ARGUMENT, api.CreateCaseSettings,
                         pb.CreateCaseSettingsRequest(name="x"))  # fmt: skip
    assert details.startswith("globalIndicatorSettings:"), details
    grpc_error(C.NOT_FOUND, api.GetActiveCaseSettings, pb.GetActiveCaseSettingsRequest())


def test_system_defaults_are_the_documented_ones(api: Grpc) -> None:
    got = json_format.MessageToDict(
        api.GetSystemDefaultCaseSettings(pb.GetSystemDefaultCaseSettingsRequest())
    )
    assert got == {
        "globalIndicatorSettings": {"enabled": True},
        "caseLifecycle": {
            "suppressionPeriod": "0s",
            "resolutionSnoozePeriod": "0s",
            "autoResolve": {"enabled": True},
            "autoClose": {"postResolutionPeriod": "604800s"},  # one week, as the spec says
            "kpi": {},
            "alertSuppressionStrategy": "ALERT_SUPPRESSION_STRATEGY_IGNORE",
        },
    }


def test_active_without_a_record_is_not_found_in_the_specs_words(api: Grpc) -> None:
    details = grpc_error(C.NOT_FOUND, api.GetActiveCaseSettings, pb.GetActiveCaseSettingsRequest())
    assert details == "Active team config not found"


def test_update_changes_only_the_parts_given(api: Grpc) -> None:
    made = _create(api)
    renamed = api.UpdateCaseSettings(pb.UpdateCaseSettingsRequest(id=made.id, name="Renamed"))
    got = renamed.case_settings
    assert got.name == "Renamed"
    assert got.global_indicator_settings == made.global_indicator_settings
    assert got.case_lifecycle == made.case_lifecycle
    assert got.create_time == made.create_time
    assert (got.update_time.seconds, got.update_time.nanos) > (
        made.update_time.seconds, made.update_time.nanos)  # fmt: skip

    life = s_pb.CaseLifecycle()
    life.suppression_period.FromSeconds(60)
    changed = api.UpdateCaseSettings(
        pb.UpdateCaseSettingsRequest(id=made.id, case_lifecycle=life)
    ).case_settings
    assert changed.name == "Renamed"
    assert changed.global_indicator_settings == made.global_indicator_settings
    # A lifecycle given replaces the stored one: its unset members are the defaults.
    assert changed.case_lifecycle.suppression_period.seconds == 60
    assert changed.case_lifecycle.auto_close.post_resolution_period.seconds == 7 * 86400
    assert not changed.case_lifecycle.kpi.thresholds

    off = api.UpdateCaseSettings(pb.UpdateCaseSettingsRequest(
        id=made.id, global_indicator_settings=s_pb.GlobalIndicatorSettings(enabled=False)
    )).case_settings  # fmt: skip
    assert not off.global_indicator_settings.enabled
    assert not off.global_indicator_settings.filtering_conditions
    got_again = api.GetCaseSettings(pb.GetCaseSettingsRequest(id=made.id.upper())).case_settings
    assert got_again == off


def test_delete_removes_the_record_and_the_defaults_apply_again(
    api: Grpc, container: Container
) -> None:
    made = _create(api)
    assert api.DeleteCaseSettings(pb.DeleteCaseSettingsRequest(id=made.id)) == (
        pb.DeleteCaseSettingsResponse()
    )
    for call, request in (
        (api.GetCaseSettings, pb.GetCaseSettingsRequest(id=made.id)),
        (api.DeleteCaseSettings, pb.DeleteCaseSettingsRequest(id=made.id)),
        (api.UpdateCaseSettings, pb.UpdateCaseSettingsRequest(id=made.id, name="x")),
    ):
        assert made.id in grpc_error(C.NOT_FOUND, call, request)
    grpc_error(C.NOT_FOUND, api.GetActiveCaseSettings, pb.GetActiveCaseSettingsRequest())
    assert container.case_settings.in_force(api.principal).id == ""
    assert _create(api).id != made.id  # the space may have a record again


def test_another_spaces_settings_are_not_found(make_grpc: MakeGrpc) -> None:
    mine = make_grpc(READ, UPDATE)
    theirs = make_grpc(READ, UPDATE, space_name="t-other-" + mine.principal.space_name)
    made = _create(theirs)
    grpc_error(C.NOT_FOUND, mine.GetCaseSettings, pb.GetCaseSettingsRequest(id=made.id))
    grpc_error(C.NOT_FOUND, mine.DeleteCaseSettings, pb.DeleteCaseSettingsRequest(id=made.id))
    _create(mine)  # one record per space, not one in all
    theirs.DeleteCaseSettings(pb.DeleteCaseSettingsRequest(id=made.id))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 4097}, "name"),
        ({"caseLifecycle": {"suppressionPeriod": "-1s"}}, "caseLifecycle.suppressionPeriod"),
        ({"caseLifecycle": {"suppressionPeriod": "691200s"}}, "caseLifecycle.suppressionPeriod"),
        ({"caseLifecycle": {"resolutionSnoozePeriod": "99999999s"}},
         "caseLifecycle.resolutionSnoozePeriod"),
        ({"caseLifecycle": {"autoResolve": {"inactivePeriod": "0s"}}},
         "caseLifecycle.autoResolve.inactivePeriod"),
        ({"caseLifecycle": {"autoClose": {"postResolutionPeriod": "-60s"}}},
         "caseLifecycle.autoClose.postResolutionPeriod"),
        ({"caseLifecycle": {"kpi": {"thresholds": [{"priority": "CASE_PRIORITY_P1",
                                                    "threshold": "60s"}]}}},
         "caseLifecycle.kpi.thresholds[0].type"),
        ({"caseLifecycle": {"kpi": {"thresholds": [{"type": 1, "priority": 9,
                                                    "threshold": "60s"}]}}},
         "caseLifecycle.kpi.thresholds[0].priority"),
        ({"caseLifecycle": {"kpi": {"thresholds": [{"type": 1, "priority": 1}]}}},
         "caseLifecycle.kpi.thresholds[0].threshold"),
        ({"caseLifecycle": {"kpi": {"thresholds": [
            {"type": 1, "priority": 1, "threshold": "60s"},
            {"type": 1, "priority": 1, "threshold": "90s"}]}}},
         "caseLifecycle.kpi.thresholds[1]"),
        ({"caseLifecycle": {"alertSuppressionStrategy": 7}},
         "caseLifecycle.alertSuppressionStrategy"),
        ({"globalIndicatorSettings": {"filteringConditions": [
            {"priorities": {"values": {"items": [0]}}}]}},
         "globalIndicatorSettings.filteringConditions[0].priorities.values.items[0]"),
        ({"globalIndicatorSettings": {"filteringConditions": [
            {}, {"entityLabels": {"values": {"items": [{"key": "team", "value": ""}]}}}]}},
         "globalIndicatorSettings.filteringConditions[1].entityLabels.values.items[0].value"),
        ({"globalIndicatorSettings": {"filteringConditions": [{}] * 1001}},
         "globalIndicatorSettings.filteringConditions"),
    ],
)  # fmt: skip
def test_bad_input_is_invalid_naming_the_field_and_stores_nothing(
    api: Grpc, body: dict[str, object], field: str
) -> None:
    request = json_format.ParseDict({"globalIndicatorSettings": {}, **body},
                                    pb.CreateCaseSettingsRequest())  # fmt: skip
    details = grpc_error(C.INVALID_ARGUMENT, api.CreateCaseSettings, request)
    assert details.startswith(f"{field}: "), details
    grpc_error(C.NOT_FOUND, api.GetActiveCaseSettings, pb.GetActiveCaseSettingsRequest())

    made = _create(api)
    update = json_format.ParseDict({"id": made.id, **body}, pb.UpdateCaseSettingsRequest())
    details = grpc_error(C.INVALID_ARGUMENT, api.UpdateCaseSettings, update)
    assert details.startswith(f"{field}: "), details
    assert api.GetCaseSettings(pb.GetCaseSettingsRequest(id=made.id)).case_settings == made


@pytest.mark.parametrize("bad", ["", "nope", UNKNOWN_ID + "0", "8c0c02a3-3c1c-4d56-9a2d"])
def test_a_malformed_id_is_invalid(api: Grpc, bad: str) -> None:
    details = grpc_error(C.INVALID_ARGUMENT, api.GetCaseSettings, pb.GetCaseSettingsRequest(id=bad))
    assert details.startswith("id: "), details


def test_an_unknown_id_is_not_found(api: Grpc) -> None:
    for call, request in (
        (api.GetCaseSettings, pb.GetCaseSettingsRequest(id=UNKNOWN_ID)),
        (api.UpdateCaseSettings, pb.UpdateCaseSettingsRequest(id=UNKNOWN_ID, name="x")),
        (api.DeleteCaseSettings, pb.DeleteCaseSettingsRequest(id=UNKNOWN_ID)),
    ):
        assert "Case settings not found" in grpc_error(C.NOT_FOUND, call, request)


CALLS = {
    "CreateCaseSettings": (UPDATE, pb.CreateCaseSettingsRequest()),
    "GetCaseSettings": (READ, pb.GetCaseSettingsRequest(id=UNKNOWN_ID)),
    "UpdateCaseSettings": (UPDATE, pb.UpdateCaseSettingsRequest(id=UNKNOWN_ID)),
    "DeleteCaseSettings": (UPDATE, pb.DeleteCaseSettingsRequest(id=UNKNOWN_ID)),
    "GetActiveCaseSettings": (READ, pb.GetActiveCaseSettingsRequest()),
    "GetSystemDefaultCaseSettings": (READ, pb.GetSystemDefaultCaseSettingsRequest()),
}


def test_the_permission_table_covers_every_rpc() -> None:
    from casekeeper.api.coralogix.permissions import OPERATION_PERMISSIONS

    methods = {m.name for m in pb.DESCRIPTOR.services_by_name["CaseSettingsService"].methods}
    assert methods == set(CALLS)
    for rpc, (permission, _) in CALLS.items():
        assert OPERATION_PERMISSIONS[f"/{SETTINGS_SERVICE}/{rpc}"].value == permission


@pytest.mark.parametrize("rpc", sorted(CALLS))
def test_each_rpc_needs_its_permission_and_no_other(make_grpc: MakeGrpc, rpc: str) -> None:
    permission, request = CALLS[rpc]
    other = READ if permission == UPDATE else UPDATE
    denied = make_grpc(other, "case:Read", "case:Update")
    details = grpc_error(C.PERMISSION_DENIED, getattr(denied, rpc), request)
    assert permission in details
    assert rpc in details
    allowed = make_grpc(permission)
    try:
        getattr(allowed, rpc)(request)
        code = C.OK
    except grpc.RpcError as err:
        code = err.code()
    assert code in (C.OK, C.NOT_FOUND, C.INVALID_ARGUMENT), code  # the request's own answer


def test_no_key_is_unauthenticated(settings_stub: object) -> None:
    stub: object = settings_stub
    grpc_error(C.UNAUTHENTICATED, stub.GetSystemDefaultCaseSettings,  # type: ignore[attr-defined]
               pb.GetSystemDefaultCaseSettingsRequest())  # fmt: skip


def test_reflection_lists_the_service(grpc_target: str) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with grpc.insecure_channel(grpc_target) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        (answer,) = stub.ServerReflectionInfo(iter([request]), timeout=10)
    names = {s.name for s in answer.list_services_response.service}
    assert SETTINGS_SERVICE in names

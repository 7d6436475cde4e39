"""CaseSettingsService over REST on a real loopback server: the spec's 4 paths and 6 operations,
every body validated against ``case_settings_service.json``; partial PATCH, 409, 404, 400
naming the field, permissions, lenient input, the gateway prefix and the OpenAPI document."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.api.coralogix.settings.conftest import (
    FULL,
    READ,
    ROUTE,
    UNKNOWN_ID,
    UPDATE,
    MakeRest,
    Rest,
)


def _create(rest: Rest, body: dict[str, Any] | None = None) -> dict[str, Any]:
    made: dict[str, Any] = rest.call("CreateCaseSettings", json=body or FULL)["caseSettings"]
    return made


def test_every_operation_round_trips(rest: Rest) -> None:
    assert rest.error("GetActiveCaseSettings", 404) == "Active team config not found"
    made = _create(rest)
    assert made["globalIndicatorSettings"] == FULL["globalIndicatorSettings"]
    assert made["caseLifecycle"] == FULL["caseLifecycle"]
    settings_id = str(made["id"])
    assert rest.call("GetCaseSettings", id=settings_id) == {"caseSettings": made}
    assert rest.call("GetActiveCaseSettings") == {"caseSettings": made}

    patched = rest.call("UpdateCaseSettings", id=settings_id, json={"name": "On call"})
    assert patched["caseSettings"]["name"] == "On call"
    assert patched["caseSettings"]["caseLifecycle"] == FULL["caseLifecycle"]
    assert patched["caseSettings"]["createTime"] == made["createTime"]

    assert rest.call("DeleteCaseSettings", id=settings_id) == {}
    rest.error("GetCaseSettings", 404, id=settings_id)
    rest.error("GetActiveCaseSettings", 404)
    defaults = rest.call("GetSystemDefaultCaseSettings")
    assert defaults["caseLifecycle"]["autoClose"] == {"postResolutionPeriod": "604800s"}
    assert defaults["globalIndicatorSettings"] == {"enabled": True, "filteringConditions": []}


def test_a_second_create_is_409_already_exists(rest: Rest) -> None:
    made = _create(rest)
    response = rest.exchange("CreateCaseSettings", json={"globalIndicatorSettings": {}},
                             expect=409)  # fmt: skip
    assert response.headers["x-casekeeper-error-code"] == "resource.already_exists"
    assert str(made["id"]) in response.json()["message"]
    assert rest.call("GetActiveCaseSettings")["caseSettings"] == made


def test_patch_changes_only_the_members_given(rest: Rest) -> None:
    made = _create(rest)
    settings_id = str(made["id"])
    body = {"globalIndicatorSettings": {"enabled": False}}
    got = rest.call("UpdateCaseSettings", id=settings_id, json=body)["caseSettings"]
    assert got["globalIndicatorSettings"] == {"enabled": False, "filteringConditions": []}
    assert got["name"] == made["name"]
    assert got["caseLifecycle"] == made["caseLifecycle"]

    body2 = {"caseLifecycle": {"suppressionPeriod": "120s", "autoResolve": {"enabled": False}}}
    got = rest.call("UpdateCaseSettings", id=settings_id, json=body2)["caseSettings"]
    life = got["caseLifecycle"]
    assert life["suppressionPeriod"] == "120s"
    assert life["autoResolve"] == {"enabled": False}
    assert life["autoClose"] == {"postResolutionPeriod": "604800s"}  # unset: the default
    assert got["globalIndicatorSettings"]["enabled"] is False

    nothing = rest.call("UpdateCaseSettings", id=settings_id, json={})["caseSettings"]
    assert {k: v for k, v in nothing.items() if k != "updateTime"} == {
        k: v for k, v in got.items() if k != "updateTime"
    }


def test_lenient_input_snake_case_enum_numbers_nulls_and_short_durations(rest: Rest) -> None:
    body = {
        "name": None,
        "global_indicator_settings": {
            "filtering_conditions": [
                {"priorities": {"values": {"items": [1, "INDICATOR_PRIORITY_P3"]}}}
            ]
        },
        "case_lifecycle": {
            "suppression_period": "1.5s",
            "kpi": {"thresholds": [{"type": 2, "priority": 5, "threshold": "60s"}]},
            "unknownField": 3,
        },
    }
    made = _create(rest, body)
    assert made["name"] == "Case settings"
    (cond,) = made["globalIndicatorSettings"]["filteringConditions"]
    assert cond["priorities"] == {"values": {"items": ["INDICATOR_PRIORITY_P1",
                                                       "INDICATOR_PRIORITY_P3"]}}  # fmt: skip
    assert cond["entityLabels"] == {"all": {}}
    assert cond["enabled"] is True
    life = made["caseLifecycle"]
    assert life["suppressionPeriod"] == "1.500s"
    kpi = {"type": "KPI_TYPE_TIME_TO_RESOLVE", "priority": "CASE_PRIORITY_P5", "threshold": "60s"}
    assert life["kpi"]["thresholds"] == [{"enabled": True, **kpi}]


@pytest.mark.parametrize(
    ("body", "starts"),
    [
        ({"name": ""}, "name: "),
        ({"globalIndicatorSettings": {"enabled": "yes"}}, "globalIndicatorSettings.enabled"),
        ({"caseLifecycle": {"suppressionPeriod": "5 minutes"}}, "caseLifecycle.suppressionPeriod"),
        ({"caseLifecycle": {"suppressionPeriod": "-5s"}}, "caseLifecycle.suppressionPeriod"),
        ({"caseLifecycle": {"autoClose": {"postResolutionPeriod": "400d"}}},
         "caseLifecycle.autoClose.postResolutionPeriod"),
        ({"globalIndicatorSettings": {"filteringConditions": [
            {"priorities": {"all": {}, "values": {"items": []}}}]}},
         "globalIndicatorSettings.filteringConditions[0].priorities"),
        ({"caseLifecycle": {"resolutionSnoozePeriod": "31622401s"}},
         "caseLifecycle.resolutionSnoozePeriod"),
        ({"caseLifecycle": {"kpi": {"thresholds": [{"type": 1, "priority": 1,
                                                    "threshold": "0.0000001s"}]}}},
         "caseLifecycle.kpi.thresholds[0].threshold"),
        ({"caseLifecycle": {"alertSuppressionStrategy": "SOMETIMES"}},
         "caseLifecycle.alertSuppressionStrategy"),
        ({"caseLifecycle": {"kpi": {"thresholds": [{"type": "KPI_TYPE_ACKNOWLEDGEMENT",
                                                    "priority": "P1", "threshold": "300s"}]}}},
         "caseLifecycle.kpi.thresholds"),
        ({"globalIndicatorSettings": {"filteringConditions": [{"entityLabels": {"values": {
            "items": [{"key": "team"}]}}}]}},
         "globalIndicatorSettings.filteringConditions"),
    ],
)  # fmt: skip
def test_bad_bodies_are_400_naming_the_field_and_store_nothing(
    rest: Rest, body: dict[str, object], starts: str
) -> None:
    full = {"globalIndicatorSettings": {}, **body}
    response = rest.exchange("CreateCaseSettings", json=full, expect=400)
    assert response.json()["message"].startswith(starts), response.json()
    assert response.headers["x-casekeeper-error-code"] == "request.invalid_argument"
    rest.error("GetActiveCaseSettings", 404)


def test_a_null_filter_member_is_unset(rest: Rest) -> None:
    only = {"all": None, "values": {"items": ["INDICATOR_PRIORITY_P2"]}}
    made = _create(rest, {"globalIndicatorSettings": {"filteringConditions": [
        {"priorities": only, "entityLabels": {"all": None}}]}})  # fmt: skip
    (cond,) = made["globalIndicatorSettings"]["filteringConditions"]
    assert cond["priorities"] == {"values": {"items": ["INDICATOR_PRIORITY_P2"]}}
    assert cond["entityLabels"] == {"all": {}}


def test_the_longest_periods_are_accepted(rest: Rest) -> None:
    life = {"suppressionPeriod": "604800s", "resolutionSnoozePeriod": "31622400.000s",
            "autoClose": {"postResolutionPeriod": "0s"}}  # fmt: skip
    got = _create(rest, {"globalIndicatorSettings": {}, "caseLifecycle": life})["caseLifecycle"]
    assert got["suppressionPeriod"] == "604800s"
    assert got["resolutionSnoozePeriod"] == "31622400s"
    assert got["autoClose"] == {"postResolutionPeriod": "0s"}


def test_not_json_and_a_missing_required_part_are_400(rest: Rest) -> None:
    rest.error("CreateCaseSettings", 400, content="{not json",
               headers={"content-type": "application/json"})  # fmt: skip
    message = rest.error("CreateCaseSettings", 400, json={"name": "x"})
    assert message.startswith("globalIndicatorSettings: required"), message
    rest.error("CreateCaseSettings", 415, content="name=x",
               headers={"content-type": "text/plain"})  # fmt: skip


def test_ids_malformed_400_unknown_404_any_letter_case_read(rest: Rest) -> None:
    assert rest.error("GetCaseSettings", 400, id="not-a-uuid").startswith("id: ")
    response = rest.exchange("GetCaseSettings", id=UNKNOWN_ID, expect=404)
    assert response.headers["x-casekeeper-error-code"] == "case_settings.not_found"
    rest.error("UpdateCaseSettings", 404, id=UNKNOWN_ID, json={"name": "x"})
    rest.error("DeleteCaseSettings", 404, id=UNKNOWN_ID)
    made = _create(rest)
    upper = str(made["id"]).upper()
    assert rest.call("GetCaseSettings", id=upper)["caseSettings"]["id"] == made["id"]


def test_the_literal_verbs_are_never_ids(rest: Rest) -> None:
    base = ROUTE["CreateCaseSettings"].path
    assert rest.request("DELETE", base + ":getActive").status_code == 405
    assert rest.request("PATCH", base + ":getSystemDefaults", json={}).status_code == 405
    assert rest.request("GET", base + ":getSomething").status_code == 404


def test_the_gateway_prefix_serves_the_same(rest: Rest) -> None:
    made = _create(rest)
    for prefix in ("/mgmt/openapi", "/mgmt/openapi/latest"):
        got = rest.call("GetActiveCaseSettings", prefix=prefix)["caseSettings"]
        assert got == made


PERMISSIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "CreateCaseSettings": (UPDATE, {"json": {"globalIndicatorSettings": {}}}),
    "GetCaseSettings": (READ, {"id": UNKNOWN_ID}),
    "UpdateCaseSettings": (UPDATE, {"id": UNKNOWN_ID, "json": {}}),
    "DeleteCaseSettings": (UPDATE, {"id": UNKNOWN_ID}),
    "GetActiveCaseSettings": (READ, {}),
    "GetSystemDefaultCaseSettings": (READ, {}),
}


@pytest.mark.parametrize("rpc", sorted(PERMISSIONS))
def test_each_operation_needs_its_permission(make_rest: MakeRest, rpc: str) -> None:
    permission, kw = PERMISSIONS[rpc]
    other = READ if permission == UPDATE else UPDATE
    message = make_rest(other, "case:Read").error(rpc, 403, **copy.deepcopy(kw))
    assert permission in message
    allowed = make_rest(permission)
    path = ROUTE[rpc].path.replace("{id}", kw.get("id", ""))
    extra = {"json": kw["json"]} if "json" in kw else {}
    status = allowed.request(ROUTE[rpc].method, path, **extra).status_code
    assert status in (200, 404), status  # past the permission: the request's own answer


def test_no_key_is_401(client: httpx.Client) -> None:
    response = client.get(ROUTE["GetSystemDefaultCaseSettings"].path)
    assert response.status_code == 401
    assert response.json()["code"] == 401


def test_the_openapi_document_describes_the_operations(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    ops = {
        (path, method): op["operationId"]
        for path, item in doc["paths"].items()
        if "case-settings" in path
        for method, op in item.items()
    }
    assert sorted(ops.values()) == sorted(f"CaseSettingsService_{rpc}" for rpc in ROUTE)
    create = doc["paths"][ROUTE["CreateCaseSettings"].path]["post"]
    assert {"401", "403", "409", "400"} <= set(create["responses"])
    life = doc["components"]["schemas"]["CaseLifecycleInput"]["properties"]
    assert "pattern" in life["suppressionPeriod"]

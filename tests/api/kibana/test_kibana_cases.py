"""Kibana's Cases API against a real HTTP server: seed 002's user_actions request as written,
cases CRUD with versions, find with its counts, comments, spaces, and cross-dialect history."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from casekeeper.bootstrap import Container
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.service.auth import OPERATOR
from casekeeper.service.users import LoginThrottle
from tests.api.coralogix.grpc.conftest import Client
from tests.api.kibana.conftest import CONNECTOR, PASSWORD, XSRF, Kibana, basic
from tests.conftest import MakeKey

USER_1 = "8d3bd6c1-0d41-4c65-9a58-5f6f2f1a1e01"
SEED_ACTION_KEYS = {
    "created_at",
    "created_by",
    "owner",
    "action",
    "payload",
    "type",
    "action_id",
    "case_id",
    "comment_id",
}
SEED_CREATE_PAYLOAD = {
    "description",
    "title",
    "tags",
    "connector",
    "settings",
    "owner",
    "severity",
    "status",
}


def seed_request(kibana: Kibana, user: str) -> None:
    """Seed 002: create a case, comment on it, GET <base>/<id>/user_actions as written."""
    case = kibana.create()
    kibana.call(
        "POST",
        f"/{case['id']}/comments",
        json={"type": "user", "owner": "cases", "comment": "A new comment"},
    )

    actions = kibana.call("GET", f"/{case['id']}/user_actions")

    assert isinstance(actions, list)
    assert [(a["action"], a["type"]) for a in actions] == [
        ("create", "create_case"),
        ("create", "comment"),
    ]
    created, comment = actions
    for a in actions:
        assert set(a) == SEED_ACTION_KEYS
        assert set(a["created_by"]) == {"username", "email", "full_name"}
        assert a["created_by"]["username"] == user
        assert a["owner"] == "cases"
        assert a["case_id"] == case["id"]
        assert a["created_at"].endswith("Z")
        assert len(a["created_at"]) == len("2022-07-14T20:11:24.947Z")
    assert set(created["payload"]) >= SEED_CREATE_PAYLOAD
    assert created["payload"]["title"] == "Case title 1"
    assert created["payload"]["description"] == "A case description"
    assert created["payload"]["tags"] == ["tag 1"]
    assert created["payload"]["connector"] == CONNECTOR
    assert created["payload"]["settings"] == {"syncAlerts": True}
    assert (created["payload"]["severity"], created["payload"]["status"]) == ("low", "open")
    assert created["comment_id"] is None
    assert comment["payload"] == {
        "comment": {"type": "user", "owner": "cases", "comment": "A new comment"}
    }
    assert comment["comment_id"] is not None


def test_seed_user_actions_request_in_a_space(kibana: Kibana, user: str) -> None:
    seed_request(kibana, user)  # /s/<space>/api/cases/<id>/user_actions


def test_seed_user_actions_request_in_the_default_space(
    client: httpx.Client, container: Container, user: str
) -> None:
    container.users.set_role(OPERATOR, user, "default", "responder")
    seed_request(Kibana(client, "default", basic(user)), user)  # /api/cases/<id>/user_actions


def test_create_get_and_the_case_shape(kibana: Kibana) -> None:
    case = kibana.create(severity="high", assignees=[{"uid": USER_1}], category="network")
    assert case["status"] == "open"
    assert case["severity"] == "high"
    assert case["assignees"] == [{"uid": USER_1}]
    assert case["category"] == "network"
    assert isinstance(case["incremental_id"], int)
    assert case["totalComment"] == 0
    got = kibana.call("GET", f"/{case['id']}")
    assert got["version"] == case["version"]
    assert got["created_by"]["email"].endswith("@example.com")


def test_patch_with_versions_applies_the_fresh_and_refuses_the_stale(kibana: Kibana) -> None:
    one, two = kibana.create(title="one"), kibana.create(title="two")
    changed = kibana.call(
        "PATCH",
        json={
            "cases": [
                {
                    "id": one["id"],
                    "version": one["version"],
                    "status": "in-progress",
                    "tags": ["x"],
                },
            ]
        },
    )
    assert changed[0]["status"] == "in-progress"
    assert changed[0]["tags"] == ["x"]
    assert changed[0]["version"] != one["version"]
    body = kibana.call(
        "PATCH",
        expect=409,
        json={
            "cases": [
                {"id": one["id"], "version": one["version"], "title": "stale"},
                {"id": two["id"], "version": two["version"], "title": "fresh"},
            ]
        },
    )
    assert body["statusCode"] == 409
    assert body["error"] == "Conflict"
    assert one["id"] in body["message"]
    assert kibana.call("GET", f"/{two['id']}")["title"] == "fresh"
    assert kibana.call("GET", f"/{one['id']}")["title"] == "one"


def test_closed_means_close_and_open_reopens(kibana: Kibana, container: Container) -> None:
    case = kibana.create()
    closed = kibana.call(
        "PATCH",
        json={"cases": [{"id": case["id"], "version": case["version"], "status": "closed"}]},
    )[0]
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    stored = container.cases.get(OPERATOR_IN(container, kibana.space), case["id"])
    assert stored.status.name == "CLOSED"  # Kibana's closed is Close, not Resolve
    reopened = kibana.call(
        "PATCH",
        json={"cases": [{"id": case["id"], "version": closed["version"], "status": "open"}]},
    )[0]
    assert reopened["status"] == "open"
    assert reopened["closed_at"] is None


def OPERATOR_IN(container: Container, space: str) -> Any:
    from dataclasses import replace

    with container.db.reader() as uow:
        space_id = uow.spaces.get_id(space)
    return replace(OPERATOR, space_id=space_id or 0, space_name=space)


def test_find_filters_sorts_pages_and_counts(kibana: Kibana) -> None:
    a = kibana.create(title="disk full on db1", tags=["db"], severity="critical")
    b = kibana.create(title="latency", description="the disk is slow", tags=["api"])
    c = kibana.create(title="quiet", tags=["db"], assignees=[{"uid": USER_1}])
    kibana.call(
        "PATCH", json={"cases": [{"id": c["id"], "version": c["version"], "status": "in-progress"}]}
    )

    def ids(**params: Any) -> list[str]:
        return [x["id"] for x in kibana.call("GET", "/_find", params=params)["cases"]]

    found = kibana.call("GET", "/_find")
    assert found["total"] == 3
    assert (
        found["count_open_cases"],
        found["count_in_progress_cases"],
        found["count_closed_cases"],
    ) == (2, 1, 0)
    assert (found["page"], found["per_page"]) == (1, 20)
    assert ids() == [c["id"], b["id"], a["id"]]  # newest first
    assert ids(sortOrder="asc") == [a["id"], b["id"], c["id"]]
    assert ids(status="in-progress") == [c["id"]]
    assert set(ids(tags="db")) == {a["id"], c["id"]}
    assert ids(severity="critical") == [a["id"]]
    assert set(ids(assignees="none")) == {a["id"], b["id"]}
    assert set(ids(search="disk")) == {a["id"], b["id"]}
    assert ids(search="disk", searchFields="title") == [a["id"]]
    assert ids(perPage=1, page=2) == [b["id"]]
    assert ids(sortField="severity", sortOrder="desc")[0] == a["id"]
    counted = kibana.call("GET", "/_find", params={"tags": "db", "status": "open"})
    assert counted["total"] == 1
    assert counted["count_in_progress_cases"] == 1


def test_find_refuses_what_it_cannot_do(kibana: Kibana) -> None:
    for params, needle in (
        ({"perPage": "101"}, "perPage"),
        ({"sortField": "title"}, "not supported"),
        ({"status": "pending"}, "status"),
        ({"page": "200", "perPage": "100"}, "10000"),
        ({"from": "now-1d"}, "ISO 8601"),
    ):
        body = kibana.call("GET", "/_find", params=params, expect=400)
        assert needle in body["message"], (params, body)


def test_comments_add_find_get_update_delete(kibana: Kibana) -> None:
    case = kibana.create()
    cid = case["id"]
    after = kibana.call(
        "POST", f"/{cid}/comments", json={"type": "user", "owner": "cases", "comment": "first"}
    )
    assert after["totalComment"] == 1
    kibana.call("POST", f"/{cid}/comments", json={"type": "user", "comment": "second"})
    page = kibana.call("GET", f"/{cid}/comments/_find", params={"perPage": 1, "page": 2})
    assert page["total"] == 2
    (second,) = page["comments"]
    assert second["comment"] == "second"
    one = kibana.call("GET", f"/{cid}/comments/{second['id']}")
    assert one["type"] == "user"
    kibana.call(
        "PATCH",
        f"/{cid}/comments",
        json={"id": one["id"], "version": one["version"], "type": "user", "comment": "edited"},
    )
    stale = kibana.call(
        "PATCH",
        f"/{cid}/comments",
        expect=409,
        json={"id": one["id"], "version": one["version"], "type": "user", "comment": "again"},
    )
    assert stale["statusCode"] == 409
    assert kibana.call("GET", f"/{cid}/comments/{one['id']}")["comment"] == "edited"
    kibana.call("DELETE", f"/{cid}/comments/{one['id']}", expect=204)
    kibana.call("GET", f"/{cid}/comments/{one['id']}", expect=404)
    kibana.call("DELETE", f"/{cid}/comments", expect=204)
    assert kibana.call("GET", f"/{cid}/comments/_find")["total"] == 0
    alert = kibana.call(
        "POST", f"/{cid}/comments", expect=400, json={"type": "alert", "alertId": "a", "index": "i"}
    )
    assert "signals" in alert["message"]


def test_user_actions_find_by_type_and_group(kibana: Kibana) -> None:
    case = kibana.create()
    kibana.call("POST", f"/{case['id']}/comments", json={"type": "user", "comment": "c"})
    kibana.call(
        "PATCH",
        json={
            "cases": [
                {
                    "id": case["id"],
                    "version": kibana.call("GET", f"/{case['id']}")["version"],
                    "title": "renamed",
                    "severity": "critical",
                }
            ]
        },
    )

    def types(**params: Any) -> list[str]:
        got = kibana.call("GET", f"/{case['id']}/user_actions/_find", params=params)
        assert set(got) == {"page", "perPage", "total", "userActions"}
        for a in got["userActions"]:
            assert {
                "id",
                "version",
                "type",
                "action",
                "payload",
                "created_at",
                "created_by",
                "owner",
                "comment_id",
            } <= set(a)
        return [a["type"] for a in got["userActions"]]

    assert types() == ["create_case", "comment", "title", "severity"]
    assert types(sortOrder="desc") == ["severity", "title", "comment", "create_case"]
    assert types(types="user") == ["comment"]
    assert types(types="action") == ["create_case", "title", "severity"]
    assert types(types="title") == ["title"]
    assert types(perPage=2, page=2) == ["title", "severity"]
    kibana.call("GET", f"/{case['id']}/user_actions/_find", params={"types": "nope"}, expect=400)


def test_delete_needs_the_permission_and_takes_everything(
    kibana: Kibana, client: httpx.Client, make_key: MakeKey
) -> None:
    case = kibana.create()
    reader, _ = make_key("case:Read")
    as_reader = Kibana(client, kibana.space, {"authorization": f"Bearer {reader}"})
    refused = as_reader.call("DELETE", params={"ids": f'["{case["id"]}"]'}, expect=403)
    assert "case:Delete" in refused["message"]
    kibana.call("DELETE", params={"ids": f'["{case["id"]}"]'}, expect=204)
    kibana.call("GET", f"/{case['id']}", expect=404)
    kibana.call("DELETE", params={"ids": case["id"]}, expect=404)


def test_tags_reporters_and_cases_of_an_alert(kibana: Kibana, user: str) -> None:
    kibana.create(tags=["b", "a"])
    kibana.create(tags=["a", "c"])
    assert kibana.call("GET", "/tags") == ["a", "b", "c"]
    assert [r["username"] for r in kibana.call("GET", "/reporters")] == [user]
    assert kibana.call("GET", "/alerts/no-such-alert") == []


def test_mutations_need_kbn_xsrf_and_limits_are_kibanas(kibana: Kibana) -> None:
    r = kibana.http.post(kibana.base, headers=kibana.auth, json={})
    assert r.status_code == 400
    assert r.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Request must contain a kbn-xsrf header.",
    }
    long = kibana.call(
        "POST",
        expect=400,
        json={
            "title": "x" * 161,
            "description": "",
            "tags": [],
            "owner": "cases",
            "settings": {"syncAlerts": False},
            "connector": CONNECTOR,
        },
    )
    assert "title" in long["message"]
    jira = kibana.call(
        "POST",
        expect=400,
        json={
            "title": "t",
            "description": "",
            "tags": [],
            "owner": "cases",
            "settings": {"syncAlerts": False},
            "connector": {"id": "j", "type": ".jira"},
        },
    )
    assert ".none" in jira["message"]
    bulk = kibana.call(
        "PATCH", expect=400, json={"cases": [{"id": "x", "version": "WzEsMV0="}] * 101}
    )
    assert "100" in bulk["message"]
    tags = kibana.call(
        "POST",
        expect=400,
        json={
            "title": "t",
            "description": "",
            "tags": ["t"] * 0 + [f"t{n}" for n in range(201)],
            "owner": "cases",
            "settings": {"syncAlerts": False},
            "connector": CONNECTOR,
        },
    )
    assert "tags" in tags["message"]


def test_spaces_are_apart(
    kibana: Kibana, client: httpx.Client, make_key: MakeKey, container: Container, user: str
) -> None:
    mine = kibana.create(title="mine")
    other = f"{kibana.space}-other"
    key, _ = make_key(space_name=other)
    elsewhere = Kibana(client, other, {"authorization": f"Bearer {key}"})
    elsewhere.create(title="theirs")
    assert [c["title"] for c in elsewhere.call("GET", "/_find")["cases"]] == ["theirs"]
    elsewhere.call("GET", f"/{mine['id']}", expect=404)
    # ...nor changes them: every write naming my case from there finds nothing.
    patch = {"cases": [{"id": mine["id"], "version": mine["version"], "title": "x"}]}
    elsewhere.call("PATCH", json=patch, expect=404)
    elsewhere.call(
        "POST", f"/{mine['id']}/comments", json={"type": "user", "comment": "x"}, expect=404
    )
    elsewhere.call("DELETE", params={"ids": mine["id"]}, expect=404)
    elsewhere.call("DELETE", f"/{mine['id']}/comments", expect=404)
    assert kibana.call("GET", f"/{mine['id']}")["title"] == "mine"
    assert kibana.call("GET", f"/{mine['id']}")["version"] == mine["version"]
    # My user has no role there, my key is not of that space: both see no such space.
    as_me_there = Kibana(client, other, kibana.auth)
    gone = as_me_there.call("GET", "/_find", expect=404)
    assert gone["message"] == f"Saved object [space/{other}] not found"
    Kibana(client, "no-such-space", kibana.auth).call("GET", "/_find", expect=404)
    Kibana(client, kibana.space, {"authorization": f"Bearer {key}"}).call(
        "GET", "/_find", expect=404
    )


def test_every_way_kibana_clients_authenticate(
    kibana: Kibana, client: httpx.Client, make_key: MakeKey
) -> None:
    key, _ = make_key("case:Read")
    prefix, secret = key.split("_", 2)[1:]
    ways = {
        "ApiKey id:secret": "ApiKey " + base64.b64encode(f"{prefix}:{secret}".encode()).decode(),
        "ApiKey id:key": "ApiKey " + base64.b64encode(f"{prefix}:{key}".encode()).decode(),
        "ApiKey key": f"ApiKey {key}",
        "Bearer": f"Bearer {key}",
    }
    for way, header in ways.items():
        k = Kibana(client, kibana.space, {"authorization": header})
        assert "cases" in k.call("GET", "/_find"), way
    none = client.get(kibana.base + "/_find")
    assert none.status_code == 401
    assert "Basic" in none.headers["www-authenticate"]


def test_logins_fail_alike_and_are_throttled(
    kibana: Kibana, client: httpx.Client, container: Container, user: str, fresh_throttle: None
) -> None:
    wrong = Kibana(client, kibana.space, basic(user, "not the password"))
    unknown = Kibana(client, kibana.space, basic("nobody-at-all"))
    a = wrong.call("GET", "/_find", expect=401)
    b = unknown.call("GET", "/_find", expect=401)
    assert a["message"] == b["message"]
    for _ in range(4):
        wrong.call("GET", "/_find", expect=401)
    limited = kibana.http.get(kibana.base + "/_find", headers=basic(user))
    assert limited.status_code == 429  # even the right password, until the window passes
    assert int(limited.headers["retry-after"]) > 0
    container.users.throttle = LoginThrottle()  # the window passed
    kibana.call("GET", "/_find")
    container.users.set_disabled(OPERATOR, user, True)
    assert kibana.call("GET", "/_find", expect=401)["message"] == a["message"]


def test_a_viewer_reads_but_cannot_write(
    kibana: Kibana, client: httpx.Client, container: Container, space: str
) -> None:
    container.users.create(
        OPERATOR, username=f"view-{space}", password=PASSWORD, space=space, role="viewer"
    )
    viewer = Kibana(client, space, basic(f"view-{space}"))
    case = kibana.create()
    assert viewer.call("GET", f"/{case['id']}")["id"] == case["id"]
    refused = viewer.call(
        "POST", f"/{case['id']}/comments", expect=403, json={"type": "user", "comment": "no"}
    )
    assert "case:Comment" in refused["message"]
    assert refused["error"] == "Forbidden"


def test_cross_dialect_history(kibana: Kibana, api: Client, client: httpx.Client) -> None:
    """Created in Kibana form, acknowledged over Coralogix gRPC, commented over Kibana, closed
    over Coralogix REST: both dialects show the same state and the whole history."""
    case = kibana.create(title="cross", severity="medium")
    cid = case["id"]
    api.cases.AcknowledgeCase(pb.AcknowledgeCaseRequest(id=cid))
    kibana.call("POST", f"/{cid}/comments", json={"type": "user", "comment": "looking"})
    r = client.post(f"/cases/closed/v1/{cid}", headers={"authorization": f"Bearer {api.key}"})
    assert r.status_code == 200, r.text

    k = kibana.call("GET", f"/{cid}")
    assert k["status"] == "closed"
    assert k["totalComment"] == 1
    cx = api.cases.GetCase(pb.GetCaseRequest(id=cid)).case
    assert cx.status == c_pb.CaseStatus.CASE_STATUS_CLOSED
    assert cx.priority == c_pb.CasePriority.CASE_PRIORITY_P3
    actions = kibana.call("GET", f"/{cid}/user_actions")
    seen = [(a["type"], a["payload"].get("status")) for a in actions]
    assert seen == [
        ("create_case", "open"),
        ("status", "in-progress"),
        ("comment", None),
        ("status", "closed"),
    ]
    assert actions[1]["created_by"]["username"] == api.key_name
    from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as ev

    events = api.events.ListEvents(ev.ListEventsRequest(case_id=cid)).events
    kinds = [e.event_data.WhichOneof("data") for e in events]
    assert "case_created" in kinds[0] or kinds[0] == "created"
    assert len([k for k in kinds if k and "comment" in k]) == 1
    assert len([k for k in kinds if k and "status" in k]) >= 2


def _raw(r: httpx.Response) -> dict[str, Any]:
    out: dict[str, Any] = r.json()
    return out


__all__ = ["XSRF"]


def test_nul_characters_are_refused_not_stored(kibana: Kibana) -> None:
    """PostgreSQL cannot store NUL in text: every door refuses it with a 400."""
    bad = kibana.call(
        "POST",
        expect=400,
        json={
            "title": "t",
            "description": "d\u0000",
            "tags": ["a\u0000b"],
            "owner": "cases",
            "settings": {"syncAlerts": False},
            "connector": CONNECTOR,
        },
    )
    assert "NUL" in bad["message"]
    found = kibana.call("GET", "/_find", params={"reporters": "x\u0000y", "perPage": 1})
    assert found["cases"] == []
    kibana.call("GET", "/_find", params={"search": "a\u0000"}, expect=400)
    kibana.call("GET", "/_find", params={"tags": "a\u0000"}, expect=400)


def test_what_the_review_found_is_refused_cleanly(
    kibana: Kibana, client: httpx.Client, make_key: MakeKey
) -> None:
    case = kibana.create()
    for version in ("²", "9" * 5000, "WzEsMV0"):  # a Unicode digit, a huge number, bad base64
        body = kibana.call(
            "PATCH",
            expect=400,
            json={"cases": [{"id": case["id"], "version": version, "title": "x"}]},
        )
        assert "version" in body["message"]
    unknown = kibana.call(
        "PATCH",
        expect=400,
        json={"cases": [{"id": case["id"], "version": case["version"], "titel": "typo"}]},
    )
    assert "titel" in unknown["message"]
    creator, _ = make_key("case:Create", "case:Update", "case:Read")
    k = Kibana(client, kibana.space, {"authorization": f"Bearer {creator}"})
    refused = k.call(
        "POST",
        expect=403,
        json={
            "title": "t",
            "description": "",
            "tags": [],
            "owner": "cases",
            "settings": {"syncAlerts": False},
            "connector": CONNECTOR,
            "assignees": [{"uid": USER_1}],
        },
    )
    assert "case:Assign" in refused["message"]
    k.call(
        "POST",
        json={
            "title": "t",
            "description": "",
            "tags": [],
            "owner": "cases",
            "settings": {"syncAlerts": False},
            "connector": CONNECTOR,
        },
    )


def test_find_by_reporter_owner_and_creation_time(
    kibana: Kibana, client: httpx.Client, make_key: MakeKey, user: str
) -> None:
    mine = kibana.create(title="mine", owner="securitySolution")
    key, _ = make_key()
    theirs = Kibana(client, kibana.space, {"authorization": f"Bearer {key}"}).create(title="key's")

    def ids(**params: Any) -> set[str]:
        return {x["id"] for x in kibana.call("GET", "/_find", params=params)["cases"]}

    assert ids(reporters=user) == {mine["id"]}
    assert ids(reporters="nobody-by-that-name") == set()
    assert ids(owner="securitySolution") == {mine["id"]}
    assert ids(owner="observability") == {theirs["id"]}  # cases and observability: AVAILABILITY
    assert ids(**{"from": mine["created_at"]}) == {mine["id"], theirs["id"]}
    assert ids(to=mine["created_at"]) == {mine["id"]}
    assert ids(**{"from": "2000-01-01T00:00:00Z", "to": "2000-01-02T00:00:00Z"}) == set()


def test_an_alert_joins_a_case_and_shows_as_an_alert_attachment(
    kibana: Kibana, container: Container, make_key: MakeKey
) -> None:
    from casekeeper.domain.signals import Signal, SignalBatch, SignalStatus, Source

    _, sender = make_key("signals:Write")
    signal = Signal(
        dedup_key="fp-disk",
        status=SignalStatus.FIRING,
        title="DiskFull",
        labels={"alertname": "DiskFull", "severity": "critical"},
        starts_at=1,
    )
    opened = container.signals.ingest(sender, SignalBatch(Source.ALERTMANAGER, (signal,)))
    case_id = opened.outcomes[0].case_id
    assert case_id is not None

    (found,) = kibana.call("GET", "/alerts/alertmanager:fp-disk")
    assert found["id"] == case_id
    assert found["totals"]["alerts"] == 1
    assert [c["id"] for c in kibana.call("GET", "/alerts/fp-disk")] == [case_id]
    alerts = kibana.call("GET", f"/{case_id}/user_actions/_find", params={"types": "alert"})
    (attached,) = alerts["userActions"]
    assert attached["type"] == "comment"
    assert attached["payload"]["comment"]["type"] == "alert"
    case = kibana.call("GET", f"/{case_id}")
    assert case["owner"] == "observability"
    assert case["severity"] == "critical"
    assert case["totalAlerts"] == 1

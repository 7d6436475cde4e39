"""Tracecat's cases API over a real HTTP server, logged in with a real session cookie: the
seed's list exactly, create/get/update/delete, search and its filters, cursor pages both ways,
the aggregate, batches with per-case results, comments, events, tags, and the cross-dialect
history (Tracecat, Coralogix gRPC, Kibana)."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.timeutil import parse_rfc3339
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from tests.api.coralogix.grpc.conftest import Client
from tests.api.kibana.conftest import XSRF, basic
from tests.api.tracecat.conftest import Tracecat

SCHEMA = json.loads((Path(__file__).parent / "seed_004_schema.json").read_text())
SEED_FIELDS = ["id", "short_id", "created_at", "updated_at", "summary", "status", "priority",
               "severity"]  # fmt: skip


def test_the_seeds_request_answers_exactly_the_seeds_fields(tracecat: Tracecat) -> None:
    """Seed 004: ``GET /cases?workspace_id=<uuid>`` with the cookie of a real login."""
    tracecat.create(summary="one", priority="critical", severity="fatal")
    tracecat.create(summary="two", status="on_hold", priority="unknown")
    body = tracecat.call("GET")
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(body)
    assert len(body) == 2
    for item in body:
        assert list(item)[:8] == SEED_FIELDS
        uuid.UUID(item["id"])
        parse_rfc3339(item["created_at"]) and parse_rfc3339(item["updated_at"])
    newest, oldest = body
    assert (newest["summary"], newest["status"], newest["priority"]) == ("two", "on_hold", "low")
    assert (oldest["priority"], oldest["severity"], oldest["status"]) == (
        "critical", "fatal", "new",
    )  # fmt: skip
    assert oldest["short_id"].startswith("CASE-")


def test_create_get_update_and_delete(tracecat: Tracecat) -> None:
    made = tracecat.create(severity="high", tags=["phishing", "vip"], payload={"src": "edr"})
    assert made["status"] == "new"
    assert made["severity"] == "high"
    assert [t["name"] for t in made["tags"]] == ["phishing", "vip"]
    cid = made["id"]
    got = tracecat.call("GET", f"/{cid}")
    assert got["description"] == "from 203.0.113.7"
    assert got["payload"] == {"src": "edr"}
    tracecat.call(
        "PATCH", f"/{cid}", expect=204,
        json={"summary": "Credential stuffing", "priority": "critical", "status": "in_progress",
              "severity": "critical", "fields": {"team": "soc"}},
    )  # fmt: skip
    got = tracecat.call("GET", f"/{cid}")
    assert (got["summary"], got["priority"], got["status"], got["severity"]) == (
        "Credential stuffing", "critical", "in_progress", "critical",
    )  # fmt: skip
    assert got["fields"] == [{"id": "team", "value": "soc"}]
    tracecat.call("PATCH", f"/{cid}", json={"priority": "unknown"}, expect=204)
    assert tracecat.call("GET", f"/{cid}")["priority"] == "low"  # back to the system's P5
    tracecat.call("DELETE", f"/{cid}", expect=204)
    gone = tracecat.call("GET", f"/{cid}", expect=404)
    assert "not found" in gone["detail"].lower()


@pytest.mark.parametrize(
    ("path", "word"),
    [("new", "new"), ("in_progress", "in_progress"), ("on_hold", "on_hold"),
     ("resolved", "resolved"), ("closed", "closed")],
)  # fmt: skip
def test_every_status_is_reachable_from_every_status(
    tracecat: Tracecat, path: str, word: str
) -> None:
    for start in ("new", "in_progress", "on_hold", "resolved", "closed"):
        cid = tracecat.create(status=start)["id"]
        assert tracecat.call("GET", f"/{cid}")["status"] == start
        tracecat.call("PATCH", f"/{cid}", json={"status": path}, expect=204)
        assert tracecat.call("GET", f"/{cid}")["status"] == word, (start, path)


def test_refusals_are_fastapi_422s_naming_the_field(tracecat: Tracecat) -> None:
    cid = tracecat.create()["id"]
    bad = tracecat.call("PATCH", f"/{cid}", json={"status": "other"}, expect=422)
    assert bad["detail"][0]["loc"] == ["body", "status"]
    assert "new, in_progress" in bad["detail"][0]["msg"]
    bad = tracecat.call("PATCH", f"/{cid}", json={"priority": "urgent"}, expect=422)
    assert bad["detail"][0]["loc"] == ["body", "priority"]
    bad = tracecat.call("PATCH", f"/{cid}", json={"colour": "red"}, expect=422)
    assert bad["detail"][0]["msg"] == "Extra inputs are not permitted"
    bad = tracecat.call("POST", json={"description": "no summary"}, expect=422)
    assert bad["detail"][0]["loc"] == ["body", "summary"]
    bad = tracecat.call("GET", params={"limit": "0"}, expect=422)
    assert bad["detail"][0]["loc"] == ["query", "limit"]
    bad = tracecat.call("GET", "/search", params={"status": "open"}, expect=422)
    assert bad["detail"][0]["loc"] == ["query", "status"]
    bad = tracecat.call("GET", params={"order_by": "tasks"}, expect=422)
    assert "tasks" in bad["detail"][0]["msg"]
    bad = tracecat.call("PATCH", f"/{cid}", json={"assignee_id": str(uuid.uuid4())}, expect=422)
    assert "no user" in bad["detail"][0]["msg"]
    deep: object = {}
    for _ in range(300):
        deep = {"a": deep}
    bad = tracecat.call("PATCH", f"/{cid}", json={"payload": deep}, expect=422)
    assert "nested too deeply" in bad["detail"][0]["msg"]
    forged = base64.urlsafe_b64encode(b"[" * 3000).decode()
    tracecat.call("GET", "/search", params={"cursor": forged}, expect=422)
    # Nothing of a refused change was applied.
    assert tracecat.call("GET", f"/{cid}")["status"] == "new"


def test_cursor_pages_go_forward_and_back(tracecat: Tracecat) -> None:
    ids = [tracecat.create(summary=f"c{n}")["id"] for n in range(7)]
    newest_first = ids[::-1]
    seen: list[str] = []
    cursor = None
    pages = []
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = tracecat.call("GET", "/search", params=params)
        pages.append(page)
        seen += [x["id"] for x in page["items"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == newest_first
    assert not pages[0]["has_previous"]
    assert pages[-1]["has_previous"]
    back = tracecat.call(
        "GET", "/search", params={"limit": "3", "cursor": pages[-1]["prev_cursor"]}
    )
    assert [x["id"] for x in back["items"]] == newest_first[3:6]
    # The older style: the first item's cursor with reverse=true reads the page before it too.
    again = tracecat.call(
        "GET", "/search",
        params={"limit": "3", "cursor": pages[-1]["prev_cursor"], "reverse": "true"},
    )  # fmt: skip
    assert [x["id"] for x in again["items"]] == newest_first[3:6]
    last = tracecat.call("GET", "/search", params={"limit": "3", "reverse": "true"})
    assert [x["id"] for x in last["items"]] == newest_first[4:]
    # GET /cases keeps the seed's array and puts the cursors in headers.
    r = tracecat.http.get("/cases", params={"workspace_id": tracecat.workspace_id, "limit": 4})
    assert [x["id"] for x in r.json()] == newest_first[:4]
    params = {"workspace_id": tracecat.workspace_id, "limit": 4,
              "cursor": r.headers["x-next-cursor"]}  # fmt: skip
    nxt = tracecat.http.get("/cases", params=params)
    assert [x["id"] for x in nxt.json()] == newest_first[4:]
    assert 'rel="next"' in r.headers["link"]
    # The link keeps the request's order and size: following it reads on.
    r = tracecat.http.get("/cases", params={"workspace_id": tracecat.workspace_id, "limit": 3,
                                            "order_by": "priority", "sort": "asc"})  # fmt: skip
    link = r.headers["link"].split(">")[0].lstrip("<")
    assert "order_by=priority" in link
    assert tracecat.http.get("/cases" + link).status_code == 200


@pytest.mark.parametrize("order_by", ["created_at", "updated_at", "priority", "severity", "status"])
def test_every_order_pages_without_gaps(tracecat: Tracecat, order_by: str) -> None:
    words = [("low", "informational"), ("critical", "fatal"), ("medium", "unknown"),
             ("high", "other"), ("low", "high")]  # fmt: skip
    for n, (priority, severity) in enumerate(words):
        tracecat.create(summary=f"o{n}", priority=priority, severity=severity)
    for sort in ("asc", "desc"):
        params = {"order_by": order_by, "sort": sort, "limit": 50}
        whole = tracecat.call("GET", "/search", params=params)["items"]
        paged, cursor = [], None
        while True:
            params = {"order_by": order_by, "sort": sort, "limit": 2}
            page = tracecat.call(
                "GET", "/search", params={**params, **({"cursor": cursor} if cursor else {})}
            )
            paged += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [x["id"] for x in paged] == [x["id"] for x in whole]
    if order_by == "severity":
        got = tracecat.call("GET", "/search", params={"order_by": "severity", "sort": "desc"})
        assert [x["severity"] for x in got["items"]][:2] == ["fatal", "high"]
        assert [x["severity"] for x in got["items"]][-2:] == ["other", "unknown"]


def test_search_filters(tracecat: Tracecat, user: str, container: Container) -> None:
    (me,) = container.users.ids_of([user]).values()
    a = tracecat.create(summary="Ransomware on host-7", priority="critical", severity="high",
                        tags=["malware", "host"], assignee_id=me)  # fmt: skip
    b = tracecat.create(summary="Phishing wave", description="lookalike domain", tags=["malware"])
    c = tracecat.create(summary="Port scan", status="on_hold", severity="low")

    def ids(**params: Any) -> set[str]:
        return {x["id"] for x in tracecat.call("GET", "/search", params=params)["items"]}

    assert ids(search_term="ransomware") == {a["id"]}
    assert ids(search_term="LOOKALIKE") == {b["id"]}  # the description too
    assert ids(search_term=a["short_id"]) == {a["id"]}
    assert ids(short_id=b["short_id"]) == {b["id"]}
    assert ids(status=["on_hold"]) == {c["id"]}
    assert ids(status=["in_progress"]) == set()
    assert ids(status=["new", "on_hold"]) == {a["id"], b["id"], c["id"]}
    assert ids(priority=["critical"]) == {a["id"]}
    assert ids(severity=["low", "high"]) == {a["id"], c["id"]}
    assert ids(tags=["malware"]) == {a["id"], b["id"]}
    assert ids(tags=["malware", "host"]) == {a["id"]}  # AND
    assert ids(tags=[a["tags"][1]["id"]]) == {a["id"]}  # by id
    assert ids(assignee_id=[me]) == {a["id"]}
    assert ids(assignee_id=["unassigned"]) == {b["id"], c["id"]}
    assert ids(start_time=b["created_at"]) == {b["id"], c["id"]}
    assert ids(end_time=a["created_at"]) == {a["id"]}
    assert ids(updated_after=c["updated_at"]) == {c["id"]}
    agg = tracecat.call("GET", "/search/aggregate", params={"tags": ["malware"]})
    assert agg == {"total": 2, "status_groups": {"new": 2, "in_progress": 0, "on_hold": 0,
                   "resolved": 0, "closed": 0, "unknown": 0, "other": 0}}  # fmt: skip
    agg = tracecat.call("GET", "/search/aggregate", params={"status": ["on_hold"]})
    assert agg["total"] == 1
    assert agg["status_groups"]["on_hold"] == 1
    assert agg["status_groups"]["new"] == 2


def test_batches_report_each_case(tracecat: Tracecat) -> None:
    one, two = tracecat.create()["id"], tracecat.create()["id"]
    missing = str(uuid.uuid4())
    body = {"case_ids": [one, missing, two], "update": {"status": "resolved"}}
    out = tracecat.call("POST", "/batch-update", json=body)
    assert out["succeeded"] == 2
    assert out["failed"] == 1
    assert [r["success"] for r in out["results"]] == [True, False, True]
    assert out["results"][1]["error"] == "Case not found"
    assert tracecat.call("GET", f"/{one}")["status"] == "resolved"
    bad = tracecat.call("POST", "/batch-update", json={"case_ids": [one], "update": {}}, expect=422)
    assert bad["detail"][0]["loc"] == ["body", "update"]
    bad = tracecat.call("POST", "/batch-update", expect=422,
                        json={"case_ids": [one, two], "update": {"status": "other"}})  # fmt: skip
    assert bad["detail"][0]["loc"] == ["body", "update", "status"]
    assert tracecat.call("GET", f"/{two}")["status"] == "resolved"  # nothing applied
    out = tracecat.call("POST", "/batch-delete", json={"case_ids": [one, missing]})
    assert [r["success"] for r in out["results"]] == [True, False]
    tracecat.call("GET", f"/{one}", expect=404)
    tracecat.call("GET", f"/{two}")


def test_comments_events_and_tags(tracecat: Tracecat) -> None:
    cid = tracecat.create(tags=["phishing"])["id"]
    made = tracecat.call("POST", f"/{cid}/comments", json={"content": "looking"}, expect=201)
    assert made["content"] == "looking"
    assert made["user"]["email"].endswith("@example.com")
    tracecat.call("PATCH", f"/{cid}/comments/{made['id']}", json={"content": "on it"}, expect=204)
    (comment,) = tracecat.call("GET", f"/{cid}/comments")
    assert comment["content"] == "on it"
    assert comment["last_edited_at"] is not None
    other = tracecat.create()["id"]
    tracecat.call("DELETE", f"/{other}/comments/{made['id']}", expect=404)  # not that case's
    tag = tracecat.call("POST", f"/{cid}/tags", json={"tag_id": "VIP user"}, expect=201)
    assert tag["ref"] == "vip-user"
    assert [t["name"] for t in tracecat.call("GET", f"/{cid}/tags")] == ["phishing", "VIP user"]
    tracecat.call("DELETE", f"/{cid}/tags/vip-user", expect=204)
    gone = tracecat.call("DELETE", f"/{cid}/tags/{tag['id']}", expect=404)  # gone already
    assert gone["detail"].startswith("Tag not found")
    tracecat.call("PATCH", f"/{cid}", json={"status": "closed"}, expect=204)
    tracecat.call("PATCH", f"/{cid}", json={"status": "new"}, expect=204)
    tracecat.call("DELETE", f"/{cid}/comments/{made['id']}", expect=204)
    events = tracecat.call("GET", f"/{cid}/events")
    types = [e["type"] for e in events["events"]]
    # The comment was the timeline's comment event: deleting it took it off the timeline.
    assert types == ["case_created", "tag_added", "tag_removed", "case_closed", "case_reopened"]
    assert {u["id"] for u in events["users"]} == {events["events"][0]["user_id"]}


def test_cross_dialect_history(
    tracecat: Tracecat, api: Client, client: httpx.Client, user: str, space: str
) -> None:
    """Created over Tracecat, acknowledged over Coralogix gRPC, commented in Kibana form,
    closed over Tracecat: the three dialects agree on state and history."""
    cid = tracecat.create(summary="cross", priority="medium")["id"]
    api.cases.AcknowledgeCase(pb.AcknowledgeCaseRequest(id=cid))
    kibana_base = f"/s/{space}/api/cases"
    comment = {"type": "user", "comment": "looking", "owner": "securitySolution"}
    r = client.post(f"{kibana_base}/{cid}/comments", headers={**basic(user), **XSRF}, json=comment)
    assert r.status_code == 200, r.text
    assert tracecat.call("GET", f"/{cid}")["status"] == "in_progress"
    tracecat.call("PATCH", f"/{cid}", json={"status": "closed"}, expect=204)

    assert tracecat.call("GET", f"/{cid}")["status"] == "closed"
    cx = api.cases.GetCase(pb.GetCaseRequest(id=cid)).case
    assert cx.status == c_pb.CaseStatus.CASE_STATUS_CLOSED
    assert cx.priority == c_pb.CasePriority.CASE_PRIORITY_P3
    k = client.get(f"{kibana_base}/{cid}", headers=basic(user)).json()
    assert (k["status"], k["totalComment"]) == ("closed", 1)

    types = [(e["type"], e.get("new")) for e in tracecat.call("GET", f"/{cid}/events")["events"]]
    assert types == [("case_created", None), ("status_changed", "in_progress"),
                     ("comment_created", None), ("case_closed", "closed")]  # fmt: skip
    actions = client.get(f"{kibana_base}/{cid}/user_actions", headers=basic(user)).json()
    assert [(a["type"], a["payload"].get("status")) for a in actions] == [
        ("create_case", "open"), ("status", "in-progress"), ("comment", None),
        ("status", "closed"),
    ]  # fmt: skip
    from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as ev

    kinds = [e.event_data.WhichOneof("data")
             for e in api.events.ListEvents(ev.ListEventsRequest(case_id=cid)).events]  # fmt: skip
    assert len([k for k in kinds if k and "comment" in k]) == 1
    assert len([k for k in kinds if k and "status" in k]) == 2


def test_an_assignee_must_be_of_the_workspace(
    tracecat: Tracecat, container: Container, space: str
) -> None:
    """A user of another workspace is answered as one that does not exist: never shown."""
    from tests.api.tracecat.conftest import make_user

    stranger = make_user(container, f"t-{uuid.uuid4().hex[:12]}")
    (their_id,) = container.users.ids_of([stranger]).values()
    bad = tracecat.call("POST", json={"summary": "s", "description": "d", "assignee_id": their_id},
                        expect=422)  # fmt: skip
    assert "no user" in bad["detail"][0]["msg"]
    assert stranger not in str(bad)
    colleague = make_user(container, space)
    (mate,) = container.users.ids_of([colleague]).values()
    made = tracecat.create(assignee_id=mate)
    assert made["assignee"]["username"] == colleague

"""``GET /api/v1/events/stream`` over real HTTP: changes arrive live, a reconnect with
Last-Event-ID gets exactly what it missed, another space's changes never arrive, and who may
follow is checked like every API."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from casekeeper.bootstrap import Container
from casekeeper.service.auth import Principal
from tests.conftest import MakeCase, MakeKey, case_maker
from tests.web.conftest import LogIn

PATH = "/api/v1/events/stream"


@contextlib.contextmanager
def stream(base_url: str, key: str | None = None, **kw: Any) -> Iterator[Iterator[dict[str, Any]]]:
    headers = dict(kw.pop("headers", {}))
    if key:
        headers["Authorization"] = f"Bearer {key}"
    client = kw.pop("client", None) or httpx.Client(base_url=base_url, timeout=20)
    with client.stream("GET", PATH, headers=headers, **kw) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        yield events(r.iter_lines())


def events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    current: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "event" in current:
                yield current
            current = {}
        elif not line.startswith(":") and ":" in line:
            name, _, value = line.partition(":")
            current[name] = json.loads(value) if name == "data" else value.strip()


def next_case_event(feed: Iterator[dict[str, Any]], case_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    for event in feed:
        if event["event"] == "case" and event["data"]["case_id"] == case_id:
            return event
        assert time.monotonic() < deadline
    raise AssertionError("the stream ended")


def test_a_change_arrives_and_a_reconnect_gets_exactly_what_it_missed(
    base_url: str, container: Container, make_key: MakeKey, make_case: MakeCase,
    principal: Principal,
) -> None:  # fmt: skip
    key, _ = make_key("case:Read")
    case = make_case(title="Streamed")
    with stream(base_url, key) as feed:
        container.timeline.create_comment(principal, case.id, "first")
        first = next_case_event(feed, case.id)
    assert first["data"]["kind"] == "comment"
    assert first["data"]["ref"] == case.readable_id
    for text in ("second", "third"):
        container.timeline.create_comment(principal, case.id, text)
    with stream(base_url, key, headers={"Last-Event-ID": first["id"]}) as feed:
        missed = [next_case_event(feed, case.id), next_case_event(feed, case.id)]
    assert [e["data"]["kind"] for e in missed] == ["comment", "comment"]
    assert missed[0]["id"] != first["id"]
    with stream(base_url, key, params={"last_event_id": missed[1]["id"]}) as feed:
        container.timeline.create_comment(principal, case.id, "fourth")
        assert next_case_event(feed, case.id)["id"] != missed[1]["id"]


def test_another_spaces_changes_never_arrive(
    base_url: str, container: Container, make_key: MakeKey, make_case: MakeCase,
    principal: Principal,
) -> None:  # fmt: skip
    key, _ = make_key("case:Read")
    _, elsewhere = make_key(space_name="t-other-space")
    theirs = case_maker(container, elsewhere)(title="Not yours")
    mine = make_case(title="Yours")
    with stream(base_url, key) as feed:
        container.timeline.create_comment(elsewhere, theirs.id, "private")
        container.timeline.create_comment(principal, mine.id, "public")
        for event in feed:
            assert event["data"].get("case_id") != theirs.id
            if event["data"].get("case_id") == mine.id:
                break


def test_who_may_follow(base_url: str, make_key: MakeKey, log_in: LogIn,
                        make_case: MakeCase, principal: Principal,
                        container: Container, space: str) -> None:  # fmt: skip
    with httpx.Client(base_url=base_url, timeout=10) as c:
        assert c.get(PATH).status_code == 401
        bad = c.get(PATH, headers={"Authorization": "Bearer ck_nope_nope"})
        assert bad.status_code == 401
        key, _ = make_key("incidents:read")
        assert c.get(PATH, headers={"Authorization": f"Bearer {key}"}).status_code == 403
        good, _ = make_key("case:Read")
        r = c.get(PATH, headers={"Authorization": f"Bearer {good}", "Last-Event-ID": "x1"})
        assert r.status_code == 400
        assert "Last-Event-ID" in r.json()["message"]
    viewer = log_in("viewer")  # the console's session cookie, in the test's space
    case = make_case()
    with stream(base_url, client=viewer.http, params={"space": space}) as feed:
        container.timeline.create_comment(principal, case.id, "seen by the viewer")
        assert next_case_event(feed, case.id)["data"]["kind"] == "comment"

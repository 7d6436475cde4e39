"""Who may call the Tracecat API, over a real server: the session cookie of a real login (its
attributes, expiry, logout, revocation), the CSRF rule for cookie writes, workspaces that are
not the caller's, viewers, and Bearer keys made with Tracecat's scopes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from casekeeper.bootstrap import Container
from casekeeper.service.auth import OPERATOR
from tests.api.coralogix.rest.conftest import TIMEOUT
from tests.api.tracecat.conftest import (
    PASSWORD,
    LogIn,
    Tracecat,
    make_user,
    workspace_of,
)


@pytest.fixture
def restore_sessions(container: Container) -> Iterator[None]:
    idle, max_age = container.sessions.idle, container.sessions.max_age
    yield
    container.sessions.idle, container.sessions.max_age = idle, max_age
    container.sessions.forget()


def test_login_sets_a_secure_cookie_and_logout_ends_the_session(
    base_url: str, user: str, workspace_id: str
) -> None:
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        r = c.post("/auth/login", data={"username": user, "password": PASSWORD})
        assert r.status_code == 204
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("fastapiusersauth=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/" in cookie
        assert "Secure" not in cookie  # plain HTTP here; over TLS it is Secure
        tc = Tracecat(c, workspace_id)
        tc.call("GET")
        token = c.cookies["fastapiusersauth"]
        assert c.post("/auth/logout").status_code == 204
        assert "fastapiusersauth" not in c.cookies
        c.cookies.set("fastapiusersauth", token)  # the old cookie, kept by a client
        refused = tc.call("GET", expect=401)
        assert "session has ended" in refused["detail"]


def test_bad_logins_get_fastapi_users_answer(
    base_url: str, user: str, fresh_throttle: None
) -> None:
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        for name, password in ((user, "wrong password"), ("nobody-here", PASSWORD)):
            r = c.post("/auth/login", data={"username": name, "password": password})
            assert (r.status_code, r.json()) == (400, {"detail": "LOGIN_BAD_CREDENTIALS"})
        r = c.post("/auth/login", json={"username": user, "password": PASSWORD})
        assert r.status_code == 415
        r = c.post("/auth/login", data={"username": user})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "password"]
        assert c.post("/auth/logout").status_code == 401
        # A cross-site page cannot log a browser in (login CSRF): no cookie is set.
        r = c.post("/auth/login", data={"username": user, "password": PASSWORD},
                   headers={"origin": "https://evil.example"})  # fmt: skip
        assert r.status_code == 403
        assert "set-cookie" not in r.headers


def test_sessions_expire_when_idle_and_at_their_end(
    container: Container,
    base_url: str,
    user: str,
    workspace_id: str,
    restore_sessions: None,
    logged_in: LogIn,
) -> None:
    tc = logged_in(user, workspace_id)
    tc.call("GET")
    container.sessions.idle = 1  # a microsecond: the next use finds it idle too long
    container.sessions.forget()
    assert "session has ended" in tc.call("GET", expect=401)["detail"]
    container.sessions.idle = 3600 * 1_000_000
    tc = logged_in(user, workspace_id)
    container.sessions.max_age = 1  # sessions made from now on end at once
    late = logged_in(user, workspace_id)
    late.call("GET", expect=401)
    tc.call("GET")  # made before: its own end still ahead


def test_use_slides_the_idle_expiry_on(
    container: Container,
    base_url: str,
    user: str,
    workspace_id: str,
    restore_sessions: None,
    logged_in: LogIn,
) -> None:
    tc = logged_in(user, workspace_id)
    (session,) = container.sessions.list_for(OPERATOR, user)[:1]
    start = session.last_seen_time
    clock = container.sessions.clock
    container.sessions.clock = lambda: clock() + 120 * 1_000_000  # two minutes on
    try:
        container.sessions.forget()
        tc.call("GET")
    finally:
        container.sessions.clock = clock
    (after,) = container.sessions.list_for(OPERATOR, user)[:1]
    assert after.last_seen_time >= start + 120 * 1_000_000


def test_revoking_a_users_sessions_logs_them_out(
    container: Container, base_url: str, user: str, workspace_id: str, logged_in: LogIn
) -> None:
    one = logged_in(user, workspace_id)
    two = logged_in(user, workspace_id)
    one.call("GET")
    assert container.sessions.revoke_all(OPERATOR, user) >= 2
    one.call("GET", expect=401)
    two.call("GET", expect=401)
    logged_in(user, workspace_id).call("GET")  # a new login works


def test_disabling_a_user_ends_its_sessions(
    container: Container, base_url: str, space: str, logged_in: LogIn
) -> None:
    name = make_user(container, space)
    tc = logged_in(name, workspace_of(container, space))
    tc.call("GET")
    container.users.set_disabled(OPERATOR, name, True)
    tc.call("GET", expect=401)
    container.users.set_disabled(OPERATOR, name, False)
    tc.call("GET", expect=401)  # enabled again: its old (maybe stolen) cookies stay ended


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"},
     {"sec-fetch-site": "same-site", "origin": "https://sub.example"}, {"origin": "null"}],
)  # fmt: skip
def test_cross_site_writes_with_the_cookie_are_refused(
    tracecat: Tracecat, headers: dict[str, str]
) -> None:
    refused = tracecat.call("POST", json={"summary": "s", "description": "d"}, expect=403,
                            headers=headers)  # fmt: skip
    assert refused["detail"].startswith("CSRF check failed")
    assert tracecat.call("GET") == []  # nothing was made
    tracecat.call("GET", headers=headers)  # reads are not refused
    host = tracecat.http.base_url.netloc.decode()
    for ok in ({"origin": f"http://{host}"}, {"sec-fetch-site": "same-origin"}, {}):
        tracecat.call("POST", json={"summary": "s", "description": "d"}, expect=201, headers=ok)


def test_a_workspace_not_the_callers_is_not_found(
    tracecat: Tracecat, container: Container, base_url: str, logged_in: LogIn
) -> None:
    other_space = f"t-{uuid.uuid4().hex[:12]}"
    elsewhere = logged_in(make_user(container, other_space), workspace_of(container, other_space))
    theirs = elsewhere.create()["id"]
    for ws in (elsewhere.workspace_id, str(uuid.uuid4())):
        r = tracecat.http.get("/cases", params={"workspace_id": ws})
        assert (r.status_code, r.json()) == (404, {"detail": "Workspace not found"})
        r = tracecat.http.get(f"/cases/{theirs}", params={"workspace_id": ws})
        assert r.status_code == 404
    # In its own workspace, another workspace's case does not exist either.
    tracecat.call("GET", f"/{theirs}", expect=404)
    bad = tracecat.http.get("/cases", params={"workspace_id": "not-a-uuid"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "workspace_id"]
    assert tracecat.http.get("/cases").status_code == 422


def test_a_viewers_cookie_reads_but_cannot_change(
    tracecat: Tracecat, container: Container, base_url: str, space: str, logged_in: LogIn
) -> None:
    cid = tracecat.create()["id"]
    viewer = logged_in(make_user(container, space, "viewer"), tracecat.workspace_id)
    assert viewer.call("GET", f"/{cid}")["id"] == cid
    refused = viewer.call("PATCH", f"/{cid}", json={"status": "closed"}, expect=403)
    assert "case:Close" in refused["detail"]
    viewer.call("POST", json={"summary": "s", "description": "d"}, expect=403)
    viewer.call("POST", f"/{cid}/comments", json={"content": "x"}, expect=403)
    viewer.call("DELETE", f"/{cid}", expect=403)
    assert tracecat.call("GET", f"/{cid}")["status"] == "new"


def test_bearer_keys_with_tracecat_scopes(
    tracecat: Tracecat, container: Container, base_url: str, space: str
) -> None:
    cid = tracecat.create()["id"]
    reader = container.keys.create(
        granted_by=OPERATOR, name="r", permissions=[], scopes=["case:read"], space=space
    )
    writer = container.keys.create(
        granted_by=OPERATOR, name="w", permissions=[], scopes=["case:update"],
        space=space,
    )  # fmt: skip
    assert "case:Close" in writer.row.permissions
    assert "case:Delete" not in writer.row.permissions
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        for key, status in ((reader.key, 403), (writer.key, 204)):
            r = c.patch(f"/cases/{cid}", params={"workspace_id": tracecat.workspace_id},
                        json={"status": "resolved"},
                        headers={"authorization": f"Bearer {key}"})  # fmt: skip
            assert r.status_code == status, r.text
        r = c.get("/cases", params={"workspace_id": tracecat.workspace_id},
                  headers={"authorization": "Bearer ck_nope_nope"})  # fmt: skip
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        r = c.get("/cases", params={"workspace_id": tracecat.workspace_id})
        assert r.status_code == 401
    assert tracecat.call("GET", f"/{cid}")["status"] == "resolved"

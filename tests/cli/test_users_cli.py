"""``casekeeper users`` as an operator uses it: real processes on a SQLite file; the password
only ever on standard input; then a login with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from casekeeper.bootstrap import bootstrap
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.settings import Settings
from tests.cli.test_notify_cli import ck


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'users-cli.db'}"
    ck(url, "db", "upgrade")
    return url


def test_create_list_set_role_disable_and_log_in(db: str) -> None:
    made = json.loads(
        ck(
            db,
            "users",
            "create",
            "--username",
            "Alice",
            "--role",
            "responder",
            "--email",
            "alice@example.com",
            "--full-name",
            "Alice Doe",
            "--password-stdin",
            "--json",
            stdin="s3cret-pass\n",
        ).stdout
    )
    assert made["username"] == "alice"
    assert made["roles"] == {"default": "responder"}
    ck(db, "users", "set-role", "alice", "--space", "sec", "--role", "viewer")
    listed = json.loads(ck(db, "users", "list", "--json").stdout)
    assert [(u["username"], u["roles"]) for u in listed] == [
        ("alice", {"default": "responder", "sec": "viewer"})
    ]
    table = ck(db, "users", "list", "--space", "sec").stdout
    assert "alice" in table
    assert "s3cret-pass" not in table

    c = bootstrap(Settings.from_env(database_url=db))
    try:
        p = c.users.authenticate("alice", "s3cret-pass", "sec", "127.0.0.1")
        assert "case:Read" in {x.value for x in p.permissions}
        assert "case:Comment" not in {x.value for x in p.permissions}
        ck(db, "users", "set-role", "alice", "--space", "sec", "--role", "none")
        ck(db, "users", "disable", "alice")
        c.users._forget()  # another process changed it; this one's cache would live 60 s
        with pytest.raises(CasekeeperError) as err:
            c.users.authenticate("alice", "s3cret-pass", "default", "127.0.0.1")
        assert err.value.code is ErrorCode.UNAUTHENTICATED
    finally:
        c.close()
    back = json.loads(ck(db, "users", "disable", "alice", "--enable", "--json").stdout)
    assert back["disabled"] is False
    assert back["roles"] == {"default": "responder"}


def test_bad_input_is_refused_with_a_reason(db: str) -> None:
    no_stdin = ck(db, "users", "create", "--username", "bob", "--role", "viewer", check=False)
    assert no_stdin.returncode != 0
    assert "--password-stdin" in no_stdin.stdout + no_stdin.stderr
    short = ck(
        db,
        "users",
        "create",
        "--username",
        "bob",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="short\n",
        check=False,
    )
    assert "password" in short.stdout + short.stderr
    role = ck(
        db,
        "users",
        "create",
        "--username",
        "bob",
        "--role",
        "boss",
        "--password-stdin",
        stdin="long enough pass\n",
        check=False,
    )
    assert "viewer, responder, admin" in role.stdout + role.stderr
    ck(
        db,
        "users",
        "create",
        "--username",
        "bob",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="long enough pass\n",
    )
    twice = ck(
        db,
        "users",
        "create",
        "--username",
        "BOB",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="long enough pass\n",
        check=False,
    )
    assert "exists" in twice.stdout + twice.stderr
    missing = ck(db, "users", "disable", "nobody", check=False)
    assert "no user named" in missing.stdout + missing.stderr


def test_spaces_are_listed_with_a_uuid_that_stays(db: str) -> None:
    ck(db, "keys", "create", "--name", "k", "-p", "case:Read", "--space", "team-a")
    ck(
        db,
        "users",
        "create",
        "--username",
        "carol",
        "--role",
        "viewer",
        "--space",
        "team-b",
        "--password-stdin",
        stdin="long enough pass\n",
    )
    first = json.loads(ck(db, "spaces", "list", "--json").stdout)
    assert [s["name"] for s in first] == ["team-a", "team-b"]
    assert all(len(s["uuid"]) == 36 for s in first)
    assert len({s["uuid"] for s in first}) == 2
    assert json.loads(ck(db, "spaces", "list", "--json").stdout) == first
    table = ck(db, "spaces", "list").stdout
    assert first[0]["uuid"] in table


def test_sessions_are_listed_and_revoked(db: str) -> None:
    ck(db, "users", "create", "--username", "dave", "--role", "responder",
       "--password-stdin", stdin="long enough pass\n")  # fmt: skip
    c = bootstrap(Settings.from_env(database_url=db))
    try:
        for agent in ("curl/8", "Mozilla/5.0"):
            c.sessions.login("dave", "long enough pass", "127.0.0.1", agent)
        listed = json.loads(ck(db, "users", "sessions", "dave", "--json").stdout)
        assert [s["userAgent"] for s in listed] == ["Mozilla/5.0", "curl/8"]
        assert all(s["live"] and s["revoked"] is None for s in listed)
        assert "ended 2 session(s)" in ck(db, "users", "revoke-sessions", "dave").stdout
        listed = json.loads(ck(db, "users", "sessions", "dave", "--json").stdout)
        assert not any(s["live"] for s in listed)
        assert "revoked" in ck(db, "users", "sessions", "dave").stdout
    finally:
        c.close()
    missing = ck(db, "users", "sessions", "nobody", check=False)
    assert "no user named" in missing.stdout + missing.stderr


def test_keys_with_tracecat_scopes(db: str) -> None:
    made = json.loads(
        ck(db, "keys", "create", "--name", "soar", "--scope", "case:read", "--scope",
           "case:update", "--json").stdout
    )  # fmt: skip
    assert made["permissions"] == [
        "case:Read", "case:Update", "case:Assign", "case:Acknowledge", "case:Close",
        "case:Comment",
    ]  # fmt: skip
    bad = ck(db, "keys", "create", "--name", "x", "--scope", "case:everything", check=False)
    assert "unknown scope" in bad.stdout + bad.stderr

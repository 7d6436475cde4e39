"""The notification CLI as scripts use it: real ``casekeeper`` processes on a SQLite file, a real
webhook receiver on loopback, and ``casekeeper worker --once`` delivering."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from casekeeper.bootstrap import bootstrap
from casekeeper.cli.common import operator
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.service.admin import NewCase
from casekeeper.settings import Settings
from tests.notify.receiver import Receiver

CASEKEEPER = [sys.executable, "-m", "casekeeper"]
KEY = "correct horse battery staple, long enough for a key"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'notify-cli.db'}"
    ck(url, "db", "upgrade")
    return url


def ck(url: str, *args: str, stdin: str | None = None, check: bool = True,
       **env: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CASEKEEPER_")}
    proc = subprocess.run(
        [*CASEKEEPER, *args], capture_output=True, text=True, input=stdin, timeout=120,
        env={**clean, "CASEKEEPER_DATABASE_URL": url, "COLUMNS": "200", **env},
    )  # fmt: skip
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return proc


def new_case(url: str) -> str:
    """A P2 case in the CLI's default space; its readable id."""
    c = bootstrap(Settings.from_env(database_url=url))
    try:
        spec = NewCase(title="Disk full", category=CaseCategory.AVAILABILITY,
                       priority=CasePriority.P2)  # fmt: skip
        case = c.admin.create_case(operator(c), spec)
    finally:
        c.close()
    assert case.readable_id is not None
    return case.readable_id


def made(url: str, *args: str, **kw: Any) -> dict[str, Any]:
    out = json.loads(ck(url, *args, "--json", **kw).stdout)
    assert isinstance(out, dict)
    assert out["id"]
    return out


def test_connectors_of_every_type_and_their_secrets(db: str) -> None:
    slack_url = "https://hooks.slack.example/services/T000/B000/very-secret-token"
    slack = made(db, "connectors", "create", "--name", "slack", "--type", "slack",
                 "--secret-stdin", stdin=slack_url + "\n", CASEKEEPER_SECRET_KEY=KEY)  # fmt: skip
    assert slack["secret"] == "stored"
    assert slack["url"] is None
    made(db, "connectors", "create", "--name", "teams", "--type", "teams",
         "--secret-env", "TEAMS_WEBHOOK_URL")  # fmt: skip
    made(db, "connectors", "create", "--name", "mm", "--type", "mattermost",
         "--url", "https://mm.example/hooks/abc", CASEKEEPER_SECRET_KEY=KEY)  # fmt: skip
    pd = made(db, "connectors", "create", "--name", "pd", "--type", "pagerduty",
              "--secret-stdin", stdin="R0UT1NGKEY0123456789abcdef012345\n",
              CASEKEEPER_SECRET_KEY=KEY)  # fmt: skip
    assert pd["url"] == "https://events.pagerduty.com/v2/enqueue"
    mail = made(db, "connectors", "create", "--name", "mail", "--type", "email",
                "--smtp", "127.0.0.1:2525", "--from", "ck@example.com",
                "--to", "a@example.com", "--to", "b@example.com")  # fmt: skip
    assert mail["email"]["to"] == ["a@example.com", "b@example.com"]
    made(db, "connectors", "create", "--name", "hook", "--type", "webhook",
         "--url", "http://127.0.0.1:9/hook",
         "--header", "X-Team={{ case.labels.team }}")  # fmt: skip

    listed = ck(db, "connectors", "list", "--json").stdout
    assert "very-secret-token" not in listed
    assert "R0UT1NGKEY" not in listed
    assert sorted(c["name"] for c in json.loads(listed)) == [
        "hook", "mail", "mm", "pd", "slack", "teams"
    ]  # fmt: skip
    table = ck(db, "connectors", "list").stdout
    assert "env:TEAMS_WEBHOOK_URL" in table
    assert "very-secret-token" not in table

    no_key = ck(db, "connectors", "create", "--name", "s2", "--type", "slack", "--secret-stdin",
                stdin=slack_url, check=False)  # fmt: skip
    assert no_key.returncode == 1
    assert "CASEKEEPER_SECRET_KEY" in no_key.stdout + no_key.stderr
    bad = ck(db, "connectors", "create", "--name", "x", "--type", "fax", "--url", "http://a",
             check=False)  # fmt: skip
    assert bad.returncode == 1
    assert "unknown connector type 'fax'" in bad.stdout + bad.stderr

    for name in ("hook", "mail", "mm", "pd", "slack", "teams"):
        assert f"deleted {name}" in ck(db, "connectors", "delete", name).stdout
    assert json.loads(ck(db, "connectors", "list", "--json").stdout) == []
    gone = ck(db, "connectors", "delete", "mail", check=False)
    assert gone.returncode == 1
    assert "Connector not found: 'mail'" in gone.stdout + gone.stderr


def test_connectors_change_and_routes_list_in_order(db: str) -> None:
    body = '{"event": {{ event | tojson }}, "case": {{ case.readable_id | tojson }}}'
    hook = made(db, "connectors", "create", "--name", "hook", "--type", "webhook",
                "--url", "http://127.0.0.1:9/a", "--disabled", "--body-template", "-",
                stdin=body)  # fmt: skip
    assert (hook["enabled"], hook["bodyTemplate"]) == (False, body)
    changed = made(db, "connectors", "update", "hook", "--name", "hook2", "--enable",
                   "--url", "http://127.0.0.1:9/b",
                   "--header", "X-Team={{ case.labels.team }}")  # fmt: skip
    assert changed["id"] == hook["id"]
    assert (changed["name"], changed["url"], changed["enabled"]) == (
        "hook2", "http://127.0.0.1:9/b", True
    )  # fmt: skip
    assert changed["headerTemplates"] == {"X-Team": "{{ case.labels.team }}"}
    assert changed["bodyTemplate"] == body  # kept: not given
    off = ck(db, "connectors", "update", hook["id"], "--disable").stdout
    assert "hook2 (webhook) updated, disabled" in off
    both = ck(db, "connectors", "update", "hook2", "--secret-stdin", "--body-template", "-",
              stdin="x\n", check=False)  # fmt: skip
    assert both.returncode == 1
    assert "cannot both read standard input" in both.stderr
    bad = ck(db, "connectors", "update", "hook2", "--url", "ftp://a.example", check=False)
    assert bad.returncode == 1
    assert "an http(s) URL" in bad.stderr
    missing = ck(db, "connectors", "update", "nope", "--enable", check=False)
    assert missing.returncode == 1
    assert "Connector not found: 'nope'" in missing.stderr
    mail = made(db, "connectors", "create", "--name", "mail", "--type", "email",
                "--smtp", "127.0.0.1:2525", "--from", "ck@example.com", "--to", "a@example.com",
                "--starttls", "--username", "ck")  # fmt: skip
    assert (mail["email"]["starttls"], mail["email"]["username"]) == (True, "ck")
    plain = made(db, "connectors", "update", "mail", "--no-starttls")
    assert plain["email"] == {**mail["email"], "starttls": False}

    made(db, "routes", "create", "--name", "later", "--connector", "mail", "--disabled")
    first = made(db, "routes", "create", "--name", "security", "--connector", "hook2",
                 "--connector", mail["id"], "--category", "security", "--label", "team=db",
                 "--grouping", "service=db", "--stop", "--position", "0",
                 "--title-template", "[SEC] {{ case.title }}")  # fmt: skip
    assert first["connectors"] == [hook["id"], mail["id"]]
    assert (first["categories"], first["labels"], first["groupings"]) == (
        ["SECURITY"], ["team=db"], ["service=db"]
    )  # fmt: skip
    listed = json.loads(ck(db, "routes", "list", "--json").stdout)
    assert [(r["name"], r["enabled"]) for r in listed] == [("security", True), ("later", False)]
    table = ck(db, "routes", "list").stdout
    assert "SECURITY, team=db, service=db" in table
    assert "hook2, mail" in table
    wrong = ck(db, "routes", "create", "--name", "x", "--connector", "mail", "--event", "paged",
               check=False)  # fmt: skip
    assert wrong.returncode == 1
    assert "unknown event 'paged'" in wrong.stderr


def test_a_route_delivers_through_the_worker_and_the_ledger_says_so(db: str) -> None:
    with Receiver(record_bodies=True) as r:
        hook = made(db, "connectors", "create", "--name", "hook", "--type", "webhook",
                    "--url", r.url)  # fmt: skip
        route = made(db, "routes", "create", "--name", "acks", "--connector", "hook",
                     "--event", "acknowledged", "--min-priority", "P3")  # fmt: skip
        assert route["connectors"] == [hook["id"]]
        assert route["events"] == ["acknowledged"]
        case = new_case(db)
        ck(db, "cases", "ack", case)
        explained = json.loads(ck(db, "routes", "explain", "--case", case, "--event",
                                  "acknowledged", "--json").stdout)  # fmt: skip
        assert explained["routes"][0]["matched"] is True
        assert explained["routes"][0]["connectors"][0]["usable"] is True
        out = ck(db, "worker", "--once", "--no-timers").stdout
        assert "1 notifications delivered" in out
        assert r.seen.stats()["requests"] == 1
        _, headers, body = r.seen.bodies[0]
        assert json.loads(body)["event"] == "acknowledged"
        assert headers["x-casekeeper-event"] == "acknowledged"

        r.status = 400  # the next one fails for good
        ck(db, "cases", "resolve", case)
        ck(db, "routes", "create", "--name", "resolved", "--connector", hook["id"],
           "--event", "resolved")  # fmt: skip
        ck(db, "cases", "reopen", case, check=False)
        ck(db, "cases", "resolve", case, check=False)
        ck(db, "worker", "--once", "--no-timers")
        ledger = json.loads(ck(db, "deliveries", "list", "--case", case, "--json").stdout)
        failed = [d for n in ledger for d in n["deliveries"] if d["state"] == "failed"]
        assert failed
        assert failed[0]["attempts"][0]["statusCode"] == 400
        text = ck(db, "deliveries", "list", "--case", case).stdout
        assert "acknowledged -> routed (acks)" in text

        r.status = 200
        ck(db, "deliveries", "replay", failed[0]["id"])
        ck(db, "worker", "--once", "--no-timers")
        again = json.loads(ck(db, "deliveries", "list", "--case", case, "--json").stdout)
        states = {d["id"]: d["state"] for n in again for d in n["deliveries"]}
        assert states[failed[0]["id"]] == "delivered"
        twice = ck(db, "deliveries", "replay", failed[0]["id"], check=False)
        assert twice.returncode == 1
        assert "only a failed delivery can be replayed" in twice.stdout + twice.stderr

        assert ck(db, "connectors", "test", "hook").returncode == 0
        r.status = 503
        tested = ck(db, "connectors", "test", "hook", check=False)
        assert tested.returncode == 1
        assert "HTTP 503" in tested.stdout
        in_use = ck(db, "connectors", "delete", "hook", check=False)
        assert "used by routes" in in_use.stdout + in_use.stderr
        ck(db, "routes", "delete", "acks")
        ck(db, "routes", "delete", "resolved")
        ck(db, "connectors", "delete", "hook")
        assert json.loads(ck(db, "connectors", "list", "--json").stdout) == []


def test_an_unreachable_receiver_fails_within_its_budget_and_can_be_replayed(db: str) -> None:
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"
        made(db, "connectors", "create", "--name", "down", "--type", "webhook", "--url", url)
        made(db, "routes", "create", "--name", "all", "--connector", "down")
        case = new_case(db)
        ck(db, "cases", "ack", case)
        out = ck(db, "worker", "--once", "--no-timers", CASEKEEPER_NOTIFY_MAX_ATTEMPTS="1").stdout
        assert "2 deliveries failed" in out  # opened, acknowledged
        ledger = json.loads(ck(db, "deliveries", "list", "--case", case, "--json").stdout)
        assert sorted(n["event"] for n in ledger) == ["acknowledged", "opened"]
        assert {n["result"] for n in ledger} == {"routed"}
        failed = [d for n in ledger for d in n["deliveries"]]
        assert {d["state"] for d in failed} == {"failed"}
        assert failed[0]["connector"]["name"] == "down"
        error = failed[0]["lastError"]
        assert error.startswith(f"gave up after 1 attempts: connection to {url[:-5]} ")
        assert "/hook" not in error  # errors name scheme://host:port only
        text = ck(db, "deliveries", "list", "--case", case).stdout
        assert "down (webhook) failed, 1 attempt(s): gave up" in text

        again = ck(db, "deliveries", "replay", failed[0]["id"]).stdout
        assert "pending again" in again
        ck(db, "worker", "--once", "--no-timers", CASEKEEPER_NOTIFY_MAX_ATTEMPTS="1")
        after = json.loads(ck(db, "deliveries", "list", "--case", case, "--json").stdout)
        replayed = next(d for n in after for d in n["deliveries"] if d["id"] == failed[0]["id"])
        assert (replayed["state"], len(replayed["attempts"])) == ("failed", 2)
        unknown = ck(db, "deliveries", "replay", "no-such-delivery", check=False)
        assert unknown.returncode == 1

"""The notification CLI as scripts use it: real ``casekeeper`` processes on a SQLite file, a real
webhook receiver on loopback, and ``casekeeper worker --once`` delivering."""

from __future__ import annotations

import json
import os
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

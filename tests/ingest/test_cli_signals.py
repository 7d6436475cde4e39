"""``casekeeper signals send``, run as a real process against the session's loopback server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from casekeeper.bootstrap import Container
from casekeeper.cli.signals import default_dedup_key
from tests.api.coralogix.rest.conftest import RunningServer
from tests.conftest import MakeKey

CASEKEEPER = [sys.executable, "-m", "casekeeper"]


def ck(*args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("CASEKEEPER_API_KEY", None)
    if key is not None:
        env["CASEKEEPER_API_KEY"] = key
    return subprocess.run(
        [*CASEKEEPER, "signals", "send", *args], capture_output=True, text=True, env=env, timeout=60
    )


def sent(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


def test_send_fires_resolves_and_prints_why(
    ingest_http: RunningServer, make_key: MakeKey, container: Container
) -> None:
    key, _ = make_key("signals:Write")
    reader = make_key()[1]
    args = ["--url", ingest_http.url, "--title", "Disk full", "-l", "host=db1", "-l", "sev=x"]
    printed = ck(*args, "--severity", "critical", key=key)
    assert printed.returncode == 0, printed.stderr
    assert "opened" in printed.stdout
    assert "case " in printed.stdout
    assert "priority P" in printed.stdout
    # The same command again is the same alert (the dedup key comes from title and labels).
    again = sent(ck(*args, "--json", key=key))
    (outcome,) = again["outcomes"]
    assert outcome["action"] == "unchanged"
    assert outcome["dedup_key"] == default_dedup_key("Disk full", {"host": "db1", "sev": "x"})
    incident = container.incidents.get(reader, outcome["incident_id"])
    assert incident.name == "Disk full"
    resolved = sent(ck(*args, "--status", "resolved", "--json", key=key))
    assert resolved["outcomes"][0]["action"] == "resolved"


def test_dry_run_says_would(ingest_http: RunningServer, make_key: MakeKey) -> None:
    key, _ = make_key("signals:Write")
    args = ["--url", ingest_http.url, "--title", "Probe", "--dedup-key", "p1"]
    proc = ck(*args, "--dry-run", key=key)
    assert proc.returncode == 0, proc.stderr
    assert "dry run: would be opened (p1)" in proc.stdout
    real = sent(ck(*args, "--json", key=key))
    assert real["outcomes"][0]["action"] == "opened"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--title", "t"], "API key is needed"),
        (["--title", "t", "--key", "ck_abcdefgh_wrong"], "401"),
        (["--title", "t", "--key", "k", "-l", "novalue"], "NAME=VALUE"),
        (["--title", "t", "--key", "k", "--status", "pending"], "firing or resolved"),
        (["--title", "t", "--key", "k", "--url", "ftp://x"], "http(s)"),
        (["--title", "t", "--key", "k", "--url", "http://127.0.0.1:9"], "cannot reach"),
    ],
)
def test_errors_are_one_clear_line(
    args: list[str], needle: str, ingest_http: RunningServer
) -> None:
    if "--url" not in args:
        args = [*args, "--url", ingest_http.url]
    proc = ck(*args)
    assert proc.returncode == 1
    assert needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_key_without_permission_says_so(ingest_http: RunningServer, make_key: MakeKey) -> None:
    key, _ = make_key("case:Read")
    proc = ck("--url", ingest_http.url, "--title", "t", key=key)
    assert proc.returncode == 1
    assert "403" in proc.stderr
    assert "signals:Write" in proc.stderr

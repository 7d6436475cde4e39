"""A real Prometheus Alertmanager for tests (REAL_CLIENTS.md §1), pointed at casekeeper.

``start_alertmanager`` runs ``prometheus-alertmanager`` on a free loopback port with its own
config and storage under a temp folder, gossip off (``--cluster.listen-address=``), a stable
``--web.external-url``, and one receiver: a webhook to casekeeper's ``/ingest/alertmanager``
with ``http_config.authorization`` (Bearer <key>), ``send_resolved``, group_wait and
group_interval 1 s. Helpers fire and resolve alerts through ``POST /api/v2/alerts``, read alerts
and silences, and ``wait_for`` polls a condition until a deadline (no fixed sleeps).

``FlakyProxy`` stands between Alertmanager and casekeeper and answers 500 to the first POSTs
(Alertmanager then retries), forwarding everything else.

Test modules import the fixtures they use from here (``alertmanager``, ``casekeeper_http``) and
from ``am_world`` (``world``, ``am_sync``);
the module skips cleanly when the binary is not installed (CI installs it: ``.ci/run``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from casekeeper.bootstrap import Container
from casekeeper.runner import http_server
from tests.api.coralogix.rest.conftest import RunningServer, start_server
from tests.ingest.am_world import World

BINARY = os.environ.get("CASEKEEPER_ALERTMANAGER_BIN") or shutil.which("prometheus-alertmanager")
DEADLINE = 20.0  # seconds: AM delivers a new group after group_wait (1 s), retries within 10 s
T = TypeVar("T")

# CI sets CASEKEEPER_REQUIRE_ALERTMANAGER: there, a missing binary fails the tests instead.
needs_alertmanager = pytest.mark.skipif(
    BINARY is None and not os.environ.get("CASEKEEPER_REQUIRE_ALERTMANAGER"),
    reason="prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager; "
    ".ci/run installs it)",
)


def wait_for(
    check: Callable[[], T | None], *, what: str, timeout: float = DEADLINE, every: float = 0.05
) -> T:
    """Poll ``check`` until it returns something truthy (returned), or fail after ``timeout``
    seconds saying what was awaited and the last value seen."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rfc3339(at: datetime, *, precise: bool = False) -> str:
    spec = "microseconds" if precise else "milliseconds"
    return at.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _label_key(labels: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


@dataclass
class Alertmanager:
    url: str
    process: subprocess.Popen[bytes]
    folder: Path
    http: httpx.Client = field(repr=False)
    started: dict[frozenset[tuple[str, str]], datetime] = field(default_factory=dict)

    # -- alerts ------------------------------------------------------------------------------

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        r = self.http.post(f"{self.url}/api/v2/alerts", json=alerts)
        assert r.status_code == 200, f"POST /api/v2/alerts: {r.status_code} {r.text}"

    def fire(
        self,
        labels: Mapping[str, str],
        *,
        annotations: Mapping[str, str] | None = None,
        generator_url: str = "http://prometheus.example.test/graph",
    ) -> None:
        """Fire an alert, starting now (to the microsecond: Alertmanager's API shows it to the
        millisecond, its webhook as given), ending well ahead so it stays firing. Without a
        startsAt, Alertmanager would take the endsAt as the start."""
        now = utcnow()
        self.started[_label_key(labels)] = now
        self.post_alerts(
            [
                {
                    "labels": dict(labels),
                    "startsAt": rfc3339(now, precise=True),
                    "annotations": dict(annotations or {}),
                    "generatorURL": generator_url,
                    "endsAt": rfc3339(now + timedelta(hours=1)),
                }
            ]
        )

    def resolve(self, labels: Mapping[str, str]) -> None:
        """Resolve an alert as Prometheus does: the same labels and startsAt, endsAt now. (A
        resolve without startsAt would make Alertmanager take endsAt as the start, and an
        endsAt before the start would be a different firing.)"""
        now = utcnow()
        alert: dict[str, Any] = {"labels": dict(labels), "endsAt": rfc3339(now, precise=True)}
        started = self.started.get(_label_key(labels))
        if started is not None:
            alert["startsAt"] = rfc3339(started, precise=True)
        self.post_alerts([alert])

    def alerts(self) -> list[dict[str, Any]]:
        r = self.http.get(f"{self.url}/api/v2/alerts")
        assert r.status_code == 200, r.text
        out: list[dict[str, Any]] = r.json()
        return out

    def alert(self, labels: Mapping[str, str]) -> dict[str, Any] | None:
        for a in self.alerts():
            if a["labels"] == dict(labels):
                return a
        return None

    # -- silences ----------------------------------------------------------------------------

    def silence(self, matchers: Mapping[str, str], *, created_by: str = "a person") -> str:
        now = utcnow()
        body = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in matchers.items()
            ],
            "startsAt": rfc3339(now),
            "endsAt": rfc3339(now + timedelta(hours=1)),
            "createdBy": created_by,
            "comment": "silenced by a test",
        }
        r = self.http.post(f"{self.url}/api/v2/silences", json=body)
        assert r.status_code == 200, r.text
        silence_id: str = r.json()["silenceID"]
        return silence_id

    def expire(self, silence_id: str) -> None:
        r = self.http.delete(f"{self.url}/api/v2/silence/{silence_id}")
        assert r.status_code == 200, r.text

    def silences(self) -> list[dict[str, Any]]:
        r = self.http.get(f"{self.url}/api/v2/silences")
        assert r.status_code == 200, r.text
        out: list[dict[str, Any]] = r.json()
        return out

    def silence_state(self, silence_id: str) -> str | None:
        for s in self.silences():
            if s["id"] == silence_id:
                return str(s["status"]["state"])
        return None

    # -- the process -------------------------------------------------------------------------

    def log(self) -> str:
        path = self.folder / "am.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def config_text(receiver_url: str, key: str, *, group_by: tuple[str, ...] = ("alertname",)) -> str:
    """The Alertmanager configuration: everything to one webhook receiver, "casekeeper"."""
    config = {
        "route": {
            "receiver": "casekeeper",
            "group_by": list(group_by),
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "casekeeper",
                "webhook_configs": [
                    {
                        "url": receiver_url,
                        "send_resolved": True,
                        "http_config": {"authorization": {"type": "Bearer", "credentials": key}},
                    }
                ],
            }
        ],
    }
    return json.dumps(config, indent=2)  # YAML is a superset of JSON


def start_alertmanager(
    folder: Path, receiver_url: str, key: str, *, group_by: tuple[str, ...] = ("alertname",)
) -> Alertmanager:
    assert BINARY is not None, "prometheus-alertmanager is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    config = folder / "am.yml"
    config.write_text(config_text(receiver_url, key, group_by=group_by))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "am.log").open("wb")
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={config}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            f"--web.external-url={url}",
            "--log.level=debug",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    am = Alertmanager(url, process, folder, httpx.Client(timeout=10.0))

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"prometheus-alertmanager exited ({process.returncode}):\n{am.log()}")
        try:
            return am.http.get(f"{url}/-/ready").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, what=f"Alertmanager at {url} to be ready")
    except BaseException:
        am.stop()
        raise
    return am


class FlakyProxy:
    """A loopback HTTP proxy to ``target`` that answers 500 to the first ``failures`` POSTs;
    ``posts`` counts every POST it saw, ``forwarded`` those it passed on. With ``deliver``, a
    failed POST is still passed on first (casekeeper stored it; only its answer is lost, as
    when a connection drops after the commit): the retry is then a true duplicate."""

    def __init__(self, target: str, failures: int = 1, *, deliver: bool = False) -> None:
        self.target = target.rstrip("/")
        self.failures = failures
        self.deliver = deliver
        self.posts = 0
        self.forwarded = 0
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=15.0)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with proxy._lock:
                    proxy.posts += 1
                    fail = proxy.posts <= proxy.failures
                if fail and not proxy.deliver:
                    self._answer(500, b"injected failure", "text/plain")
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type", "user-agent")
                }
                r = proxy._client.post(proxy.target + self.path, content=body, headers=headers)
                with proxy._lock:
                    proxy.forwarded += 1
                if fail:
                    self._answer(500, b"injected failure after delivery", "text/plain")
                    return
                self._answer(r.status_code, r.content, r.headers.get("content-type", ""))

            def _answer(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._client.close()


# -- fixtures (import them into the test module) -----------------------------------------------


@pytest.fixture(scope="session")
def casekeeper_http(container: Container) -> Iterator[RunningServer]:
    """casekeeper's HTTP server as ``serve`` builds it, on a free loopback port."""
    running = start_server(http_server(container, "127.0.0.1:0"), name="casekeeper-http-am")
    yield running
    running.stop()


def alertmanager_for(
    tmp_path: Path, receiver_base: str, key: str, *, group_by: tuple[str, ...] = ("alertname",)
) -> Alertmanager:
    return start_alertmanager(
        tmp_path / "am", f"{receiver_base}/ingest/alertmanager", key, group_by=group_by
    )


@pytest.fixture
def alertmanager(
    tmp_path: Path, casekeeper_http: RunningServer, world: World
) -> Iterator[Alertmanager]:
    """A fresh Alertmanager posting to casekeeper with the test's signals key."""
    am = alertmanager_for(tmp_path, casekeeper_http.url, world.key)
    yield am
    am.stop()

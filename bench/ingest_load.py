"""The ingestion benchmark's parts: the alerts, a real Prometheus Alertmanager, and the client.

The alerts: batches of ``BATCH`` alerts with distinct label sets, each batch one flush of one
alert group (as Alertmanager sends them), groups taken in turn. Every batch exists in two
encodings built before anything is timed: Alertmanager's webhook (payload version 4, what
Alertmanager posts to casekeeper's ``POST /ingest/alertmanager``) and the JSON array that
Alertmanager's own ``POST /api/v2/alerts`` takes (what Prometheus posts to Alertmanager).

The client: ``threads`` threads, each with one keep-alive ``http.client`` connection (stdlib:
the cheapest Python client per request, which matters when client and server share 2 cores).
A thread posts only the batches of its own groups, in order, so no group is ever posted twice at
once: Alertmanager flushes one aggregation group at a time too.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from common import HOST, LOGS, free_port

from casekeeper.api.ingest.alertmanager import fingerprint

BATCH = 100
AM_BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
RECEIVER = "casekeeper"
EXTERNAL_URL = "http://127.0.0.1:19093"
SEVERITIES = ("critical", "warning", "warning", "info")

# The route groups by alertname as the webhooks' groupKey says; the receiver has no
# integrations, so Alertmanager aggregates and then notifies nobody (nothing leaves the box).
AM_CONFIG = """route:
  receiver: blackhole
  group_by: ['alertname']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: blackhole
"""


@dataclass(frozen=True)
class Batch:
    group: int
    webhook: bytes  # Alertmanager's webhook, version 4
    v2: bytes  # Alertmanager's POST /api/v2/alerts body
    fingerprints: tuple[str, ...]


def _rfc3339(seconds: float) -> str:
    whole = int(seconds)
    nanos = int((seconds - whole) * 1e9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{nanos:09d}Z"


def make_batches(tag: str, batches: int, groups: int, starts: float) -> list[Batch]:
    """``batches`` batches of ``BATCH`` new alerts (``tag`` makes their label sets unique to
    this run), batch ``b`` in group ``b % groups``."""
    out = []
    starts_at = _rfc3339(starts)
    for b in range(batches):
        g = b % groups
        alertname = f"Bench{tag}G{g}"
        alerts = []
        for i in range(b * BATCH, (b + 1) * BATCH):
            labels = {
                "alertname": alertname,
                "instance": f"host-{i}.bench:9100",
                "job": "node",
                "service": f"svc{i % 20}",
                "severity": SEVERITIES[i % len(SEVERITIES)],
                "run": tag,
            }
            annotations = {
                "summary": f"bench alert {i} is firing",
                "runbook_url": "https://runbooks.example.test/bench",
            }
            alerts.append((labels, annotations))
        webhook = {
            "receiver": RECEIVER,
            "status": "firing",
            "alerts": [
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": annotations,
                    "startsAt": starts_at,
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up",
                    "fingerprint": fingerprint(labels),
                }
                for labels, annotations in alerts
            ],
            "groupLabels": {"alertname": alertname},
            "commonLabels": {"alertname": alertname, "job": "node", "run": tag},
            "commonAnnotations": {"runbook_url": "https://runbooks.example.test/bench"},
            "externalURL": EXTERNAL_URL,
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{alertname}"}}',
            "truncatedAlerts": 0,
        }
        v2 = [
            {
                "labels": labels,
                "annotations": annotations,
                "startsAt": starts_at,
                "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up",
            }
            for labels, annotations in alerts
        ]
        prints = tuple(fingerprint(labels) for labels, _ in alerts)
        out.append(Batch(g, orjson.dumps(webhook), orjson.dumps(v2), prints))
    return out


# ---------------------------------------------------------------------------------------------
# Alertmanager


def have_alertmanager() -> bool:
    return Path(AM_BINARY).exists()


def am_version() -> str:
    out = subprocess.run([AM_BINARY, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""


@contextlib.contextmanager
def alertmanager() -> Iterator[tuple[int, int]]:
    """A fresh Alertmanager (own config and storage, no cluster, loopback): (port, pid)."""
    port = free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-am-") as tmp:
        cfg = Path(tmp) / "am.yml"
        cfg.write_text(AM_CONFIG)
        argv = [AM_BINARY, f"--config.file={cfg}", f"--storage.path={tmp}/data",
                f"--web.listen-address={HOST}:{port}", "--cluster.listen-address=",
                f"--web.external-url=http://{HOST}:{port}", "--log.level=warn"]  # fmt: skip
        with (LOGS / "ingest-alertmanager.log").open("ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_ready(f"http://{HOST}:{port}/-/ready", proc)
                yield port, proc.pid
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def wait_ready(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# ---------------------------------------------------------------------------------------------
# the client


@dataclass
class Posted:
    """What one load produced: wall seconds, latencies (ns) and answers."""

    wall: float = 0.0
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)  # the 200 answers, when kept
    errors: list[str] = field(default_factory=list)

    def ok(self) -> int:
        return self.statuses.get(200, 0)


class Conn:
    """One keep-alive connection posting JSON to one path."""

    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        self.port, self.path = port, path
        self.headers = {"Content-Type": "application/json", **headers}
        self.c = http.client.HTTPConnection(HOST, port, timeout=60)

    def post(self, body: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.c.request("POST", self.path, body, self.headers)
                r = self.c.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, ConnectionError):
                # a keep-alive connection the server closed between requests: reconnect once
                self.c.close()
                self.c = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.c.close()


def post_all(
    port: int,
    path: str,
    bodies: list[tuple[int, bytes]],
    threads: int,
    headers: dict[str, str],
    *,
    keep: bool = False,
) -> Posted:
    """Post every (group, body) as fast as ``threads`` connections allow; thread ``t`` posts
    the bodies of groups ``g % threads == t`` in order. Timed from the first send to the
    last answer."""
    res = Posted()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def worker(t: int) -> None:
        conn = Conn(port, path, headers)
        mine = [b for g, b in bodies if g % threads == t]
        lat: list[int] = []
        got: dict[int, int] = {}
        kept: list[bytes] = []
        start.wait()
        try:
            for body in mine:
                t0 = time.perf_counter_ns()
                status, answer = conn.post(body)
                lat.append(time.perf_counter_ns() - t0)
                got[status] = got.get(status, 0) + 1
                if status != 200:
                    with lock:
                        res.errors.append(f"{status}: {answer[:300]!r}")
                elif keep:
                    kept.append(answer)
        except Exception as err:  # reported, and the load counts as failed
            with lock:
                res.errors.append(f"{type(err).__name__}: {err}")
        finally:
            conn.close()
        with lock:
            res.latencies_ns += lat
            res.bodies += kept
            for k, v in got.items():
                res.statuses[k] = res.statuses.get(k, 0) + v

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in pool:
        th.join()
    res.wall = time.perf_counter() - t0
    return res


def paced(
    port: int,
    path: str,
    bodies: list[bytes],
    per_second: float,
    headers: dict[str, str],
    after: Callable[[int, bytes], None] | None = None,
    threads: int = 8,
) -> tuple[list[int], Posted]:
    """Post ``bodies`` open-loop at ``per_second`` (body ``k`` due at ``k / per_second``) from
    ``threads`` connections; returns each POST's latency from its due time (a late start
    counts: no coordinated omission) and the answers. ``after(k, answer)`` runs after each
    200, outside the latency."""
    res = Posted()
    lock = threading.Lock()
    due_lat: list[int] = []
    next_k = iter(range(len(bodies)))
    t0 = time.perf_counter_ns() + 50_000_000
    step = int(1e9 / per_second)

    def worker() -> None:
        conn = Conn(port, path, headers)
        try:
            for k in next_k:  # next() on a range iterator is atomic under the GIL
                due = t0 + k * step
                wait = due - time.perf_counter_ns()
                if wait > 0:
                    time.sleep(wait / 1e9)
                sent = time.perf_counter_ns()
                status, answer = conn.post(bodies[k])
                done = time.perf_counter_ns()
                with lock:
                    due_lat.append(done - due)
                    res.latencies_ns.append(done - sent)
                    res.statuses[status] = res.statuses.get(status, 0) + 1
                    if status != 200:
                        res.errors.append(f"{status}: {answer[:300]!r}")
                if status == 200 and after is not None:
                    after(k, answer)
        except Exception as err:
            with lock:
                res.errors.append(f"{type(err).__name__}: {err}")
        finally:
            conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    res.wall = (time.perf_counter_ns() - t0) / 1e9
    return due_lat, res

"""The headline: what one 2-core machine carries. A real ``casekeeper serve`` on a database of
``--size`` cases and ``--events`` timeline events takes, for ``--duration`` seconds, a steady
``--alerts`` Alertmanager alerts/s (webhooks of 100, as Alertmanager sends them) plus
``--api`` API requests/s (REST: case reads, timelines, lists, acknowledges, comments), both
open-loop (latency counts from when a request was due, so a slow answer cannot hide the ones
queued behind it). Written: p50/p99/max per request kind, alerts stored, server RSS and CPU
over time (a PNG), to ``--out`` (JSON) and ``--png``.

The alert mix is what an Alertmanager in front of a fleet sends: each webhook is one group's
whole state. 1 in 10 is a new group (100 new firings), 1 in 50 resolves the oldest open group,
the rest re-send a firing group (known firings: Alertmanager repeats a group's full state on
every change within it). The scheduler is off (on a year-old dataset its first tick would
close a year of resolved cases); the delivery worker is on.

The dataset is bench/dataset.py's, with comments added so the timeline holds ``--events``
events (built once, cached as ``headline-*``); each run works on a copy of it.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psutil
import sqlalchemy as sa
from common import CASEKEEPER, HOST, LOGS, free_port, pct, write_result
from headline_data import headline_dataset, working_copy
from ingest_load import BATCH, make_batches

# A request not sent within this of its due time is dropped (status 0 in the results): a server
# that cannot keep up would otherwise stretch the run by its whole backlog.
MAX_LATE_NS = 30_000_000_000
KINDS = (("get", 30), ("timeline", 10), ("list", 25), ("acknowledge", 15), ("comment", 20))


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Job:
    due: int  # ns on the perf_counter clock
    kind: str
    method: str
    path: str
    body: bytes | None = None


@dataclass
class Tally:
    due_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    service_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    errors: list[str] = field(default_factory=list)
    worst: dict[str, tuple[float, int]] = field(default_factory=dict)  # (ms, when done, ns)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job: Job, sent: int, done: int, status: int, answer: bytes) -> None:
        late = (done - job.due) / 1e6
        with self.lock:
            self.due_ms[job.kind].append(late)
            if late > self.worst.get(job.kind, (-1.0, 0))[0]:
                self.worst[job.kind] = (late, done)
            self.service_ms[job.kind].append((done - sent) / 1e6)
            got = self.statuses[job.kind]
            got[status] = got.get(status, 0) + 1
            if (status >= 300 or status == 0) and len(self.errors) < 50:
                self.errors.append(f"{job.kind} {status}: {answer[:200]!r}")


def run_jobs(port: int, key: str, jobs: list[Job], threads: int, tally: Tally) -> None:
    """Send each job at its due time (open loop) from ``threads`` keep-alive connections."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    it = iter(jobs)

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        for job in it:  # next() on a list iterator is atomic under the GIL
            wait = job.due - time.perf_counter_ns()
            if wait > 0:
                time.sleep(wait / 1e9)
            elif -wait > MAX_LATE_NS:  # the server fell this far behind: count it, send nothing
                tally.add(job, job.due, time.perf_counter_ns(), 0, b"not sent: too late")
                continue
            sent = time.perf_counter_ns()
            try:
                conn.request(job.method, job.path, job.body, headers)
                r = conn.getresponse()
                status, answer = r.status, r.read()
            except (http.client.HTTPException, OSError) as err:
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
                status, answer = 599, str(err).encode()
            tally.add(job, sent, time.perf_counter_ns(), status, answer)
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()


def _resolved(webhook: bytes, at: float) -> bytes:
    """The group's webhook once its alerts ended at ``at`` (epoch seconds)."""
    doc = orjson.loads(webhook)
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at + 1))
    doc["status"] = "resolved"
    for alert in doc["alerts"]:
        alert["status"], alert["endsAt"] = "resolved", ends
    return orjson.dumps(doc)


def alert_jobs(
    t0: int, seconds: float, per_second: float, warm: int
) -> tuple[list[Job], list[Job]]:
    """(warm-up posts, timed posts) of webhooks of BATCH alerts each, per the module's mix."""
    posts = int(seconds * per_second / BATCH)
    new = make_batches(
        uuid.uuid4().hex[:8], warm + posts // 10 + 1, warm + posts // 10 + 1, time.time()
    )
    rng = random.Random(7)
    warmup = [Job(0, "alerts", "POST", "/ingest/alertmanager", b.webhook) for b in new[:warm]]
    active, fresh = list(new[:warm]), iter(new[warm:])
    step = 1e9 * BATCH / per_second
    wall0 = time.time() + (t0 - time.perf_counter_ns()) / 1e9
    jobs = []
    for k in range(posts):
        if k % 10 == 0:
            batch = next(fresh)
            active.append(batch)
            body = batch.webhook
        elif k % 50 == 5 and len(active) > warm // 2:
            due_wall = wall0 + k * step / 1e9
            body = _resolved(active.pop(0).webhook, due_wall)
        else:
            body = rng.choice(active).webhook
        jobs.append(Job(t0 + int(k * step), "alerts", "POST", "/ingest/alertmanager", body))
    return warmup, jobs


def api_jobs(
    t0: int, seconds: float, per_second: float, ids: list[str], open_ids: list[str]
) -> list[Job]:
    rng = random.Random(11)
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    acks = iter(open_ids)
    listing = orjson.dumps(
        {"filters": {"statuses": ["CASE_STATUS_ACTIVE"]}, "pagination": {"pageSize": 50}}
    )
    jobs = []
    for k in range(int(seconds * per_second)):
        due, kind, case = t0 + int(k * 1e9 / per_second), rng.choice(kinds), rng.choice(ids)
        if kind == "get":
            jobs.append(Job(due, kind, "GET", f"/cases/cases/v1/{case}"))
        elif kind == "timeline":
            jobs.append(Job(due, kind, "GET", f"/cases/cases/v1/{case}/events?pageSize=50"))
        elif kind == "list":
            jobs.append(Job(due, kind, "POST", "/cases/cases/v1", listing))
        elif kind == "acknowledge" and (target := next(acks, None)) is not None:
            jobs.append(Job(due, kind, "PUT", f"/cases/acknowledged/v1/{target}"))
        else:  # a comment (also when a small dataset has run out of open cases)
            body = orjson.dumps({"text": f"looked at it ({k})"})
            jobs.append(Job(due, "comment", "POST", f"/cases/cases/v1/{case}/comments", body))
    return jobs


# -- the server, what it holds, and its memory -------------------------------------------------


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                    for t in ("case", "case_event", "signal_firing")}  # fmt: skip
    finally:
        engine.dispose()


def _sample_ids(url: str) -> tuple[list[str], list[str]]:
    """(any 20,000 cases, the ACTIVE ones) of the dataset."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.text('SELECT id FROM "case"'))]
            active = [r[0] for r in conn.execute(sa.text('SELECT id FROM "case" WHERE status = 2'))]
    finally:
        engine.dispose()
    rng = random.Random(5)
    rng.shuffle(active)
    return rng.sample(ids, min(20_000, len(ids))), active


def sample_memory(
    pid: int, every: float, stop: threading.Event, out: list[dict[str, float]]
) -> None:
    server = psutil.Process(pid)
    t0 = time.monotonic()
    last = None
    while not stop.wait(every):
        procs = [server, *server.children(recursive=True)]
        rss = sum(p.memory_info().rss for p in procs) / 2**20
        cpu = sum(p.cpu_times().user + p.cpu_times().system for p in procs)
        now = time.monotonic() - t0
        cores = 0.0 if last is None else (cpu - last[1]) / (now - last[0])
        last = (now, cpu)
        out.append({"t": round(now, 1), "rss_mb": round(rss, 1), "cores": round(cores, 2)})


def plot(samples: list[dict[str, float]], title: str, path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("  (no PNG: it needs matplotlib, .venv/bin/pip install matplotlib)")
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    ts = [s["t"] / 60 for s in samples]
    top.plot(ts, [s["rss_mb"] for s in samples])
    top.set_ylabel("server RSS (MiB)")
    top.set_ylim(bottom=0)
    bottom.plot(ts, [s["cores"] for s in samples], color="tab:orange")
    bottom.set_ylabel("server CPU (cores)")
    bottom.set_xlabel("minutes")
    bottom.set_ylim(0, 2)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def summary(tally: Tally, t0: int) -> dict[str, Any]:
    """Per kind; ``max_at_s``: when the slowest answer came, in seconds from ``t0``."""
    out = {}
    for kind, lat in sorted(tally.due_ms.items()):
        svc = tally.service_ms[kind]
        out[kind] = {
            "requests": len(lat), "statuses": tally.statuses[kind],
            "p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1),
            "max_ms": round(max(lat), 1), "service_p99_ms": round(pct(svc, 99), 1),
            "max_at_s": round((tally.worst[kind][1] - t0) / 1e9, 1),
        }  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--alerts", type=float, default=1000, help="alerts per second")
    ap.add_argument("--api", type=float, default=200, help="API requests per second")
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--out")
    ap.add_argument("--png")
    a = ap.parse_args()
    hd, _ = headline_dataset(a.backend, a.size, a.seed, a.events)
    url = working_copy(hd)
    before = _counts(url)
    ids, open_ids = _sample_ids(url)
    print(f"{hd.backend}: {before['case']:,} cases, {before['case_event']:,} events", flush=True)
    grpc_port, port = free_port(), free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CASEKEEPER_LOG_LEVEL": "WARNING", "CASEKEEPER_SCHEDULER": "off",
           "CASEKEEPER_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}  # fmt: skip
    argv = [CASEKEEPER, "serve", "--grpc", f"{HOST}:{grpc_port}", "--http", f"{HOST}:{port}",
            "--processes", str(a.processes)]  # fmt: skip
    with (LOGS / f"headline-{hd.backend}.log").open("ab") as log:
        server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                http.client.HTTPConnection(HOST, port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                assert server.poll() is None, "serve exited; see its log"
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        warm_tally, idle = Tally(), Tally()
        warm_posts, _ = alert_jobs(0, 0, a.alerts, 20)
        t0 = time.perf_counter_ns() + 100_000_000
        tenth = len(open_ids) // 10
        warm_api = api_jobs(t0, a.warmup, a.api, ids, open_ids[:tenth])
        run_jobs(port, hd.key, warm_posts, 4, warm_tally)
        run_jobs(port, hd.key, warm_api, 8, warm_tally)
        # The baseline: the same request kinds one at a time on the idle server (10/s).
        idle_t0 = time.perf_counter_ns() + 100_000_000
        idle_jobs = api_jobs(idle_t0, 30, 10, ids, open_ids[tenth : 2 * tenth])
        run_jobs(port, hd.key, idle_jobs, 1, idle)
        samples: list[dict[str, float]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_memory, args=(server.pid, 5.0, stop, samples))
        sampler.start()
        t0 = time.perf_counter_ns() + 200_000_000
        print(f"  the run starts at {time.strftime('%H:%M:%S')} (server log time)", flush=True)
        _, posts = alert_jobs(t0, a.duration, a.alerts, 20)
        api = api_jobs(t0, a.duration, a.api, ids, open_ids[2 * tenth :])
        tally = Tally()
        loads = [
            threading.Thread(target=run_jobs, args=(port, hd.key, jobs, n, tally))
            for jobs, n in ((posts, 6), (api, 12))
        ]
        for th in loads:
            th.start()
        for th in loads:
            th.join()
        stop.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(60)
    after = _counts(url)
    result = {
        "backend": hd.backend, "cases": before["case"], "events": before["case_event"],
        "duration_s": a.duration, "alerts_per_s": a.alerts, "api_per_s": a.api,
        "processes": a.processes, "kinds": summary(tally, t0), "errors": tally.errors,
        "idle": summary(idle, idle_t0),
        "alerts_posted": len(posts) * BATCH, "stored": {k: after[k] - before[k] for k in after},
        "rss": samples, "cpu_count": psutil.cpu_count(),
    }  # fmt: skip
    for kind, row in result["kinds"].items():
        print(f"  {kind:12} {row}", flush=True)
    print(f"  stored {result['stored']}; RSS {samples[0]['rss_mb']} -> {samples[-1]['rss_mb']} MiB")
    write_result(a.out, "headline", result)
    if a.png:
        plot(samples, f"casekeeper serve, {hd.backend}: {a.alerts:g} alerts/s + {a.api:g} "
             f"requests/s, {before['case']:,} cases", Path(a.png))  # fmt: skip


if __name__ == "__main__":
    main()

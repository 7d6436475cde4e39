"""Ingestion: Alertmanager webhooks into ``casekeeper serve`` vs. Prometheus Alertmanager itself.

Issue 13's benchmarks, on loopback, in alerts/s (bench/ingest_load.py has the alerts and the
client: batches of 100 alerts with distinct label sets, one alert group per batch, 4 client
threads each with one keep-alive ``http.client`` connection, each thread posting its own groups
in order):

* casekeeper, new firings - the batches as Alertmanager's webhooks (``POST
  /ingest/alertmanager``, ``Authorization: Bearer`` a ``signals:Write`` key) into a fresh
  ``casekeeper serve`` on a fresh database: every alert a new incident, committed before its 200
  (checked: every 200 names an incident per alert, and the database holds one firing and one
  incident per alert after the load).
* casekeeper, re-sends - the same webhooks again, as Alertmanager repeats a group every
  ``group_interval`` (the common case): nothing is new, nothing is written.
* baseline - a fresh real Prometheus Alertmanager (own config and storage, no cluster, a route
  to a receiver with no integrations) taking the same alerts on its own ``POST /api/v2/alerts``,
  same batches, same client; then the same alerts again.

Repetitions alternate which server goes first; every repetition starts both from nothing.
Then latency: a fresh ``casekeeper serve`` offered ``--rate`` alerts/s (batches of 100, paced,
open loop) of new firings for ``--latency-seconds``; p50/p95/p99 from each POST's due time to its
200, and after every 10th 200 its case read back at once over REST (``GET
/cases/cases/v1/{id}``). Last, a cProfile of the service (``container.signals.ingest`` with the
route's own parsing, in process) on the same kind of batches, new and re-sent.
"""

from __future__ import annotations

import os
import time
import urllib.request
from typing import Any

import orjson
from common import (
    CASEKEEPER,
    HOST,
    IDLE_WAIT,
    CpuWindow,
    free_port,
    machine_info,
    median,
    pct,
    process,
    step_args,
    wait_idle,
    write_result,
)
from ingest_load import (
    BATCH,
    Batch,
    Conn,
    Posted,
    alertmanager,
    am_version,
    have_alertmanager,
    make_batches,
    paced,
    post_all,
    wait_ready,
)
from ingest_profile import analyze, fresh_database, growth, make_key, profile, stored

PATH = "/ingest/alertmanager"


# ---------------------------------------------------------------------------------------------
# a fresh casekeeper


def serve(url: str) -> Any:
    """``casekeeper serve`` on ``url``; yields (process, HTTP port) once it answers."""
    gport, hport = free_port(), free_port()
    argv = [CASEKEEPER, "serve", "--grpc", f"{HOST}:{gport}", "--http", f"{HOST}:{hport}",
            "--database-url", url]  # fmt: skip
    return hport, process(
        argv, "ingest-serve", lambda: wait_ready(f"http://{HOST}:{hport}/healthz")
    )


# ---------------------------------------------------------------------------------------------
# measuring


def measure(pid: int, run: Any, alerts_per_pass: int, min_seconds: float) -> dict[str, Any]:
    """Run ``run()`` (one pass over the batches, returning a ``Posted``) once, or again and
    again until ``min_seconds`` have passed; alerts/s, latencies and CPU per alert."""
    idle = wait_idle(timeout=IDLE_WAIT)
    load1 = os.getloadavg()[0]
    passes: list[Posted] = []
    client0 = time.process_time()
    with CpuWindow([pid]) as cpu:
        while True:
            passes.append(run())
            if sum(p.wall for p in passes) >= min_seconds:
                break
    client = time.process_time() - client0
    alerts = alerts_per_pass * len(passes)
    wall = sum(p.wall for p in passes)
    lat = [x / 1e6 for p in passes for x in p.latencies_ns]
    statuses: dict[int, int] = {}
    for p in passes:
        for k, v in p.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    server_s = cpu.proc_seconds[0]
    return {
        "alerts_per_s": alerts / wall,
        "alerts": alerts,
        "passes": len(passes),
        "seconds": round(wall, 3),
        "post_p50_ms": median(lat),
        "post_p99_ms": pct(lat, 99),
        "server_cores": server_s / cpu.wall,
        "server_cpu_us_per_alert": server_s / alerts * 1e6,
        "client_cpu_us_per_alert": client / alerts * 1e6,
        "rest_cpu_us_per_alert": max(0.0, cpu.machine_seconds - server_s - client) / alerts * 1e6,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": [e for p in passes for e in p.errors][:5],
        "idle_before_cores": round(idle, 2),
        "loadavg_1m": round(load1, 2),
        "_posted": passes,
    }


def outcomes(posted: list[Posted]) -> dict[str, Any]:
    """What the 200 answers said: actions, distinct incidents and cases."""
    actions: dict[str, int] = {}
    incidents: set[str] = set()
    cases: set[str] = set()
    for p in posted:
        for body in p.bodies:
            for o in orjson.loads(body)["outcomes"]:
                actions[o["action"]] = actions.get(o["action"], 0) + 1
                if o["incident_id"]:
                    incidents.add(o["incident_id"])
                if o["case_id"]:
                    cases.add(o["case_id"])
    return {"actions": actions, "incidents": len(incidents), "cases": sorted(cases)}


def get_case(port: int, key: str, case_id: str) -> None:
    conn = Conn(port, "", {"Authorization": f"Bearer {key}"})
    try:
        conn.c.request("GET", f"/cases/cases/v1/{case_id}", headers=conn.headers)
        r = conn.c.getresponse()
        body = r.read()
    finally:
        conn.close()
    if r.status != 200 or case_id.encode() not in body:
        raise RuntimeError(f"case {case_id} not readable: {r.status} {body[:300]!r}")


def casekeeper_rep(
    backend: str, batches: list[Batch], warm: list[Batch], a: Any, analyze_first: bool = False
) -> dict[str, Any]:
    """A fresh server and database: new firings, then re-sends (``analyze_first``: PostgreSQL's
    ANALYZE after the warm-up, so the planner has statistics from the start)."""
    url = fresh_database(backend)
    key = make_key(url)
    auth = {"Authorization": f"Bearer {key}"}
    bodies = [(b.group, b.webhook) for b in batches]
    n = len(batches) * BATCH
    port, server = serve(url)
    with server as proc:
        post_all(port, PATH, [(b.group, b.webhook) for b in warm], a.threads, auth)
        if analyze_first:
            analyze(url)
        new = measure(proc.pid, lambda: post_all(port, PATH, bodies, a.threads, auth, keep=True),
                      n, 0)  # fmt: skip
        seen = outcomes(new.pop("_posted"))
        for case_id in seen["cases"]:
            get_case(port, key, case_id)
        again = measure(proc.pid, lambda: post_all(port, PATH, bodies, a.threads, auth, keep=True),
                        n, a.resend_seconds)  # fmt: skip
        resent = outcomes(again.pop("_posted"))
        analyzed = None
        if backend == "pg" and not analyze_first:
            # what-if: the same re-sends once the planner has statistics (a fresh database has
            # none until autovacuum's first ANALYZE of the new rows)
            analyze(url)
            analyzed = measure(proc.pid, lambda: post_all(port, PATH, bodies, a.threads, auth),
                               n, a.resend_seconds)  # fmt: skip
            analyzed.pop("_posted")
    rows = stored(url)
    want = n + len(warm) * BATCH
    new["check"] = {
        "actions": seen["actions"], "incidents_answered": seen["incidents"],
        "cases": len(seen["cases"]), "stored": rows,
        "ok": seen["actions"] == {"opened": n} and seen["incidents"] == n
        and rows["signal_firing"] == want and rows["incident"] == want,
    }  # fmt: skip
    again["check"] = {"actions": resent["actions"], "stored_after": rows,
                      "ok": set(resent["actions"]) == {"unchanged"}}  # fmt: skip
    out = {"new": new, "resend": again}
    if analyzed is not None:
        analyzed["check"] = {"ok": analyzed["statuses"] == {"200": analyzed["alerts"] // BATCH}}
        out["resend_analyzed"] = analyzed
    return out


def alertmanager_rep(batches: list[Batch], warm: list[Batch], a: Any) -> dict[str, Any]:
    bodies = [(b.group, b.v2) for b in batches]
    n = len(batches) * BATCH
    with alertmanager() as (port, pid):
        post_all(port, "/api/v2/alerts", [(b.group, b.v2) for b in warm], a.threads, {})
        new = measure(pid, lambda: post_all(port, "/api/v2/alerts", bodies, a.threads, {}), n, 0)
        again = measure(pid, lambda: post_all(port, "/api/v2/alerts", bodies, a.threads, {}), n,
                        a.resend_seconds)  # fmt: skip
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v2/alerts", timeout=60) as r:
            held = len(orjson.loads(r.read()))
    new.pop("_posted")
    again.pop("_posted")
    new["check"] = {"alerts_held": held, "ok": held == n + len(warm) * BATCH}
    again["check"] = new["check"]  # re-sends of known alerts add none
    return {"new": new, "resend": again}


def latency(backend: str, a: Any, tag: str) -> dict[str, Any]:
    per_s = a.rate / BATCH
    count = max(1, round(per_s * a.latency_seconds))
    batches = make_batches(tag, count, a.groups, time.time() - 60)
    url = fresh_database(backend)
    key = make_key(url)
    auth = {"Authorization": f"Bearer {key}"}
    read_back: list[str] = []

    def check(k: int, answer: bytes) -> None:
        if k % 10 == 0:  # the case must be readable as soon as the 200 is in
            case_id = orjson.loads(answer)["outcomes"][0]["case_id"]
            get_case(port, key, case_id)
            read_back.append(case_id)

    port, server = serve(url)
    with server as proc:
        warm = make_batches(tag + "w", 4, 4, time.time() - 60)
        post_all(port, PATH, [(b.group, b.webhook) for b in warm], 4, auth)
        idle = wait_idle(timeout=IDLE_WAIT)
        load1 = os.getloadavg()[0]
        with CpuWindow([proc.pid]) as cpu:
            due, posted = paced(port, PATH, [b.webhook for b in batches], per_s, auth, check)
    rows = stored(url)
    ms = [x / 1e6 for x in due]
    service = [x / 1e6 for x in posted.latencies_ns]
    return {
        "offered_alerts_per_s": a.rate, "batches": count, "seconds": round(posted.wall, 2),
        "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "p99_ms": pct(ms, 99), "max_ms": max(ms),
        "post_p50_ms": pct(service, 50), "post_p99_ms": pct(service, 99),
        "server_cores": cpu.proc_seconds[0] / cpu.wall,
        "statuses": {str(k): v for k, v in posted.statuses.items()},
        "errors": posted.errors[:5], "cases_read_back": len(read_back),
        "stored": rows, "ok": posted.ok() == count and rows["incident"] == (count + 4) * BATCH,
        "idle_before_cores": round(idle, 2), "loadavg_1m": round(load1, 2),
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# profile


# ---------------------------------------------------------------------------------------------


def summarise(reps: list[dict[str, Any]], who: str, phase: str) -> dict[str, Any]:
    runs = [r[who][phase] for r in reps if phase in r.get(who, {})]
    if not runs:
        return {}
    keys = ("alerts_per_s", "post_p50_ms", "post_p99_ms", "server_cores",
            "server_cpu_us_per_alert", "client_cpu_us_per_alert", "rest_cpu_us_per_alert",
            "loadavg_1m")  # fmt: skip
    out: dict[str, Any] = {k: median([r[k] for r in runs]) for k in keys}
    out["runs_alerts_per_s"] = [round(r["alerts_per_s"]) for r in runs]
    out["loadavg_runs"] = [r["loadavg_1m"] for r in runs]
    out["checks_ok"] = all(r["check"]["ok"] for r in runs)
    out["non_200"] = sum(v for r in runs for k, v in r["statuses"].items() if k != "200")
    return out


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--quick", action="store_true", help="a smoke run: small, short, 1 rep")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--alerts", type=int, default=30_000, help="new alerts per repetition")
    ap.add_argument(
        "--groups", type=int, default=32, help="alert groups (cases) per rep (quick: 8)"
    )
    ap.add_argument("--threads", type=int, default=4, help="client connections")
    ap.add_argument("--resend-seconds", type=float, default=4.0, help="re-send passes for >= s")
    ap.add_argument("--rate", type=float, default=1000, help="offered alerts/s for latency")
    ap.add_argument("--latency-seconds", type=float, default=10.0)
    ap.add_argument("--no-alertmanager", action="store_true", help="skip the baseline")
    ap.add_argument(
        "--growth",
        default="0,1000,2000,4000",
        help="case sizes (incidents) at "
        "which one batch joining the case is timed, in process (quick: 0,500,1000)",
    )
    ap.add_argument("--no-profile", action="store_true", help="no profile, no growth")
    a = ap.parse_args()
    if a.quick:
        a.reps, a.alerts, a.resend_seconds, a.latency_seconds = 1, 5_000, 1.0, 3.0
        a.groups, a.growth = 8, "0,500,1000"
    if a.groups % a.threads:
        ap.error("--groups must be a multiple of --threads (each thread owns whole groups)")
    batches_n = max(1, a.alerts // BATCH)
    note = ""
    use_am = not a.no_alertmanager and have_alertmanager()
    if not use_am:
        note = ("--no-alertmanager" if a.no_alertmanager else
                "prometheus-alertmanager is not installed (apt-get install -y "
                "prometheus-alertmanager)")  # fmt: skip
        print(f"  baseline skipped: {note}", flush=True)
    reps: list[dict[str, Any]] = []
    stamp = f"{int(time.time()) % 100000}"
    for rep in range(a.reps):
        tag = f"{stamp}r{rep}"
        batches = make_batches(tag, batches_n, a.groups, time.time() - 60)
        warm = make_batches(tag + "w", a.threads, a.threads, time.time() - 60)
        order = ["alertmanager", "casekeeper"] if use_am else ["casekeeper"]
        if rep % 2:
            order.reverse()
        r: dict[str, Any] = {}
        for who in order:
            if who == "alertmanager":
                r[who] = alertmanager_rep(batches, warm, a)
            else:
                r[who] = casekeeper_rep(a.backend, batches, warm, a)
            for ph, x in r[who].items():
                print(f"  rep {rep + 1} {who:12s} {ph:6s} {x['alerts_per_s']:8.0f} alerts/s  "
                      f"server {x['server_cpu_us_per_alert']:.0f} µs/alert  "
                      f"load {x['loadavg_1m']}  ok {x['check']['ok']}", flush=True)  # fmt: skip
        reps.append(r)
    what_if = None
    if a.backend == "pg" and not a.quick:
        # what-if, one run: statistics from the start (ANALYZE after the warm-up)
        tag = f"{stamp}a"
        batches = make_batches(tag, batches_n, a.groups, time.time() - 60)
        warm = make_batches(tag + "w", a.threads, a.threads, time.time() - 60)
        wi = casekeeper_rep(a.backend, batches, warm, a, analyze_first=True)
        what_if = {ph: summarise([{"casekeeper": wi}], "casekeeper", ph) for ph in wi}
        print(f"  what-if ANALYZE first: new {wi['new']['alerts_per_s']:.0f} alerts/s, "
              f"resend {wi['resend']['alerts_per_s']:.0f}", flush=True)  # fmt: skip
    lat = latency(a.backend, a, f"{stamp}lat")
    print(f"  latency at {a.rate:.0f} alerts/s: p50 {lat['p50_ms']:.1f} ms  p95 "
          f"{lat['p95_ms']:.1f}  p99 {lat['p99_ms']:.1f}  ok {lat['ok']}", flush=True)  # fmt: skip
    prof, grow = None, None
    if not a.no_profile:
        prof = profile(a.backend, make_batches(f"{stamp}p", 20 if a.quick else 100, a.groups,
                                               time.time() - 60))  # fmt: skip
        grow = growth(a.backend, [int(x) for x in a.growth.split(",")], f"{stamp}g")
        print(
            "  one batch joining a case of n incidents: "
            + ", ".join(f"n={g['incidents_in_case']} {g['ms_per_batch']} ms" for g in grow),
            flush=True,
        )
    ck_new, ck_re = (summarise(reps, "casekeeper", ph) for ph in ("new", "resend"))
    am_new, am_re = (summarise(reps, "alertmanager", ph) for ph in ("new", "resend"))
    res: dict[str, Any] = {
        "backend": a.backend, "quick": a.quick, "reps": a.reps, "alerts": batches_n * BATCH,
        "batch": BATCH, "groups": a.groups, "threads": a.threads,
        "client": f"{a.threads} threads x 1 keep-alive http.client connection",
        "resend_seconds": a.resend_seconds, "alertmanager": am_version() if use_am else None,
        "baseline_note": note, "machine": machine_info(),
        "casekeeper_new": ck_new, "casekeeper_resend": ck_re,
        "casekeeper_resend_analyzed": summarise(reps, "casekeeper", "resend_analyzed"),
        "alertmanager_new": am_new, "alertmanager_resend": am_re,
        "what_if_analyzed_first": what_if, "latency": lat, "profile": prof, "growth": grow,
        "runs": reps,
    }  # fmt: skip
    if am_new:
        res["ratio_new"] = ck_new["alerts_per_s"] / am_new["alerts_per_s"]
        res["ratio_resend"] = ck_re["alerts_per_s"] / am_new["alerts_per_s"]
        res["ratio_resend_vs_am_resend"] = ck_re["alerts_per_s"] / am_re["alerts_per_s"]
        # server CPU per alert, the baseline's over ours: what the ratio would be if each
        # server had the same CPU to itself (the box is shared and noisy; this moves less)
        am_cpu = am_new["server_cpu_us_per_alert"]
        res["cpu_ratio_new"] = am_cpu / ck_new["server_cpu_us_per_alert"]
        res["cpu_ratio_resend"] = am_cpu / ck_re["server_cpu_us_per_alert"]
    write_result(a.out, f"ingest_{a.backend}", res)
    if am_new:
        print(f"  ratios: new/AM {res['ratio_new']:.2f}  resend/AM {res['ratio_resend']:.2f}")
    checks = [ck_new["checks_ok"], ck_re["checks_ok"], lat["ok"], am_new.get("checks_ok", True)]
    ok = all(checks)
    if not ok:
        raise SystemExit("a check failed: see the JSON (check/ok fields)")


if __name__ == "__main__":
    main()

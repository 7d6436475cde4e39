"""Run every benchmark, one at a time, and write docs/PERFORMANCE.md.

    .venv/bin/python bench/run_all.py                # full suite: 1,000,000 cases (~15 min
                                                     # with both dataset builds, ~7 min cached)
    .venv/bin/python bench/run_all.py --quick --doc /tmp/quick.md   # smoke run (< 2 min)
    .venv/bin/python bench/run_all.py --skip-pg      # SQLite only
    .venv/bin/python bench/run_all.py --only list_cases_sqlite,rss_sqlite

Each step is a separate process (its command line is printed in the report) writing JSON to
bench/.data/results/n<size>-s<seed>/. The "Findings" part of docs/PERFORMANCE.md (between the
findings markers) is written by hand and kept across runs; everything else is regenerated.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import PYTHON, RESULTS, ROOT, machine_info, utc_now
from facets_report import section as facets_section
from facets_report import summary_rows as facets_rows
from ingest_report import section as ingest_section
from ingest_report import summary_rows as ingest_rows
from kibana_report import section as kibana_section
from kibana_report import summary_rows as kibana_rows
from notify_report import section as notify_section
from notify_report import summary_rows as notify_rows
from scale_report import sections as scale_sections
from scale_report import summary_rows as scale_rows
from tracecat_report import section as tracecat_section
from tracecat_report import summary_rows as tracecat_rows
from web_report import section as web_section
from web_report import summary_rows as web_rows

FASTAPI_VERSION = "0.165.0"
OUT = RESULTS  # bench/.data/results/n<size>-s<seed>/, set in main()

DOC = ROOT / "docs" / "PERFORMANCE.md"
START, END = "<!-- findings:start -->", "<!-- findings:end -->"


def steps(a: argparse.Namespace) -> list[tuple[str, list[str]]]:
    common = ["--size", str(a.size), "--seed", str(a.seed)]
    q = a.quick
    out: list[tuple[str, list[str]]] = [
        ("dataset_sqlite", ["dataset.py", "--backend", "sqlite", *common]),
    ]
    if not a.skip_pg:
        out.append(("dataset_pg", ["dataset.py", "--backend", "pg", *common]))
    get = (
        ["--reps", "1", "--warmup", "1", "--duration", "3", "--no-profile"]
        if q
        else ["--floor"]  # the what-if (cache_size 2000 KiB) is now the server's own setting
    )
    rget = ["--reps", "1", "--warmup", "1", "--duration", "3", "--no-profile"] if q else []
    rlist = ["--reps", "30"] if q else []
    lst = ["--reps", "40", "--grpc-reps", "10", "--depth", "200"] if q else []
    bulk = ["--reps", "2"] if q else []
    inc = ["--reps", "20", "--depth", "100", "--ack-reps", "2"] if q else []
    ingest = ["--quick"] if q else []
    facets = (
        ["--reps", "10", "--baseline-reps", "1"] if q else []
    )  # its own fresh databases: --size does not apply
    # both what-ifs (cache_size, serve's old GC settings) are now how serve runs anyway
    rss = (
        ["--gets", "1000", "--lists", "100", "--soak", "0", "--what-if-cache-kib", "0"]
        if q
        else ["--what-if-cache-kib", "0"]
    )
    out += [
        ("grpc_getcase_sqlite", ["grpc_getcase.py", "--backend", "sqlite", *common, *get]),
        ("rest_getcase_sqlite", ["rest_getcase.py", "--backend", "sqlite", *common, *rget]),
        ("rest_list_sqlite", ["rest_list.py", "--backend", "sqlite", *common, *rlist]),
        ("list_cases_sqlite", ["list_cases.py", "--backend", "sqlite", *common, *lst]),
        ("bulk_ack_sqlite", ["bulk_ack.py", "--backend", "sqlite", *common, *bulk]),
        ("rss_sqlite", ["rss.py", "--backend", "sqlite", *common, *rss]),
        ("incidents_sqlite", ["incidents.py", "--backend", "sqlite", *common, *inc]),
        ("ingest_sqlite", ["ingest.py", "--backend", "sqlite", *common, *ingest]),
        ("notify_sqlite", ["notify.py", "--backend", "sqlite", *common, *ingest]),
        (
            "kibana_sqlite",
            ["kibana.py", "--backend", "sqlite", *common, *(["--reps", "30"] if q else [])],
        ),
        (
            "tracecat_sqlite",
            ["tracecat.py", "--backend", "sqlite", *common, *(["--reps", "1"] if q else [])],
        ),
        ("facets_sqlite", ["facets.py", "--backend", "sqlite", *common, *facets]),
        ("web_sqlite", ["web.py", "--backend", "sqlite", *common, *(["--n", "10"] if q else [])]),
        (
            "sse_sqlite",
            ["sse.py", "--backend", "sqlite", *common, *(["--duration", "5"] if q else [])],
        ),
    ]
    if not a.skip_pg:
        out += [
            ("list_cases_pg", ["list_cases.py", "--backend", "pg", *common, *lst]),
            ("bulk_ack_pg", ["bulk_ack.py", "--backend", "pg", *common, *bulk]),
            ("incidents_pg", ["incidents.py", "--backend", "pg", *common, *inc]),
            ("ingest_pg", ["ingest.py", "--backend", "pg", *common, *ingest]),
            ("notify_pg", ["notify.py", "--backend", "pg", *common, *ingest]),
            (
                "kibana_pg",
                ["kibana.py", "--backend", "pg", *common, *(["--reps", "30"] if q else [])],
            ),
            (
                "tracecat_pg",
                ["tracecat.py", "--backend", "pg", *common, *(["--reps", "1"] if q else [])],
            ),
            ("facets_pg", ["facets.py", "--backend", "pg", *common, *facets]),
            ("web_pg", ["web.py", "--backend", "pg", *common, *(["--n", "10"] if q else [])]),
            ("sse_pg", ["sse.py", "--backend", "pg", *common, *(["--duration", "5"] if q else [])]),
        ]
        if not q:  # informational; left out of the smoke run
            pg_get = ["--reps", "2", "--no-profile"]
            out.append(
                ("grpc_getcase_pg", ["grpc_getcase.py", "--backend", "pg", *common, *pg_get])
            )
            out.append(("scaling_pg", ["scaling.py", *common, "--replica"]))
    # The headline: 10 minutes per database (--quick: 1 minute on a small timeline).
    hl = ["--duration", "60", "--events", str(a.size * 3)] if q else []
    for backend in ("sqlite",) if a.skip_pg else ("sqlite", "pg"):
        png = f"docs/headline-{backend}.png"
        out.append((f"headline_{backend}",
                    ["headline.py", "--backend", backend, *common, *hl, "--png", png]))  # fmt: skip
    return out


def ensure_fastapi(names: list[str]) -> None:
    """The REST baseline needs FastAPI, which is not a casekeeper dependency: install it into the
    venv if it is missing (the version the baseline was specified with)."""
    if not any(n.startswith("rest_getcase") for n in names):
        return
    probe = subprocess.run([PYTHON, "-c", "import fastapi"], capture_output=True, check=False)
    if probe.returncode != 0:
        print(f"== installing fastapi=={FASTAPI_VERSION} into the venv (REST baseline only)")
        subprocess.run(
            [PYTHON, "-m", "pip", "install", "-q", f"fastapi=={FASTAPI_VERSION}"], check=False
        )


def run_steps(a: argparse.Namespace) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    log: dict[str, Any] = {}
    only = set(a.only.split(",")) if a.only else None
    ensure_fastapi([n for n, _ in steps(a) if not only or n in only])
    # ingest_* and notify_* make their own fresh databases: a run of only those builds no dataset
    data = not only or any(not n.startswith(("dataset", "ingest_", "notify_")) for n in only)
    for name, args in steps(a):
        if only and name not in only and not name.startswith("dataset"):
            continue
        if name.startswith("dataset") and not data:
            continue
        script = Path("bench") / args[0]
        shown = f".venv/bin/python {script} {' '.join(args[1:])}"
        out = OUT / f"{name}.json"
        argv = [PYTHON, str(ROOT / script), *args[1:]]
        if not name.startswith("dataset"):
            argv += ["--out", str(out)]
        print(f"== {name}: {shown}", flush=True)
        started = utc_now()
        t0 = time.perf_counter()
        env = dict(os.environ)
        if a.quick:
            env["CASEKEEPER_BENCH_IDLE_WAIT"] = "5"  # a smoke run does not wait for quiet
        rc = subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode
        seconds = time.perf_counter() - t0
        log[name] = {"command": shown, "started": started, "seconds": round(seconds, 1), "rc": rc}
        if rc != 0:
            print(f"   {name} FAILED (exit {rc})", flush=True)
    return log


def load(name: str) -> dict[str, Any] | None:
    f = OUT / f"{name}.json"
    return json.loads(f.read_text()) if f.exists() else None


# ---------------------------------------------------------------------------------------------
# rendering


def f1(x: float | None, unit: str = "") -> str:
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}{unit}"
    if abs(x) >= 10:
        return f"{x:.1f}{unit}"
    return f"{x:.2f}{unit}"


def met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def incident_rows(res: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for backend, name in (("sqlite", "SQLite"), ("pg", "PostgreSQL")):
        r = res.get(f"incidents_{backend}")
        if not r:
            continue
        p1, deep = r["list_page1_ms"]["median_ms"], r["list_deep_ms"]["median_ms"]
        raw = r["raw_keyset_page_ms"]["median_ms"]
        fv, ack = r["filter_values_ms"]["median_ms"], r["ack_1000_ms"]["median_ms"]
        upd = r["raw_update_1000_ms"]["median_ms"]
        rows += [
            [f"ListIncidents page 1 (2 statuses x 2 severities, by created time, 100), {name}",
             f1(p1, " ms"), f1(raw, " ms") + " (raw keyset page)", f1(p1 / raw), "<= 5 ms",
             met(p1 <= 5)],
            [f"ListIncidents page {r['list_deep_page']} / page 1, {name}", f1(deep, " ms"),
             f1(p1, " ms"), f1(deep / p1), "<= 1.5", met(deep / p1 <= 1.5)],
            [f"GetFilterValues over all {r['size']:,} incidents, {name}", f1(fv, " ms"), "-",
             "-", "<= 500 ms", met(fv <= 500)],
            [f"AcknowledgeIncidents of 1,000 (events + case timeline), {name}", f1(ack, " ms"),
             f1(upd, " ms") + " (raw UPDATE of 1,000)", f1(ack / upd),
             "<= 150 ms" if backend == "sqlite" else "-",
             met(ack <= 150) if backend == "sqlite" else "info"],
        ]  # fmt: skip
    return rows


def summary(res: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = (
        incident_rows(res)
        + ingest_rows(res)
        + notify_rows(res)
        + kibana_rows(res)
        + tracecat_rows(res)
        + facets_rows(res)
        + web_rows(res)
        + scale_rows(res)
    )
    g = res.get("grpc_getcase_sqlite")
    if g:
        rows.append([
            "GetCase over gRPC, SQLite 1 aio client x 32 in flight",
            f1(g["casekeeper"]["rps"], " req/s"),
            f1(g["baseline"]["rps"], " req/s") + " (empty handler)",
            f1(g["ratio_rps"]), ">= 0.7", met(g["ratio_rps"] >= 0.7),
        ])  # fmt: skip
        if "what_if" in g:
            w = g["what_if"]
            rows.append([
                f"GetCase over gRPC, SQLite, what-if cache_size={w['cache_kib']} KiB"
                " per connection",
                f1(w["rps"], " req/s"), f1(g["baseline"]["rps"], " req/s"),
                f1(w["rps"] / g["baseline"]["rps"]), ">= 0.7", "info",
            ])  # fmt: skip
        for part, what in FLOORS.items():
            if f"floor_{part}" in g:
                w = g[f"floor_{part}"]
                rows.append([
                    f"GetCase floor, SQLite: {what}, fixed answer",
                    f1(w["rps"], " req/s"), f1(g["baseline"]["rps"], " req/s"),
                    f1(w["rps"] / g["baseline"]["rps"]), "-", "info",
                ])  # fmt: skip
        rows.append([
            "GetCase server CPU per request, SQLite",
            f1(g["casekeeper"]["server_cpu_us_per_req"], " µs"),
            f1(g["baseline"]["server_cpu_us_per_req"], " µs"),
            f1(g["ratio_server_cpu"]), "-", "info",
        ])  # fmt: skip
    rg = res.get("rest_getcase_sqlite")
    if rg:
        rows.append([
            f"GetCase over REST (wrk, {rg['connections']} connections), SQLite",
            f1(rg["casekeeper"]["rps"], " req/s"),
            f1(rg["baseline"]["rps"], " req/s") + " (FastAPI hello-world)",
            f1(rg["ratio_rps"]), ">= 0.5", met(rg["ratio_rps"] >= 0.5),
        ])  # fmt: skip
        rows.append([
            "GetCase over REST, server CPU per request, SQLite",
            f1(rg["casekeeper"]["server_cpu_us_per_req"], " µs"),
            f1(rg["baseline"]["server_cpu_us_per_req"], " µs"),
            f1(rg["ratio_server_cpu"]), "-", "info",
        ])  # fmt: skip
    rl = res.get("rest_list_sqlite")
    if rl:
        lat = rl["latency"]
        for q, target in (("broad", True), ("narrow", False)):
            r_ = lat[f"rest_{q}"]["median_ms"]
            g_ = lat[f"grpc_{q}"]["median_ms"]
            rows.append([
                f"ListCases {q} page 1 over REST vs gRPC, SQLite, one call at a time",
                f1(r_, " ms") + f" (p95 {f1(lat[f'rest_{q}']['p95_ms'], ' ms')})",
                f1(g_, " ms") + " (gRPC, same server)", f1(r_ / g_), "<= 1.3x",
                met(r_ / g_ <= 1.3) if target else "info",
            ])  # fmt: skip
    for backend in ("sqlite", "pg"):
        lc = res.get(f"list_cases_{backend}")
        if not lc:
            continue
        s = lc["service"]
        raw = s["raw_p1"]["median_ms"]
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        for filt in ("broad", "narrow"):
            p1 = s[f"{filt}_p1"]["median_ms"]
            deep = s[f"{filt}_deep"]["median_ms"]
            page = lc["walks"][filt]["page"]
            rows.append([
                f"ListCases {filt} page 1, service time, {name}",
                f1(p1, " ms") + f" (p95 {f1(s[f'{filt}_p1']['p95_ms'], ' ms')})",
                f1(raw, " ms") + " (raw keyset page)", f1(p1 / raw), "<= 2 ms", met(p1 <= 2.0),
            ])  # fmt: skip
            rows.append([
                f"ListCases {filt} page {page:,} vs page 1, {name}",
                f1(deep, " ms"), f1(p1, " ms") + " (page 1)", f1(deep / p1), "<= 1.5x",
                met(deep / p1 <= 1.5),
            ])  # fmt: skip
        if "broad_p1_noprep" in s:
            v = s["broad_p1_noprep"]["median_ms"]
            rows.append([
                f"ListCases broad page 1, {name}, what-if: no server-side prepared statements",
                f1(v, " ms") + f" (p95 {f1(s['broad_p1_noprep']['p95_ms'], ' ms')})",
                f1(raw, " ms") + " (raw keyset page)", f1(v / raw), "<= 2 ms", "info",
            ])  # fmt: skip
        if "grpc" in lc:
            gp = lc["grpc"]["broad_p1"]["median_ms"]
            rows.append([
                f"ListCases broad page 1 end-to-end over gRPC, {name}", f1(gp, " ms"),
                f1(raw, " ms") + " (raw keyset page)", f1(gp / raw), "-", "info",
            ])  # fmt: skip
    for backend in ("sqlite", "pg"):
        b = res.get(f"bulk_ack_{backend}")
        if not b:
            continue
        t = b["timings"]
        raw = t["raw"]["median_ms"]
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        for mode in ("service", "grpc"):
            if mode not in t:
                continue
            v = t[mode]["median_ms"]
            target = "<= 100 ms" if backend == "sqlite" else "(report; 100 ms is the SQLite target)"
            verdict = (
                met(v <= 100)
                if backend == "sqlite"
                else ("within 100 ms" if v <= 100 else "over 100 ms")
            )
            rows.append([
                f"BulkAcknowledge 1,000 cases, {mode}, {name}", f1(v, " ms"),
                f1(raw, " ms") + " (raw executemany UPDATE)", f1(v / raw), target,
                verdict,
            ])  # fmt: skip
    r = res.get("rss_sqlite")
    if r:
        v = r["casekeeper"]["served"]["rss_mb"]
        rows.append([
            f"Server RSS, SQLite {r['size']:,} cases, after {r['gets'] + 500:,} GetCase + "
            f"{r['lists'] + 100:,} ListCases", f1(v, " MB"),
            f1(r["baseline"]["served"]["rss_mb"], " MB") + " (empty grpcio server)",
            f1(r["ratio"]), "<= 200 MB", met(v <= 200),
        ])  # fmt: skip
        if "what_if" in r:
            v3 = r["what_if"]["served"]["rss_mb"]
            rows.append([
                f"Server RSS, same load, what-if SQLite cache_size={r['what_if']['cache_kib']} KiB"
                " per connection", f1(v3, " MB"),
                f1(r["baseline"]["served"]["rss_mb"], " MB"),
                f1(v3 / r["baseline"]["served"]["rss_mb"]), "<= 200 MB", "info",
            ])  # fmt: skip
        if "what_if_gc" in r:
            w = r["what_if_gc"]
            for phase, label in (("served", "same load"), ("soak", "after the soak")):
                if phase in w:
                    v4 = w[phase]["rss_mb"]
                    rows.append([
                        f"Server RSS, {label}, what-if: serve without its gc.freeze() + "
                        "gc.set_threshold(50000, 20, 100)", f1(v4, " MB"),
                        f1(r["baseline"]["served"]["rss_mb"], " MB"),
                        f1(v4 / r["baseline"]["served"]["rss_mb"]), "<= 200 MB", "info",
                    ])  # fmt: skip
        if "soak" in r["casekeeper"]:
            v2 = r["casekeeper"]["soak"]["rss_mb"]
            n = (r["gets"] + r["lists"]) * r["soak"]
            rows.append([
                f"Server RSS after {n:,} more requests (soak)", f1(v2, " MB"),
                f1(r["baseline"]["served"]["rss_mb"], " MB"),
                f1(v2 / r["baseline"]["served"]["rss_mb"]), "<= 200 MB", met(v2 <= 200),
            ])  # fmt: skip
    g = res.get("grpc_getcase_pg")
    if g:
        rows.append([
            "GetCase over gRPC, PostgreSQL", f1(g["casekeeper"]["rps"], " req/s"),
            f1(g["baseline"]["rps"], " req/s") + " (empty handler)", f1(g["ratio_rps"]), "-",
            "info",
        ])  # fmt: skip
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def code(text: str, lang: str = "") -> str:
    return f"```{lang}\n{text.rstrip()}\n```"


def dataset_section(res: dict[str, Any]) -> str:
    lc = res.get("list_cases_sqlite") or res.get("list_cases_pg")
    if not lc:
        return ""
    d = lc["dataset"]
    n = d["size"]
    st = ", ".join(f"{k} {v:,} ({100 * v / n:.1f} %)" for k, v in d["by_status"].items())
    pr = ", ".join(f"{k} {v:,} ({100 * v / n:.1f} %)" for k, v in d["by_priority"].items())
    m = d["matching"]
    parts = [
        "## Dataset",
        "",
        f"`{d['name']}`: {n:,} cases in one space, built by `bench/dataset.py` through the "
        "store's bulk path (`uow.cases.add_many` + `uow.events.add_many`, batches of 5,000), "
        "with the secondary indexes built after the load from the same schema objects. "
        f"SQLite file {d['file_mb']:,} MB, built in {d['load_seconds']:.0f} s; PostgreSQL gets "
        "the identical rows by COPY from it, then `VACUUM ANALYZE`. SQLite gets `ANALYZE`.",
        "",
        f"* status: {st}",
        f"* priority: {pr}",
        f"* {d['tags']:,} tag rows (groupings, labels, impacted entity, alert id/versions), "
        f"one `created` timeline event per case",
        "* create times evenly over the year before 2026-11-01; open cases are the recent ones; "
        "groupings `service` (20 values, Zipf), `environment` (production 60 %), `team`; "
        "labels `region`, `tier`; one indicator each (alert 60 %, Prometheus 25 %, error "
        "tracking 15 %); 70 % assigned; 5 % priority override",
        f"* matching rows: broad filter {m['broad']:,} ({m['broad'] // 50:,} pages of 50), "
        f"narrow {m['narrow']:,}, rare {m['rare']:,}",
    ]
    return "\n".join(parts)


FLOORS = {
    "auth": "the RPC wrapper alone (authentication, permission)",
    "read": "the wrapper + the service's read of the case",
}


def getcase_section(g: dict[str, Any], name: str) -> str:
    rows = []
    for label in ("baseline", "casekeeper", "what_if", "floor_auth", "floor_read"):
        if label not in g:
            continue
        x = g[label]
        rows.append([
            label, f1(x["rps"]), ", ".join(f"{v:,}" for v in x["runs_rps"]), f1(x["p50_ms"]),
            f1(x["p99_ms"]), f1(x["server_cores"]), f1(x["server_cpu_us_per_req"]),
            f1(x["client_cpu_us_per_req"]), f1(x.get("db_cpu_us_per_req")),
            f1(x.get("server_system_share")), f1(x["foreign_cores"]), str(x["response_bytes"]),
            str(x["errors"]),
        ])  # fmt: skip
    hdr = ["server", "req/s (median)", "runs", "p50 ms", "p99 ms", "server cores",
           "server CPU µs/req", "client CPU µs/req", "PostgreSQL CPU µs/req",
           "server sys share", "foreign cores", "response bytes", "errors"]  # fmt: skip
    parts = [
        f"### GetCase over gRPC, {name}",
        "",
        f"{g['reps']} interleaved repetitions, {g['warmup']:g} s warm-up + {g['duration']:g} s "
        f"measured each; one grpc.aio client process, one channel, {g['inflight']} in flight; "
        "both servers in their own process: grpc.aio with GrpcServer's options, the baseline "
        "an `async` handler returning a fixed message, casekeeper answering on the event loop. "
        "The 20,000 sampled cases are read once before anything is timed (`warm_cache`: this "
        "VM evicts file pages it has not touched lately).",
        "",
        table(hdr, rows),
        "",
        f"Ratio req/s: **{g['ratio_rps']:.2f}**; server CPU per request: "
        f"**{g['ratio_server_cpu']:.1f}x** the empty handler's."
        + (
            f" `what_if` = the same `casekeeper serve` with `PRAGMA cache_size=-"
            f"{g['what_if']['cache_kib']}` per SQLite connection (bench/serve_variant.py)."
            if "what_if" in g
            else ""
        )
        + (
            " `floor_auth` / `floor_read` = `casekeeper serve` with GetCase cut down to "
            + "; to ".join(FLOORS.values())
            + ", answering the baseline's fixed message (bench/serve_variant.py --getcase)."
            if "floor_read" in g
            else ""
        ),
    ]
    labels = ("baseline", "casekeeper", "floor_auth", "floor_read")
    threads = {k: g[k].get("server_threads") for k in labels if k in g}
    if all(threads.values()) and threads:
        rows3 = [
            [label, t["thread"], f1(t["cpu_us_per_req"]), f1(t["preempted_per_req"])]
            for label, ts in threads.items()
            for t in (ts or [])[:6]
        ]
        parts += [
            "",
            "Server CPU per request by thread (last repetition; `/proc/<pid>/task`), and how "
            "often each thread was preempted per request:",
            "",
            table(["server", "thread", "CPU µs/req", "preempted/req"], rows3),
        ]
    ip = g.get("in_process")
    if ip:
        names = list(dict.fromkeys(k.removesuffix("_cpu_us").removesuffix("_us") for k in ip))
        rows2 = [[n, f1(ip.get(f"{n}_us")), f1(ip.get(f"{n}_cpu_us"))] for n in names]
        parts += [
            "",
            "In process, one thread, no gRPC (3,000 random cases each, not among the ids of the "
            "load test; `cold` = rows this connection never read, `warm`/`again` = the same rows "
            "a second time; `again` also hits the encoded-case cache):",
            "",
            table(["piece", "wall µs/call", "CPU µs/call"], rows2),
        ]
    parts += pyspy_lines(g.get("profile"), "samples of the thread holding the GIL")
    return "\n".join(parts)


def pyspy_lines(prof: dict[str, Any] | None, samples: str) -> list[str]:
    """A py-spy profile of casekeeper under load: inclusive and own time, for a report."""
    if not prof:
        return []
    incl = [f"{pct:5.1f} %  {fn}" for fn, pct in prof["inclusive_top"]]
    selft = [f"{pct:5.1f} %  {fn}" for fn, pct in prof["self_top"]]
    return [
        "",
        f"py-spy (`--gil`, {prof['samples']:,} {samples}) of casekeeper under the same load, "
        "inclusive time:",
        "",
        code("\n".join(incl)),
        "",
        "own time:",
        "",
        code("\n".join(selft)),
    ]


def rest_getcase_section(g: dict[str, Any]) -> str:
    rows = []
    for label in ("baseline", "casekeeper"):
        x = g[label]
        rows.append([
            label, f1(x["rps"]), ", ".join(f"{v:,}" for v in x["runs_rps"]), f1(x["p50_ms"]),
            f1(x["p99_ms"]), f1(x["server_cores"]), f1(x["server_cpu_us_per_req"]),
            f1(x["other_cpu_us_per_req"]), f1(x["bytes_per_response"]), str(x["errors"]),
        ])  # fmt: skip
    hdr = ["server", "req/s (median)", "runs", "p50 ms", "p99 ms", "server cores",
           "server CPU µs/req", "rest of machine CPU µs/req (wrk, ...)", "bytes/response",
           "errors"]  # fmt: skip
    parts = [
        "### GetCase over REST, SQLite",
        "",
        f"{g['reps']} interleaved repetitions, {g['warmup']:g} s warm-up + {g['duration']:g} s "
        f"measured each; `{g['wrk']}`, {g['threads']} thread, {g['connections']} keep-alive "
        "connections, a Lua script rotating over 20,000 random case ids (read once before "
        "anything is timed) with the Authorization header. casekeeper: `casekeeper serve` "
        "(`GET /cases/cases/v1/{id}`, Starlette on "
        f"uvicorn {g['uvicorn']}, uvloop + httptools, one worker, the gRPC server idle in the "
        f"same process). Baseline: FastAPI {g['fastapi']} hello-world (`bench/fastapi_hello.py`, "
        "same uvicorn settings) sent the same header. Case response: "
        f"{g['case_response_bytes']:,} bytes of JSON body.",
        "",
        table(hdr, rows),
        "",
        f"Ratio req/s: **{g['ratio_rps']:.2f}**; server CPU per request: "
        f"**{g['ratio_server_cpu']:.1f}x** the hello-world's.",
    ]
    parts += pyspy_lines(g.get("profile"), "samples")
    return "\n".join(parts)


def rest_list_section(r: dict[str, Any]) -> str:
    lat = r["latency"]
    cpu = r["server_cpu_ms_per_call"]
    size = r["response_bytes"]
    rows = [
        [k.replace("_", " "), f1(v["median_ms"]), f1(v["p95_ms"]), f1(v["min_ms"]),
         str(v["n"]), f1(cpu[k]), f"{size[k]:,}"]
        for k, v in lat.items()
    ]  # fmt: skip
    return "\n".join(
        [
            "### ListCases over REST vs. gRPC, SQLite",
            "",
            f"One `casekeeper serve` process; {r['reps']} repetitions, one call at a time, each "
            "repetition calls each query over both protocols (order alternating). REST: one "
            "keep-alive `http.client` connection, `POST /cases/cases/v1` with body "
            f"`{r['rest_body_broad']}` (broad); gRPC: a blocking stub. Both return the same 50 "
            "case ids (checked). Server CPU per call from /proc around each call.",
            "",
            table(
                [
                    "call",
                    "median ms",
                    "p95 ms",
                    "min ms",
                    "n",
                    "server CPU ms/call",
                    "response bytes",
                ],
                rows,
            ),
            "",
            "REST / gRPC median: " + ", ".join(f"{q} **{v:.2f}**" for q, v in r["ratio"].items()),
        ]
    )


def list_section(lc: dict[str, Any], name: str) -> str:
    s = lc["service"]
    w = lc["walks"]
    label = {
        "raw_p1": "raw keyset page 1 (baseline)",
        "raw_deep": "raw keyset page at depth 100k",
        "broad_p1": "broad, page 1",
        "broad_p1_sql": "broad, page 1: the store's SQL alone",
        "broad_deep": f"broad, page {w['broad']['page']:,}",
        "broad_deep_sql": f"broad, page {w['broad']['page']:,}: SQL alone",
        "narrow_p1": "narrow, page 1",
        "narrow_p1_sql": "narrow, page 1: SQL alone",
        "narrow_deep": f"narrow, page {w['narrow']['page']:,} (last)",
        "narrow_deep_sql": f"narrow, page {w['narrow']['page']:,}: SQL alone",
        "rare_p1": "rare grouping, page 1",
        "rare_deep": f"rare grouping, page {w['rare']['page']:,}",
    }
    rows = [
        [label.get(k, k), f1(v["median_ms"]), f1(v["p95_ms"]), str(v["n"])] for k, v in s.items()
    ]
    parts = [
        f"### ListCases, {name}",
        "",
        "Service-layer time (`container.cases.list_cases`, in process, interleaved, "
        f"{lc['reps']} repetitions; rare: every 5th):",
        "",
        table(["query", "median ms", "p95 ms", "n"], rows),
        "",
        f"Walking to page {w['broad']['page']:,} of the broad filter through the service took "
        f"{w['broad']['walk_seconds']} s.",
    ]
    if "grpc" in lc:
        grows = [[k, f1(v["median_ms"]), f1(v["p95_ms"])] for k, v in lc["grpc"].items()]
        parts += [
            "",
            f"End to end over gRPC (`casekeeper serve`, one call at a time, {lc['grpc_reps']} "
            f"repetitions; server CPU {f1(lc['server_cpu_us_per_call'])} µs per call averaged "
            "over all these queries, rare included; "
            f"response of page 1 {lc['response_bytes_broad_p1']:,} bytes):",
            "",
            table(["query", "median ms", "p95 ms"], grows),
        ]
    generic = [r for r in lc.get("pg_prepared_statements", []) if r[1] > 0]
    if lc.get("pg_prepared_statements"):
        parts += [
            "",
            "Server-side prepared statements on the reader connections at the end (psycopg "
            "prepares a statement after 5 executions): "
            f"{len(lc['pg_prepared_statements'])}, of which {len(generic)} were being run with "
            "PostgreSQL's generic plan: "
            + ("; ".join(f"`{r[0]}` generic {r[1]} / custom {r[2]}" for r in generic) or "none")
            + ".",
        ]
    plans = lc.get("plans", {})
    if plans:
        parts += ["", "Plans of the store's queries (after ANALYZE):", ""]
        for k in ("broad_p1", "broad_deep", "narrow_p1"):
            if k in plans:
                parts += [f"`{k}`:", "", code(plans[k]), ""]
    before = lc["dataset"].get("before_analyze")
    if before:
        same = all(
            v["plan"].replace("case_tag_1", "case_tag")
            == plans.get(f"{k}_p1", "").replace("case_tag_1", "case_tag")
            for k, v in before.items()
            if f"{k}_p1" in plans
        )
        parts += [
            "Before `ANALYZE` (fresh load, no `sqlite_stat1`), page 1 took: "
            + ", ".join(f"{k} {v['page1_ms']:.2f} ms" for k, v in before.items())
            + (
                " with the same plans as after it: these queries do not need ANALYZE."
                if same
                else "; the broad plan was:"
            ),
            "",
        ]
        if not same:
            parts += [code(before["broad"]["plan"]), ""]
    parts += [
        "cProfile of 200 broad page-1 calls (own time):",
        "",
        code("\n".join(lc["profile_broad_p1"].splitlines()[:16])),
    ]
    return "\n".join(parts)


def bulk_section(b: dict[str, Any], name: str) -> str:
    rows = [
        [k, f1(v["median_ms"]), f1(v["p95_ms"]), f1(v["min_ms"]), str(v["n"])]
        for k, v in b["timings"].items()
    ]
    bd = b["breakdown_service"]
    dbapi = [[k, f1(v["ms"]), str(v["calls"])] for k, v in bd["dbapi"].items()]
    return "\n".join([
        f"### BulkAcknowledge of 1,000 cases, {name}",
        "",
        f"{b['reps']} repetitions, modes in rotating order, rows restored after each; "
        f"events written per operation: {b['events_per_op']}."
        + (
            f" The SQLite file was read once before timing ({b['file_read_seconds']:g} s; "
            "this VM evicts file pages nobody touched lately)."
            if b.get("file_read_seconds") is not None
            else ""
        ),
        "",
        table(["mode", "median ms", "p95 ms", "min ms", "n"], rows),
        "",
        f"One service call of {f1(bd['total_ms'])} ms, time inside the DBAPI by statement:",
        "",
        table(["statement", "ms", "calls"], dbapi),
        "",
        "cProfile of 3 service calls (own time):",
        "",
        code("\n".join(b["profile_service"].splitlines()[:18])),
    ])  # fmt: skip


def rss_section(r: dict[str, Any]) -> str:
    rows = []
    for label in ("baseline", "casekeeper", "what_if", "what_if_gc"):
        if label not in r:
            continue
        for ph in ("started", "warm", "served", "soak"):
            if ph in r[label]:
                m = r[label][ph]
                rows.append([label, ph, f1(m["rss_mb"]), f1(m["uss_mb"]), f1(m["peak_rss_mb"])])
    extra = ""
    if "what_if" in r:
        extra = (
            f"`what_if` is the same `casekeeper serve` with `PRAGMA cache_size=-"
            f"{r['what_if']['cache_kib']}` per SQLite connection (bench/serve_variant.py) "
            "instead of the engine's own setting."
        )
    if "what_if_gc" in r:
        extra += (
            " `what_if_gc` is the same `casekeeper serve` with its `gc.freeze()` and "
            "`gc.set_threshold(50_000, 20, 100)` made no-ops (bench/serve_variant.py "
            "--gc-default), i.e. CPython's default collector thresholds."
        )
    ck = r["casekeeper"]
    return "\n".join([
        "### Server memory, SQLite",
        "",
        f"`served` = after 500 + {r['gets']:,} GetCase and 100 + {r['lists']:,} ListCases "
        f"(32 in flight); `soak` = {r['soak']}x as many again. casekeeper had "
        f"{ck.get('threads', '?')} threads and {ck.get('sqlite_connections', '?')} open SQLite "
        f"connections at the end. {extra}",
        "",
        table(["server", "phase", "RSS MB", "USS MB", "peak RSS MB"], rows),
    ])  # fmt: skip


def render(res: dict[str, Any], log: dict[str, Any], a: argparse.Namespace, doc: Path) -> str:
    m = machine_info()
    findings = "<!-- findings:start -->\n## Findings\n\n(not written yet)\n<!-- findings:end -->"
    if doc.exists():
        text = doc.read_text()
        if START in text and END in text:
            findings = text[text.index(START) : text.index(END) + len(END)]
    cmd = "bench/run_all.py" + (" --quick" if a.quick else "") + (" --skip-pg" if a.skip_pg else "")
    total = sum(v["seconds"] for v in log.values())
    starts = sorted(v["started"] for v in log.values() if v.get("started"))
    when = f"between {starts[0]} and {starts[-1][11:]} (step starts)" if starts else utc_now()
    parts = [
        "# Performance",
        "",
        f"Measured {when} with `.venv/bin/python {cmd}` "
        f"(size {a.size:,}, seed {a.seed}; {total / 60:.1f} min for the steps below). "
        "Every number is a ratio against a baseline measured in the same run, on the same "
        "machine, as shared/design/PERF_FLOOR.md prescribes: interleaved repetitions, medians.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, kernel {m['kernel']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m.get('postgresql', '?')} "
        f"(default config), grpcio {m['grpcio']}, SQLAlchemy {m['sqlalchemy']}, psycopg "
        f"{m.get('psycopg', '?')}. Client and server share the 2 cores; the box is shared, so "
        "each measurement waits for it to be idle and reports foreign CPU.",
        "",
        "## Summary",
        "",
        table(["benchmark", "value", "baseline", "ratio", "target", "target met?"], summary(res)),
        "",
        findings,
        "",
        dataset_section(res),
        "",
        "## Details",
        "",
    ]
    for key, title in (("grpc_getcase_sqlite", "SQLite"), ("grpc_getcase_pg", "PostgreSQL")):
        if res.get(key):
            parts += [getcase_section(res[key], title), ""]
    if res.get("rest_getcase_sqlite"):
        parts += [rest_getcase_section(res["rest_getcase_sqlite"]), ""]
    if res.get("rest_list_sqlite"):
        parts += [rest_list_section(res["rest_list_sqlite"]), ""]
    for key, title in (("list_cases_sqlite", "SQLite"), ("list_cases_pg", "PostgreSQL")):
        if res.get(key):
            parts += [list_section(res[key], title), ""]
    for key, title in (("bulk_ack_sqlite", "SQLite"), ("bulk_ack_pg", "PostgreSQL")):
        if res.get(key):
            parts += [bulk_section(res[key], title), ""]
    if res.get("rss_sqlite"):
        parts += [rss_section(res["rss_sqlite"]), ""]
    for key in ("ingest_sqlite", "ingest_pg"):
        if res.get(key):
            parts += [ingest_section(res[key]), ""]
    for key in ("notify_sqlite", "notify_pg"):
        if res.get(key):
            parts += [notify_section(res[key]), ""]
    for key in ("kibana_sqlite", "kibana_pg"):
        if res.get(key):
            parts += [kibana_section(res[key]), ""]
    for key in ("tracecat_sqlite", "tracecat_pg"):
        if res.get(key):
            parts += [tracecat_section(res[key]), ""]
    for key in ("facets_sqlite", "facets_pg"):
        if res.get(key):
            parts += [facets_section(res[key]), ""]
    if any(res.get(k) for k in ("web_sqlite", "web_pg", "sse_sqlite", "sse_pg")):
        parts += [web_section(res), ""]
    parts += scale_sections(res)
    parts += [
        "## Reproduce",
        "",
        "Everything (builds the datasets if they are not cached in bench/.data/, then runs each "
        "step below and rewrites this file):",
        "",
        code(f".venv/bin/python {cmd}", "sh"),
        "",
        "The steps, as run:",
        "",
        table(
            ["step", "command", "started", "seconds", "exit"],
            [
                [k, f"`{v['command']}`", v.get("started", "?"), f1(v["seconds"]), str(v["rc"])]
                for k, v in log.items()
            ],
        ),
        "",
    ]
    return "\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=None, help="cases (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--quick", action="store_true", help="50,000 cases, short windows (< 2 min)")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--only", help="comma-separated step names (datasets run unless only ingest_*)")
    ap.add_argument("--render-only", action="store_true", help="re-render from saved results")
    ap.add_argument("--doc", default=str(DOC), help="where to write the report")
    a = ap.parse_args()
    if a.size is None:
        a.size = 50_000 if a.quick else 1_000_000
    global OUT
    OUT = RESULTS / f"n{a.size}-s{a.seed}"
    log_file = OUT / "run_log.json"
    if a.render_only:
        log = json.loads(log_file.read_text())
    else:
        log = run_steps(a)
        if a.only and log_file.exists():
            log = {**json.loads(log_file.read_text()), **log}
        OUT.mkdir(parents=True, exist_ok=True)
        log_file.write_text(json.dumps(log, indent=2))
    names = [n for n, _ in steps(a)]
    res = {n: load(n) for n in names if not n.startswith("dataset")}
    res = {k: v for k, v in res.items() if v is not None}
    doc = Path(a.doc)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(res, log, a, doc))
    print(f"wrote {doc}")
    failed = [k for k, v in log.items() if v["rc"] != 0]
    if failed:
        print(f"failed steps: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()

"""docs/PERFORMANCE.md's rows and section for ``tracecat.py`` (``run_all.py`` calls these)."""

from __future__ import annotations

from typing import Any

NAMES = {"sqlite": "SQLite", "pg": "PostgreSQL"}
CALLS = {"get": "GET /cases/{id}", "list50": "GET /cases?limit=50"}


def summary_rows(res: dict[str, Any]) -> list[list[str]]:
    """benchmark, value, baseline, ratio, target, target met?"""
    rows: list[list[str]] = []
    for backend, name in NAMES.items():
        r = res.get(f"tracecat_{backend}")
        if not r:
            continue
        base = r["baseline"]["rps"]
        for key, call in CALLS.items():
            s = r[key]
            target = r["tracecat_rps"][key] * r["target_factor"]
            met = s["rps"] >= target
            rows.append([
                f"Tracecat {call}, cookie auth (wrk, 32 connections), {name}",
                f"{s['rps']:,.0f} req/s ({s['times_tracecat']:.0f}x Tracecat)",
                f"{base:,.0f} req/s (Starlette hello-world)", f"{s['ratio_to_baseline']:.2f}",
                f">= {target:,.0f} req/s", "**met**" if met else "**not met**",
            ])  # fmt: skip
    return rows


def section(r: dict[str, Any]) -> str:
    name = NAMES[r["backend"]]
    lines = [
        f"### Tracecat's cases API, {name}",
        "",
        f"{r['size']:,} cases; `wrk`, 1 thread, {r['connections']} keep-alive connections, "
        f"the session cookie of a real login; {r['reps']} repetitions of {r['duration']:.0f} s, "
        "interleaved with the baseline (bench/tracecat.py).",
        "",
        "| call | req/s | p50 ms | p99 ms | server CPU µs/req | x Tracecat | vs hello-world |",
        "|---|---|---|---|---|---|---|",
    ]
    b = r["baseline"]
    lines.append(f"| Starlette hello-world | {b['rps']:,.0f} | {b['p50_ms']:.2f} | "
                 f"{b['p99_ms']:.2f} | {b['server_cpu_us_per_req']:.0f} | | 1 |")  # fmt: skip
    for key, call in CALLS.items():
        s = r[key]
        lines.append(
            f"| {call} | {s['rps']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
            f"{s['server_cpu_us_per_req']:.0f} | {s['times_tracecat']:.0f} | "
            f"{s['ratio_to_baseline']:.3f} |"
        )
    return "\n".join(lines)

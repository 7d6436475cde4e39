"""docs/PERFORMANCE.md's rows and section for ``facets.py`` (``run_all.py`` calls these)."""

from __future__ import annotations

from typing import Any

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGET_MS = 50.0


def summary_rows(res: dict[str, Any]) -> list[list[str]]:
    """benchmark, value, baseline, ratio, target, target met?"""
    rows: list[list[str]] = []
    for key in ("facets_sqlite", "facets_pg"):
        r = res.get(key)
        if not r:
            continue
        fs = r["filters"]
        slowest = max(fs, key=lambda k: fs[k]["new"]["median_ms"])
        worst = fs[slowest]
        met = all(f["new"]["median_ms"] <= TARGET_MS for f in fs.values())
        rows.append([
            f"GetFilterValues, slowest of {len(fs)} filters ({slowest}), {NAMES[r['backend']]}",
            f"{worst['new']['median_ms']:.1f} ms", f"{worst['baseline']['median_ms']:,.0f} ms "
            "(full GROUP BY)", f"{worst['ratio']:.0f}x", f"<= {TARGET_MS:.0f} ms, every filter",
            "**met**" if met else "**not met**",
        ])  # fmt: skip
    return rows


def section(r: dict[str, Any]) -> str:
    name = NAMES[r["backend"]]
    size = r["dataset"]["size"]
    lines = [
        f"### GetFilterValues (facet counts), {name}",
        "",
        f"{size:,} cases; service-layer time in process (what gRPC, REST and the web console "
        f"call), {r['reps']} interleaved repetitions per filter; baseline: the full-scan "
        f"GROUP BY it replaced, {r['baseline_reps']} repetitions each, same run and engine "
        "(bench/facets.py). How the answers are made: docs/FACETS.md.",
        "",
        "| filter | median | p95 | baseline (median) | ratio | answer | matching: error "
        "| worst facet count: error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, f in r["filters"].items():
        n, b = f["new"], f["baseline"]
        answer = f"estimate, {f['sampled']:,} sampled" if f["estimated"] else "exact"
        if f["estimated"]:
            errs = [f"{f['matching_error_pct']:.1f} %", f"{f['worst_bucket_error_pct']:.1f} %"]
        else:
            errs = ["identical" if f["identical"] else "DIFFERS", ""]
        lines.append(
            f"| {label} | {n['median_ms']:.1f} ms | {n['p95_ms']:.1f} ms | "
            f"{b['median_ms']:,.0f} ms | {f['ratio']:,.0f}x | {answer} | {errs[0]} | {errs[1]} |"
        )
    lines += [
        "",
        "Errors are against the baseline's exact counts, as a share of the exact number of "
        "matching cases.",
    ]
    return "\n".join(lines)

"""docs/PERFORMANCE.md's rows and sections for ``web.py`` and ``sse.py`` (``run_all.py`` calls
these)."""

from __future__ import annotations

from typing import Any

NAMES = {"sqlite": "SQLite", "pg": "PostgreSQL"}


def summary_rows(res: dict[str, Any]) -> list[list[str]]:
    """benchmark, value, baseline, ratio, target, target met?"""
    rows: list[list[str]] = []
    for backend, name in NAMES.items():
        r = res.get(f"web_{backend}")
        if r:
            pages = r["pages"]
            base = pages["baseline (login page)"]["median_ms"]
            for page, s in pages.items():
                if page.startswith("baseline"):
                    continue
                rows.append(
                    [
                        f"Web console {page}, {r['size']:,} cases, {name}",
                        f"{s['median_ms']:.1f} ms median",
                        f"{base:.1f} ms (login page)",
                        f"{s['ratio_to_baseline']:.1f}",
                        f"<= {r['target_ms']:.0f} ms",
                        "**met**" if s["met"] else "**not met**",
                    ]
                )
        s = res.get(f"sse_{backend}")
        if s:
            f, b = s["fanout"], s["baseline"]
            rows.append(
                [
                    f"Change feed: {f['clients']} clients, {f['rate']:.0f} changes/s, {name}",
                    f"p99 {f['p99_ms']:.0f} ms",
                    f"p99 {b['p99_ms']:.0f} ms (1 client)",
                    f"{f['p99_ms'] / max(b['p99_ms'], 0.001):.1f}",
                    f"p99 <= {s['target_p99_ms']:.0f} ms",
                    "**met**" if s["met"] else "**not met**",
                ]
            )
    return rows


def section(res: dict[str, Any]) -> str:
    lines = ["### Web console and change feed", ""]
    for backend, name in NAMES.items():
        r = res.get(f"web_{backend}")
        if r:
            n = next(iter(r["pages"].values()))["n"]
            lines += [
                f"**{name}**, {r['size']:,} cases: each page requested {n} "
                "times one after another over a keep-alive connection with a real session "
                "(bench/web.py); server time as the client sees it on loopback.",
                "",
                "| Page | Median | p95 | Size | Target (median) |",
                "|---|---|---|---|---|",
            ]
            for page, s in r["pages"].items():
                lines.append(
                    f"| {page} (`{s['path']}`) | {s['median_ms']:.1f} ms | "
                    f"{s['p95_ms']:.1f} ms | {s['bytes'] / 1024:.0f} KiB | "
                    f"{'met' if s['met'] else 'not met'} |"
                )
            lines.append("")
        s = res.get(f"sse_{backend}")
        if s:
            f, b = s["fanout"], s["baseline"]
            lines += [
                f"**Change feed, {name}** (bench/sse.py): {f['clients']} clients following one "
                f"space, {f['rate']:.0f} changes/s for {f['seconds']:.0f} s: delivery latency "
                f"p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms, max {f['max_ms']:.0f} ms; "
                f"{f['delivered']:,} of {f['expected']:,} deliveries arrived. One client: p50 "
                f"{b['p50_ms']:.0f} ms, p99 {b['p99_ms']:.0f} ms. Target p99 <= "
                f"{s['target_p99_ms']:.0f} ms: {'met' if s['met'] else 'not met'}.",
                "",
            ]
    return "\n".join(lines)

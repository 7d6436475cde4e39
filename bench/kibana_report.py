"""docs/PERFORMANCE.md's rows and section for ``kibana.py`` (``run_all.py`` calls these)."""

from __future__ import annotations

from typing import Any

NAMES = {"sqlite": "SQLite", "pg": "PostgreSQL"}
TARGET_MS = 5.0


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def _pages(r: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in r.items() if k.startswith("user_actions page ")]


def summary_rows(res: dict[str, Any]) -> list[list[str]]:
    """benchmark, value, baseline, ratio, target, target met?"""
    rows: list[list[str]] = []
    for backend, name in NAMES.items():
        r = res.get(f"kibana_{backend}")
        if not r:
            continue
        floor = r["healthz"]["median_ms"]
        find = r["find status+severity"]["median_ms"]
        rows.append([
            f"Kibana _find (status + severity, by creation, 20, with counts), {name}",
            f"{find:.2f} ms", f"{floor:.2f} ms (GET /healthz)", f"{find / floor:.1f}",
            f"<= {TARGET_MS:.0f} ms", _met(find <= TARGET_MS),
        ])  # fmt: skip
        worst = max(v["median_ms"] for _, v in _pages(r))
        rows.append([
            f"Kibana user_actions/_find, 5,000 entries, pages of 100, worst page, {name}",
            f"{worst:.2f} ms", f"{floor:.2f} ms (GET /healthz)", f"{worst / floor:.1f}",
            f"<= {TARGET_MS:.0f} ms", _met(worst <= TARGET_MS),
        ])  # fmt: skip
    return rows


def section(r: dict[str, Any]) -> str:
    name = NAMES[r["backend"]]
    lines = [
        f"### Kibana's Cases API, {name}",
        "",
        f"{r['size']:,} cases; one keep-alive HTTP connection, one call at a time, "
        "`Authorization: ApiKey`; medians of 300 calls after 20 of warm-up (bench/kibana.py).",
        "",
        "| call | median | p95 |",
        "|---|---|---|",
    ]
    for key, stats in r.items():
        if isinstance(stats, dict) and "median_ms" in stats:
            lines.append(f"| {key} | {stats['median_ms']:.2f} ms | {stats['p95_ms']:.2f} ms |")
    return "\n".join(lines)

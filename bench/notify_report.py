"""docs/PERFORMANCE.md's rows and section for ``notify.py`` (``run_all.py`` calls these)."""

from __future__ import annotations

from typing import Any

NAMES = {"sqlite": "SQLite", "pg": "PostgreSQL"}
TARGET_PER_S = 2000
TARGET_SHARE = 0.05


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def summary_rows(res: dict[str, Any]) -> list[list[str]]:
    """benchmark, value, baseline, ratio, target, target met?"""
    rows: list[list[str]] = []
    for backend, name in NAMES.items():
        r = res.get(f"notify_{backend}")
        if not r:
            continue
        t, e = r["throughput"], r["enqueue"]
        sqlite = backend == "sqlite"
        rows.append([
            f"Notifications delivered to a loopback webhook, {t['workers']} worker(s), {name}",
            f"{t['per_s_wall']:,.0f} /s", "-", "-",
            f">= {TARGET_PER_S:,} /s" if sqlite else "report",
            _met(t["per_s_wall"] >= TARGET_PER_S) if sqlite else "info",
        ])  # fmt: skip
        med = e["median_s"]
        rows.append([
            f"BulkAcknowledge of 1,000: the outbox's share of the mutation, {name}",
            f"{e['outbox_share'] * 100:.1f} %",
            f"{med['without_outbox'] * 1000:,.0f} ms without the outbox write",
            f"{e['route_vs_none']:.2f} (with a matching route / without)",
            f"<= {TARGET_SHARE * 100:.0f} %",
            _met(e["outbox_share"] <= TARGET_SHARE) if sqlite else "info",
        ])  # fmt: skip
    return rows


def section(r: dict[str, Any]) -> str:
    name = NAMES[r["backend"]]
    t, e = r["throughput"], r["enqueue"]
    med = e["median_s"]
    rec = t["receiver"]
    return "\n".join(
        [
            f"### Notifications out, {name}",
            "",
            f"Throughput: {t['notifications']:,} cases acknowledged (bulks of 1,000), one route "
            "sending each acknowledgement to a generic webhook on loopback "
            "(tests/notify/receiver.py, its own process, answering 200 at once); then "
            + (
                "this process ran one worker until idle"
                if t["workers"] == 1
                else f"{t['workers']} `casekeeper worker` processes ran"
            )
            + ": routing, claiming, the signed HTTP attempt and its record with the timeline "
            f"event. **{t['per_s_wall']:,.0f} notifications/s** ({t['delivered']:,} delivered in "
            f"{t['wall_s']:.2f} s; {t['per_s_attempts']:,.0f}/s from the first attempt to the "
            f"last). The receiver saw {rec['requests']:,} requests for {rec['distinct']:,} "
            f"deliveries ({rec['repeated']} repeated).",
            "",
            f"Enqueue cost: BulkAcknowledge of 1,000 cases, median of {e['reps']} each, "
            "alternated: "
            f"{med['with_route'] * 1000:,.0f} ms in a space with a matching route, "
            f"{med['without_route'] * 1000:,.0f} ms in one without (ratio "
            f"{e['route_vs_none']:.2f}: routing is the worker's, after the commit), and "
            f"{med['without_outbox'] * 1000:,.0f} ms with the outbox write switched off in the "
            f"benchmark's process: the outbox is **{e['outbox_share'] * 100:.1f} %** of the "
            "mutation.",
        ]
    )

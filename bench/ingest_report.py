"""docs/PERFORMANCE.md's rows and section for ``ingest.py`` (``run_all.py`` calls these)."""

from __future__ import annotations

from typing import Any

NAMES = {"sqlite": "SQLite", "pg": "PostgreSQL"}


def _f(x: float | None, unit: str = "") -> str:
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}{unit}"
    if abs(x) >= 10:
        return f"{x:.1f}{unit}"
    return f"{x:.2f}{unit}"


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def summary_rows(res: dict[str, Any]) -> list[list[str]]:
    """benchmark, value, baseline, ratio, target, target met?"""
    rows: list[list[str]] = []
    for backend, name in NAMES.items():
        r = res.get(f"ingest_{backend}")
        if not r:
            continue
        new, again = r["casekeeper_new"], r["casekeeper_resend"]
        am = r.get("alertmanager_new") or {}
        base = _f(am["alerts_per_s"], " alerts/s") if am else "skipped: " + r["baseline_note"]
        # the targets are set on SQLite; PostgreSQL is reported against the same figures
        target = backend == "sqlite"
        phases = (("new firings", new, "ratio_new", 0.5),
                  ("re-sent known firings", again, "ratio_resend", 1.0))  # fmt: skip
        for label, x, key, goal in phases:
            ratio = r.get(key)
            rows.append([
                f"Alertmanager webhooks in, {label}, batches of {r['batch']}, {name}",
                _f(x["alerts_per_s"], " alerts/s"),
                base + (" (Alertmanager's POST /api/v2/alerts)" if am else ""),
                _f(ratio), f">= {goal}",
                (_met(ratio >= goal) if target else "info") if ratio is not None else "n/a",
            ])  # fmt: skip
        am_rate = am.get("alerts_per_s")
        what_ifs = [("re-sent known firings after ANALYZE", r.get("casekeeper_resend_analyzed"))]
        wi = r.get("what_if_analyzed_first") or {}
        what_ifs.append(("new firings, ANALYZE after the warm-up", wi.get("new")))
        for label, x in what_ifs:
            if x:
                rows.append([
                    f"Alertmanager webhooks in, {label} (what-if), {name}",
                    _f(x["alerts_per_s"], " alerts/s"), base,
                    _f(x["alerts_per_s"] / am_rate) if am_rate else "n/a", "-", "info",
                ])  # fmt: skip
        lat = r["latency"]
        rows.append([
            f"Webhook -> committed case, p99 at {lat['offered_alerts_per_s']:,.0f} alerts/s "
            f"offered, {name}",
            _f(lat["p99_ms"], " ms") + f" (p50 {_f(lat['p50_ms'], ' ms')})", "-", "-",
            "<= 50 ms", _met(lat["p99_ms"] <= 50) if target else "info",
        ])  # fmt: skip
    return rows


def section(r: dict[str, Any]) -> str:
    name = NAMES[r["backend"]]
    rows = []
    for label, key in (("casekeeper, new firings", "casekeeper_new"),
                       ("casekeeper, re-sends", "casekeeper_resend"),
                       ("casekeeper, re-sends after ANALYZE (what-if)",
                        "casekeeper_resend_analyzed"),
                       ("Alertmanager, new alerts", "alertmanager_new"),
                       ("Alertmanager, the same again", "alertmanager_resend")):  # fmt: skip
        x = r.get(key)
        if not x:
            continue
        rows.append(_row(label, x))
    wi = r.get("what_if_analyzed_first") or {}
    for ph, label in (("new", "new firings"), ("resend", "re-sends")):
        if wi.get(ph):
            rows.append(_row(f"casekeeper, {label}, ANALYZE after the warm-up (what-if, 1 run)",
                             wi[ph]))  # fmt: skip
    hdr = ["load", "alerts/s (median)", "runs", "POST p50 ms", "POST p99 ms", "server cores",
           "server CPU µs/alert", "client CPU µs/alert", "rest of machine µs/alert",
           "non-200", "checked", "load average (1 min)"]  # fmt: skip
    lat = r["latency"]
    ratios = ""
    if "ratio_new" in r:
        ratios = (
            f"Ratios (against Alertmanager's new alerts): new **{r['ratio_new']:.2f}**, "
            f"re-sends **{r['ratio_resend']:.2f}** (against Alertmanager's re-posts: "
            f"{r['ratio_resend_vs_am_resend']:.2f}). By server CPU per alert (Alertmanager's "
            "over casekeeper's: the ratio if each had the same CPU to itself; it moves less "
            f"with the box's load): new {r['cpu_ratio_new']:.2f}, re-sends "
            f"{r['cpu_ratio_resend']:.2f}."
        )
    parts = [
        f"### Alertmanager webhooks in, {name}",
        "",
        f"{r['reps']} repetitions (each from nothing, servers' order alternating) of "
        f"{r['alerts']:,} new alerts in batches of {r['batch']} with distinct label sets, one "
        f"alert group per batch, {r['groups']} groups; client: {r['client']}, each thread "
        "posting its own groups in order. casekeeper: `casekeeper serve` on a fresh database, "
        "`POST /ingest/alertmanager` (webhook version 4, Bearer key with `signals:Write`); "
        "checked: every 200 names a new incident per alert, and the database holds one firing "
        "and one incident per alert. Re-sends: the same webhooks again, passes repeated for "
        f">= {r['resend_seconds']:g} s. "
        + (
            f"Baseline: {r['alertmanager']} (own config and storage, "
            "`--cluster.listen-address=`, a route to a receiver with no integrations) taking "
            "the same alerts on `POST /api/v2/alerts`, same batches and client; checked: it "
            "holds them all."
            if r.get("alertmanager")
            else f"**No baseline (skipped: {r['baseline_note']}).**"
        ),
        "",
        _table(hdr, rows),
        "",
        ratios,
        (
            "`after ANALYZE`: the same re-sends once more after PostgreSQL's `ANALYZE` on the "
            "same server (a fresh database has no planner statistics until autovacuum gets to "
            "the new rows; without them the firing lookup by dedup key scanned every firing of "
            "the space)."
            if r.get("casekeeper_resend_analyzed")
            else ""
        ),
        "",
        f"Latency: a fresh `casekeeper serve` offered {lat['offered_alerts_per_s']:,.0f} "
        f"alerts/s of new firings ({lat['batches']} batches of {r['batch']}, paced, open loop, "
        f"8 connections) for {lat['seconds']:g} s: from each POST's due time to its 200, p50 "
        f"**{_f(lat['p50_ms'])} ms**, p95 {_f(lat['p95_ms'])} ms, p99 **{_f(lat['p99_ms'])} "
        f"ms**, max {_f(lat['max_ms'])} ms; server {_f(lat['server_cores'])} cores; load "
        f"average {lat['loadavg_1m']}. Every 10th batch's case was read back over REST right "
        f"after its 200 ({lat['cases_read_back']} reads, all found); non-200: "
        f"{sum(v for k, v in lat['statuses'].items() if k != '200')}.",
    ]
    prof = r.get("profile")
    if prof:
        db = prof["new_dbapi_per_batch"]
        db_rows = [[k, _f(v["ms"]), _f(v["calls"])] for k, v in list(db.items())[:12]]
        parts += [
            "",
            "In process (no HTTP: the route's parsing, `container.signals.ingest`, the answer's "
            f"JSON): new firings {_f(prof['new_alerts_per_s_in_process'])} alerts/s "
            f"({_f(prof['new_ms_per_batch'])} ms per batch of {r['batch']}, "
            f"{_f(prof.get('new_cpu_us_per_alert'))} µs CPU per alert), re-sends "
            f"{_f(prof['resend_alerts_per_s_in_process'])} alerts/s "
            f"({_f(prof.get('resend_cpu_us_per_alert'))} µs CPU per alert); the rest of the "
            "server's CPU per alert above is HTTP and the thread hop. Time inside the DBAPI "
            "per batch of new firings, by statement (the store's raw-cursor statements "
            "included; COMMIT is not: see cProfile's `commit`):",
            "",
            _table(["statement", "ms per batch", "calls per batch"], db_rows),
            "",
            *_growth(r.get("growth")),
            "cProfile of new firings (own time):",
            "",
            _code("\n".join(prof["new_top_tottime"].splitlines()[:18])),
            "",
            "cProfile of new firings (inclusive time):",
            "",
            _code("\n".join(prof["new_top_cumulative"].splitlines()[:22])),
        ]
    return "\n".join(parts)


def _row(label: str, x: dict[str, Any]) -> list[str]:
    return [
        label, _f(x["alerts_per_s"]), ", ".join(f"{v:,}" for v in x["runs_alerts_per_s"]),
        _f(x["post_p50_ms"]), _f(x["post_p99_ms"]), _f(x["server_cores"]),
        _f(x["server_cpu_us_per_alert"]), _f(x["client_cpu_us_per_alert"]),
        _f(x["rest_cpu_us_per_alert"]), str(x["non_200"]),
        "yes" if x["checks_ok"] else "**no**",
        ", ".join(_f(v) for v in x["loadavg_runs"]),
    ]  # fmt: skip


def _growth(grow: list[dict[str, Any]] | None) -> list[str]:
    """How one batch's cost grows with the case it joins, and which statements grow."""
    if not grow:
        return []
    top = [k for k, _ in sorted(grow[-1]["dbapi_per_batch"].items(), key=lambda x: -x[1]["ms"])]
    top = top[:5]
    rows = [
        [f"{g['incidents_in_case']:,}", _f(g["ms_per_batch"])]
        + [_f(g["dbapi_per_batch"].get(k, {}).get("ms", 0.0)) for k in top]
        for g in grow
    ]
    return [
        "One batch of new firings joining a case that already holds n incidents of its group "
        "(in process, median of 3 batches; the largest DBAPI costs at the largest n, ms per "
        "batch):",
        "",
        _table(["n", "ms per batch", *(f"`{k}`" for k in top)], rows),
        "",
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _code(text: str) -> str:
    return f"```\n{text.rstrip()}\n```"

"""docs/PERFORMANCE.md's rows and sections for ``headline.py``, ``scaling.py`` and
``db_copy.py`` (``run_all.py`` calls these)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAMES = {"sqlite": "SQLite", "pg": "PostgreSQL"}
TARGET_P99_MS = 50.0


def summary_rows(res: dict[str, Any]) -> list[list[str]]:
    """benchmark, value, baseline, ratio, target, target met?"""
    rows: list[list[str]] = []
    for backend, name in NAMES.items():
        h = res.get(f"headline_{backend}")
        if not h:
            continue
        load = f"{h['alerts_per_s']:,.0f} alerts/s + {h['api_per_s']:,.0f} req/s"
        for kind, k in h["kinds"].items():
            idle = h["idle"].get(kind) or h["idle"].get("comment" if kind == "acknowledge" else "")
            base = idle["p99_ms"] if idle else None
            target = kind != "alerts"  # a webhook of 100 alerts is not one request's latency
            verdict = "**met**" if k["p99_ms"] <= TARGET_P99_MS else "**not met**"
            rows.append([
                f"Headline, {kind}, {load}, {h['cases']:,} cases / {h['events']:,} events, {name}",
                f"p99 {h['kinds'][kind]['p99_ms']:,.1f} ms (p50 {k['p50_ms']:,.1f})",
                f"p99 {base:,.1f} ms idle" if base is not None else "-",
                f"{k['p99_ms'] / base:.1f}" if base else "-",
                f"<= {TARGET_P99_MS:.0f} ms" if target else "-",
                verdict if target else "info",
            ])  # fmt: skip
    s = res.get("scaling_pg")
    if s:
        one, two = s["processes_1"], s["processes_2"]
        rows.append([
            "GetCase over gRPC, 2 server processes (SO_REUSEPORT), PostgreSQL",
            f"{two['rps']:,.0f} req/s", f"{one['rps']:,.0f} req/s (1 process)",
            f"{s['factor']:.2f}", "-", "info",
        ])  # fmt: skip
        if "replica_processes_2" in s:
            rows.append([
                "GetCase over gRPC, 2 processes, reads on a streaming replica, PostgreSQL",
                f"{s['replica_processes_2']['rps']:,.0f} req/s",
                f"{one['rps']:,.0f} req/s (1 process, primary)",
                f"{s['replica_factor']:.2f}", "-", "info",
            ])  # fmt: skip
    return rows


def sections(res: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for backend, name in NAMES.items():
        h = res.get(f"headline_{backend}")
        if not h:
            continue
        lines = [
            f"### The headline, {name}",
            "",
            f"`bench/headline.py --backend {backend}`: {h['cases']:,} cases, {h['events']:,} "
            f"timeline events; {h['duration_s'] / 60:.0f} min of {h['alerts_per_s']:,.0f} "
            f"Alertmanager alerts/s plus {h['api_per_s']:,.0f} REST requests/s, open loop "
            f"(latency from the due time); {h['processes']} server process(es). Stored during "
            f"the run: {h['stored']['signal_firing']:,} firings, {h['stored']['case']:,} "
            f"cases, {h['stored']['case_event']:,} timeline events.",
            "",
            "| kind | requests | statuses | p50 ms | p99 ms | max ms | idle p99 ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for kind, k in h["kinds"].items():
            idle = h["idle"].get(kind)
            lines.append(
                f"| {kind} | {k['requests']:,} | {k['statuses']} | {k['p50_ms']:,.1f} | "
                f"{k['p99_ms']:,.1f} | {k['max_ms']:,.1f} | "
                f"{idle['p99_ms'] if idle else '-'} |"
            )
        rss = h["rss"]
        if rss:
            peak = max(r["rss_mb"] for r in rss)
            lines += ["", f"Server RSS {rss[0]['rss_mb']:,.0f} MiB after the first 5 s, "
                      f"{rss[-1]['rss_mb']:,.0f} MiB at the end, peak {peak:,.0f} MiB; "
                      f"![RSS and CPU over time](headline-{backend}.png)"]  # fmt: skip
        out += [*lines, ""]
    s = res.get("scaling_pg")
    if s:
        out += ["### Server processes (GetCase over gRPC, PostgreSQL)", "",
                "| setup | req/s | p50 ms | p99 ms | server cores | client cores | PG cores |",
                "|---|---|---|---|---|---|---|"]  # fmt: skip
        for key, label in (("processes_1", "1 process"), ("processes_2", "2 processes"),
                           ("replica_processes_1", "1 process, replica reads"),
                           ("replica_processes_2", "2 processes, replica reads")):  # fmt: skip
            r = s.get(key)
            if r:
                cells = [
                    f"{r[k]:,.2f}" if k in r else "-"
                    for k in ("p50_ms", "p99_ms", "server_cores", "client_cores", "db_cores")
                ]
                out.append(f"| {label} | {r['rps']:,.0f} | {' | '.join(cells)} |")  # fmt: skip
        out += ["", f"Scaling factor (2 processes / 1): **{s['factor']:.2f}**.", ""]
    return out


def db_copy_section(d: dict[str, Any]) -> list[str]:
    return [
        "### db copy, SQLite -> PostgreSQL",
        "",
        f"`bench/db_copy.py --size {d['size']:,}`: {d['rows']:,} rows ({d['source_mb']:,.0f} MB "
        f"SQLite file) into an empty PostgreSQL database in {d['seconds']:,.0f} s: "
        f"**{d['rows_per_s']:,} rows/s** overall ({d['copy_rows_per_s']:,} rows/s while copying, "
        f"{d['verify_seconds']:.0f} s verifying every table, {d['commit_analyze_seconds']:.0f} s "
        f"commit and ANALYZE), peak RSS {d['peak_rss_mb']:.0f} MB; all tables verified: "
        f"{d['all_verified']}.",
        "",
    ]


def write_doc(results: Path, doc: Path, finding: str) -> None:
    """Put the summary rows at the end of docs/PERFORMANCE.md's summary table and ``finding``
    plus the sections at the top of its findings (kept by run_all), replacing earlier ones."""
    import json

    res = {p.stem: json.loads(p.read_text()) for p in results.glob("*.json")}
    text = doc.read_text()
    lines = [
        line
        for line in text.split("\n")
        if not line.startswith(("| Headline,", "| GetCase over gRPC, 2 "))
    ]
    end = lines.index("<!-- findings:start -->") - 1  # the blank line after the table
    rows = ["| " + " | ".join(r) + " |" for r in summary_rows(res)]
    lines[end:end] = rows
    text = "\n".join(lines)
    if START in text:
        text = text[: text.index(START)] + text[text.index(END) + len(END) + 1 :]
    body = [START, finding, "", *sections(res)]
    if "db_copy" in res:
        body += db_copy_section(res["db_copy"])
    body.append(END)
    anchor = "## Findings\n\n"
    i = text.index(anchor) + len(anchor)
    doc.write_text(text[:i] + "\n".join(body) + "\n\n" + text[i:])


START, END = "<!-- scale:start -->", "<!-- scale:end -->"

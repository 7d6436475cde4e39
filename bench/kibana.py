"""Kibana's Cases API at 1,000,000 cases, over HTTP, one keep-alive connection, one call at a
time, against a real ``casekeeper serve``:

- ``GET /s/bench/api/cases/_find?status=open&severity=critical&sortField=createdAt&perPage=20``
  (two filters, sorted by creation, a page of 20, with the three status counts); and the same
  with ``assignees=none`` instead of ``severity`` (a filter the maintained counts do not cover:
  its counts are a count of the matching rows);
- ``GET /s/bench/api/cases/{id}/user_actions/_find?perPage=100&page=N`` on a case with 5,000
  timeline entries, at the first, a middle and the last page;
- ``GET /healthz`` on the same server and connection: the HTTP floor of this machine.

Targets (issue 15): ``_find`` median at most 5 ms; ``user_actions/_find`` at most 5 ms per page at
any depth. The case with 5,000 entries is made once in the dataset (same id every run).
"""

from __future__ import annotations

import http.client
import time
import uuid
from typing import Any

from common import (
    HOST,
    free_port,
    machine_info,
    process,
    step_args,
    summary_ms,
    wait_idle,
    write_result,
)
from dataset import ensure
from rest_getcase import serve_rest_argv, wait_http

from casekeeper.domain import timeline as tl
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.model import CaseRef
from casekeeper.service.admin import NewCase

EVENTS = 5_000
LONG_CASE = str(uuid.uuid5(uuid.NAMESPACE_URL, "casekeeper-bench/kibana-long-timeline"))
PAGE = "sortField=createdAt&sortOrder=desc&perPage=20"
FIND = {
    "status+severity": f"status=open&severity=critical&{PAGE}",
    "status+unassigned": f"status=open&assignees=none&{PAGE}",
}


def long_timeline(ds: Any) -> str:
    """The case with ``EVENTS`` timeline entries (comments, status and tag changes)."""
    c = ds.container()
    try:
        p = ds.principal(c)
        with c.db.reader() as uow:
            found = uow.cases.get(p.space_id, CaseRef(raw=LONG_CASE, uuid=LONG_CASE))
        if found is None:
            spec = NewCase(title="A long timeline", category=CaseCategory.AVAILABILITY,
                           priority=CasePriority.P2, case_id=LONG_CASE)  # fmt: skip
            case = c.admin.create_case(p, spec)
            now = case.create_time
            actor = Actor.api_key(p.key_id, p.key_name)
            kinds = [
                tl.Comment("looking into it"),
                tl.StatusChanged(CaseStatus.ACTIVE, CaseStatus.ACKNOWLEDGED),
                tl.TagsChanged(("db",), ()),
                tl.TitleChanged("a", "b"),
            ]
            events = [
                CaseEvent(str(uuid.uuid5(uuid.NAMESPACE_URL, f"{LONG_CASE}/{n}")), case.id,
                          case.space_id, kinds[n % len(kinds)], actor, now + n, now + n)
                for n in range(EVENTS - 2)
            ]  # fmt: skip
            with c.db.writer() as uow:
                uow.events.add_many(events)
                uow.commit()
        return LONG_CASE
    finally:
        c.close()


def timed(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str], reps: int
) -> dict[str, Any]:
    samples: list[int] = []
    for n in range(reps + 20):
        t0 = time.perf_counter_ns()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        elapsed = time.perf_counter_ns() - t0
        assert r.status == 200, (path, r.status, body[:300])
        if n >= 20:  # warm-up first
            samples.append(elapsed)
    return summary_ms(samples)


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--reps", type=int, default=300)
    a = ap.parse_args()
    ds = ensure(a.backend, a.size, a.seed)
    case_id = long_timeline(ds)
    print(f"Kibana API on {ds.backend}, {ds.size:,} cases", flush=True)
    gport, hport = free_port(), free_port()
    headers = {"Authorization": f"ApiKey {ds.key}"}
    out: dict[str, Any] = {"machine": machine_info(), "backend": ds.backend, "size": ds.size}
    with process(serve_rest_argv(ds.url, gport, hport), "kibana-serve",
                 lambda: wait_http(f"http://{HOST}:{hport}/healthz", timeout=120)):  # fmt: skip
        wait_idle()
        conn = http.client.HTTPConnection(HOST, hport, timeout=60)
        out["healthz"] = timed(conn, "/healthz", headers, a.reps)
        for name, query in FIND.items():
            out[f"find {name}"] = timed(conn, f"/s/bench/api/cases/_find?{query}", headers, a.reps)
        pages = EVENTS // 100
        for page in (1, pages // 2, pages):
            path = f"/s/bench/api/cases/{case_id}/user_actions/_find?perPage=100&page={page}"
            out[f"user_actions page {page}"] = timed(conn, path, headers, a.reps)
        conn.close()
    for name, stats in out.items():
        if isinstance(stats, dict) and "median_ms" in stats:
            print(f"  {name:32} median {stats['median_ms']:.2f} ms  p95 {stats['p95_ms']:.2f} ms")
    write_result(a.out, "kibana", out)


if __name__ == "__main__":
    main()

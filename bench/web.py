"""The web console's server time at 1,000,000 cases: the queue page (default open-cases view,
and filtered views: each with its facet counts and a page of 50) and a case page whose case has
500 timeline events, each requested one after another over a keep-alive connection with the
session cookie of a real login through the login form. Baseline in the same run: the login
page (the same server, middleware and template engine, no database). Reported: median and p95
milliseconds per page (the target: a median of 50 ms or less), and the ratio to the baseline.
"""

from __future__ import annotations

import contextlib
import re
import statistics
import time
from typing import Any

import httpx
from common import CASEKEEPER, HOST, machine_info, process, step_args, wait_grpc, write_result
from dataset import ensure
from grpc_getcase import sample_ids
from rest_getcase import serve_rest_argv, wait_http
from tracecat import _cli

from casekeeper.service.auth import Principal

USER = "bench-responder"
PASSWORD = "bench-responder-password"
EVENTS = 500
TARGET_MS = 50.0
QUEUES = {
    "queue (open cases, most urgent first)": "/ui/",
    "queue, P1 only": "/ui/?priority=P1",
    "queue, unassigned": "/ui/?assignee=unassigned",
    "queue, any status, sorted by update": "/ui/?status=any&sort=updated",
    "queue, title search": "/ui/?q=latency",
    "queue, a label": "/ui/?label=region%3Deu-west-1",
    "queue, a label no case has (the worst case)": "/ui/?label=region%3Dmars-1",
    "queue, last 24 h": "/ui/?range=24h&status=any",
}


def case_with_events(ds: Any, seed: int) -> str:
    """A case of the dataset given ``EVENTS`` timeline events (comments), once."""
    c = ds.container()
    try:
        p: Principal = ds.principal(c)
        (case_id,) = sample_ids(ds, 1, seed)
        _, page = c.case_views.events(p, case_id, None, offset=0, limit=1)
        for n in range(page.total, EVENTS):
            c.timeline.create_comment(p, case_id, f"bench note {n}: checked the dashboards")
        return c.cases.get(p, case_id).readable_id or case_id
    finally:
        c.close()


def login(client: httpx.Client) -> None:
    page = client.get("/ui/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    r = client.post("/ui/login", data={"username": USER, "password": PASSWORD,
                                       "csrf": token.group(1), "next": "/ui/"})  # fmt: skip
    assert r.status_code == 303, r.text


def timed(client: httpx.Client, path: str, n: int, warmup: int) -> dict[str, Any]:
    samples: list[float] = []
    size = 0
    for i in range(warmup + n):
        t0 = time.perf_counter_ns()
        r = client.get(path)
        dt = (time.perf_counter_ns() - t0) / 1e6
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        size = len(r.content)
        if i >= warmup:
            samples.append(dt)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * (n - 1))],
            "min_ms": samples[0], "n": n, "bytes": size}  # fmt: skip


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    ds = ensure(a.backend, a.size, a.seed)
    print(f"web console on {ds.backend}, {ds.size:,} cases", flush=True)
    _cli(ds.url, "users", "create", "--username", USER, "--role", "responder", "--space", "bench",
         "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    ref = case_with_events(ds, ds.seed + 5)
    gport, hport = free_ports()
    pages = {"baseline (login page)": "/ui/login", **QUEUES,
             f"case page ({EVENTS} events)": f"/ui/cases/{ref}"}  # fmt: skip
    out: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:

        def ready() -> None:
            wait_grpc(f"{HOST}:{gport}", timeout=120)
            wait_http(f"http://{HOST}:{hport}/healthz")

        stack.enter_context(process(serve_rest_argv(ds.url, gport, hport), f"web-{ds.backend}",
                                    ready))  # fmt: skip
        client = stack.enter_context(httpx.Client(base_url=f"http://{HOST}:{hport}", timeout=60))
        login(client)
        for name, path in pages.items():
            r = timed(client, path, a.n, a.warmup)
            out[name] = {**r, "path": path}
            print(f"  {name:42s} median {r['median_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms  "
                  f"{r['bytes'] / 1024:5.0f} KiB", flush=True)  # fmt: skip
    base = out["baseline (login page)"]["median_ms"]
    for r in out.values():
        r["ratio_to_baseline"] = r["median_ms"] / base
        r["met"] = r["median_ms"] <= TARGET_MS
    res = {"backend": ds.backend, "size": ds.size, "pages": out, "target_ms": TARGET_MS,
           "events": EVENTS, "machine": machine_info(), "casekeeper": CASEKEEPER}  # fmt: skip
    write_result(a.out, "web", res)


def free_ports() -> tuple[int, int]:
    from common import free_port

    return free_port(), free_port()


if __name__ == "__main__":
    main()

"""ListCases over REST vs. over gRPC, same query, same ``casekeeper serve`` process.

Query: the ``broad`` filter of list_cases.py (statuses RESOLVED+CLOSED, priorities P3+P4, grouping
environment=production), order UPDATED_AT descending, page of 50, page 1; ``narrow`` (ACTIVE,
P1, environment=production) is reported too. REST: ``POST /cases/cases/v1`` with the
protojson of the same ``ListCasesRequest`` (``{"filters": ..., "orderBy": ..., "pagination":
{"pageSize": 50}}``), one keep-alive ``http.client`` connection. gRPC: a blocking stub on one
channel. One call at a time; in every repetition each protocol runs each query once, the
protocol order alternating. Both answers are checked to hold the same 50 case ids. Server CPU
per call is read from /proc (psutil) around each call, outside the timed region.
"""

from __future__ import annotations

import contextlib
import http.client
import time
from typing import Any

import orjson
import psutil
from common import (
    HOST,
    free_port,
    machine_info,
    step_args,
    summary_ms,
    wait_grpc,
    wait_idle,
    write_result,
)
from dataset import FILTERS, ensure, list_request
from google.protobuf import json_format
from rest_getcase import process, serve_rest_argv, wait_http

from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc as pb_grpc

QUERIES = ("broad", "narrow")


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--reps", type=int, default=200)
    a = ap.parse_args()
    import grpc

    ds = ensure(a.backend, a.size, a.seed)
    print(f"ListCases REST vs gRPC on {ds.backend}, {ds.size:,} cases", flush=True)
    gport, hport = free_port(), free_port()
    md = (("authorization", f"Bearer {ds.key}"),)
    headers = {"Authorization": f"Bearer {ds.key}", "Content-Type": "application/json"}
    reqs = {q: list_request(FILTERS[q]) for q in QUERIES}
    bodies = {q: orjson.dumps(json_format.MessageToDict(r)) for q, r in reqs.items()}

    def ready() -> None:
        wait_grpc(f"{HOST}:{gport}", timeout=120)
        wait_http(f"http://{HOST}:{hport}/healthz")

    samples: dict[str, list[int]] = {f"{p}_{q}": [] for p in ("grpc", "rest") for q in QUERIES}
    cpu: dict[str, list[float]] = {k: [] for k in samples}
    sizes: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        proc = stack.enter_context(
            process(serve_rest_argv(ds.url, gport, hport), f"serve-rest-list-{ds.backend}", ready)
        )
        server = psutil.Process(proc.pid)
        ch = stack.enter_context(grpc.insecure_channel(f"{HOST}:{gport}"))
        stub = pb_grpc.CasesServiceStub(ch)
        conn = http.client.HTTPConnection(HOST, hport, timeout=60)
        stack.callback(conn.close)

        def rest(q: str) -> Any:
            conn.request("POST", "/cases/cases/v1", body=bodies[q], headers=headers)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise RuntimeError(f"REST ListCases {q}: HTTP {r.status}: {body[:500]!r}")
            return body

        def grpc_call(q: str) -> Any:
            return stub.ListCases(reqs[q], metadata=md)

        # the same page both ways
        for q in QUERIES:
            g = grpc_call(q)
            body = rest(q)
            data = orjson.loads(body)
            gids = [c.id for c in g.cases]
            rids = [c["id"] for c in data.get("cases", [])]
            if gids != rids or len(gids) != 50:
                raise RuntimeError(f"{q}: gRPC and REST pages differ ({len(gids)}/{len(rids)})")
            sizes[f"grpc_{q}"] = len(g.SerializeToString())
            sizes[f"rest_{q}"] = len(body)
        for _ in range(5):
            for q in QUERIES:
                grpc_call(q)
                rest(q)
        wait_idle()
        calls = {"grpc": grpc_call, "rest": rest}
        t0 = time.perf_counter()
        for rep in range(a.reps):
            order = ("grpc", "rest") if rep % 2 == 0 else ("rest", "grpc")
            for q in QUERIES:
                for p in order:
                    c0 = server.cpu_times()
                    s0 = time.perf_counter_ns()
                    calls[p](q)
                    samples[f"{p}_{q}"].append(time.perf_counter_ns() - s0)
                    c1 = server.cpu_times()
                    cpu[f"{p}_{q}"].append((c1.user + c1.system) - (c0.user + c0.system))
        seconds = time.perf_counter() - t0
    stats = {k: summary_ms(v) for k, v in samples.items()}
    ratios = {q: stats[f"rest_{q}"]["median_ms"] / stats[f"grpc_{q}"]["median_ms"] for q in QUERIES}
    result = {
        "backend": ds.backend,
        "size": ds.size,
        "reps": a.reps,
        "measure_seconds": round(seconds, 1),
        "machine": machine_info(),
        "latency": stats,
        "server_cpu_ms_per_call": {k: sum(v) / len(v) * 1000 for k, v in cpu.items()},
        "response_bytes": sizes,
        "rest_body_broad": bodies["broad"].decode(),
        "ratio": ratios,
    }
    write_result(a.out, "rest_list", result)
    for k, v in stats.items():
        print(f"  {k:12s} median {v['median_ms']:7.2f} ms  p95 {v['p95_ms']:7.2f} ms", flush=True)
    print(f"  REST/gRPC median: {', '.join(f'{q} {r:.2f}' for q, r in ratios.items())}")


if __name__ == "__main__":
    main()

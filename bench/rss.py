"""Server memory with the big dataset: RSS of ``casekeeper serve`` vs. the empty grpcio server.

Phases (one aio client process, 32 in flight, as in grpc_getcase.py):

1. started   - the process is up and idle;
2. warm      - after a warm-up of 500 GetCase and 100 ListCases;
3. served    - after a few thousand more requests: ``--gets`` GetCase (random cases) and
               ``--lists`` ListCases (broad / narrow / rare filters, page 1 and deeper pages);
4. soak      - after ``--soak`` times as many again (the trend: does memory keep growing?).

The baseline is the empty server of grpc_getcase.py after the same number of GetCase calls.
RSS and USS come from psutil, the peak (VmHWM) from /proc.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import psutil
from common import (
    DATA,
    empty_server_argv,
    free_port,
    list_page,
    machine_info,
    rss_mb,
    run_client,
    serve_argv,
    serve_variant_argv,
    server_process,
    step_args,
    write_requests,
    write_result,
)
from dataset import FILTERS, Dataset, ensure, list_request, query
from grpc_getcase import METHOD as GET
from grpc_getcase import sample_ids

from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb

LIST = "/com.coralogixapis.cases.v1.CasesService/ListCases"


def memory(pid: int) -> dict[str, float]:
    out = rss_mb(pid)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            out["peak_rss_mb"] = int(line.split()[1]) / 1024
    return {k: round(v, 1) for k, v in out.items()}


def list_requests(ds: Dataset) -> list[Any]:
    """Page 1 of each filter, and pages 2..200 of the broad and rare filters (every 7th)."""
    c = ds.container()
    p = ds.principal(c)
    reqs = [list_request(f) for f in FILTERS.values()]
    try:
        for name in ("broad", "rare", "narrow"):
            token: str | None = None
            for page in range(2, 201):
                _, token = list_page(c, p, query(FILTERS[name], token))
                if token is None:
                    break
                if page % 7 == 0:
                    reqs.append(list_request(FILTERS[name], token))
    finally:
        c.close()
    return reqs


def phase(port: int, pid: int, key: str, gets: Path, lists: Path, n_get: int, n_list: int) -> None:
    if n_get:
        r = run_client(port, GET, gets, pid, key=key, warmup=0.2, count=n_get)
        assert r["errors"] == 0, r["last_error"]
    if n_list:
        r = run_client(port, LIST, lists, pid, key=key, warmup=0.2, count=n_list)
        assert r["errors"] == 0, r["last_error"]


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--gets", type=int, default=5000)
    ap.add_argument("--lists", type=int, default=1000)
    ap.add_argument("--soak", type=int, default=3, help="soak = this many times gets/lists")
    ap.add_argument(
        "--what-if-cache-kib",
        type=int,
        default=2000,
        help="also run serve with this SQLite cache_size per connection (0: skip)",
    )
    ap.add_argument(
        "--what-if-gc-default",
        action="store_true",
        help="also run serve without its gc.freeze()/set_threshold (CPython's default GC)",
    )
    a = ap.parse_args()
    ds = ensure(a.backend, a.size, a.seed)
    print(f"server RSS on {ds.backend}, {ds.size:,} cases", flush=True)
    ids = sample_ids(ds, 50_000, ds.seed + 1)
    random.Random(3).shuffle(ids)
    gets = write_requests(DATA / "rss-get.b64", [pb.GetCaseRequest(id=i) for i in ids])
    lists = write_requests(DATA / "rss-list.b64", list_requests(ds))
    results: dict[str, Any] = {}

    port = free_port()
    with server_process(empty_server_argv(port), port, "empty-rss") as proc:
        base = {"started": memory(proc.pid)}
        phase(port, proc.pid, ds.key, gets, lists, 500, 0)
        base["warm"] = memory(proc.pid)
        phase(port, proc.pid, ds.key, gets, lists, a.gets, 0)
        base["served"] = memory(proc.pid)
    results["baseline"] = base
    print(f"  baseline {base}", flush=True)

    def casekeeper(argv: list[str], port: int, label: str, soak: int) -> dict[str, Any]:
        with server_process(argv, port, f"serve-rss-{ds.backend}") as proc:
            real: dict[str, Any] = {"started": memory(proc.pid)}
            phase(port, proc.pid, ds.key, gets, lists, 500, 100)
            real["warm"] = memory(proc.pid)
            phase(port, proc.pid, ds.key, gets, lists, a.gets, a.lists)
            real["served"] = memory(proc.pid)
            print(f"  {label} {real}", flush=True)
            if soak:
                phase(port, proc.pid, ds.key, gets, lists, a.gets * soak, a.lists * soak)
                real["soak"] = memory(proc.pid)
                print(f"  {label} soak {real['soak']}", flush=True)
            real["threads"] = len(psutil.Process(proc.pid).threads())
            real["sqlite_connections"] = sum(
                1 for f in psutil.Process(proc.pid).open_files() if f.path.endswith(".db")
            )
        return real

    port = free_port()
    results["casekeeper"] = casekeeper(serve_argv(ds.url, port), port, "casekeeper", a.soak)
    if ds.backend == "sqlite" and a.what_if_cache_kib:
        port = free_port()
        argv = serve_variant_argv(ds.url, port, a.what_if_cache_kib)
        label = f"what-if cache_size={a.what_if_cache_kib} KiB"
        results["what_if"] = casekeeper(argv, port, label, 0)
        results["what_if"]["cache_kib"] = a.what_if_cache_kib
    if a.what_if_gc_default:
        port = free_port()
        argv = serve_variant_argv(ds.url, port, 0, gc_default=True)
        results["what_if_gc"] = casekeeper(argv, port, "what-if default GC", a.soak)
    real = results["casekeeper"]
    write_result(
        a.out,
        "rss",
        {
            "backend": ds.backend,
            "size": ds.size,
            "gets": a.gets,
            "lists": a.lists,
            "soak": a.soak,
            "machine": machine_info(),
            **results,
            "ratio": real["served"]["rss_mb"] / base["served"]["rss_mb"],
        },
    )


if __name__ == "__main__":
    main()

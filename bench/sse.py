"""The change feed's fan-out: ``--clients`` (200) connections following one space's
``GET /api/v1/events/stream`` while ``--rate`` (100) changes a second are written to it (each a
comment, through the service in this process), for ``--duration`` seconds. Each client records,
for every change, the time from the change's event time (taken just before its commit) to its
arrival; reported: p50, p99 and max delivery latency over all deliveries, and how many of the
expected deliveries arrived. Target (issue 17): p99 at most 200 ms. Baseline in the same run:
the same clients and rate with one client only (the latency of one delivery, no fan-out).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

import orjson
from common import HOST, free_port, machine_info, pct, process, step_args, wait_grpc, write_result
from dataset import ensure
from grpc_getcase import sample_ids
from rest_getcase import serve_rest_argv, wait_http

TARGET_P99_MS = 200.0


async def follow(
    port: int,
    key: str,
    latencies: list[float],
    ready: asyncio.Event,
    stop: asyncio.Event,
    counts: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(
        f"GET /api/v1/events/stream HTTP/1.1\r\nHost: {HOST}\r\n"
        f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    while (await reader.readline()).strip():  # the response head
        pass
    ready.set()
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                break
            # Chunked framing: the data lines are whole inside the chunks.
            if line.startswith(b"data: {"):
                sent = orjson.loads(line[6:])["time"]
                latencies.append(time.time() * 1000 - sent / 1000)
                counts[0] += 1
    finally:
        writer.close()


def write_changes(ds: Any, case_id: str, rate: float, seconds: float, written: list[int]) -> None:
    c = ds.container()
    try:
        p = ds.principal(c)
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            c.timeline.create_comment(p, case_id, f"fan-out {n}")
            n += 1
            written[0] = n
            ahead = start + n / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    finally:
        c.close()


async def run(
    port: int, ds: Any, case_id: str, clients: int, rate: float, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    counts = [0]
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(clients)]
    tasks = [asyncio.create_task(follow(port, ds.key, latencies, r, stop, counts)) for r in readies]
    for r in readies:
        await r.wait()
    await asyncio.sleep(0.5)
    written = [0]
    writer = threading.Thread(target=write_changes, args=(ds, case_id, rate, seconds, written))
    writer.start()
    while writer.is_alive():
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # the last changes' deliveries
    stop.set()
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await t
    xs = sorted(latencies)
    return {
        "clients": clients,
        "rate": rate,
        "seconds": seconds,
        "written": written[0],
        "delivered": len(xs),
        "expected": written[0] * clients,
        "p50_ms": pct(xs, 50),
        "p99_ms": pct(xs, 99),
        "max_ms": xs[-1] if xs else 0.0,
    }


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--duration", type=float, default=20.0)
    a = ap.parse_args()
    ds = ensure(a.backend, a.size, a.seed)
    (case_id,) = sample_ids(ds, 1, ds.seed + 17)
    gport, hport = free_port(), free_port()
    print(f"change feed on {ds.backend}: {a.clients} clients, {a.rate:.0f} changes/s", flush=True)

    def ready() -> None:
        wait_grpc(f"{HOST}:{gport}", timeout=120)
        wait_http(f"http://{HOST}:{hport}/healthz")

    with process(serve_rest_argv(ds.url, gport, hport), f"sse-{ds.backend}", ready):
        base = asyncio.run(run(hport, ds, case_id, 1, a.rate, min(a.duration, 10.0)))
        fan = asyncio.run(run(hport, ds, case_id, a.clients, a.rate, a.duration))
    for name, r in (("one client", base), (f"{a.clients} clients", fan)):
        print(
            f"  {name:12s} p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  max "
            f"{r['max_ms']:6.1f} ms  delivered {r['delivered']:,}/{r['expected']:,}",
            flush=True,
        )
    res = {
        "backend": ds.backend,
        "size": ds.size,
        "baseline": base,
        "fanout": fan,
        "target_p99_ms": TARGET_P99_MS,
        "met": fan["p99_ms"] <= TARGET_P99_MS,
        "machine": machine_info(),
    }
    write_result(a.out, "sse", res)


if __name__ == "__main__":
    main()

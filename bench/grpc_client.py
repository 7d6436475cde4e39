"""Load generator: one grpc.aio event loop, one channel, N calls in flight (PERF_FLOOR §1
rows 1/5). Sends pre-serialized requests (one base64 line each, used round-robin) to one unary
method and measures, over a time window or a fixed number of calls, the throughput, latency, and
the CPU of the server process, of this client and of the whole machine. Prints JSON.

    python bench/grpc_client.py --address 127.0.0.1:50051 --method /pkg.Svc/GetCase \\
        --requests reqs.b64 --server-pid 1234 --inflight 32 --warmup 2 --duration 6
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import grpc
import psutil


def _busy(a: Any, b: Any) -> float:
    idle = (b.idle - a.idle) + (getattr(b, "iowait", 0) - getattr(a, "iowait", 0))
    return max(0.0, (sum(b) - sum(a)) - idle)


def _cpu(p: psutil.Process) -> float:
    """CPU seconds of ``p`` and its children (the processes of `serve --processes N`)."""
    total = 0.0
    for proc in (p, *p.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()
            total += t.user + t.system
    return total


def _db_cpu() -> dict[int, float]:
    """CPU seconds of the local PostgreSQL processes (part of the system under test when the
    server runs on PostgreSQL; counted apart, not as foreign load)."""
    out: dict[int, float] = {}
    for proc in psutil.process_iter(["name", "username", "cpu_times"]):
        pg = proc.info["username"] == "postgres" or (proc.info["name"] or "").startswith("postgres")
        if pg and proc.info["cpu_times"] is not None:
            t = proc.info["cpu_times"]
            out[proc.pid] = t.user + t.system
    return out


def _threads(pid: int) -> dict[int, tuple[str, float, int]]:
    """Per thread of ``pid``: (name, CPU seconds, involuntary context switches), from /proc."""
    out: dict[int, tuple[str, float, int]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            base = f"/proc/{pid}/task/{tid}"
            name = Path(f"{base}/comm").read_text().strip()
            fields = Path(f"{base}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"{base}/status").read_text().splitlines()
        except OSError:  # the thread ended
            continue
        cpu = (int(fields[11]) + int(fields[12])) / tick
        nonvol = next(int(x.split()[1]) for x in status if x.startswith("nonvoluntary_ctxt"))
        out[int(tid)] = (name, cpu, nonvol)
    return out


def _thread_report(
    before: dict[int, tuple[str, float, int]], after: dict[int, tuple[str, float, int]], n: int
) -> list[dict[str, Any]]:
    """Server CPU µs per request by thread (threads of one name summed when there are several
    of them, e.g. grpc's event-engine pool), busiest first."""
    rows: dict[str, list[float]] = {}
    for tid, (name, cpu, nonvol) in after.items():
        _, cpu0, nonvol0 = before.get(tid, (name, 0.0, 0))
        if cpu - cpu0 <= 0 or not n:
            continue
        key = f"{name} (tid {tid})" if name in ("python", "casekeeper", "python3") else name
        acc = rows.setdefault(key, [0.0, 0.0])
        acc[0] += (cpu - cpu0) / n * 1e6
        acc[1] += (nonvol - nonvol0) / n
    return [
        {"thread": k, "cpu_us_per_req": round(v[0], 1), "preempted_per_req": round(v[1], 2)}
        for k, v in sorted(rows.items(), key=lambda kv: -kv[1][0])
    ]


class Load:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        lines = Path(a.requests).read_text().split()
        self.requests = [base64.b64decode(x) for x in lines]
        self.md = (("authorization", f"Bearer {a.key}"),) if a.key else ()
        self.next = 0
        self.measuring = False
        self.stop = False
        self.done = 0
        self.errors = 0
        self.error_text = ""
        self.lat: list[int] = []
        self.bytes = 0
        self.target = a.count or 0

    async def worker(self, call: Any) -> None:
        n = len(self.requests)
        while not self.stop:
            req = self.requests[self.next % n]
            self.next += 1
            t0 = time.perf_counter_ns()
            try:
                resp = await call(req, metadata=self.md, timeout=30)
            except grpc.aio.AioRpcError as err:
                self.errors += 1
                self.error_text = f"{err.code().name}: {err.details()}"
                continue
            if self.measuring:
                self.lat.append(time.perf_counter_ns() - t0)
                self.done += 1
                self.bytes = len(resp)
                if self.target and self.done >= self.target:
                    self.stop = True

    async def run(self) -> dict[str, Any]:
        a = self.a
        server = psutil.Process(a.server_pid) if a.server_pid else None
        me = psutil.Process(os.getpid())
        # Several channels, each its own connection (a local subchannel pool), spread the load
        # over the processes of `serve --processes N` (the kernel picks one per connection).
        options = [("grpc.use_local_subchannel_pool", 1)] if a.channels > 1 else []
        channels = [
            grpc.aio.insecure_channel(a.address, options=options) for _ in range(a.channels)
        ]
        async with contextlib.AsyncExitStack() as stack:
            for ch in channels:
                await stack.enter_async_context(ch)
            # bytes in, bytes out: no client-side protobuf
            calls = [ch.unary_unary(a.method) for ch in channels]
            tasks = [
                asyncio.create_task(self.worker(calls[i % len(calls)])) for i in range(a.inflight)
            ]
            await asyncio.sleep(a.warmup)
            s0 = _cpu(server) if server else 0.0
            sys0 = server.cpu_times().system if server else 0.0
            c0, m0, d0 = _cpu(me), psutil.cpu_times(), _db_cpu()
            th0 = _threads(a.server_pid) if server else {}
            t0 = time.perf_counter()
            self.measuring = True
            if self.target:
                while not self.stop:
                    await asyncio.sleep(0.02)
            else:
                await asyncio.sleep(a.duration)
            self.measuring = False
            wall = time.perf_counter() - t0
            s1 = _cpu(server) if server else 0.0
            sys1 = server.cpu_times().system if server else 0.0
            c1, m1, d1 = _cpu(me), psutil.cpu_times(), _db_cpu()
            th1 = _threads(a.server_pid) if server else {}
            self.stop = True
            await asyncio.gather(*tasks)
        lat = sorted(self.lat)
        n = self.done
        server_s, client_s, machine_s = s1 - s0, c1 - c0, _busy(m0, m1)
        db_s = sum(v - d0.get(pid, 0.0) for pid, v in d1.items())
        return {
            "calls": n,
            "errors": self.errors,
            "last_error": self.error_text,
            "seconds": wall,
            "rps": n / wall,
            "p50_ms": lat[n // 2] / 1e6 if n else None,
            "p99_ms": lat[min(n - 1, int(n * 0.99))] / 1e6 if n else None,
            "server_cores": server_s / wall,
            "client_cores": client_s / wall,
            "server_cpu_us_per_req": server_s / n * 1e6 if n else None,
            "client_cpu_us_per_req": client_s / n * 1e6 if n else None,
            "server_system_share": (sys1 - sys0) / server_s if server_s else None,
            "db_cores": db_s / wall,
            "db_cpu_us_per_req": db_s / n * 1e6 if n else None,
            "foreign_cores": max(0.0, machine_s - server_s - client_s - db_s) / wall,
            "response_bytes": self.bytes,
            "server_threads": _thread_report(th0, th1, n),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--address", required=True)
    ap.add_argument("--method", required=True)
    ap.add_argument("--requests", required=True, help="file of base64 serialized requests")
    ap.add_argument("--key", default="")
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--inflight", type=int, default=32)
    ap.add_argument("--channels", type=int, default=1, help="connections, calls spread over them")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=6.0)
    ap.add_argument("--count", type=int, default=0, help="stop after this many calls instead")
    a = ap.parse_args()
    print(json.dumps(asyncio.run(Load(a).run())))


if __name__ == "__main__":
    main()

"""Shared helpers of the benchmarks: paths, processes, CPU accounting, statistics, results.

Every benchmark script writes one JSON result file (``--out``); ``run_all.py`` renders them into
``docs/PERFORMANCE.md``. Everything listens and connects on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data"
RESULTS = DATA / "results"
LOGS = DATA / "logs"
PYTHON = sys.executable
CASEKEEPER = str(Path(PYTHON).with_name("casekeeper"))
HOST = "127.0.0.1"
PG_BASE = os.environ.get("CASEKEEPER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
PG_DB = "casekeeper_bench"
SPACE = "bench"

# ---------------------------------------------------------------------------------------------
# statistics


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def pct(xs: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))
    return float(s[k])


def summary_ms(samples_ns: Sequence[int]) -> dict[str, float]:
    ms = [x / 1e6 for x in samples_ns]
    return {
        "n": len(ms),
        "median_ms": median(ms),
        "p95_ms": pct(ms, 95),
        "min_ms": min(ms) if ms else float("nan"),
        "max_ms": max(ms) if ms else float("nan"),
    }


# ---------------------------------------------------------------------------------------------
# machine


def machine_info() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import sqlite3

    import grpc
    import sqlalchemy

    info = {
        "cpu": cpu,
        "cores": psutil.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "grpcio": grpc.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "psutil": psutil.__version__,
    }
    with contextlib.suppress(Exception):
        import psycopg

        info["psycopg"] = psycopg.__version__
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["psql", f"{PG_BASE}/postgres", "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if out.returncode == 0:
            info["postgresql"] = out.stdout.strip()
    return info


def busy_cores(interval: float) -> float:
    """Cores busy machine-wide over ``interval`` seconds."""
    a = psutil.cpu_times()
    time.sleep(interval)
    b = psutil.cpu_times()
    return _busy(a, b) / interval


def _busy(a: Any, b: Any) -> float:
    idle = (b.idle - a.idle) + (getattr(b, "iowait", 0) - getattr(a, "iowait", 0))
    total = sum(b) - sum(a)
    return max(0.0, total - idle)


IDLE_WAIT = float(os.environ.get("CASEKEEPER_BENCH_IDLE_WAIT", "60"))


def wait_idle(threshold: float = 0.25, window: float = 2.0, timeout: float = IDLE_WAIT) -> float:
    """Wait until the machine has been below ``threshold`` busy cores for ``window`` s (PERF_FLOOR
    method). Returns the last reading; gives up after ``timeout`` s and says so."""
    deadline = time.monotonic() + timeout
    while True:
        load = busy_cores(window)
        if load < threshold:
            return load
        if time.monotonic() > deadline:
            print(f"  (machine not idle: {load:.2f} cores busy; measuring anyway)", flush=True)
            return load


class CpuWindow:
    """CPU seconds of some processes and of the whole machine over a window."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.procs = [psutil.Process(p) for p in pids]

    def __enter__(self) -> CpuWindow:
        self._t0 = time.perf_counter()
        self._sys0 = psutil.cpu_times()
        self._p0 = [_proc_cpu(p) for p in self.procs]
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t0
        sys1 = psutil.cpu_times()
        self.proc_seconds = [_proc_cpu(p) - a for p, a in zip(self.procs, self._p0, strict=True)]
        self.machine_seconds = _busy(self._sys0, sys1)

    def foreign_cores(self) -> float:
        return max(0.0, self.machine_seconds - sum(self.proc_seconds)) / self.wall


def _proc_cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    total = t.user + t.system
    with contextlib.suppress(psutil.Error):
        for child in p.children(recursive=True):
            ct = child.cpu_times()
            total += ct.user + ct.system
    return total


def rss_mb(pid: int) -> dict[str, float]:
    p = psutil.Process(pid)
    full = p.memory_full_info()
    return {"rss_mb": full.rss / 2**20, "uss_mb": full.uss / 2**20}


# ---------------------------------------------------------------------------------------------
# processes


def read_file_once(path: str | Path) -> float:
    """Read a file end to end so its pages are in the OS page cache; returns the seconds it
    took. This VM evicts file pages nobody touched lately, which a host whose memory holds the
    database (3 GB here, 24 GB of RAM) would not.

    The read runs in a child process (``cat``): closing a descriptor of an SQLite database in a
    process that has it open drops that process's POSIX locks on it, which can corrupt it."""
    t0 = time.perf_counter()
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_grpc(address: str, timeout: float = 60.0) -> None:
    import grpc

    with grpc.insecure_channel(address) as ch:
        grpc.channel_ready_future(ch).result(timeout=timeout)


@contextlib.contextmanager
def process(argv: list[str], log_name: str, ready: Any) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait until ``ready()`` returns, stop it afterwards."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = (LOGS / f"{log_name}.log").open("ab")
    # The scheduler would activate or close a dataset's pending and resolved cases mid-run, and
    # the delivery worker would route their outbox beside the requests measured (bench/notify.py
    # measures it on its own).
    env = dict(
        os.environ,
        CASEKEEPER_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        CASEKEEPER_SCHEDULER="off",
        CASEKEEPER_NOTIFY_WORKER="off",
    )
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        try:
            ready()
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(f"{log_name} exited early; see {log.name}") from None
            raise
        time.sleep(0.3)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def server_process(argv: list[str], port: int, log_name: str) -> Any:
    """A gRPC server process, ready once it accepts connections."""
    return process(argv, log_name, lambda: wait_grpc(f"{HOST}:{port}", timeout=120))


def serve_argv(url: str, port: int) -> list[str]:
    """The real server, as an operator runs it."""
    http = f"{HOST}:{free_port()}"  # serve also runs the REST dialect; keep it off :8080
    return [CASEKEEPER, "serve", "--grpc", f"{HOST}:{port}", "--http", http, "--database-url", url]


def serve_variant_argv(
    url: str, port: int, cache_kib: int, gc_default: bool = False, getcase: str = ""
) -> list[str]:
    """``serve`` with the SQLite page cache per connection set to ``cache_kib`` KiB (0: as is),
    with ``gc_default`` without serve's GC freeze, with ``getcase`` ("auth", "read") answering
    GetCase with only that part of its work (bench/serve_variant.py)."""
    serve = serve_argv(url, port)[1:]
    variant = [PYTHON, str(BENCH / "serve_variant.py"), "--sqlite-cache-kib", str(cache_kib)]
    if gc_default:
        variant.append("--gc-default")
    if getcase:
        variant += ["--getcase", getcase]
    return [*variant, "--", *serve]


def step_args(doc: str | None) -> argparse.ArgumentParser:
    """The arguments every benchmark step takes: which dataset, and where the JSON goes."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", help="write the JSON result here (default: print it)")
    return ap


def grpc_server_config() -> dict[str, Any]:
    """The channel options and RPC limit ``GrpcServer`` gives ``grpc.aio.server``, for the
    baseline to use the same (read from the module, so the baseline process need not import
    casekeeper and its RSS stays the floor of a Python gRPC server)."""
    from casekeeper.api.grpc import server as srv

    return {
        "options": [list(o) for o in srv.OPTIONS],
        "maximum_concurrent_rpcs": srv.MAX_CONCURRENT_RPCS,
    }


def empty_server_argv(port: int) -> list[str]:
    config = json.dumps(grpc_server_config())
    return [PYTHON, str(BENCH / "empty_server.py"), "--port", str(port), "--config", config]


def run_client(
    port: int,
    method: str,
    requests_file: Path,
    server_pid: int,
    *,
    key: str = "",
    inflight: int = 32,
    warmup: float = 2.0,
    duration: float = 6.0,
    count: int = 0,
    channels: int = 1,
) -> dict[str, Any]:
    """Run ``grpc_client.py`` in its own process; returns its JSON."""
    argv = [
        PYTHON,
        str(BENCH / "grpc_client.py"),
        "--address",
        f"{HOST}:{port}",
        "--method",
        method,
        "--requests",
        str(requests_file),
        "--server-pid",
        str(server_pid),
        "--inflight",
        str(inflight),
        "--warmup",
        str(warmup),
        "--duration",
        str(duration),
        "--count",
        str(count),
        "--channels",
        str(channels),
    ]
    if key:
        argv += ["--key", key]
    out = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"grpc_client failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def write_requests(path: Path, messages: Sequence[Any]) -> Path:
    import base64

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(base64.b64encode(m.SerializeToString()).decode() for m in messages))
    return path


# ---------------------------------------------------------------------------------------------
# profiles


def pyspy(pid: int, seconds: float, name: str) -> dict[str, Any] | None:
    """Sample ``pid`` with py-spy for ``seconds``; summarise self and inclusive time per function.
    Returns None when py-spy is not installed."""
    exe = Path(PYTHON).with_name("py-spy")
    if not exe.exists():
        return None
    LOGS.mkdir(parents=True, exist_ok=True)
    raw = LOGS / f"{name}.pyspy.txt"
    subprocess.run(
        [str(exe), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250", "-f", "raw",
         "-o", str(raw), "--nonblocking", "--gil"],
        capture_output=True, check=False, timeout=seconds + 60,
    )  # fmt: skip
    if not raw.exists():
        return None
    self_n: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";") if f and not f.startswith("thread ")]
        if not frames:
            continue
        self_n[frames[-1]] = self_n.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n

    def top(d: dict[str, int], k: int) -> list[tuple[str, float]]:
        return [
            (f, round(100 * v / total, 1)) for f, v in sorted(d.items(), key=lambda x: -x[1])[:k]
        ]

    return {"samples": total, "self_top": top(self_n, 15), "inclusive_top": top(incl, 40)}


def _frame(f: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (pkg/file.py)``, short and line-free."""
    name, _, where = f.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3."):
        if marker in where:
            where = where.split(marker, 1)[1]
            if marker == "lib/python3.":
                where = "stdlib/" + where.split("/", 1)[-1]
            break
    return f"{name} ({where})"


# ---------------------------------------------------------------------------------------------
# service calls


def list_page(c: Any, p: Any, q: Any) -> tuple[list[Any], str | None]:
    """``CaseService.list_cases`` (named ``list`` in earlier revisions)."""
    fn = getattr(c.cases, "list_cases", None) or c.cases.list
    return fn(p, q)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# results


def write_result(path: str | Path | None, name: str, data: dict[str, Any]) -> None:
    data = {"benchmark": name, "date_utc": utc_now(), "argv": sys.argv, **data}
    text = json.dumps(data, indent=2, default=str)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    else:
        print(text)


def utc_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())

"""GetCase over gRPC on PostgreSQL with 1 and with 2 server processes (``serve --processes``,
SO_REUSEPORT), against the same load, and the same with reads served by a streaming replica.

The load: ``grpc_client.py`` (one grpc.aio process) with ``--inflight`` calls over 8 channels,
each its own connection, so the kernel spreads them over the processes. Requests ask for 20,000
random cases of the dataset, read once before anything is timed. The scaling factor is
req/s(2 processes) / req/s(1 process), measured in the same run. On this 2-core machine the
client and PostgreSQL take CPU too, so the factor says what a second process buys on a machine
this size, not on a big one.

``--replica`` starts a hot standby of the local PostgreSQL (``pg_basebackup -R`` into
bench/.data, a port of its own; needs a replication entry in pg_hba.conf for 127.0.0.1) and
runs both process counts again with ``CASEKEEPER_DATABASE_REPLICA_URL`` pointing at it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import (
    CASEKEEPER,
    DATA,
    HOST,
    PG_BASE,
    free_port,
    process,
    run_client,
    step_args,
    wait_grpc,
    write_requests,
    write_result,
)
from dataset import ensure
from grpc_getcase import METHOD, sample_ids, warm_cache

from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb

PG_BIN = "/usr/lib/postgresql/15/bin"


def measure(url: str, processes: int, requests: Any, key: str, a: Any, env: dict[str, str]) -> Any:
    port = free_port()
    argv = [CASEKEEPER, "serve", "--grpc", f"{HOST}:{port}", "--http", f"{HOST}:{free_port()}",
            "--database-url", url, "--processes", str(processes)]  # fmt: skip
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with process(argv, f"scaling-{processes}", lambda: wait_grpc(f"{HOST}:{port}", 120)) as p:
            time.sleep(2.0 * processes)  # every child listening, not just the first
            runs = [run_client(port, METHOD, requests, p.pid, key=key, inflight=a.inflight,
                               warmup=a.warmup, duration=a.duration, channels=8)
                    for _ in range(a.repeat)]  # fmt: skip
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    best = max(runs, key=lambda r: r["rps"])
    label = f"{processes} process(es){' + replica' if env else ''}"
    print(f"  {label}: {best['rps']:,.0f} req/s, p99 {best['p99_ms']:.1f} ms, "
          f"server {best['server_cores']:.2f} cores", flush=True)  # fmt: skip
    return {k: best[k] for k in ("rps", "p50_ms", "p99_ms", "server_cores", "client_cores",
                                 "db_cores", "errors")}  # fmt: skip


@contextlib.contextmanager
def standby() -> Iterator[str]:
    """A hot standby of the local PostgreSQL on a port of its own, removed afterwards."""
    path = DATA / "standby"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, mode=0o700)  # PostgreSQL refuses a data directory others can read
    shutil.chown(path, "postgres", "postgres")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run([*as_pg, f"{PG_BIN}/pg_basebackup", "-h", HOST, "-p", "5432", "-U",
                        "postgres", "-D", str(path), "-R", "-X", "stream", "-c", "fast"],
                       check=True)  # fmt: skip
        # Debian keeps the configuration outside the data directory: the standby gets its own.
        for name, text in (
            ("postgresql.conf", ""),
            ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"),
        ):
            (path / name).write_text(text)
            shutil.chown(path / name, "postgres", "postgres")  # fmt: skip
        opts = f"-p {port} -c listen_addresses={HOST} -c hot_standby=on -k /tmp"
        subprocess.run([*as_pg, f"{PG_BIN}/pg_ctl", "-D", str(path), "-o", opts, "-w", "-l",
                        str(path / "log"), "start"], check=True)  # fmt: skip
        yield f"postgresql://postgres@{HOST}:{port}"
    finally:
        subprocess.run([*as_pg, f"{PG_BIN}/pg_ctl", "-D", str(path), "-m", "fast", "stop"],
                       check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def replication_allowed() -> Iterator[None]:
    """Let pg_basebackup connect from loopback for the run: PostgreSQL's `all` does not cover
    replication connections, so an entry for the postgres user is added to pg_hba.conf (said
    on the terminal) and taken out again afterwards, each time with a reload."""
    url = f"{PG_BASE.replace('postgresql://', 'postgresql+psycopg://')}/postgres"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    line = "host replication postgres 127.0.0.1/32 trust  # bench/scaling.py, removed after\n"
    with engine.connect() as conn:
        hba = Path(conn.execute(sa.text("SHOW hba_file")).scalar_one())
        before = hba.read_text()
        print(f"  allowing replication from 127.0.0.1 in {hba} for this run", flush=True)
        hba.write_text(before + line)
        conn.execute(sa.text("SELECT pg_reload_conf()"))
        try:
            yield
        finally:
            hba.write_text(before)
            conn.execute(sa.text("SELECT pg_reload_conf()"))
    engine.dispose()


def main() -> None:
    ap = step_args(__doc__)
    ap.set_defaults(backend="pg")
    ap.add_argument("--inflight", type=int, default=32)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--replica", action="store_true")
    a = ap.parse_args()
    ds = ensure("pg", a.size, a.seed)
    ids = sample_ids(ds, 20_000, a.seed + 1)
    warm_cache(ds, ids)
    requests = write_requests(DATA / "scaling-get.b64", [pb.GetCaseRequest(id=i) for i in ids])
    print(f"GetCase on PostgreSQL, {ds.size:,} cases", flush=True)
    result: dict[str, Any] = {"size": ds.size, "cpu_count": os.cpu_count()}
    for n in (1, 2):
        result[f"processes_{n}"] = measure(ds.url, n, requests, ds.key, a, {})
    result["factor"] = result["processes_2"]["rps"] / result["processes_1"]["rps"]
    if a.replica:
        with replication_allowed(), standby() as base:
            env = {"CASEKEEPER_DATABASE_REPLICA_URL": f"{base}/{ds.url.rsplit('/', 1)[1]}"}
            for n in (1, 2):
                result[f"replica_processes_{n}"] = measure(ds.url, n, requests, ds.key, a, env)
        result["replica_factor"] = (
            result["replica_processes_2"]["rps"] / result["processes_1"]["rps"]
        )
    print(f"  scaling factor 2/1: {result['factor']:.2f}", flush=True)
    write_result(a.out, "scaling", {**result, "pg": PG_BASE})


if __name__ == "__main__":
    main()

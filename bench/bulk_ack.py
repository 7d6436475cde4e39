"""BulkAcknowledge of 1,000 ACTIVE cases (status, version, update time, one timeline event and
one outbox message per case) on the big dataset, SQLite and PostgreSQL.

Each repetition picks 1,000 ACTIVE cases not used before and runs, in rotating order:

* raw     - the baseline: one executemany ``UPDATE "case" SET status, acknowledge_time,
            update_time, version+1 WHERE id=?`` of the same 1,000 rows in one transaction
            through the engine's raw DBAPI connection (BEGIN ... COMMIT included);
* service - ``container.cases.change_many(p, [CaseChange(i, ACK) for i in ids])`` in process;
* replay  - right after "service": the exact statements and parameters the service issued
            (captured, the load's SELECT included), replayed through the raw connection in one
            transaction: the database's share of the service time, commit included;
* grpc    - in a second phase, after the in-process modes: ``BulkAcknowledge`` to a
            ``casekeeper serve`` process on the same database, timed by the client (one call
            at a time), rotating with "raw (server up)", the baseline again with the server
            running. A second casekeeper process on one SQLite file (each checkpointing it)
            made the in-process modes about 50 ms slower, so that server starts only then.

On SQLite the database file is read once before anything is timed (``read_file_once``), so the
modes compare operations, not which of them first pulled an index page back from this VM's
disk. After every operation the rows are put back exactly (status, times, version) and the
events and outbox messages it added are deleted, so the cached dataset stays as built.
"""

from __future__ import annotations

import contextlib
import cProfile
import random
import time
import uuid
from typing import Any

import grpc
from common import (
    HOST,
    free_port,
    machine_info,
    read_file_once,
    serve_argv,
    server_process,
    step_args,
    summary_ms,
    wait_idle,
    write_result,
)
from dataset import Dataset, SqlCapture, SqlTimer, ensure
from list_cases import stats_text

from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc as pb_grpc
from casekeeper.runner import freeze_startup_heap
from casekeeper.store.engine import is_sqlite

ACK = (cmd.Acknowledge(),)

N = 1000


class Db:
    """Raw DBAPI access for the baseline, snapshots and restores."""

    def __init__(self, c: Any) -> None:
        self.sqlite = is_sqlite(c.db.engine.url)
        self.raw = c.db.engine.raw_connection()
        self.ph = "?" if self.sqlite else "%s"

    def q(self, sql: str) -> str:
        return sql.replace("?", self.ph)

    def begin(self) -> Any:
        cur = self.raw.cursor()
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")
        return cur

    def commit(self) -> None:
        self.raw.commit() if not self.sqlite else self.raw.cursor().execute("COMMIT")

    def fetch(self, sql: str, params: Any = ()) -> list[Any]:
        cur = self.raw.cursor()
        cur.execute(self.q(sql), params)
        rows = cur.fetchall()
        if not self.sqlite:
            self.raw.commit()
        return rows

    def active_ids(self, space_id: int) -> list[str]:
        rows = self.fetch('SELECT id FROM "case" WHERE space_id = ? AND status = 2', (space_id,))
        return sorted(r[0] for r in rows)

    def marks(self) -> tuple[int, int]:
        (e,) = self.fetch("SELECT coalesce(max(seq), 0) FROM case_event")[0]
        (o,) = self.fetch("SELECT coalesce(max(id), 0) FROM outbox_message")[0]
        return int(e), int(o)

    def snapshot(self, ids: list[str]) -> list[tuple[Any, ...]]:
        marks = ", ".join([self.ph] * len(ids))
        return [
            tuple(r)
            for r in self.fetch(
                "SELECT status, update_time, acknowledge_time, version, id "
                f'FROM "case" WHERE id IN ({marks})',
                ids,
            )
        ]

    def restore(self, snap: list[tuple[Any, ...]], marks: tuple[int, int]) -> int:
        cur = self.begin()
        cur.executemany(
            self.q(
                'UPDATE "case" SET status = ?, update_time = ?, acknowledge_time = ?, '
                "version = ? WHERE id = ?"
            ),
            snap,
        )
        cur.execute(self.q("DELETE FROM case_event WHERE seq > ?"), (marks[0],))
        events = cur.rowcount
        cur.execute(self.q("DELETE FROM outbox_message WHERE id > ?"), (marks[1],))
        self.commit()
        return int(events)

    def settle(self) -> None:
        """SQLite: checkpoint and truncate the write-ahead log (untimed) so every operation
        starts from the same state, instead of racing the background checkpoint of the
        previous operation and its restore (~12,000 pages; it made single runs 2x slower)."""
        if self.sqlite:
            cur = self.raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.fetchall()
            cur.close()

    def raw_update(self, ids: list[str], now: int) -> None:
        cur = self.begin()
        cur.executemany(
            self.q(
                'UPDATE "case" SET status = 3, acknowledge_time = ?, update_time = ?, '
                "version = version + 1 WHERE id = ?"
            ),
            [(now, now, i) for i in ids],
        )
        self.commit()

    def replay(self, statements: list[tuple[str, Any]]) -> None:
        """Run captured statements (a write transaction) on the raw connection, then commit."""
        cur = self.raw.cursor()
        for sql, params in statements:
            if isinstance(params, list):
                cur.executemany(sql, params)
            else:
                cur.execute(sql, params)
                if sql.lstrip().upper().startswith("SELECT"):
                    cur.fetchall()
        self.commit()

    def close(self) -> None:
        self.raw.close()


def run(ds: Dataset, reps: int, with_grpc: bool) -> dict[str, Any]:
    c = ds.container()
    p = ds.principal(c)
    db = Db(c)
    # SQLite: the database file is read once first, so the timings compare the operations and
    # not which of them first pulled an index page back from this VM's disk.
    warmed = read_file_once(c.db.engine.url.database or "") if db.sqlite else None
    pool = db.active_ids(p.space_id)
    random.Random(ds.seed).shuffle(pool)
    # Rows are restored after each operation, so batches may repeat on small datasets.
    count = min(reps + 2, len(pool) // N)
    if count < 1:
        raise SystemExit(f"only {len(pool)} ACTIVE cases; need {N}")
    batches = [pool[i * N : (i + 1) * N] for i in range(count)]
    # As `casekeeper serve` does before serving: startup objects leave the collector's reach.
    freeze_startup_heap()
    samples: dict[str, list[int]] = {"raw": [], "service": []}
    events_added: list[int] = []
    port = free_port()
    stub = None
    md = (("authorization", f"Bearer {ds.key}"),)
    actor = str(uuid.uuid4())
    # "replay" re-runs, through the raw connection, exactly the statements and parameters the
    # service issued for the same rows (it follows "service" in every rotation): the database's
    # share of the service time, commit included.
    samples["replay"] = []
    captured: dict[tuple[str, ...], list[tuple[str, Any]]] = {}
    stack = contextlib.ExitStack()
    try:

        def once(mode: str, ids: list[str]) -> int:
            snap = db.snapshot(ids)
            marks = db.marks()
            db.settle()
            t0 = time.perf_counter_ns()
            if mode.startswith("raw"):
                db.raw_update(ids, time.time_ns() // 1000)
            elif mode == "service":
                with SqlCapture(c.db.engine) as cap:
                    res = c.cases.change_many(p, [CaseChange(i, ACK) for i in ids])
                assert not res.failures, res.failures[:3]
                assert len(res.cases) == N
                captured[tuple(ids)] = cap.statements
            elif mode == "replay":
                db.replay(captured.pop(tuple(ids)))
            else:
                assert stub is not None
                req = pb.BulkAcknowledgeRequest(ids=ids)
                req.actor.user_id = actor
                resp = stub.BulkAcknowledge(req, metadata=md, timeout=60)
                assert len(resp.cases) == N
            dt = time.perf_counter_ns() - t0
            events = db.restore(snap, marks)
            if not mode.startswith("raw"):
                events_added.append(events)
            return dt

        def rotate(modes: list[str]) -> None:
            """Warm up on the first batch, then ``reps`` rotations over the others ("replay"
            always right after "service")."""
            for mode in modes:
                once(mode, batches[0])
            wait_idle()
            for rep in range(reps):
                ids = batches[(rep + 1) % len(batches)]
                order = [m for m in modes if m != "replay"]
                k = rep % len(order)
                order = order[k:] + order[:k]
                if "replay" in modes:
                    order.insert(order.index("service") + 1, "replay")
                for mode in order:
                    samples.setdefault(mode, []).append(once(mode, ids))

        rotate(["raw", "service", "replay"])
        # Where the service's time goes: cProfile over 3 operations, and the time spent
        # inside the DBAPI per statement for one more (total measured around it).
        last = batches[-1]
        prof = cProfile.Profile()
        for _ in range(3):
            snap, marks = db.snapshot(last), db.marks()
            db.settle()
            prof.enable()
            c.cases.change_many(p, [CaseChange(i, ACK) for i in last])
            prof.disable()
            db.restore(snap, marks)
        profile = stats_text(prof, 22)
        snap, marks = db.snapshot(last), db.marks()
        db.settle()
        with SqlTimer(c.db.engine) as timer:
            t0 = time.perf_counter_ns()
            c.cases.change_many(p, [CaseChange(i, ACK) for i in last])
            total_ms = (time.perf_counter_ns() - t0) / 1e6
        db.restore(snap, marks)
        breakdown = {"total_ms": round(total_ms, 2), "dbapi": timer.report()}
        if with_grpc:
            # Only now does a server process open the database: with a second casekeeper
            # process on the same SQLite file (each checkpointing it), the in-process modes
            # above measured about 50 ms slower. "raw (server up)" is the baseline again, with
            # the server running.
            argv = serve_argv(ds.url, port)
            stack.enter_context(server_process(argv, port, f"serve-bulk-{ds.backend}"))
            channel = stack.enter_context(grpc.insecure_channel(f"{HOST}:{port}"))
            stub = pb_grpc.CasesServiceStub(channel)
            rotate(["raw (server up)", "grpc"])
    finally:
        stack.close()
        db.close()
        c.close()
    return {
        "file_read_seconds": None if warmed is None else round(warmed, 1),
        "active_pool": len(pool),
        "events_per_op": sorted(set(events_added)),
        "timings": {k: summary_ms(v) for k, v in samples.items()},
        "profile_service": profile,
        "breakdown_service": breakdown,
    }


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--no-grpc", action="store_true")
    a = ap.parse_args()
    ds = ensure(a.backend, a.size, a.seed)
    print(f"BulkAcknowledge x{N} on {ds.backend}, {ds.size:,} cases", flush=True)
    res = run(ds, a.reps, not a.no_grpc)
    write_result(
        a.out,
        "bulk_ack",
        {"backend": ds.backend, "size": ds.size, "reps": a.reps, "machine": machine_info(), **res},
    )
    for k, v in res["timings"].items():
        print(f"  {k:8s} median {v['median_ms']:8.1f} ms  p95 {v['p95_ms']:8.1f} ms")


if __name__ == "__main__":
    main()

"""A SQLite database whose disk fills up (an 8 MiB tmpfs and a ballast file filling it).

What clients must see (docs/FAULTS.md): every write refused with 503 / UNAVAILABLE and a message
saying the disk is full, never a 500; reads go on; a refused create leaves no case and a refused
comment no event; once space is freed, writes work again without a restart."""

from __future__ import annotations

import errno
from pathlib import Path

import httpx

from tests.faults.load import (
    DOUBT,
    OK,
    REQUEST_LOGGERS,
    Api,
    Op,
    check_cases,
    logged_tracebacks,
    wait_until,
)
from tests.faults.stored import outbox_problems, read_cases
from tests.server.conftest import Serve, healthz

FULL = "disk is full"


def fill(path: Path) -> int:
    """Write ``path`` until the filesystem has no room left; the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as out:
        for size in (1 << 20, 1 << 12, 1):
            chunk = b"\0" * size
            try:
                while True:
                    written += out.write(chunk)
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
    return written


def test_a_full_disk_refuses_writes_with_503_keeps_reads_and_recovers(
    serve: Serve, small_disk: Path
) -> None:
    url = f"sqlite:///{small_disk / 'cases.db'}"
    served = serve(env={"CASEKEEPER_DATABASE_URL": url})
    api = Api(served.http, served.grpc, served.key)
    ops: list[Op] = []
    first = api.create("made before the disk filled")
    assert first.outcome == OK, first
    case_id = first.case_id
    assert case_id is not None
    ops += [first, api.comment(case_id, "made before the disk filled")]

    ballast = small_disk / "ballast"
    assert fill(ballast) > 0
    # The WAL reuses room it already has: a few writes may still fit. Go on until both kinds of
    # write were refused (a create, then a comment of 9 KB: the next page needs new room).
    refused: dict[str, Op] = {}
    for n in range(300):
        if len(refused) == 2:
            break
        op = api.create(f"full disk {n}") if n % 2 else api.comment(case_id, f"{n} " + "x" * 9000)
        ops.append(op)
        if op.outcome != OK:
            refused.setdefault(op.kind, op)
    assert refused.keys() == {"create", "comment"}, [o.status for o in ops]
    for op in ops:
        assert op.outcome in (OK, DOUBT), op  # never a 500 nor another refusal
        if op.outcome == DOUBT:
            assert op.status in ("503", "UNAVAILABLE"), op
            assert FULL in op.message, op

    # The server is up and still reads.
    assert served.process.poll() is None
    assert healthz(f"http://{served.http}") == 200
    assert api.http.get(f"/cases/cases/v1/{case_id}").status_code == 200
    events = api.http.get(f"/cases/cases/v1/{case_id}/events")
    assert events.status_code == 200
    assert httpx.get(f"http://{served.http}/readyz", timeout=5).status_code == 200

    # Space back: writes work again, by themselves.
    ballast.unlink()

    def writes() -> bool:
        op = api.comment(case_id, "after the disk was freed")
        ops.append(op)
        return op.outcome == OK

    wait_until(writes, 15, "a comment once space was freed")
    again = api.create("after the disk was freed")
    assert again.outcome == OK, again
    ops.append(again)
    api.close()

    # Nothing half-applied: every refused write left nothing (no case, no event, no outbox
    # message); every acknowledged one is there exactly once.
    stored = read_cases(url)
    refused_tokens = {op.token for op in ops if op.outcome != OK}
    stored_tokens = {token for s in stored.values() for _, token in s.events}
    stored_tokens |= {s.title for s in stored.values()}
    assert not refused_tokens & stored_tokens
    assert check_cases(ops, stored) == []
    assert outbox_problems(url, stored) == []
    # A refusal is one log line, not a traceback (background workers may say more).
    assert not logged_tracebacks(served.output()) & REQUEST_LOGGERS

"""Reconciliation claims (``store/due.py:claim_run``) across real processes: several
processes, each with its own engine on one database, ask for the same run at the same instant,
round after round; exactly one of them gets each round's run. On SQLite the writers take turns
anyway; the race this guards against is PostgreSQL's (CI runs both)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from casekeeper.bootstrap import bootstrap
from casekeeper.settings import Settings

PROCESSES = 4
ROUNDS = 5
INTERVAL = 60_000_000  # µs between runs: each round asks one interval later

# One claimant: connects, says it is ready, reads the shared start time, then claims each
# round's run at once with the others.
CLAIMANT = textwrap.dedent("""
    import sys, time
    from casekeeper.bootstrap import bootstrap
    from casekeeper.settings import Settings
    from casekeeper.store.due import claim_run

    url, space, rounds, interval, first = sys.argv[1:6]
    c = bootstrap(Settings(database_url=url, scheduler=False, notify_worker=False))
    with c.db.reader() as uow:
        uow.spaces.get_id("")  # connected
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    won = []
    for n in range(int(rounds)):
        due_at = float(start) + n * 0.3  # every process asks at this wall-clock instant
        time.sleep(max(0.0, due_at - time.time()))
        with c.db.writer() as uow:
            now = int(first) + n * int(interval)
            got = claim_run(uow.conn, int(space), "reconcile", now, int(interval))
            uow.commit()
        if got:
            won.append(n)
    c.close()
    print(",".join(map(str, won)))
""")


def test_each_run_is_claimed_by_exactly_one_process(private_url: str) -> None:
    c = bootstrap(Settings(database_url=private_url, scheduler=False, notify_worker=False))
    try:
        with c.db.writer() as uow:
            space_id = uow.spaces.ensure("lease-processes", 0)
            uow.commit()
    finally:
        c.close()
    first = 1_800_000_000_000_000
    argv = [sys.executable, "-c", CLAIMANT, private_url, str(space_id), str(ROUNDS),
            str(INTERVAL), str(first)]  # fmt: skip
    procs = [
        subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    try:
        for p in procs:  # every one connected before any asks
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready", p.stderr and p.stderr.read()
        start = time.time() + 0.5
        wins: list[int] = []
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"{start}\n")
            p.stdin.flush()
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            wins += [int(x) for x in out.strip().split(",") if x]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert sorted(wins) == list(range(ROUNDS))  # every round once, by one process

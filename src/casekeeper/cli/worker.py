"""``casekeeper worker``: the timed transitions alone, for running beside (or instead of) the
scheduler in ``casekeeper serve`` (docs/LIFECYCLE_TIMERS.md). Any number of workers may share
one PostgreSQL database: each transition still happens once."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer

from casekeeper.cli.common import DatabaseOpt, console, container_for, fail, settings_for
from casekeeper.service.scheduler import BATCH, Scheduler, count, timers_for
from casekeeper.store import migrate
from casekeeper.store.engine import is_sqlite


def worker(
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            min=0.01,
            help="Seconds between ticks [env CASEKEEPER_SCHEDULER_INTERVAL; 10].",
        ),
    ] = None,
    batch: Annotated[
        int,
        typer.Option("--batch", min=1, max=10_000, help="Cases claimed per transaction."),
    ] = BATCH,
    once: Annotated[
        bool, typer.Option("--once", help="Run one tick, print what it did, and exit.")
    ] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the timed transitions (activation, auto-resolve, auto-close, KPI breaches) until
    SIGINT/SIGTERM. The batch in progress finishes before the worker exits."""
    settings = settings_for(database_url)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    url = settings.database_url
    if migrate.pending(url):
        if not is_sqlite(url):
            raise fail("the database schema is not current; run `casekeeper db upgrade` first")
        migrate.upgrade(url)
    every = settings.scheduler_interval if interval is None else interval
    with container_for(database_url, settings) as c:
        scheduler = Scheduler(timers_for(c, batch=batch), every)
        if once:
            report = scheduler.timers.tick()
            done = count(report)
            console.print(", ".join(f"{n} {name}" for name, n in done) or "nothing was due")
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda _signum, _frame: scheduler.stopping.set())
        console.print(f"casekeeper worker: timed transitions every {every:g}s (batch {batch})")
        scheduler.run()
        console.print(f"stopped after {scheduler.ticks} ticks")

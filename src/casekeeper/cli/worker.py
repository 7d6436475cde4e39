"""``casekeeper worker``: the timed transitions (docs/LIFECYCLE_TIMERS.md) and the notification
delivery worker (docs/NOTIFICATIONS.md), for running beside (or instead of) the ones in
``casekeeper serve``. Any number of workers may share one PostgreSQL database: each transition
still happens once, and each delivery attempt is made by one worker."""

from __future__ import annotations

import logging
import signal
import threading
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
        bool,
        typer.Option(
            "--once",
            help="Run one tick (and deliver until nothing is due), print what was done, exit.",
        ),
    ] = False,
    timers: Annotated[
        bool, typer.Option("--timers/--no-timers", help="Run the timed transitions.")
    ] = True,
    deliveries: Annotated[
        bool, typer.Option("--deliveries/--no-deliveries", help="Deliver notifications.")
    ] = True,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the timed transitions (activation, auto-resolve, auto-close, KPI breaches) and the
    notification deliveries until SIGINT/SIGTERM. The batch in progress finishes first."""
    if not timers and not deliveries:
        raise fail("nothing to run: --no-timers and --no-deliveries together")
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
        notifier = c.delivery_worker()
        if once:
            done: list[tuple[str, int]] = []
            if timers:
                done += count(scheduler.timers.tick())
            if deliveries:
                notifier.run(threading.Event(), until_idle=True)
                s = notifier.stats
                done += [(name, n) for name, n in (
                    ("events routed", s.routed), ("notifications delivered", s.delivered),
                    ("retries scheduled", s.retried), ("deliveries failed", s.failed),
                ) if n]  # fmt: skip
            console.print(
                ", ".join(f"{n} {name}" for name, n in done) or "nothing was due", soft_wrap=True
            )
            return
        stopping = scheduler.stopping if timers else threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda _signum, _frame: stopping.set())
        thread = None
        if deliveries:
            thread = threading.Thread(target=notifier.run, args=(stopping,), name="deliveries")
            thread.start()
            console.print("casekeeper worker: delivering notifications")
        if timers:
            console.print(f"casekeeper worker: timed transitions every {every:g}s (batch {batch})")
            scheduler.run()
        if thread is not None:
            while thread.is_alive():  # a join that signals can interrupt
                thread.join(0.2)
        s = notifier.stats
        console.print(f"stopped after {scheduler.ticks} ticks, {s.delivered} notifications "
                      f"delivered, {s.failed} failed")  # fmt: skip

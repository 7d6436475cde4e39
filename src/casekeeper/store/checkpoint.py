"""WAL checkpoints for SQLite, off the request path.

By default SQLite checkpoints inside the COMMIT that pushes the write-ahead log past 1,000
pages: that request then also copies every logged page back into the database file, with two
fsyncs. A bulk operation over 1,000 cases logs several thousand pages, so its COMMIT paid for
the checkpoint too (about two thirds of its time at 1M cases). Here the engine's connections
run with ``wal_autocheckpoint=0`` and this thread checkpoints (PASSIVE: it never blocks readers
or the writer) twice a second and at shutdown. sqlite3 releases the GIL while it copies pages,
so the work lands on the other core instead of in a caller's latency.

If checkpoints cannot keep up (a reader holding an old snapshot for long), the log grows; the
thread then asks for a RESTART checkpoint, which waits for readers, once the log passes
``LARGE_WAL_PAGES``. ``journal_size_limit`` truncates the file after the log restarts.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.engine import Engine

log = logging.getLogger("casekeeper.store")

INTERVAL_S = 0.5
LARGE_WAL_PAGES = 64_000  # 250 MiB of 4 KiB pages
SLOW_RESTART_S = 0.5


class Checkpointer:
    def __init__(self, engine: Engine, interval: float = INTERVAL_S) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Run one checkpoint; returns SQLite's (busy, log pages, checkpointed pages)."""
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(f"PRAGMA wal_checkpoint({mode})")
            row = cur.fetchone()
            assert row is not None, "PRAGMA wal_checkpoint returns one row"
            busy, logged, done = row
            cur.close()
        finally:
            raw.close()
        return int(busy), int(logged), int(done)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._step()
        self._step()

    def _step(self) -> None:
        try:
            _busy, logged, _done = self.checkpoint()
            if logged > LARGE_WAL_PAGES:
                started = time.monotonic()
                busy, _logged, _done = self.checkpoint("RESTART")
                took = time.monotonic() - started
                # A RESTART holds off every new writer while it runs: worth telling.
                log.log(
                    logging.WARNING if took >= SLOW_RESTART_S else logging.INFO,
                    "WAL of %d pages: RESTART checkpoint %s in %.2f s (new writers waited)",
                    logged,
                    "stopped by readers" if busy else "done, the log starts over",
                    took,
                )
        except Exception:  # the next round retries; a failing database shows up elsewhere
            log.warning("WAL checkpoint failed", exc_info=True)

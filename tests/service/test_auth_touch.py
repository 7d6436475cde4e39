"""Authenticating never writes on the caller's thread: the key's last use is recorded by a
thread of its own. Authentication runs on the event loop for point reads, and a write there
waited for SQLite's lock behind whatever transaction held it."""

from __future__ import annotations

import threading
import time

from casekeeper.bootstrap import Container
from casekeeper.service.auth import OPERATOR


def test_authenticate_does_not_wait_for_a_writer(container: Container) -> None:
    key = container.keys.create(
        granted_by=OPERATOR, name="fresh", permissions=["case:Read"], space="touch-test"
    ).key
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with container.db.writer() as uow:
            uow.spaces.ensure("touch-test-lock", 0)
            holding.set()
            release.wait(10)
            uow.commit()

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        principal = container.keys.authenticate(f"Bearer {key}")
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        writer.join(10)
    container.keys.drain()
    rows = container.keys.list(OPERATOR, space="touch-test")
    (row,) = [r for r in rows if r.id == principal.key_id]
    assert row.last_used_time is not None

"""A flood of connections makes one log line per interval, not one per connection."""

from __future__ import annotations

import logging

import pytest

from casekeeper.api.http.protocol import ThrottledLog


def test_one_line_per_interval_and_a_count_of_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    throttled = ThrottledLog(logging.WARNING, interval=10.0)
    with caplog.at_level(logging.INFO, logger="casekeeper.http"):
        for i in range(1000):
            throttled(100.0 + i * 0.001, "HTTP connection cap %d reached: closing %d", 4, 1)
        throttled(111.0, "HTTP connection cap %d reached: closing %d", 4, 1)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "HTTP connection cap 4 reached: closing 1",
        "HTTP connection cap 4 reached: closing 1 (999 more like it in the last 10 s)",
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records)

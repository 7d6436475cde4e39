"""The poller's gap handling: a lower sequence number that commits late is still delivered."""

import time

import pytest

from casekeeper.api.events import hub


def test_a_late_commit_below_a_higher_one_is_not_skipped() -> None:
    t = hub.Tracker()
    assert t.fresh([1, 3]) == {1, 3}  # 2 is still in flight on PostgreSQL
    assert t.floor == 1
    assert t.fresh([2, 3]) == {2}  # the re-read window finds 2; 3 is not repeated
    assert (t.floor, t.seen) == (3, set())


def test_a_gap_that_never_fills_is_given_up_after_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    t = hub.Tracker()
    t.fresh([1, 3])
    now[0] += hub.GAP_WAIT + 0.1  # a rolled-back insert: 2 never commits
    assert t.fresh([4]) == {4}
    assert t.floor == 4

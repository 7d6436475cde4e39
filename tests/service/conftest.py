"""Service-test helpers: a controllable clock and a container that uses it.

The clocked container shares the session's database (and engine) with ``container``; only the
clock differs, so its cases live in the same per-test space as ``principal``'s.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casekeeper.bootstrap import Container, bootstrap
from casekeeper.domain.model import Case
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from tests.conftest import case_maker

START_US = 1_758_537_000_000_000  # 2025-09-22T10:30:00Z


class FakeClock:
    """Each reading is ``step`` microseconds after the previous one (0 freezes time)."""

    def __init__(self, start: int = START_US, step: int = 1_000) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> int:
        self.now += self.step
        return self.now

    def advance(self, micros: int) -> None:
        self.now += micros

    def next_reading(self) -> int:
        return self.now + self.step


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked(container: Container, clock: FakeClock) -> Container:
    ctx = ServiceContext(db=container.db, clock=clock, ui_base_url=container.settings.ui_base_url)
    return bootstrap(container.settings, ctx=ctx)


MakeClockedCase = Callable[..., Case]


@pytest.fixture
def make_clocked_case(clocked: Container, principal: Principal) -> MakeClockedCase:
    """Like ``make_case`` but through the clocked container (known, distinct times)."""
    return case_maker(clocked, principal, prefix="Clocked case")

"""One test's space seen through casekeeper's services (``World``: its firings, cases,
incidents, timeline notes), the sync service over the test database (``am_sync``), and
Prometheus' fingerprint. Test modules import the fixtures they use from here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.domain.events import CaseEvent
from casekeeper.domain.incidents import Incident
from casekeeper.domain.model import Case
from casekeeper.domain.timeline import SignalNote
from casekeeper.outbound.alertmanager import AlertmanagerClient
from casekeeper.service.alertmanager_sync import AlertmanagerSync
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.store.schema import signal_firing as sf
from tests.conftest import MakeKey


@pytest.fixture
def am_sync(container: Container) -> Iterator[AlertmanagerSync]:
    """The sync service over the test database, with the real HTTP client."""
    client = AlertmanagerClient()
    ctx = ServiceContext(
        db=container.db, clock=container.cases.clock, ui_base_url=container.settings.ui_base_url
    )
    # The test's Alertmanager has just started, and one pass is to show its result at once:
    # tests of the warm-up and the confirmation set their own.
    yield AlertmanagerSync(ctx, container.signals, client, warmup=0, confirm_after=0)
    client.close()


@dataclass(frozen=True)
class FiringRow:
    dedup_key: str
    starts_at: int
    status: str
    case_id: str | None
    incident_id: str | None
    external_url: str | None


@dataclass
class World:
    """One test's space, seen through casekeeper's services: ``key`` (signals:Write) is what
    Alertmanager posts with; ``reader`` (every permission) is how the test looks."""

    container: Container
    key: str
    reader: Principal

    @property
    def space_id(self) -> int:
        return self.reader.space_id

    def firings(self) -> list[FiringRow]:
        stmt = (
            sa.select(
                sf.c.dedup_key,
                sf.c.starts_at,
                sf.c.status,
                sf.c.case_id,
                sf.c.incident_id,
                sf.c.external_url,
            )
            .where(sf.c.space_id == self.space_id)
            .order_by(sf.c.dedup_key, sf.c.starts_at)
        )
        with self.container.db.reader() as uow:
            return [FiringRow(*r) for r in uow.conn.execute(stmt)]

    def firing(self, fingerprint: str) -> FiringRow | None:
        found = [f for f in self.firings() if f.dedup_key == fingerprint]
        return found[-1] if found else None

    def case(self, case_id: str) -> Case:
        return self.container.cases.get(self.reader, case_id)

    def incident(self, incident_id: str) -> Incident:
        return self.container.incidents.get(self.reader, incident_id)

    def timeline(self, case_id: str) -> list[CaseEvent]:
        return self.container.timeline.list_events(self.reader, case_id)

    def notes(self, case_id: str) -> list[SignalNote]:
        return [e.data for e in self.timeline(case_id) if isinstance(e.data, SignalNote)]


@pytest.fixture
def world(container: Container, make_key: MakeKey) -> World:
    key, _ = make_key("signals:Write", name="alertmanager")
    _, reader = make_key(name="test reader")
    return World(container, key, reader)


def fingerprint(labels: Mapping[str, str]) -> str:
    """Prometheus' label-set fingerprint (REAL_CLIENTS.md §1): FNV-1a 64 over sorted names."""
    h = 14695981039346656037
    for k in sorted(labels):
        for part in (k, labels[k]):
            for b in part.encode():
                h = ((h ^ b) * 1099511628211) & (2**64 - 1)
            h = ((h ^ 255) * 1099511628211) & (2**64 - 1)
    return f"{h:016x}"

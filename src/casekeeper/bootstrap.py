"""The composition root: builds the engine, the unit-of-work factory and the services once."""

from __future__ import annotations

from dataclasses import dataclass

from casekeeper.outbound.alertmanager import AlertmanagerClient
from casekeeper.service.admin import AdminService
from casekeeper.service.alertmanager_sync import AlertmanagerSync
from casekeeper.service.alerts import AlertService
from casekeeper.service.auth import KeyService
from casekeeper.service.case_settings import CaseSettingsService
from casekeeper.service.cases import CaseService
from casekeeper.service.context import ServiceContext
from casekeeper.service.incidents import IncidentService
from casekeeper.service.signals import SignalService
from casekeeper.service.timeline import TimelineService
from casekeeper.settings import Settings
from casekeeper.store.engine import make_engine
from casekeeper.store.uow import Database


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    db: Database
    keys: KeyService
    cases: CaseService
    timeline: TimelineService
    admin: AdminService
    incidents: IncidentService
    alerts: AlertService
    signals: SignalService
    case_settings: CaseSettingsService
    am_sync: AlertmanagerSync  # reconciliation and acknowledge-until-clear (docs/ALERTMANAGER.md)

    def close(self) -> None:
        self.keys.close()
        self.am_sync.close()
        self.db.dispose()


def bootstrap(settings: Settings, *, ctx: ServiceContext | None = None) -> Container:
    if ctx is None:
        db = Database(make_engine(settings.database_url))
        ctx = ServiceContext(db=db, ui_base_url=settings.ui_base_url)
    signals = SignalService(ctx)
    return Container(
        settings=settings,
        db=ctx.db,
        keys=KeyService(ctx.db, ctx.clock),
        cases=CaseService(ctx),
        timeline=TimelineService(ctx),
        admin=AdminService(ctx),
        incidents=IncidentService(ctx),
        alerts=AlertService(ctx),
        signals=signals,
        am_sync=AlertmanagerSync(ctx, signals, AlertmanagerClient()),
        case_settings=CaseSettingsService(ctx),
    )

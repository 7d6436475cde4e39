"""The composition root: builds the engine, the unit-of-work factory and the services once."""

from __future__ import annotations

from dataclasses import dataclass, replace

from casekeeper.outbound.alertmanager import AlertmanagerClient
from casekeeper.service.admin import AdminService
from casekeeper.service.alertmanager_sync import AlertmanagerSync
from casekeeper.service.alerts import AlertService
from casekeeper.service.auth import KeyService
from casekeeper.service.case_settings import CaseSettingsService
from casekeeper.service.case_views import CaseViews
from casekeeper.service.cases import CaseService
from casekeeper.service.changes import ChangeService
from casekeeper.service.context import ServiceContext
from casekeeper.service.incidents import IncidentService
from casekeeper.service.notify_config import ConnectorService
from casekeeper.service.notify_delivery import DeliveryPolicy, DeliveryWorker
from casekeeper.service.notify_ledger import LedgerService
from casekeeper.service.notify_ports import Deliverer, DelivererFactory
from casekeeper.service.notify_routes import RouteService
from casekeeper.service.saved_views import SavedViewService
from casekeeper.service.secrets import SecretBox, key_from_environment
from casekeeper.service.sessions import SessionService
from casekeeper.service.signals import SignalService
from casekeeper.service.timeline import TimelineService
from casekeeper.service.users import UserService
from casekeeper.settings import Settings
from casekeeper.store.engine import make_engine
from casekeeper.store.replica import Replica
from casekeeper.store.uow import Database


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    db: Database
    keys: KeyService
    users: UserService  # people who log in (docs/USERS.md)
    sessions: SessionService  # their logins, as cookies (docs/SESSIONS.md)
    saved_views: SavedViewService  # their queue filters in the web console
    changes: ChangeService  # the live change feed (docs/EVENTS_STREAM.md)
    cases: CaseService
    case_views: CaseViews  # creators, counts, timeline pages, tags, deletes (Kibana, Tracecat)
    timeline: TimelineService
    admin: AdminService
    incidents: IncidentService
    alerts: AlertService
    signals: SignalService
    case_settings: CaseSettingsService
    am_sync: AlertmanagerSync  # reconciliation and acknowledge-until-clear (docs/ALERTMANAGER.md)
    connectors: ConnectorService  # notifications out (docs/NOTIFICATIONS.md)
    routes: RouteService
    ledger: LedgerService
    secrets: SecretBox
    deliverers: DelivererFactory

    def delivery_worker(self, **overrides: float | int) -> DeliveryWorker:
        """A delivery worker configured from the settings (``overrides`` win: tests, CLI)."""
        s = self.settings
        policy = DeliveryPolicy(
            max_attempts=s.notify_max_attempts, max_age=s.notify_max_age,
            timeout=s.notify_timeout, concurrency=s.notify_concurrency, lease=s.notify_lease,
            batch=s.notify_batch,
            outbox_retention=s.outbox_retention, ledger_retention=s.notify_ledger_retention,
        )  # fmt: skip
        policy = replace(policy, **overrides)  # type: ignore[arg-type]
        return DeliveryWorker(self.connectors.ctx, self.secrets, self.deliverers, policy)

    def replica_stats(self) -> tuple[dict[str, int], float]:
        """Reads by where they ran and the standby's lag, for /metrics (zeros without one)."""
        replica = self.db.replica
        return ({}, 0.0) if replica is None else (dict(replica.counts), replica.lag)

    def close(self) -> None:
        self.keys.close()
        self.am_sync.close()
        self.db.dispose()


def bootstrap(
    settings: Settings,
    *,
    ctx: ServiceContext | None = None,
    deliverers: DelivererFactory | None = None,
) -> Container:
    """``deliverers`` replaces how notifications are sent (tests that count envelopes)."""
    if ctx is None:
        engine = make_engine(settings.database_url)
        replica = None
        if settings.database_replica_url:
            standby = make_engine(settings.database_replica_url)
            replica = Replica(standby, engine, max_lag=settings.replica_max_lag)
        db = Database(engine, replica)
        ctx = ServiceContext(db=db, ui_base_url=settings.ui_base_url)
    signals = SignalService(ctx)
    secrets = SecretBox(key_from_environment())
    if deliverers is None:
        timeout = settings.notify_timeout

        def deliverers() -> Deliverer:
            from casekeeper.outbound.notify import NotificationDispatcher

            return NotificationDispatcher(timeout=timeout)

    users = UserService(ctx.db, ctx.clock)
    sessions = SessionService(
        ctx.db, ctx.clock, users, idle=settings.session_idle, max_age=settings.session_max_age
    )
    return Container(
        settings=settings,
        db=ctx.db,
        sessions=sessions,
        saved_views=SavedViewService(ctx.db, ctx.clock),
        changes=ChangeService(ctx.db),
        keys=KeyService(ctx.db, ctx.clock),
        users=users,
        cases=CaseService(ctx),
        case_views=CaseViews(ctx),
        timeline=TimelineService(ctx),
        admin=AdminService(ctx),
        incidents=IncidentService(ctx),
        alerts=AlertService(ctx),
        signals=signals,
        am_sync=AlertmanagerSync(
            ctx,
            signals,
            AlertmanagerClient(),
            warmup=round(settings.am_warmup * 1_000_000),
            confirm_after=round(settings.am_confirm_after * 1_000_000),
        ),
        case_settings=CaseSettingsService(ctx),
        connectors=ConnectorService(ctx, secrets, deliverers),
        routes=RouteService(ctx),
        ledger=LedgerService(ctx),
        secrets=secrets,
        deliverers=deliverers,
    )

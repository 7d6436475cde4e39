"""The tables of notifications out (docs/NOTIFICATIONS.md): connectors, routes, and the
delivery ledger. Part of ``schema``'s metadata; ``schema`` imports them."""

from __future__ import annotations

import sqlalchemy as sa

from casekeeper.store.schema_base import AutoId, Id, Time, metadata

notify_connector = sa.Table(
    "notify_connector",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("url", sa.String(2048)),  # NULL when the URL is the secret, and for e-mail
    sa.Column("secret_cipher", sa.Text),  # Fernet token (store/secrets.py)
    sa.Column("secret_env", sa.String(256)),  # or the name of the variable holding it
    sa.Column("options", sa.JSON, nullable=False),  # e-mail and webhook options
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("update_time", Time, nullable=False),
    sa.UniqueConstraint("space_id", "name"),
)

notify_route = sa.Table(
    "notify_route",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("connector_ids", sa.JSON, nullable=False),
    sa.Column("filter", sa.JSON, nullable=False),
    sa.Column("template", sa.JSON, nullable=False),
    sa.Column("stop", sa.Boolean, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("update_time", Time, nullable=False),
    sa.UniqueConstraint("space_id", "name"),
)

# One routed trigger event and route (or the event alone when no route matched): the ledger.
notification = sa.Table(
    "notification",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("space_id", sa.Integer, nullable=False),
    sa.Column("case_id", Id, sa.ForeignKey("case.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_id", Id),
    sa.Column("trigger", sa.String(32), nullable=False),
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("route_id", Id),
    sa.Column("route_name", sa.String(256)),
    sa.Column("matched", sa.JSON),  # [{id, name}] of routes that matched, for no_connector
    sa.Column("view", sa.JSON),  # the NotificationView every delivery sends
    sa.Column("create_time", Time, nullable=False),
    sa.Index("ix_notification_case", "case_id", "create_time"),
)

notify_delivery = sa.Table(
    "notify_delivery",
    metadata,
    sa.Column("id", Id, primary_key=True),  # also the idempotency key receivers see
    sa.Column(
        "notification_id",
        Id,
        sa.ForeignKey("notification.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("space_id", sa.Integer, nullable=False),
    sa.Column("case_id", Id, nullable=False),
    sa.Column("connector_id", Id, nullable=False),
    sa.Column("connector_name", sa.String(256), nullable=False),
    sa.Column("connector_kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("budget_attempts", sa.Integer, nullable=False),  # attempts when the budget began
    sa.Column("budget_time", Time, nullable=False),  # when it began (creation or replay)
    sa.Column("next_attempt_time", Time, nullable=False),
    sa.Column("lease_token", sa.String(36)),  # the claim a worker holds while sending
    sa.Column("lease_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("evidence_url", sa.String(2048)),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("update_time", Time, nullable=False),
    sa.Index("ix_notify_delivery_due", "state", "next_attempt_time"),
    sa.Index("ix_notify_delivery_notification", "notification_id"),
    sa.Index("ix_notify_delivery_case", "case_id"),
)

notify_attempt = sa.Table(
    "notify_attempt",
    metadata,
    sa.Column("id", AutoId, primary_key=True, autoincrement=True),
    sa.Column(
        "delivery_id",
        Id,
        sa.ForeignKey("notify_delivery.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("time", Time, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("evidence_url", sa.String(2048)),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Index("ix_notify_attempt_delivery", "delivery_id", "number"),
)

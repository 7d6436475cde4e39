"""notifications out: connectors, routes, the delivery ledger; outbox rows remember when they were routed

Revision ID: 8d75f405e7b3
Revises: a7c3d5e9f214
Create Date: 2026-12-05 01:05:22.306085
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8d75f405e7b3"
down_revision = "a7c3d5e9f214"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_connector",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("secret_cipher", sa.Text(), nullable=True),
        sa.Column("secret_env", sa.String(length=256), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_notify_connector_space_id_space")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_connector")),
        sa.UniqueConstraint("space_id", "name", name=op.f("uq_notify_connector_space_id_name")),
    )
    op.create_table(
        "notify_route",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("connector_ids", sa.JSON(), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("stop", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_notify_route_space_id_space")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_route")),
        sa.UniqueConstraint("space_id", "name", name=op.f("uq_notify_route_space_id_name")),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("route_id", sa.String(length=36), nullable=True),
        sa.Column("route_name", sa.String(length=256), nullable=True),
        sa.Column("matched", sa.JSON(), nullable=True),
        sa.Column("view", sa.JSON(), nullable=True),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_notification_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_case", ["case_id", "create_time"], unique=False)

    op.create_table(
        "notify_delivery",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("connector_name", sa.String(length=256), nullable=False),
        sa.Column("connector_kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("budget_attempts", sa.Integer(), nullable=False),
        sa.Column("budget_time", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_time", sa.BigInteger(), nullable=False),
        sa.Column("lease_token", sa.String(length=36), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("evidence_url", sa.String(length=2048), nullable=True),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notify_delivery_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_delivery")),
    )
    with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_notify_delivery_case", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_notify_delivery_due", ["state", "next_attempt_time"], unique=False
        )
        batch_op.create_index("ix_notify_delivery_notification", ["notification_id"], unique=False)

    op.create_table(
        "notify_attempt",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("evidence_url", sa.String(length=2048), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notify_delivery.id"],
            name=op.f("fk_notify_attempt_delivery_id_notify_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_attempt")),
    )
    with op.batch_alter_table("notify_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_notify_attempt_delivery", ["delivery_id", "number"], unique=False)

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_time", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("done_time")

    with op.batch_alter_table("notify_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_attempt_delivery")

    op.drop_table("notify_attempt")
    with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_delivery_notification")
        batch_op.drop_index("ix_notify_delivery_due")
        batch_op.drop_index("ix_notify_delivery_case")

    op.drop_table("notify_delivery")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_case")

    op.drop_table("notification")
    op.drop_table("notify_route")
    op.drop_table("notify_connector")

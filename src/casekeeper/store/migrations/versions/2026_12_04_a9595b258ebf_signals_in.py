"""signals in: case settings, firings, groups, heartbeats, silences

Revision ID: a9595b258ebf
Revises: 779ff7b00283
Create Date: 2026-12-04 21:34:24.129215
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a9595b258ebf"
down_revision = "779ff7b00283"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeat",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("interval_us", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("space_id", "name", name=op.f("pk_heartbeat")),
    )
    op.create_table(
        "case_settings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=4096), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_case_settings_space_id_space")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_settings")),
        sa.UniqueConstraint("space_id", name=op.f("uq_case_settings_space_id")),
    )
    op.create_table(
        "alertmanager_silence",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("starts_at", sa.BigInteger(), nullable=False),
        sa.Column("silence_id", sa.String(length=64), nullable=False),
        sa.Column("external_url", sa.String(length=4096), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expired_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
            name=op.f("fk_alertmanager_silence_case_id_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alertmanager_silence")),
    )
    with op.batch_alter_table("alertmanager_silence", schema=None) as batch_op:
        batch_op.create_index("ix_alertmanager_silence_case", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_alertmanager_silence_live", ["space_id", "expired_at"], unique=False
        )

    op.create_table(
        "signal_firing",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("starts_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=True),
        sa.Column("incident_id", sa.String(length=36), nullable=True),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=True),
        sa.Column("receiver", sa.String(length=1024), nullable=True),
        sa.Column("external_url", sa.String(length=4096), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_signal_firing_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "space_id", "source", "dedup_key", "starts_at", name=op.f("pk_signal_firing")
        ),
    )
    with op.batch_alter_table("signal_firing", schema=None) as batch_op:
        batch_op.create_index("ix_signal_firing_case", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_signal_firing_open", ["source", "status", "space_id"], unique=False
        )

    op.create_table(
        "signal_group",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_signal_group_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("space_id", "key_hash", name=op.f("pk_signal_group")),
    )
    with op.batch_alter_table("signal_group", schema=None) as batch_op:
        batch_op.create_index("ix_signal_group_case", ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signal_group", schema=None) as batch_op:
        batch_op.drop_index("ix_signal_group_case")

    op.drop_table("signal_group")
    with op.batch_alter_table("signal_firing", schema=None) as batch_op:
        batch_op.drop_index("ix_signal_firing_open")
        batch_op.drop_index("ix_signal_firing_case")

    op.drop_table("signal_firing")
    with op.batch_alter_table("alertmanager_silence", schema=None) as batch_op:
        batch_op.drop_index("ix_alertmanager_silence_live")
        batch_op.drop_index("ix_alertmanager_silence_case")

    op.drop_table("alertmanager_silence")
    op.drop_table("case_settings")
    op.drop_table("heartbeat")

"""initial schema

Revision ID: 82d22570d07f
Revises:
Create Date: 2026-11-23 20:26:40.939012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "82d22570d07f"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "outbox_message",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_time", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_message_due", ["status", "next_attempt_time"], unique=False
        )

    op.create_table(
        "space",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("case_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space")),
        sa.UniqueConstraint("name", name=op.f("uq_space_name")),
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("revoke_time", sa.BigInteger(), nullable=True),
        sa.Column("last_used_time", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"], name=op.f("fk_api_key_space_id_space")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_space_id"), ["space_id"], unique=False)

    op.create_table(
        "case",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("title_fold", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("priority_system", sa.SmallInteger(), nullable=False),
        sa.Column("priority_override", sa.SmallInteger(), nullable=True),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("assignee", sa.String(length=256), nullable=True),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.Column("acknowledge_time", sa.BigInteger(), nullable=True),
        sa.Column("resolve_time", sa.BigInteger(), nullable=True),
        sa.Column("resolution_reason", sa.String(length=4096), nullable=True),
        sa.Column("resolved_by", sa.String(length=32), nullable=True),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("indicator_types", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("breached_kpis", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("connector_types", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"], name=op.f("fk_case_space_id_space")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
        sa.UniqueConstraint("space_id", "number", name=op.f("uq_case_space_id_number")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_space_create", ["space_id", "create_time", "id"], unique=False
        )
        batch_op.create_index(
            "ix_case_space_sp_create",
            ["space_id", "status", "priority", "create_time", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_case_space_sp_update",
            ["space_id", "status", "priority", "update_time", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_case_space_update", ["space_id", "update_time", "id"], unique=False
        )

    op.create_table(
        "case_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actor", sa.JSON(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=True),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_event_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_case_event")),
        sa.UniqueConstraint(
            "case_id", "external_id", name=op.f("uq_case_event_case_id_external_id")
        ),
        sa.UniqueConstraint("event_id", name=op.f("uq_case_event_event_id")),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index("ix_case_event_case", ["case_id", "seq"], unique=False)

    op.create_table(
        "case_tag",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_tag_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", "kind", "key", "value", name=op.f("pk_case_tag")),
    )
    with op.batch_alter_table("case_tag", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_tag_lookup", ["space_id", "kind", "key", "value"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("case_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_case_tag_lookup")

    op.drop_table("case_tag")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_case")

    op.drop_table("case_event")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_space_update")
        batch_op.drop_index("ix_case_space_sp_update")
        batch_op.drop_index("ix_case_space_sp_create")
        batch_op.drop_index("ix_case_space_create")

    op.drop_table("case")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_space_id"))

    op.drop_table("api_key")
    op.drop_table("space")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_due")

    op.drop_table("outbox_message")

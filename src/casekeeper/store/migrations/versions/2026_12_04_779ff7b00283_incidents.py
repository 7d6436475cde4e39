"""incidents: one per alert episode, their labels and events, and the tallies behind totals
and facets (docs/INCIDENTS.md)

Revision ID: 779ff7b00283
Revises: c4a1e7f3d920
Create Date: 2026-12-04 18:34:31.829165
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "779ff7b00283"
down_revision = "c4a1e7f3d920"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_label_tally",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "space_id", "kind", "key", "value", name=op.f("pk_incident_label_tally")
        ),
    )
    op.create_table(
        "incident_tally",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("is_muted", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "space_id",
            "status",
            "state",
            "severity",
            "is_muted",
            "closed",
            name=op.f("pk_incident_tally"),
        ),
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("correlation_key", sa.Text(), nullable=False),
        sa.Column("correlation_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("name_fold", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("severity_rank", sa.SmallInteger(), nullable=False),
        sa.Column("assignee", sa.String(length=300), nullable=True),
        sa.Column("assignments", sa.Text(), nullable=True),
        sa.Column("contextual_labels", sa.Text(), nullable=False),
        sa.Column("display_labels", sa.Text(), nullable=False),
        sa.Column("meta_labels", sa.Text(), nullable=False),
        sa.Column("application_name", sa.String(length=600), nullable=True),
        sa.Column("subsystem_name", sa.String(length=600), nullable=True),
        sa.Column("is_muted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("last_state_update_time", sa.BigInteger(), nullable=False),
        sa.Column("last_state_update_key", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_incident_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_incident_space_id_space")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index("ix_incident_case", ["case_id"], unique=False)
        batch_op.create_index("ix_incident_space_assignee", ["space_id", "assignee"], unique=False)
        batch_op.create_index(
            "ix_incident_space_correlation",
            ["space_id", "correlation_hash", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_incident_space_created", ["space_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_incident_space_status_severity",
            ["space_id", "status", "severity", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_incident_open_correlation",
            ["space_id", "correlation_hash"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    op.create_table(
        "incident_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column("originator", sa.SmallInteger(), nullable=False),
        sa.Column("by", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("cx_event_key", sa.Text(), nullable=False),
        sa.Column("cx_event_hash", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("is_muted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_event_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_incident_event")),
        sa.UniqueConstraint("id", name=op.f("uq_incident_event_id")),
    )
    with op.batch_alter_table("incident_event", schema=None) as batch_op:
        batch_op.create_index("ix_incident_event_incident", ["incident_id", "seq"], unique=False)
        batch_op.create_index(
            "ix_incident_event_space_key", ["space_id", "cx_event_hash"], unique=False
        )
        batch_op.create_index(
            "ix_incident_event_space_time", ["space_id", "time", "seq"], unique=False
        )

    op.create_table(
        "incident_label",
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_label_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "incident_id", "kind", "key", "value", name=op.f("pk_incident_label")
        ),
    )
    with op.batch_alter_table("incident_label", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_label_lookup",
            ["space_id", "kind", "key", "value", "incident_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_label", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_label_lookup")

    op.drop_table("incident_label")
    with op.batch_alter_table("incident_event", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_event_space_time")
        batch_op.drop_index("ix_incident_event_space_key")
        batch_op.drop_index("ix_incident_event_incident")

    op.drop_table("incident_event")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_incident_open_correlation",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.drop_index("ix_incident_space_status_severity")
        batch_op.drop_index("ix_incident_space_created")
        batch_op.drop_index("ix_incident_space_correlation")
        batch_op.drop_index("ix_incident_space_assignee")
        batch_op.drop_index("ix_incident_case")

    op.drop_table("incident")
    op.drop_table("incident_tally")
    op.drop_table("incident_label_tally")

"""work leases: periodic work of a space claimed by one process

Revision ID: 6bce082b8912
Revises: f9e8b9a373f3
Create Date: 2026-12-05 18:29:54.740516
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "6bce082b8912"
down_revision = "f9e8b9a373f3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_lease",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_run", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_work_lease_space_id_space")
        ),
        sa.PrimaryKeyConstraint("space_id", "name", name=op.f("pk_work_lease")),
    )


def downgrade() -> None:
    op.drop_table("work_lease")

"""saved queue views

Revision ID: 553ce366c05c
Revises: 6228d4a823e9
Create Date: 2026-12-05 15:18:53.931060
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "553ce366c05c"
down_revision = "6228d4a823e9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_view",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("query", sa.String(length=4096), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_saved_view_space_id_space")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_saved_view_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_view")),
        sa.UniqueConstraint(
            "user_id", "space_id", "name", name=op.f("uq_saved_view_user_id_space_id_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("saved_view")

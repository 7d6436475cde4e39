"""user sessions; an index of the cases on hold

Revision ID: 6228d4a823e9
Revises: 555ac89c3d04
Create Date: 2026-12-05 11:27:53.461880
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "6228d4a823e9"
down_revision = "555ac89c3d04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=False),
        sa.Column("revoke_time", sa.BigInteger(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_user_session_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_session")),
        sa.UniqueConstraint("id", name=op.f("uq_user_session_id")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index("ix_user_session_user", ["user_id"], unique=False)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_on_hold",
            ["space_id", "status"],
            unique=False,
            sqlite_where=sa.text("on_hold = 1"),
            postgresql_where=sa.text("on_hold"),
        )


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_case_on_hold",
            sqlite_where=sa.text("on_hold = 1"),
            postgresql_where=sa.text("on_hold"),
        )

    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index("ix_user_session_user")

    op.drop_table("user_session")

"""spaces have a stable uuid (Tracecat's workspace_id), given to existing ones here

Revision ID: 555ac89c3d04
Revises: e11d8d93be5e
Create Date: 2026-12-05 07:16:37.201455
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "555ac89c3d04"
down_revision = "e11d8d93be5e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("space", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uuid", sa.String(length=36), nullable=True))
    conn = op.get_bind()
    for (space_id,) in conn.execute(sa.text("SELECT id FROM space")).fetchall():
        conn.execute(
            sa.text("UPDATE space SET uuid = :u WHERE id = :i"),
            {"u": str(uuid.uuid4()), "i": space_id},
        )
    with op.batch_alter_table("space", schema=None) as batch_op:
        batch_op.alter_column("uuid", existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_space_uuid"), ["uuid"])


def downgrade() -> None:
    with op.batch_alter_table("space", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_space_uuid"), type_="unique")
        batch_op.drop_column("uuid")

"""signal firings keep why they got their priority

Revision ID: e11d8d93be5e
Revises: e1b7b023f9c4
Create Date: 2026-12-05 06:55:48.934074
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e11d8d93be5e"
down_revision = "e1b7b023f9c4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signal_firing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority_reason", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signal_firing", schema=None) as batch_op:
        batch_op.drop_column("priority_reason")

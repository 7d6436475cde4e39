"""case: the canonical fields beside Coralogix's (several assignees, description, tags,
severity, on hold, dialect extensions)

Existing rows need no rewrite: every new column is empty or has a default, and ``assignees``
is NULL while a case has at most one assignee (the ``assignee`` column holds it).

Revision ID: c4a1e7f3d920
Revises: 9d41c7e2b5a8
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c4a1e7f3d920"
down_revision = "9d41c7e2b5a8"
branch_labels = None
depends_on = None

TEXT_COLUMNS = ("assignees", "description", "tags", "extensions")


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        for name in TEXT_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("severity", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("on_hold", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        for name in ("on_hold", "severity", *reversed(TEXT_COLUMNS)):
            batch_op.drop_column(name)

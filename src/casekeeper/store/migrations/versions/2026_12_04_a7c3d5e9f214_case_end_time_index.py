"""case: an index on (space, status, end time) for the scheduler's auto-close
(docs/LIFECYCLE_TIMERS.md): RESOLVED cases whose post-resolution period has passed

Revision ID: a7c3d5e9f214
Revises: a9595b258ebf
Create Date: 2026-12-04 21:50:00
"""

from __future__ import annotations

from alembic import op

revision = "a7c3d5e9f214"
down_revision = "a9595b258ebf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_space_status_end", ["space_id", "status", "end_time"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_space_status_end")

"""case: drop the (space_id, update_time, id) index

A list ordered by update time always merges the per-(status, priority) scans of
``ix_case_space_sp_update`` now (all 25 pairs when the filter names none), so this index only
cost writes: every change to a case moved its entry, one random index page per case (a fifth
of the pages a bulk acknowledgement of 1,000 cases logged).

Revision ID: 9d41c7e2b5a8
Revises: 5b0e3c9a71d2
Create Date: 2026-11-24 04:00:00
"""

from __future__ import annotations

from alembic import op

revision = "9d41c7e2b5a8"
down_revision = "5b0e3c9a71d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_case_space_update", table_name="case")


def downgrade() -> None:
    op.create_index("ix_case_space_update", "case", ["space_id", "update_time", "id"])

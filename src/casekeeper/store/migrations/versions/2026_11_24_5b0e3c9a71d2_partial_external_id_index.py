"""case_event: the (case_id, external_id) uniqueness becomes a partial index

Only synced external messages carry an external id; indexing the NULLs of every other event
cost one random index page write per event.

Revision ID: 5b0e3c9a71d2
Revises: 82d22570d07f
Create Date: 2026-11-24 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5b0e3c9a71d2"
down_revision = "82d22570d07f"
branch_labels = None
depends_on = None

NAME = "uq_case_event_case_id_external_id"
WHERE = sa.text("external_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_="unique")
    op.create_index(
        NAME,
        "case_event",
        ["case_id", "external_id"],
        unique=True,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="case_event")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_unique_constraint(NAME, ["case_id", "external_id"])

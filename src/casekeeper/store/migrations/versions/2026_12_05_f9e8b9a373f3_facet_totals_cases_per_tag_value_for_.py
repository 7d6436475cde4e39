"""facet totals: cases per tag value, for facets with no filter

Revision ID: f9e8b9a373f3
Revises: 1aa5ea808959
Create Date: 2026-12-05 16:29:46.687699
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f9e8b9a373f3"
down_revision = "1aa5ea808959"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_tag_total",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("space_id", "kind", "key", "value", name=op.f("pk_case_tag_total")),
    )
    # Count the cases already there, as CaseRepository counts new ones (store/facet_tally.py).
    op.execute(
        'INSERT INTO case_tag_total (space_id, kind, "key", "value", n) '
        'SELECT space_id, kind, "key", "value", count(*) FROM case_tag '
        "WHERE kind IN ('g', 'l', 'a') GROUP BY space_id, kind, \"key\", \"value\""
    )


def downgrade() -> None:
    op.drop_table("case_tag_total")

"""facet tallies: cases per tag, assignee and both, kept on write

Revision ID: 1aa5ea808959
Revises: 553ce366c05c
Create Date: 2026-12-05 15:53:35.875212
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1aa5ea808959"
down_revision = "553ce366c05c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_assignee_tag_tally",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("assignee", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "space_id",
            "assignee",
            "kind",
            "key",
            "value",
            "status",
            "priority",
            "category",
            name=op.f("pk_case_assignee_tag_tally"),
        ),
    )
    op.create_table(
        "case_assignee_tally",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("assignee", sa.String(length=256), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "space_id",
            "assignee",
            "status",
            "priority",
            "category",
            name=op.f("pk_case_assignee_tally"),
        ),
    )
    op.create_table(
        "case_tag_tally",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("assigned", sa.Boolean(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "space_id",
            "kind",
            "key",
            "value",
            "status",
            "priority",
            "category",
            "assigned",
            name=op.f("pk_case_tag_tally"),
        ),
    )
    _backfill()


def _backfill() -> None:
    """Count the cases already there, as CaseRepository counts new ones (the tag kinds with
    a facet: groupings g, labels l, alert ids a; store/facet_tally.py)."""
    op.execute(
        'INSERT INTO case_tag_tally (space_id, kind, "key", "value", status, priority, '
        "category, assigned, n) "
        'SELECT c.space_id, t.kind, t."key", t."value", c.status, c.priority, c.category, '
        'c.assignee IS NOT NULL, count(*) FROM case_tag t JOIN "case" c ON c.id = t.case_id '
        "WHERE t.kind IN ('g', 'l', 'a') "
        'GROUP BY c.space_id, t.kind, t."key", t."value", c.status, c.priority, c.category, '
        "c.assignee IS NOT NULL"
    )
    op.execute(
        "INSERT INTO case_assignee_tally (space_id, assignee, status, priority, category, n) "
        'SELECT space_id, assignee, status, priority, category, count(*) FROM "case" '
        "WHERE assignee IS NOT NULL GROUP BY space_id, assignee, status, priority, category"
    )
    op.execute(
        'INSERT INTO case_assignee_tag_tally (space_id, assignee, kind, "key", "value", '
        "status, priority, category, n) "
        'SELECT c.space_id, c.assignee, t.kind, t."key", t."value", c.status, c.priority, '
        'c.category, count(*) FROM case_tag t JOIN "case" c ON c.id = t.case_id '
        "WHERE t.kind IN ('g', 'l', 'a') AND c.assignee IS NOT NULL "
        'GROUP BY c.space_id, c.assignee, t.kind, t."key", t."value", c.status, c.priority, '
        "c.category"
    )


def downgrade() -> None:
    op.drop_table("case_tag_tally")
    op.drop_table("case_assignee_tally")
    op.drop_table("case_assignee_tag_tally")

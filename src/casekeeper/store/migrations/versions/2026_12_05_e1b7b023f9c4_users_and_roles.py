"""users who log in, and their role in each space; case tags indexed; cases counted per status

Revision ID: e1b7b023f9c4
Revises: 8d75f405e7b3
Create Date: 2026-12-05 06:11:49.294512
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "e1b7b023f9c4"
down_revision = "8d75f405e7b3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=256), nullable=False),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.Column("full_name", sa.String(length=512), nullable=True),
        sa.Column("password_hash", sa.String(length=512), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_user_role_space_id_space")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_user_role_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "space_id", name=op.f("pk_user_role")),
    )
    with op.batch_alter_table("user_role", schema=None) as batch_op:
        batch_op.create_index("ix_user_role_space", ["space_id"], unique=False)
    op.create_table(
        "case_tally",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("assigned", sa.Boolean(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "space_id", "status", "priority", "category", "assigned", name=op.f("pk_case_tally")
        ),
    )
    op.execute(
        "INSERT INTO case_tally (space_id, status, priority, category, assigned, n) "
        "SELECT space_id, status, priority, category, assignee IS NOT NULL, count(*) "
        'FROM "case" GROUP BY space_id, status, priority, category, assignee IS NOT NULL'
    )
    _index_tags()


def _index_tags() -> None:
    """Case tags became filterable (case_tag kind "t"): index the tags cases already have,
    as store/tags.py does for new ones (long text as a digest)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text('SELECT id, space_id, tags FROM "case" WHERE tags IS NOT NULL')
    ).fetchall()
    out = []
    for case_id, space_id, text in rows:
        for tag in dict.fromkeys(json.loads(text) or ()):
            value = tag if len(tag) <= 600 else "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
            out.append({"c": case_id, "s": space_id, "v": value})
    if out:
        conn.execute(
            sa.text(
                'INSERT INTO case_tag (case_id, kind, "key", "value", space_id) '
                "VALUES (:c, 't', '', :v, :s)"
            ),
            out,
        )


def downgrade() -> None:
    op.drop_table("case_tally")
    op.execute("DELETE FROM case_tag WHERE kind = 't'")
    with op.batch_alter_table("user_role", schema=None) as batch_op:
        batch_op.drop_index("ix_user_role_space")

    op.drop_table("user_role")
    op.drop_table("app_user")

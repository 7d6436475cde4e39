"""Tables of the people who log in: users, their roles per space, their login sessions and
their saved queue views (docs/USERS.md, docs/SESSIONS.md, docs/WEB.md)."""

from __future__ import annotations

import sqlalchemy as sa

from casekeeper.store.schema_base import Id, Time, metadata

# People who log in (docs/USERS.md): a password hash, never the password, and one role per
# space they work in.
app_user = sa.Table(
    "app_user",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("username", sa.String(256), nullable=False, unique=True),  # lowercase
    sa.Column("email", sa.String(512)),
    sa.Column("full_name", sa.String(512)),
    sa.Column("password_hash", sa.String(512), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("update_time", Time, nullable=False),
)

user_role = sa.Table(
    "user_role",
    metadata,
    sa.Column("user_id", Id, sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Index("ix_user_role_space", "space_id"),
)

# A browser's or a script's login (docs/SESSIONS.md): the cookie holds a random token, the
# table its digest. Idle sessions expire (sliding); every session has a hard end too.
user_session = sa.Table(
    "user_session",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("id", Id, nullable=False, unique=True),  # names it in lists and revocations
    sa.Column("user_id", Id, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("last_seen_time", Time, nullable=False),
    sa.Column("end_time", Time, nullable=False),  # the hard end, whatever the use
    sa.Column("revoke_time", Time),
    sa.Column("address", sa.String(64)),
    sa.Column("user_agent", sa.String(256)),
    sa.Index("ix_user_session_user", "user_id"),
)

# A user's saved queue filters (the web console's views): the queue's query string, by name.
saved_view = sa.Table(
    "saved_view",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("query", sa.String(4096), nullable=False),
    sa.Column("create_time", Time, nullable=False),
    sa.UniqueConstraint("user_id", "space_id", "name"),
)

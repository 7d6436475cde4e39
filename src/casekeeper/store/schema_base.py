"""What every table module shares: the metadata (with its naming convention) and the column
types. ``schema`` and ``schema_notify`` define their tables on it."""

from __future__ import annotations

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

Id = sa.String(36)
Time = sa.BigInteger
AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Tag text longer than this is stored as a digest so index entries stay small (see tags.py).
TAG_TEXT_MAX = 600

"""The facet tallies (docs/FACETS.md): cases counted per facet value and per the fields a
filter can select by tally alone, kept by CaseRepository in the same transaction as every case
write. Part of ``schema``'s metadata; ``schema`` imports them."""

from __future__ import annotations

import sqlalchemy as sa

from casekeeper.store.schema_base import TAG_TEXT_MAX, metadata

# Cases per (space, tag kind, key, value, status, effective priority, category, assigned or
# not), for the facet kinds only (groupings, labels, alert ids): in key order, a facet's rows
# are one index range.
case_tag_tally = sa.Table(
    "case_tag_tally",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(1), primary_key=True),
    sa.Column("key", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("value", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("status", sa.SmallInteger, primary_key=True),
    sa.Column("priority", sa.SmallInteger, primary_key=True),
    sa.Column("category", sa.SmallInteger, primary_key=True),
    sa.Column("assigned", sa.Boolean, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

# Assigned cases per (space, first assignee, status, effective priority, category): the
# assignee facet, and every scalar facet under an assignee filter.
case_assignee_tally = sa.Table(
    "case_assignee_tally",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("assignee", sa.String(256), primary_key=True),
    sa.Column("status", sa.SmallInteger, primary_key=True),
    sa.Column("priority", sa.SmallInteger, primary_key=True),
    sa.Column("category", sa.SmallInteger, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

# Assigned cases per (space, first assignee, tag kind, key, value, status, priority,
# category): the tag facets under an assignee filter, one index range per assignee.
case_assignee_tag_tally = sa.Table(
    "case_assignee_tag_tally",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("assignee", sa.String(256), primary_key=True),
    sa.Column("kind", sa.String(1), primary_key=True),
    sa.Column("key", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("value", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("status", sa.SmallInteger, primary_key=True),
    sa.Column("priority", sa.SmallInteger, primary_key=True),
    sa.Column("category", sa.SmallInteger, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

# Cases per (space, tag kind, key, value): the tag facets with no filter at all, one row per
# value (the alert-id facet otherwise sums a row per value and combination of the above).
case_tag_total = sa.Table(
    "case_tag_total",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(1), primary_key=True),
    sa.Column("key", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("value", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

"""Tables (SQLAlchemy Core). Portable across SQLite and PostgreSQL: no JSONB, no arrays.

Every row carries ``space_id``. Times are BIGINT microseconds since the epoch (UTC). Enumerations
are SMALLINT protobuf numbers. ``case_tag`` indexes the many-valued parts of a case (groupings,
labels, impacted entities, alert ids, Prometheus fingerprints) so filters stay index lookups.
"""

from __future__ import annotations

import sqlalchemy as sa

from casekeeper.store.schema_base import NAMING as NAMING
from casekeeper.store.schema_base import TAG_TEXT_MAX as TAG_TEXT_MAX
from casekeeper.store.schema_base import AutoId as AutoId
from casekeeper.store.schema_base import Id as Id
from casekeeper.store.schema_base import Time as Time
from casekeeper.store.schema_base import metadata as metadata

# The facet tallies (docs/FACETS.md) are schema_facets'.
from casekeeper.store.schema_facets import case_assignee_tag_tally as case_assignee_tag_tally
from casekeeper.store.schema_facets import case_assignee_tally as case_assignee_tally
from casekeeper.store.schema_facets import case_tag_tally as case_tag_tally
from casekeeper.store.schema_facets import case_tag_total as case_tag_total

# The notification tables (docs/NOTIFICATIONS.md) are schema_notify's; found here like the rest.
# People who log in, their sessions and saved views are schema_users'.
from casekeeper.store.schema_notify import notification as notification
from casekeeper.store.schema_notify import notify_attempt as notify_attempt
from casekeeper.store.schema_notify import notify_connector as notify_connector
from casekeeper.store.schema_notify import notify_delivery as notify_delivery
from casekeeper.store.schema_notify import notify_route as notify_route
from casekeeper.store.schema_users import app_user as app_user
from casekeeper.store.schema_users import saved_view as saved_view
from casekeeper.store.schema_users import user_role as user_role
from casekeeper.store.schema_users import user_session as user_session

space = sa.Table(
    "space",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("case_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("create_time", Time, nullable=False),
    # Stable for the space's life: Tracecat's workspace_id (docs/SPACES.md).
    sa.Column("uuid", Id, nullable=False, unique=True),
)

api_key = sa.Table(
    "api_key",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), nullable=False, index=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("permissions", sa.JSON, nullable=False),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("revoke_time", Time),
    sa.Column("last_used_time", Time),
)

case = sa.Table(
    "case",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), nullable=False),
    sa.Column("number", sa.BigInteger),
    sa.Column("title", sa.String(512), nullable=False),
    sa.Column("title_fold", sa.String(2048), nullable=False),  # casefolded, for text search
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),  # effective = override or system
    sa.Column("priority_system", sa.SmallInteger, nullable=False),
    sa.Column("priority_override", sa.SmallInteger),
    sa.Column("category", sa.SmallInteger, nullable=False),
    sa.Column("assignee", sa.String(256)),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("update_time", Time, nullable=False),
    sa.Column("acknowledge_time", Time),
    sa.Column("resolve_time", Time),
    sa.Column("resolution_reason", sa.String(4096)),
    sa.Column("resolved_by", sa.String(32)),
    sa.Column("end_time", Time),
    sa.Column("indicator_types", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("breached_kpis", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("connector_types", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("doc", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    # Canonical fields beyond Coralogix's. JSON as text: written by the versioned update like
    # any other column, and NULL (no bytes) while empty, as for most cases.
    sa.Column("assignees", sa.Text),  # JSON list, only when there are two or more
    sa.Column("description", sa.Text),
    sa.Column("tags", sa.Text),  # JSON list
    sa.Column("extensions", sa.Text),  # JSON object, by dialect
    sa.Column("severity", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("on_hold", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("space_id", "number"),
    sa.Index("ix_case_space_create", "space_id", "create_time", "id"),
    sa.Index("ix_case_space_sp_update", "space_id", "status", "priority", "update_time", "id"),
    sa.Index("ix_case_space_sp_create", "space_id", "status", "priority", "create_time", "id"),
    sa.Index("ix_case_space_status_end", "space_id", "status", "end_time"),  # auto-close
    # Only the cases on hold (few): Tracecat's on_hold count without a scan of the others.
    sa.Index(
        "ix_case_on_hold",
        "space_id",
        "status",
        sqlite_where=sa.text("on_hold = 1"),
        postgresql_where=sa.text("on_hold"),
    ),
)

# Cases per (space, status, effective priority, category, assigned or not): maintained with
# every write, so status counts under those filters (Kibana's _find) sum a few rows.
case_tally = sa.Table(
    "case_tally",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("status", sa.SmallInteger, primary_key=True),
    sa.Column("priority", sa.SmallInteger, primary_key=True),
    sa.Column("category", sa.SmallInteger, primary_key=True),
    sa.Column("assigned", sa.Boolean, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

case_tag = sa.Table(
    "case_tag",
    metadata,
    sa.Column("case_id", Id, sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(1), primary_key=True),
    sa.Column("key", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("value", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("space_id", sa.Integer, nullable=False),
    sa.Index("ix_case_tag_lookup", "space_id", "kind", "key", "value"),
)

case_event = sa.Table(
    "case_event",
    metadata,
    sa.Column("seq", AutoId, primary_key=True, autoincrement=True),
    sa.Column("event_id", Id, nullable=False, unique=True),
    sa.Column("space_id", sa.Integer, nullable=False),
    sa.Column("case_id", Id, sa.ForeignKey("case.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("actor", sa.JSON, nullable=False),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("event_time", Time, nullable=False),
    sa.Column("update_time", Time),
    sa.Column("external_id", sa.String(512)),
    sa.Index("ix_case_event_case", "case_id", "seq"),
    # Partial: most events have no external id, and a full index would add one random-page
    # write per event (it was a third of a bulk operation's index writes).
    sa.Index(
        "uq_case_event_case_id_external_id",
        "case_id",
        "external_id",
        unique=True,
        sqlite_where=sa.text("external_id IS NOT NULL"),
        postgresql_where=sa.text("external_id IS NOT NULL"),
    ),
)

outbox_message = sa.Table(
    "outbox_message",
    metadata,
    sa.Column("id", AutoId, primary_key=True, autoincrement=True),
    sa.Column("space_id", sa.Integer, nullable=False),
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_time", Time, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("done_time", Time),  # when it was routed; pruned after the retention period
    sa.Index("ix_outbox_message_due", "status", "next_attempt_time"),
)

# -- incidents (docs/INCIDENTS.md) -------------------------------------------------------------

incident = sa.Table(
    "incident",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), nullable=False),
    sa.Column("case_id", Id, sa.ForeignKey("case.id", ondelete="CASCADE"), nullable=False),
    sa.Column("correlation_key", sa.Text, nullable=False),
    sa.Column("correlation_hash", sa.String(64), nullable=False),  # sha256 of the key, indexed
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("name_fold", sa.String(2000), nullable=False),  # casefolded, for search
    sa.Column("description", sa.Text),
    sa.Column("state", sa.SmallInteger, nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("severity", sa.SmallInteger, nullable=False),
    sa.Column("severity_rank", sa.SmallInteger, nullable=False),  # domain SEVERITY_RANK
    sa.Column("assignee", sa.String(300)),  # the first assignment's user, for filters
    sa.Column("assignments", sa.Text),  # JSON [{to, by}]
    sa.Column("contextual_labels", sa.Text, nullable=False),  # JSON object
    sa.Column("display_labels", sa.Text, nullable=False),  # JSON object
    sa.Column("meta_labels", sa.Text, nullable=False),  # JSON [[key, value]]
    sa.Column("application_name", sa.String(TAG_TEXT_MAX)),  # from the display labels
    sa.Column("subsystem_name", sa.String(TAG_TEXT_MAX)),
    sa.Column("is_muted", sa.Boolean, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("closed_at", Time),
    sa.Column("last_state_update_time", Time, nullable=False),
    sa.Column("last_state_update_key", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("ix_incident_space_created", "space_id", "created_at", "id"),
    sa.Index(
        "ix_incident_space_status_severity", "space_id", "status", "severity", "created_at", "id"
    ),
    sa.Index("ix_incident_case", "case_id"),
    sa.Index("ix_incident_space_assignee", "space_id", "assignee"),
    # One open incident per alert episode; closed ones keep their key for the history.
    sa.Index(
        "uq_incident_open_correlation",
        "space_id",
        "correlation_hash",
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
    sa.Index("ix_incident_space_correlation", "space_id", "correlation_hash", "created_at"),
)

# Contextual ("c"), display ("d") and meta ("m") labels, one row per pair, for filters.
incident_label = sa.Table(
    "incident_label",
    metadata,
    sa.Column(
        "incident_id", Id, sa.ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("kind", sa.String(1), primary_key=True),
    sa.Column("key", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("value", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("space_id", sa.Integer, nullable=False),
    sa.Index("ix_incident_label_lookup", "space_id", "kind", "key", "value", "incident_id"),
)

incident_event = sa.Table(
    "incident_event",
    metadata,
    sa.Column("seq", AutoId, primary_key=True, autoincrement=True),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("space_id", sa.Integer, nullable=False),
    sa.Column("incident_id", Id, sa.ForeignKey("incident.id", ondelete="CASCADE"), nullable=False),
    sa.Column("type", sa.SmallInteger, nullable=False),
    sa.Column("originator", sa.SmallInteger, nullable=False),
    sa.Column("by", sa.String(300), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON, store/incident_codec.py
    sa.Column("time", Time, nullable=False),
    sa.Column("cx_event_key", sa.Text, nullable=False),
    sa.Column("cx_event_hash", sa.String(64), nullable=False),  # sha256 of the key, indexed
    # The incident right after the event: what ListIncidentEvents filters on and shows.
    sa.Column("severity", sa.SmallInteger, nullable=False),
    sa.Column("state", sa.SmallInteger, nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("is_muted", sa.Boolean, nullable=False),
    sa.Index("ix_incident_event_incident", "incident_id", "seq"),
    sa.Index("ix_incident_event_space_key", "space_id", "cx_event_hash"),
    sa.Index("ix_incident_event_space_time", "space_id", "time", "seq"),
)

# Incidents per (space, status, state, severity, muted, closed): maintained with every write,
# so a total or a facet over those fields is a sum of a few rows, not a count of a million.
incident_tally = sa.Table(
    "incident_tally",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("status", sa.SmallInteger, primary_key=True),
    sa.Column("state", sa.SmallInteger, primary_key=True),
    sa.Column("severity", sa.SmallInteger, primary_key=True),
    sa.Column("is_muted", sa.Boolean, primary_key=True),
    sa.Column("closed", sa.Boolean, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

# Incidents per label pair (and per assignee: kind "a"), for unfiltered facets.
incident_label_tally = sa.Table(
    "incident_label_tally",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(1), primary_key=True),
    sa.Column("key", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("value", sa.String(TAG_TEXT_MAX), primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

# -- signals in (docs/INGEST.md) ---------------------------------------------------------------

# A space's case settings (at most one: it is the active one), as JSON (store/case_settings.py).
case_settings = sa.Table(
    "case_settings",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), nullable=False, unique=True),
    sa.Column("name", sa.String(4096), nullable=False),
    sa.Column("doc", sa.Text, nullable=False),
    sa.Column("create_time", Time, nullable=False),
    sa.Column("update_time", Time, nullable=False),
)

# One row per firing: (source, dedup key, start) identifies it (domain.signals.Firing).
signal_firing = sa.Table(
    "signal_firing",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("dedup_key", sa.String(255), primary_key=True),
    sa.Column("starts_at", Time, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("last_seen", Time, nullable=False),
    sa.Column("ends_at", Time),
    sa.Column("incident_id", Id),
    sa.Column("case_id", Id, sa.ForeignKey("case.id", ondelete="CASCADE")),
    sa.Column("labels", sa.Text, nullable=False),  # JSON object
    sa.Column("group_key", sa.Text),
    sa.Column("receiver", sa.String(1024)),
    sa.Column("external_url", sa.String(4096)),
    # Resolved by reconciliation, not by its source: the alert firing on may bring it back.
    sa.Column("reconciled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("priority_reason", sa.String(1024)),  # why its priority, when it arrived
    sa.Index("ix_signal_firing_case", "case_id"),
    sa.Index("ix_signal_firing_open", "source", "status", "space_id"),
)

# The case a group of signals joins: the sender's group (Alertmanager's groupKey and receiver)
# or the settings' grouping labels. Rebound when the group's case ends.
signal_group = sa.Table(
    "signal_group",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("key_hash", sa.String(64), primary_key=True),  # sha256 of the group key
    sa.Column("group_key", sa.Text, nullable=False),
    sa.Column("case_id", Id, sa.ForeignKey("case.id", ondelete="CASCADE"), nullable=False),
    sa.Index("ix_signal_group_case", "case_id"),
)

# Heartbeats (settings.rules.heartbeats): when each was last heard.
heartbeat = sa.Table(
    "heartbeat",
    metadata,
    sa.Column("space_id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(1024), primary_key=True),
    sa.Column("interval_us", Time, nullable=False),
    sa.Column("last_seen", Time, nullable=False),
)

# Silences casekeeper made in Alertmanager for acknowledged cases (acknowledge-until-clear).
alertmanager_silence = sa.Table(
    "alertmanager_silence",
    metadata,
    sa.Column("id", AutoId, primary_key=True, autoincrement=True),
    sa.Column("space_id", sa.Integer, nullable=False),
    sa.Column("case_id", Id, sa.ForeignKey("case.id", ondelete="CASCADE"), nullable=False),
    sa.Column("dedup_key", sa.String(255), nullable=False),
    sa.Column("starts_at", Time, nullable=False),
    sa.Column("silence_id", sa.String(64), nullable=False),
    sa.Column("external_url", sa.String(4096), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expired_at", Time),
    sa.Index("ix_alertmanager_silence_case", "case_id"),
    sa.Index("ix_alertmanager_silence_live", "space_id", "expired_at"),
)

# Periodic work of a space that one process at a time does (Alertmanager reconciliation): the
# process whose UPDATE moves `next_run` past now has claimed the run (store/due.py).
work_lease = sa.Table(
    "work_lease",
    metadata,
    sa.Column("space_id", sa.Integer, sa.ForeignKey("space.id"), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("next_run", Time, nullable=False),
)

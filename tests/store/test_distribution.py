"""docs/SCALING.md stays true to the schema: a table distributed by ``space_id`` (Citus) can
only enforce a primary key or unique constraint that includes ``space_id``, so every key of
every table either includes it or is listed in NOT_BY_SPACE with the decision the doc gives,
and the doc places every table. A new table or key fails here until it has a decision."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from casekeeper.store.schema import metadata

DOC = Path(__file__).resolve().parents[2] / "docs" / "SCALING.md"

REFERENCE = "reference table"
# "table.key" (``pk``, or the constraint's or unique index's name) -> the decision, word for
# word as the doc's line for that key states it: a reference table (replicated to every node,
# where any key holds), or what the key becomes once its table is distributed by space_id.
NOT_BY_SPACE: dict[str, str] = {
    "space.pk": REFERENCE,
    "space.uq_space_name": REFERENCE,
    "space.uq_space_uuid": REFERENCE,
    "api_key.pk": REFERENCE,
    "api_key.uq_api_key_prefix": REFERENCE,
    "app_user.pk": REFERENCE,
    "app_user.uq_app_user_username": REFERENCE,
    "user_session.pk": REFERENCE,
    "user_session.uq_user_session_id": REFERENCE,
    "case.pk": "becomes (space_id, id)",
    "case_tag.pk": "becomes (space_id, case_id, kind, key, value)",
    "case_event.pk": "becomes (space_id, seq)",
    "case_event.uq_case_event_event_id": "becomes (space_id, event_id)",
    "case_event.uq_case_event_case_id_external_id": "becomes (space_id, case_id, external_id)",
    "case_settings.pk": "becomes (space_id, id)",
    "outbox_message.pk": "becomes (space_id, id)",
    "incident.pk": "becomes (space_id, id)",
    "incident_label.pk": "becomes (space_id, incident_id, kind, key, value)",
    "incident_event.pk": "becomes (space_id, seq)",
    "incident_event.uq_incident_event_id": "becomes (space_id, id)",
    "alertmanager_silence.pk": "becomes (space_id, id)",
    "notify_connector.pk": "becomes (space_id, id)",
    "notify_route.pk": "becomes (space_id, id)",
    "notification.pk": "becomes (space_id, id)",
    "notify_delivery.pk": "becomes (space_id, id)",
    "notify_attempt.pk": "becomes (space_id, id), with a new space_id column",
    "saved_view.pk": "becomes (space_id, id)",
}


def keys_of(table: sa.Table) -> dict[str, set[str]]:
    """The table's primary key and every unique constraint and unique index (partial ones
    too: PostgreSQL and Citus hold those to the same rule), by "table.key", with their
    columns."""
    out = {f"{table.name}.pk": {c.name for c in table.primary_key.columns}}
    for con in table.constraints:
        if isinstance(con, sa.UniqueConstraint):
            out[f"{table.name}.{con.name}"] = {c.name for c in con.columns}
    for index in table.indexes:
        if index.unique:
            out[f"{table.name}.{index.name}"] = {c.name for c in index.columns}
    return out


def without_space() -> set[str]:
    return {
        key
        for table in metadata.tables.values()
        for key, columns in keys_of(table).items()
        if "space_id" not in columns
    }


def doc_lines() -> list[str]:
    return DOC.read_text(encoding="utf-8").splitlines()


def placement(name: str) -> str:
    """Where the doc's inventory places the table: its row ``| `name` | distributed |`` or
    ``| `name` | reference |``."""
    row = re.compile(rf"\| `{re.escape(name)}` \| (distributed|reference) \|")
    found = [m.group(1) for m in map(row.match, doc_lines()) if m is not None]
    assert len(found) == 1, f"docs/SCALING.md needs one inventory row for `{name}`, has {found}"
    return found[0]


def test_every_key_includes_space_id_or_has_a_decision() -> None:
    undecided = sorted(without_space() - NOT_BY_SPACE.keys())
    assert not undecided, f"keys without space_id and no decision in NOT_BY_SPACE: {undecided}"


def test_no_decision_outlives_its_key() -> None:
    # A key that gained space_id, was renamed or went away must leave the list (and the doc).
    stale = sorted(NOT_BY_SPACE.keys() - without_space())
    assert not stale, f"NOT_BY_SPACE names keys that include space_id or no longer exist: {stale}"


@pytest.mark.parametrize("key", sorted(NOT_BY_SPACE))
def test_the_doc_gives_the_same_decision(key: str) -> None:
    lines = [line for line in doc_lines() if f"`{key}`" in line]
    assert lines, f"docs/SCALING.md does not name `{key}`"
    reason = NOT_BY_SPACE[key]
    assert any(reason in line for line in lines), f"the doc's line for `{key}` lacks {reason!r}"
    table = key.split(".", 1)[0]
    # A key only a reference table can keep belongs to a table the doc places as one, and a
    # distributed table's key has to change.
    assert (reason == REFERENCE) == (placement(table) == "reference"), key


@pytest.mark.parametrize("name", sorted(metadata.tables))
def test_the_doc_places_every_table(name: str) -> None:
    where = placement(name)
    table = metadata.tables[name]
    if where == "distributed":
        # Distributed by space_id: the column exists, or the doc says it is to be added.
        added = NOT_BY_SPACE.get(f"{name}.pk", "")
        assert "space_id" in table.c or "new space_id column" in added, name

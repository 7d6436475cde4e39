"""TimelineService (comments, external thread sync), API keys, authorization and tenancy."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final

import pytest
import sqlalchemy as sa

from casekeeper.api.coralogix.permissions import OPERATION_PERMISSIONS, authorize
from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import ActorKind, CasePriority, CaseStatus, EventKind
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import Case, Json
from casekeeper.domain.query import CaseFilters, CaseQuery
from casekeeper.proto.casekeeper.v1 import api_keys_pb2, case_admin_pb2
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    case_events_service_pb2,
    case_settings_service_pb2,
    cases_notification_service_pb2,
    cases_service_pb2,
)
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2
from casekeeper.service.auth import OPERATOR, Principal
from casekeeper.service.permissions import Permission
from casekeeper.service.timeline import ExternalMessage
from casekeeper.store.event_codec import encode
from casekeeper.store.schema import api_key
from tests.changes import command_for, many, one
from tests.conftest import MakeCase, MakeKey
from tests.stored import as_stored, as_stored_actor

USER_A: Final = "11111111-1111-4111-8111-111111111111"
SLACK: Final[Json] = {
    "slack": {
        "workspaceId": "T0001",
        "channelId": "C0001",
        "threadId": "1700000000.000100",
        "userId": "U0001",
        "userEmail": "oncall@example.test",
    }
}


def raises_code(code: ErrorCode, fn: Callable[[], object]) -> CasekeeperError:
    with pytest.raises(CasekeeperError) as err:
        fn()
    assert err.value.code is code, err.value.message
    return err.value


def timeline(c: Container, p: Principal, case: Case) -> list[CaseEvent]:
    return c.timeline.list_events(p, case.id)


def file_attachment(name: str = "graph.png") -> Json:
    return {"file": {"fileId": str(uuid.uuid4()), "fileName": name, "isDeleted": False}}


# --------------------------------------------------------------------------------------------
# Comments
# --------------------------------------------------------------------------------------------


def test_create_comment_appends_trimmed_comment_by_the_caller(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    attachments = [file_attachment()]
    event = container.timeline.create_comment(
        principal, f"case-{case.number}", "  looking into it \n", attachments
    )
    assert event.kind is EventKind.COMMENT
    assert as_stored(event.data) == {
        "comment": {"unsafeText": "looking into it", "attachments": attachments}
    }
    assert event.actor == Actor.api_key(principal.key_id, principal.key_name)
    assert event.case_id == case.id
    assert event.update_time is None
    assert event.external_id is None
    assert timeline(container, principal, case)[-1] == event
    assert container.timeline.get(principal, event.event_id) == event
    assert container.timeline.get(principal, event.event_id.upper()) == event


def test_create_comment_bumps_case_update_time_and_version(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    event = container.timeline.create_comment(principal, case.id, "hi")
    after = container.cases.get(principal, case.id)
    assert after.update_time == event.create_time
    assert after.update_time > case.update_time
    assert after.version == case.version + 1
    assert after.status is case.status


@pytest.mark.parametrize("status_op", [Operation.CLOSE, Operation.RESOLVE])
def test_create_comment_is_allowed_when_case_is_finished(
    container: Container, principal: Principal, make_case: MakeCase, status_op: Operation
) -> None:
    case = one(container.cases, principal, make_case().id, command_for(status_op))
    event = container.timeline.create_comment(principal, case.id, "postmortem linked")
    assert timeline(container, principal, case)[-1] == event


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "x" * 10_001, " " + "y" * 10_001 + " "])
def test_create_comment_rejects_text_when_blank_or_too_long(
    container: Container, principal: Principal, make_case: MakeCase, text: str
) -> None:
    case = make_case()
    before = timeline(container, principal, case)
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.timeline.create_comment(principal, case.id, text),
    )
    assert timeline(container, principal, case) == before
    assert container.cases.get(principal, case.id) == case


def test_create_comment_accepts_10000_characters_after_trimming(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    text = "z" * 10_000
    event = container.timeline.create_comment(principal, case.id, f"  {text}  ")
    assert encode(event.data)["unsafeText"] == text


def test_create_comment_limits_attachments_to_100(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.timeline.create_comment(
            principal, case.id, "too many", [file_attachment() for _ in range(101)]
        ),
    )
    hundred = [file_attachment(f"f{i}.txt") for i in range(100)]
    event = container.timeline.create_comment(principal, case.id, "just right", hundred)
    assert encode(container.timeline.get(principal, event.event_id).data)["attachments"] == hundred


def test_create_comment_raises_when_case_is_unknown_or_id_malformed(
    container: Container, principal: Principal
) -> None:
    raises_code(
        ErrorCode.CASE_NOT_FOUND,
        lambda: container.timeline.create_comment(principal, "CASE-999999", "hello"),
    )
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.timeline.create_comment(principal, "no such id!", "hello"),
    )


def test_update_comment_edits_text_in_place_and_sets_update_time(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    original = container.timeline.create_comment(principal, case.id, "first", [file_attachment()])
    count = len(timeline(container, principal, case))
    new_files = [file_attachment("second.png")]

    updated = container.timeline.update_comment(
        principal, original.event_id, "  second  ", new_files
    )

    assert updated.event_id == original.event_id
    assert encode(updated.data) == {"unsafeText": "second", "attachments": new_files}
    assert updated.update_time is not None
    assert updated.update_time > original.create_time
    assert (updated.create_time, updated.event_time) == (original.create_time, original.event_time)
    assert updated.actor == original.actor
    assert container.timeline.get(principal, original.event_id) == updated
    events = timeline(container, principal, case)
    assert len(events) == count
    assert events[-1] == updated
    after = container.cases.get(principal, case.id)
    assert after.update_time == updated.update_time


def test_update_comment_keeps_external_metadata_when_comment_was_synced(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    container.timeline.sync_external(
        principal, case.id, [ExternalMessage("m-1", "from slack", None, SLACK, None)]
    )
    synced = timeline(container, principal, case)[-1]
    updated = container.timeline.update_comment(principal, synced.event_id, "edited")
    assert encode(updated.data) == {"unsafeText": "edited", "attachments": [], **SLACK}
    assert updated.external_id == "m-1"


@pytest.mark.parametrize("text", ["", "  ", "x" * 10_001])
def test_update_comment_rejects_text_when_blank_or_too_long(
    container: Container, principal: Principal, make_case: MakeCase, text: str
) -> None:
    event = container.timeline.create_comment(principal, make_case().id, "keep")
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.timeline.update_comment(principal, event.event_id, text),
    )
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.timeline.update_comment(
            principal, event.event_id, "ok", [file_attachment() for _ in range(101)]
        ),
    )
    assert container.timeline.get(principal, event.event_id) == event


def test_delete_comment_removes_it_from_the_timeline_and_touches_the_case(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    keep = container.timeline.create_comment(principal, case.id, "keep")
    drop = container.timeline.create_comment(principal, case.id, "drop")
    before = container.cases.get(principal, case.id)

    container.timeline.delete_comment(principal, drop.event_id)

    events = timeline(container, principal, case)
    assert drop.event_id not in {e.event_id for e in events}
    assert events[-1] == keep
    raises_code(ErrorCode.EVENT_NOT_FOUND, lambda: container.timeline.get(principal, drop.event_id))
    raises_code(
        ErrorCode.EVENT_NOT_FOUND,
        lambda: container.timeline.delete_comment(principal, drop.event_id),
    )
    after = container.cases.get(principal, case.id)
    assert after.update_time > before.update_time
    assert after.version == before.version + 1


@pytest.mark.parametrize("kind", [EventKind.STATUS_CHANGED, EventKind.CREATED, EventKind.ASSIGNED])
def test_update_and_delete_raise_not_editable_when_event_is_not_a_comment(
    container: Container, principal: Principal, make_case: MakeCase, kind: EventKind
) -> None:
    case = one(container.cases, principal, make_case().id, cmd.Assign(USER_A))
    event = next(e for e in timeline(container, principal, case) if e.kind is kind)
    err = raises_code(
        ErrorCode.NOT_EDITABLE,
        lambda: container.timeline.update_comment(principal, event.event_id, "rewrite history"),
    )
    assert kind.value in err.message
    assert err.spec.grpc_status == "FAILED_PRECONDITION"
    raises_code(
        ErrorCode.NOT_EDITABLE, lambda: container.timeline.delete_comment(principal, event.event_id)
    )
    assert container.timeline.get(principal, event.event_id) == event
    assert container.cases.get(principal, case.id) == case


def test_event_calls_raise_event_not_found_when_event_is_unknown(
    container: Container, principal: Principal
) -> None:
    unknown = str(uuid.uuid4())
    for call in (
        lambda: container.timeline.get(principal, unknown),
        lambda: container.timeline.update_comment(principal, unknown, "x"),
        lambda: container.timeline.delete_comment(principal, unknown),
    ):
        err = raises_code(ErrorCode.EVENT_NOT_FOUND, call)
        assert unknown in err.message
        assert err.spec.http_status == 404


@pytest.mark.parametrize(
    "raw", ["", "not-a-uuid", "CASE-1", "1234", "84c02b26-a81e-45e9-8a0c-035a7986ebfd0"]
)
def test_event_calls_raise_invalid_argument_when_event_id_is_malformed(
    container: Container, principal: Principal, raw: str
) -> None:
    for call in (
        lambda: container.timeline.get(principal, raw),
        lambda: container.timeline.update_comment(principal, raw, "x"),
        lambda: container.timeline.delete_comment(principal, raw),
    ):
        raises_code(ErrorCode.INVALID_ARGUMENT, call)


def test_list_events_raises_when_case_is_unknown_or_malformed(
    container: Container, principal: Principal
) -> None:
    raises_code(
        ErrorCode.CASE_NOT_FOUND, lambda: container.timeline.list_events(principal, "CASE-424242")
    )
    raises_code(ErrorCode.INVALID_ARGUMENT, lambda: container.timeline.list_events(principal, "?"))


# --------------------------------------------------------------------------------------------
# External thread sync
# --------------------------------------------------------------------------------------------


def msg(
    external_id: str, text: str = "from the thread", actor: Actor | None = None
) -> ExternalMessage:
    return ExternalMessage(external_id, text, None, SLACK, actor)


def test_sync_returns_false_and_writes_nothing_when_case_has_no_thread(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    before = timeline(container, principal, case)
    assert container.timeline.sync_external(principal, case.id, []) is False
    assert timeline(container, principal, case) == before
    assert container.cases.get(principal, case.id) == case


def test_sync_appends_new_messages_as_comments_with_their_source(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    slack_user = Actor(
        ActorKind.SLACK,
        {"slackUserId": "U0001", "displayName": "Dana", "userEmail": "dana@example.test"},
    )
    sent_at = 1_758_537_000_000_000
    messages = [
        ExternalMessage("slack-1", "  customers report errors  ", sent_at, SLACK, slack_user),
        ExternalMessage("slack-2", "rolling back", None, None, None),
    ]

    assert container.timeline.sync_external(principal, case.id, messages) is True

    new = timeline(container, principal, case)[-2:]
    by_ext = {e.external_id: e for e in new}
    assert set(by_ext) == {"slack-1", "slack-2"}
    first, second = by_ext["slack-1"], by_ext["slack-2"]
    assert as_stored(first.data) == {
        "comment": {"unsafeText": "customers report errors", "attachments": [], **SLACK}
    }
    assert first.actor == slack_user
    assert first.event_time == sent_at
    assert encode(second.data) == {"unsafeText": "rolling back", "attachments": []}
    assert second.actor == principal.actor
    assert second.event_time == second.create_time
    assert container.cases.get(principal, case.id).update_time == first.create_time


def test_sync_is_idempotent_by_external_id(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    assert container.timeline.sync_external(principal, case.id, [msg("a"), msg("b")]) is True
    after_first = timeline(container, principal, case)
    stored = container.cases.get(principal, case.id)

    assert container.timeline.sync_external(principal, case.id, [msg("a"), msg("b")]) is True
    assert timeline(container, principal, case) == after_first
    assert container.cases.get(principal, case.id) == stored

    assert container.timeline.sync_external(principal, case.id, [msg(" b "), msg("c")]) is True
    events = timeline(container, principal, case)
    assert [e.external_id for e in events[len(after_first) :]] == ["c"]

    assert container.timeline.sync_external(principal, case.id, []) is True  # a thread exists


def test_sync_adds_one_event_when_a_push_repeats_an_id(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    case = make_case()
    before = len(timeline(container, principal, case))
    container.timeline.sync_external(principal, case.id, [msg("dup", "one"), msg("dup", "two")])
    new = timeline(container, principal, case)[before:]
    assert [(e.external_id, encode(e.data)["unsafeText"]) for e in new] == [("dup", "one")]


@pytest.mark.parametrize(
    "bad",
    [msg(""), msg("   "), msg("x" * 513), msg("ok", ""), msg("ok", "  "), msg("ok", "t" * 10_001)],
)
def test_sync_rejects_push_and_writes_nothing_when_a_message_is_invalid(
    container: Container, principal: Principal, make_case: MakeCase, bad: ExternalMessage
) -> None:
    case = make_case()
    before = timeline(container, principal, case)
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.timeline.sync_external(principal, case.id, [msg("good"), bad]),
    )
    assert timeline(container, principal, case) == before


def test_sync_raises_not_found_when_case_is_unknown(
    container: Container, principal: Principal
) -> None:
    raises_code(
        ErrorCode.CASE_NOT_FOUND,
        lambda: container.timeline.sync_external(principal, str(uuid.uuid4()), [msg("a")]),
    )


# --------------------------------------------------------------------------------------------
# API keys
# --------------------------------------------------------------------------------------------


def test_api_key_plaintext_is_never_stored(container: Container, space: str) -> None:
    new = container.keys.create(
        granted_by=OPERATOR, name="ci bot", permissions=["case:Read"], space=space
    )
    prefix, secret = new.key.split("_", 2)[1:]
    assert new.key.startswith(f"ck_{new.row.prefix}_")
    assert prefix == new.row.prefix
    assert len(secret) >= 32
    with container.db.engine.connect() as conn:
        row = conn.execute(sa.select(api_key).where(api_key.c.id == new.row.id)).one()
    stored = [str(value) for value in row._mapping.values()]
    assert not any(new.key in value for value in stored)
    assert not any(secret in value for value in stored)
    assert not any(secret[:16] in value for value in stored)


def test_authenticate_accepts_key_with_or_without_bearer_prefix(
    container: Container, make_key: MakeKey
) -> None:
    key, principal = make_key("case:Read", name="reader")
    for header in (key, f"Bearer {key}", f"bearer {key}", f"  BEARER   {key}  "):
        got = container.keys.authenticate(header)
        assert got == principal
    assert principal.key_name == "reader"
    assert principal.permissions == frozenset({Permission.CASE_READ})
    assert as_stored_actor(principal.actor) == {
        "apiKey": {"id": principal.key_id, "name": "reader"}
    }
    container.keys.drain()  # last use is written off the caller's thread
    (row,) = container.keys.list(OPERATOR, space=principal.space_name)
    assert row.last_used_time is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer ",
        "Bearer",
        "garbage",
        "ck_short_secret",
        "xx_12345678_secret",
        "ck_12345678",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_authenticate_raises_unauthenticated_when_key_is_missing_or_malformed(
    container: Container, header: str | None
) -> None:
    err = raises_code(ErrorCode.UNAUTHENTICATED, lambda: container.keys.authenticate(header))
    assert err.spec.http_status == 401


def test_authenticate_raises_unauthenticated_when_secret_or_prefix_is_wrong(
    container: Container, make_key: MakeKey
) -> None:
    key, _ = make_key()
    prefix = key.split("_")[1]
    wrong_secret = f"ck_{prefix}_{'A' * 43}"
    unknown_prefix = f"ck_{'0' * 8}_{key.split('_', 2)[2]}"
    for header in (wrong_secret, unknown_prefix, key + "x", key[:-1]):
        with pytest.raises(CasekeeperError) as err:
            container.keys.authenticate(header)
        assert err.value.code is ErrorCode.UNAUTHENTICATED


def test_authenticate_raises_unauthenticated_when_key_is_revoked_even_if_cached(
    container: Container, make_key: MakeKey
) -> None:
    key, principal = make_key()
    assert container.keys.authenticate(key) == principal  # now cached
    revoked = container.keys.revoke(OPERATOR, principal.key_id.upper())
    assert revoked.revoke_time is not None
    err = raises_code(ErrorCode.UNAUTHENTICATED, lambda: container.keys.authenticate(key))
    assert "revoked" in err.message


def test_revoke_raises_not_found_when_key_is_unknown_or_in_another_space(
    container: Container, make_key: MakeKey
) -> None:
    _, mine = make_key()
    _, theirs = make_key(space_name=f"other-{uuid.uuid4().hex[:8]}")
    raises_code(
        ErrorCode.API_KEY_NOT_FOUND, lambda: container.keys.revoke(OPERATOR, str(uuid.uuid4()))
    )
    raises_code(
        ErrorCode.API_KEY_NOT_FOUND,
        lambda: container.keys.revoke(mine, theirs.key_id),
    )
    assert container.keys.list(OPERATOR, space=theirs.space_name)[0].id == theirs.key_id


def test_list_keys_hides_revoked_keys_unless_asked(
    container: Container, make_key: MakeKey, space: str
) -> None:
    _, a = make_key(name="a")
    _, b = make_key(name="b")
    container.keys.revoke(OPERATOR, a.key_id)
    assert [k.id for k in container.keys.list(OPERATOR, space=space)] == [b.key_id]
    assert {k.id for k in container.keys.list(OPERATOR, space=space, include_revoked=True)} == {
        a.key_id,
        b.key_id,
    }
    assert container.keys.list(OPERATOR, space="no-such-space-here") == []


@pytest.mark.parametrize(
    ("spelling", "permission"),
    [
        ("CASE:READ", Permission.CASE_READ),
        ("case:read", Permission.CASE_READ),
        ("case:Read", Permission.CASE_READ),
        (" CASE:COMMENT ", Permission.CASE_COMMENT),
        ("CASE-CONFIG:UPDATE", Permission.CASE_CONFIG_UPDATE),
        ("API-KEY:MANAGE", Permission.API_KEY_MANAGE),
    ],
)
def test_create_key_accepts_permission_in_any_case_and_stores_canonical_spelling(
    container: Container, space: str, spelling: str, permission: Permission
) -> None:
    new = container.keys.create(
        granted_by=OPERATOR, name="seeded", permissions=[spelling, spelling.lower()], space=space
    )
    assert new.row.permissions == (permission.value,)
    assert container.keys.authenticate(new.key).permissions == frozenset({permission})


@pytest.mark.parametrize("perms", [["case:Destroy"], ["case:Read", "root"], [], ["CASE"]])
def test_create_key_rejects_unknown_or_missing_permissions(
    container: Container, space: str, perms: list[str]
) -> None:
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.keys.create(
            granted_by=OPERATOR, name="bad", permissions=perms, space=space
        ),
    )
    assert container.keys.list(OPERATOR, space=space) == []


def test_create_key_rejection_names_the_unknown_permission(
    container: Container, space: str
) -> None:
    err = raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.keys.create(
            granted_by=OPERATOR, name="bad", permissions=["case:Destroy"], space=space
        ),
    )
    assert "case:Destroy" in err.message


@pytest.mark.parametrize(
    ("name", "space_name"),
    [("", "ok"), ("  ", "ok"), ("n" * 257, "ok"), ("k", "bad space!"), ("k", "x" * 65), ("k", "")],
)
def test_create_key_rejects_bad_name_or_space(
    container: Container, name: str, space_name: str
) -> None:
    raises_code(
        ErrorCode.INVALID_ARGUMENT,
        lambda: container.keys.create(
            granted_by=OPERATOR, name=name, permissions=["case:Read"], space=space_name
        ),
    )


def test_create_key_normalizes_space_name(container: Container) -> None:
    name = f"Team-{uuid.uuid4().hex[:8].upper()}"
    new = container.keys.create(
        granted_by=OPERATOR, name="k", permissions=["case:Read"], space=f"  {name} "
    )
    assert new.row.space_name == name.lower()
    assert container.keys.authenticate(new.key).space_name == name.lower()


# --------------------------------------------------------------------------------------------
# Authorization
# --------------------------------------------------------------------------------------------

CASES: Final = "/com.coralogixapis.cases.v1.CasesService/"
EVENTS: Final = "/com.coralogixapis.cases.v1.CaseEventsService/"
ADMIN: Final = "/casekeeper.v1.CaseAdminService/"
KEYS: Final = "/casekeeper.v1.ApiKeysService/"
INCIDENTS: Final = "/com.coralogixapis.incidents.v1.IncidentsService/"
SETTINGS: Final = "/com.coralogixapis.cases.v1.CaseSettingsService/"
R, U, A, K, C = "case:Read", "case:Update", "case:Assign", "case:Acknowledge", "case:Close"

# From API_DIGEST §1.1 / §1.2, plus casekeeper's own services.
EXPECTED_PERMISSIONS: Final[dict[str, str]] = {
    CASES + "GetCase": R,
    CASES + "ListCases": R,
    CASES + "UpdateCase": U,
    CASES + "SetPriorityOverride": U,
    CASES + "ClearPriorityOverride": U,
    CASES + "AssignCase": A,
    CASES + "UnassignCase": A,
    CASES + "AcknowledgeCase": K,
    CASES + "UnacknowledgeCase": K,
    CASES + "ResolveCase": C,
    CASES + "CloseCase": C,
    CASES + "BulkAssign": A,
    CASES + "BulkUnassign": A,
    CASES + "BulkAcknowledge": K,
    CASES + "BulkResolve": C,
    CASES + "BulkClose": C,
    CASES + "BulkSetPriorityOverride": U,
    CASES + "BulkClearPriorityOverride": U,
    CASES + "GetFilterValues": R,
    CASES + "GetGroupingKeys": R,
    CASES + "GetCaseDeepLinks": R,
    CASES + "GetCaseByIndicator": R,
    EVENTS + "ListEvents": R,
    EVENTS + "GetEvent": R,
    EVENTS + "CreateComment": "case:Comment",
    EVENTS + "UpdateComment": "case:Comment",
    EVENTS + "DeleteComment": "case:Comment",
    EVENTS + "SyncExternalCaseEvents": "case:Comment",
    ADMIN + "CreateCase": "case:Create",
    ADMIN + "RecordAlertEvent": "signals:Write",
    KEYS + "CreateApiKey": "api-key:Manage",
    KEYS + "ListApiKeys": "api-key:Manage",
    KEYS + "RevokeApiKey": "api-key:Manage",
    # From API_DIGEST §1.5 (the internal GetIncidentUsingCorrelationKey reads).
    **{
        INCIDENTS + rpc: "incidents:read"
        for rpc in (
            "GetIncident",
            "BatchGetIncident",
            "ListIncidents",
            "ListIncidentAggregations",
            "GetFilterValues",
            "GetIncidentEvents",
            "GetIncidentByEventId",
            "ListIncidentEvents",
            "ListIncidentEventsTotalCount",
            "ListIncidentEventsFilterValues",
            "GetIncidentUsingCorrelationKey",
        )
    },
    INCIDENTS + "AssignIncidents": "incidents:assign",
    INCIDENTS + "UnassignIncidents": "incidents:assign",
    INCIDENTS + "AcknowledgeIncidents": "incidents:acknowledge",
    INCIDENTS + "AcknowledgeIncidentByEventId": "incidents:acknowledge",
    INCIDENTS + "CloseIncidents": "incidents:close",
    INCIDENTS + "ResolveIncidents": "incidents:close",
    INCIDENTS + "ResolveIncidentByEventId": "incidents:close",
    SETTINGS + "CreateCaseSettings": "case-config:Update",
    SETTINGS + "GetCaseSettings": "case-config:Read",
    SETTINGS + "UpdateCaseSettings": "case-config:Update",
    SETTINGS + "DeleteCaseSettings": "case-config:Update",
    SETTINGS + "GetActiveCaseSettings": "case-config:Read",
    SETTINGS + "GetSystemDefaultCaseSettings": "case-config:Read",
    "/com.coralogixapis.cases.v1.CasesNotificationService/ListNotificationDeliveries": "case:Read",
}


def test_operation_permissions_cover_exactly_the_public_and_own_methods() -> None:
    assert len([k for k in EXPECTED_PERMISSIONS if k.startswith(CASES)]) == 22
    assert len([k for k in EXPECTED_PERMISSIONS if k.startswith(EVENTS)]) == 6
    assert {k: v.value for k, v in OPERATION_PERMISSIONS.items()} == EXPECTED_PERMISSIONS


def test_operation_permissions_name_every_method_of_the_served_protos() -> None:
    methods = {
        f"/{svc.full_name}/{m.name}"
        for module in (
            cases_service_pb2,
            case_events_service_pb2,
            case_admin_pb2,
            api_keys_pb2,
            incidents_service_pb2,
            case_settings_service_pb2,
            cases_notification_service_pb2,
        )
        for svc in module.DESCRIPTOR.services_by_name.values()
        for m in svc.methods
    }
    assert methods == set(OPERATION_PERMISSIONS)


def test_authorize_allows_operation_when_key_holds_its_permission(make_key: MakeKey) -> None:
    _, p = make_key("case:Read", "case:Comment")
    authorize(p, CASES + "GetCase")
    authorize(p, EVENTS + "CreateComment")


@pytest.mark.parametrize(
    ("operation", "needed"),
    [
        (CASES + "AcknowledgeCase", "case:Acknowledge"),
        (CASES + "BulkClose", "case:Close"),
        (EVENTS + "DeleteComment", "case:Comment"),
        (ADMIN + "CreateCase", "case:Create"),
        (KEYS + "RevokeApiKey", "api-key:Manage"),
    ],
)
def test_authorize_raises_permission_denied_naming_the_permission_when_key_lacks_it(
    make_key: MakeKey, operation: str, needed: str
) -> None:
    _, p = make_key("case:Read")
    err = raises_code(ErrorCode.PERMISSION_DENIED, lambda: authorize(p, operation))
    assert needed in err.message
    assert operation.rsplit("/", 1)[-1] in err.message
    assert err.spec.http_status == 403


def test_authorize_raises_permission_denied_when_operation_is_unknown(make_key: MakeKey) -> None:
    _, p = make_key()
    raises_code(ErrorCode.PERMISSION_DENIED, lambda: authorize(p, CASES + "DropAllCases"))


# --------------------------------------------------------------------------------------------
# Tenancy
# --------------------------------------------------------------------------------------------


@pytest.fixture
def other(make_key: MakeKey) -> Principal:
    return make_key(space_name=f"other-{uuid.uuid4().hex[:10]}")[1]


def test_principal_cannot_read_cases_of_another_space(
    container: Container, principal: Principal, other: Principal, make_case: MakeCase
) -> None:
    mine = make_case(title="mine", groupings={"svc": "a"})
    theirs = make_case(title="theirs", groupings={"svc": "b"}, who=other)
    assert mine.number == theirs.number == 1  # numbering is per space

    assert container.cases.get(principal, "CASE-1").id == mine.id
    assert container.cases.get(other, "case-1").id == theirs.id
    raises_code(ErrorCode.CASE_NOT_FOUND, lambda: container.cases.get(principal, theirs.id))
    listed, _ = container.cases.list_cases(principal, CaseQuery())
    assert [c.id for c in listed] == [mine.id]
    fv = container.cases.filter_values(principal, CaseFilters())
    assert fv.statuses == {CaseStatus.ACTIVE: 1}
    assert fv.groupings == {"svc": {"a": 1}}
    assert container.cases.grouping_keys(principal) == ["svc"]
    raises_code(
        ErrorCode.CASE_NOT_FOUND, lambda: container.timeline.list_events(principal, theirs.id)
    )


def test_principal_cannot_change_cases_of_another_space(
    container: Container, principal: Principal, other: Principal, make_case: MakeCase
) -> None:
    theirs = make_case(who=other)
    svc = container.cases
    for call in (
        lambda: one(svc, principal, theirs.id, cmd.Acknowledge()),
        lambda: one(svc, principal, theirs.id, cmd.Close()),
        lambda: one(svc, principal, theirs.id, cmd.Assign(USER_A)),
        lambda: one(svc, principal, theirs.id, cmd.SetPriorityOverride(CasePriority(1))),
        lambda: one(svc, principal, theirs.id, cmd.Retitle("hijacked")),
        lambda: container.timeline.create_comment(principal, theirs.id, "hello"),
        lambda: container.timeline.sync_external(principal, theirs.id, [msg("x")]),
    ):
        raises_code(ErrorCode.CASE_NOT_FOUND, call)
    result = many(svc, principal, [theirs.id], command_for(Operation.ACKNOWLEDGE))
    assert result.cases == []
    assert [(f.id, f.code) for f in result.failures] == [(theirs.id, ErrorCode.CASE_NOT_FOUND)]
    assert svc.get(other, theirs.id) == theirs
    assert len(timeline(container, other, theirs)) == 2  # created + activated only


def test_principal_cannot_touch_events_of_another_space(
    container: Container, principal: Principal, other: Principal, make_case: MakeCase
) -> None:
    theirs = make_case(who=other)
    comment = container.timeline.create_comment(other, theirs.id, "private")
    for call in (
        lambda: container.timeline.get(principal, comment.event_id),
        lambda: container.timeline.update_comment(principal, comment.event_id, "mine now"),
        lambda: container.timeline.delete_comment(principal, comment.event_id),
    ):
        raises_code(ErrorCode.EVENT_NOT_FOUND, call)
    assert container.timeline.get(other, comment.event_id) == comment


def test_principal_cannot_find_prometheus_alert_of_another_space(
    container: Container, principal: Principal, other: Principal, make_case: MakeCase
) -> None:
    indicator = {
        "alerts": [
            {
                "fingerprint": "fp-t",
                "status": {"triggered": {"triggeredAt": "2025-09-22T10:30:00Z"}},
            }
        ]
    }
    theirs = make_case(who=other, indicators={"prometheusAlertIndicators": [indicator]})
    started = 1_758_537_000_000_000
    assert container.cases.get_by_prometheus_alert(other, "fp-t", started).id == theirs.id
    raises_code(
        ErrorCode.INDICATOR_NOT_FOUND,
        lambda: container.cases.get_by_prometheus_alert(principal, "fp-t", started),
    )

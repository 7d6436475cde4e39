"""CaseEventsService end to end: the timeline, comments and external thread sync."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from casekeeper.proto.com.coralogixapis.cases.v1 import case_event_pb2 as ev_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as cases_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2 as common_pb
from tests.api.coralogix.grpc.conftest import Client, expect_error
from tests.conftest import MakeCase

MISSING = "00000000-0000-4000-8000-000000000000"


def timeline(api: Client, case_id: str) -> list[ev_pb.CaseEvent]:
    return list(api.events.ListEvents(pb.ListEventsRequest(case_id=case_id)).events)


def kinds(items: list[ev_pb.CaseEvent]) -> list[str]:
    return [e.event_data.WhichOneof("data") or "" for e in items]


def comment(api: Client, case_id: str, text: str = "a comment") -> ev_pb.CaseEvent:
    event: ev_pb.CaseEvent = api.events.CreateComment(
        pb.CreateCommentRequest(case_id=case_id, text=text)
    ).event
    return event


def file_attachment(name: str) -> ev_pb.CommentAttachment:
    return ev_pb.CommentAttachment(
        file=ev_pb.FileAttachment(file_name=name, file_id=str(uuid.uuid4()))
    )


def test_list_events_in_order(api: Client, make_case: MakeCase) -> None:
    case = make_case(priority=2)
    api.cases.AcknowledgeCase(cases_pb.AcknowledgeCaseRequest(id=case.id))
    comment(api, case.id, "looking")
    api.cases.AssignCase(
        cases_pb.AssignCaseRequest(
            id=case.id, assignee=common_pb.UserDetails(user_id=str(uuid.uuid4()))
        )
    )
    got = timeline(api, case.id)
    assert kinds(got) == ["created", "status_changed", "status_changed", "comment", "assigned"]
    assert got[0].event_data.created.priority == 2
    assert [e.event_id for e in timeline(api, f"case-{case.number}")] == [e.event_id for e in got]
    times = [e.create_time.ToMicroseconds() for e in got]
    assert times == sorted(times)
    assert len({e.event_id for e in got}) == len(got)
    for e in got:
        assert e.HasField("event_time")
        assert not e.HasField("update_time")
    expect_error(
        grpc.StatusCode.NOT_FOUND, api.events.ListEvents, pb.ListEventsRequest(case_id=MISSING)
    )


def test_get_event(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    first = timeline(api, case.id)[0]
    assert api.events.GetEvent(pb.GetEventRequest(event_id=first.event_id)).event == first
    upper = api.events.GetEvent(pb.GetEventRequest(event_id=first.event_id.upper())).event
    assert upper == first
    err = expect_error(
        grpc.StatusCode.NOT_FOUND, api.events.GetEvent, pb.GetEventRequest(event_id=MISSING)
    )
    assert MISSING in (err.details() or "")
    for bad in ("not-a-uuid", "", first.event_id + "0"):
        err = expect_error(
            grpc.StatusCode.INVALID_ARGUMENT, api.events.GetEvent, pb.GetEventRequest(event_id=bad)
        )
        assert "event_id" in (err.details() or "")


def test_create_comment_with_attachments(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    log_time = Timestamp(seconds=1_758_537_000)
    attachments = [
        file_attachment("trace.log"),
        ev_pb.CommentAttachment(
            log=ev_pb.LogAttachment(
                log_id=str(uuid.uuid4()), log_timestamp=log_time, log_content="ERROR boom"
            )
        ),
    ]
    event = api.events.CreateComment(
        pb.CreateCommentRequest(case_id=case.id, text="  see the trace  ", attachments=attachments)
    ).event
    body = event.event_data.comment
    assert body.unsafe_text == "see the trace"
    assert [a.WhichOneof("attachment") for a in body.attachments] == ["file", "log"]
    assert body.attachments[0].file == attachments[0].file
    assert body.attachments[1].log.log_content == "ERROR boom"
    assert body.attachments[1].log.log_timestamp == log_time
    assert body.WhichOneof("source") is None
    assert (event.actor.api_key.id, event.actor.api_key.name) == (api.key_id, api.key_name)
    assert not event.HasField("update_time")
    # Stored as sent, and the case's update time moved with its timeline.
    assert api.events.GetEvent(pb.GetEventRequest(event_id=event.event_id)).event == event
    assert timeline(api, case.id)[-1] == event
    after = api.cases.GetCase(cases_pb.GetCaseRequest(id=case.id)).case
    assert after.update_time.ToMicroseconds() == event.create_time.ToMicroseconds()
    assert after.update_time.ToMicroseconds() > case.update_time


def test_create_comment_on_readable_id_and_closed_case(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    api.cases.CloseCase(cases_pb.CloseCaseRequest(id=case.id))
    event = comment(api, f"case-{case.number}", "post-mortem notes")
    assert event.event_data.comment.unsafe_text == "post-mortem notes"
    assert kinds(timeline(api, case.id))[-1] == "comment"


def test_update_comment_sets_update_time(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    original = api.events.CreateComment(
        pb.CreateCommentRequest(
            case_id=case.id, text="first draft", attachments=[file_attachment("a.txt")]
        )
    ).event
    updated = api.events.UpdateComment(
        pb.UpdateCommentRequest(
            event_id=original.event_id,
            text="second draft",
            attachments=[file_attachment("b.txt")],
        )
    ).event
    assert updated.event_id == original.event_id
    assert updated.event_data.comment.unsafe_text == "second draft"
    assert [a.file.file_name for a in updated.event_data.comment.attachments] == ["b.txt"]
    assert updated.HasField("update_time")
    assert updated.update_time.ToMicroseconds() >= original.create_time.ToMicroseconds()
    assert updated.create_time == original.create_time
    assert updated.actor == original.actor
    stored = api.events.GetEvent(pb.GetEventRequest(event_id=original.event_id)).event
    assert stored == updated
    assert kinds(timeline(api, case.id)).count("comment") == 1


def test_delete_comment(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    keep = comment(api, case.id, "keep me")
    gone = comment(api, case.id, "delete me")
    resp = api.events.DeleteComment(pb.DeleteCommentRequest(event_id=gone.event_id))
    assert resp == pb.DeleteCommentResponse()
    expect_error(
        grpc.StatusCode.NOT_FOUND, api.events.GetEvent, pb.GetEventRequest(event_id=gone.event_id)
    )
    ids = [e.event_id for e in timeline(api, case.id)]
    assert keep.event_id in ids
    assert gone.event_id not in ids
    for rpc, req in (
        (api.events.DeleteComment, pb.DeleteCommentRequest(event_id=gone.event_id)),
        (api.events.UpdateComment, pb.UpdateCommentRequest(event_id=gone.event_id, text="x")),
    ):
        expect_error(grpc.StatusCode.NOT_FOUND, rpc, req)


def test_non_comment_events_cannot_be_edited(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    api.cases.AcknowledgeCase(cases_pb.AcknowledgeCaseRequest(id=case.id))
    before = timeline(api, case.id)
    for event in before:  # created, activation, acknowledgement
        kind = event.event_data.WhichOneof("data")
        err = expect_error(
            grpc.StatusCode.FAILED_PRECONDITION,
            api.events.UpdateComment,
            pb.UpdateCommentRequest(event_id=event.event_id, text="rewrite history"),
        )
        assert "only comment events" in (err.details() or ""), kind
        expect_error(
            grpc.StatusCode.FAILED_PRECONDITION,
            api.events.DeleteComment,
            pb.DeleteCommentRequest(event_id=event.event_id),
        )
    assert timeline(api, case.id) == before


def _slack_message(external_id: str, text: str, at: int) -> pb.ExternalThreadMessage:
    return pb.ExternalThreadMessage(
        external_id=external_id,
        text=text,
        event_time=Timestamp(seconds=at),
        slack=ev_pb.SlackCommentMetadata(
            workspace_id="T123",
            channel_id="C456",
            thread_id="1758537000.000100",
            user_id="U789",
            user_email="oncall@example.test",
        ),
        actor=ev_pb.EventActor(
            slack=ev_pb.SlackActor(slack_user_id="U789", display_name="On Call")
        ),
    )


def test_sync_external_case_events_is_idempotent(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    sync = api.events.SyncExternalCaseEvents
    empty = sync(pb.SyncExternalCaseEventsRequest(case_id=case.id))
    assert empty.sync_registered is False  # no external thread linked yet
    start = len(timeline(api, case.id))

    messages = [
        _slack_message("slack-1", "first reply", 1_758_537_100),
        _slack_message("slack-2", "second reply", 1_758_537_200),
    ]
    resp = sync(pb.SyncExternalCaseEventsRequest(case_id=case.id, messages=messages))
    assert resp.sync_registered is True
    synced = timeline(api, case.id)[start:]
    assert [e.event_data.comment.unsafe_text for e in synced] == ["first reply", "second reply"]
    first = synced[0]
    assert first.event_data.comment.WhichOneof("source") == "slack"
    assert first.event_data.comment.slack == messages[0].slack
    assert first.actor.WhichOneof("actor") == "slack"
    assert first.actor.slack.display_name == "On Call"
    assert first.event_time.seconds == 1_758_537_100

    # Pushing the same messages again (plus one new) adds only the new one.
    again = sync(
        pb.SyncExternalCaseEventsRequest(
            case_id=f"case-{case.number}",
            messages=[*messages, _slack_message("slack-3", "third reply", 1_758_537_300)],
        )
    )
    assert again.sync_registered is True
    texts = [e.event_data.comment.unsafe_text for e in timeline(api, case.id)[start:]]
    assert texts == ["first reply", "second reply", "third reply"]
    # A repeat with nothing new still reports the linked thread.
    repeat = sync(pb.SyncExternalCaseEventsRequest(case_id=case.id, messages=messages[:1]))
    assert repeat.sync_registered is True
    assert sync(pb.SyncExternalCaseEventsRequest(case_id=case.id)).sync_registered is True
    assert len(timeline(api, case.id)) == start + 3


def test_sync_without_actor_uses_the_key(api: Client, make_case: MakeCase) -> None:
    case = make_case()
    message = pb.ExternalThreadMessage(external_id="teams-1", text="from teams")
    message.microsoft_teams.team_id = "team-1"
    api.events.SyncExternalCaseEvents(
        pb.SyncExternalCaseEventsRequest(case_id=case.id, messages=[message, message])
    )
    last = timeline(api, case.id)
    assert kinds(last).count("comment") == 1  # duplicates inside one call collapse too
    event = last[-1]
    assert event.event_data.comment.WhichOneof("source") == "microsoft_teams"
    assert event.event_data.comment.microsoft_teams.team_id == "team-1"
    assert event.actor.api_key.id == api.key_id

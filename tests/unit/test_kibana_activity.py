"""Every kind of timeline event renders as a Kibana user action (seed 002's shape and
``_find``'s), with the type and payload docs/KIBANA.md's activity table gives: events that came
from other dialects (Coralogix, signals) show in the Kibana view too."""

from __future__ import annotations

import orjson
import pytest

from casekeeper.api.kibana import render
from casekeeper.domain import timeline as t
from casekeeper.domain.enums import ActorKind, CaseCategory, CasePriority, CaseStatus, EventKind
from casekeeper.domain.events import Actor, CaseEvent
from casekeeper.domain.model import Case, PriorityDetails
from tests.unit.event_cases import CASES

CASE = Case(
    id="c",
    space_id=1,
    title="Disk full",
    status=CaseStatus.ACTIVE,
    priority=PriorityDetails(CasePriority.P2),
    category=CaseCategory.AVAILABILITY,
    create_time=1,
    update_time=1,
    description="now",
)
KIBANA_TYPES = {
    EventKind.CREATED: "create_case",
    EventKind.COMMENT: "comment",
    EventKind.STATUS_CHANGED: "status",
    EventKind.ASSIGNED: "assignees",
    EventKind.UNASSIGNED: "assignees",
    EventKind.PRIORITY_DETAILS_CHANGED: "severity",
    EventKind.TITLE_CHANGED: "title",
    EventKind.DESCRIPTION_CHANGED: "description",
    EventKind.TAGS_CHANGED: "tags",
}


def event(data: t.TimelineEvent, actor: Actor | None = None) -> CaseEvent:
    return CaseEvent("e", "c", 1, data, actor or Actor.api_key("k", "bot"), 1_000, 1_000)


@pytest.mark.parametrize(
    ("name", "data"), [(n, d) for n, _, d in CASES], ids=[n for n, *_ in CASES]
)
def test_every_event_kind_renders_as_an_action(name: str, data: t.TimelineEvent) -> None:
    for legacy in (True, False):
        actions = render.user_actions([event(data)], CASE, {}, legacy=legacy)
        assert actions or isinstance(data, t.TagsChanged)  # an empty tag change shows nothing
        for a in actions:
            orjson.dumps(a)  # JSON all the way down
            assert a["owner"] == "observability"
            assert a["action"] in ("add", "create", "delete", "update")
            expected = KIBANA_TYPES.get(data.kind)
            if isinstance(data, t.IncidentChanged) and data.change is t.IncidentChange.OPENED:
                expected = "comment"
            assert a["type"] == (expected or f"casekeeper.{data.kind.value}"), name
            assert ("action_id" in a) is legacy
            assert ("id" in a) is not legacy


def test_payloads_say_what_changed_in_kibanas_words() -> None:
    def one(data: t.TimelineEvent) -> tuple[str, dict[str, object]]:
        (a,) = render.user_actions([event(data)], CASE, {}, legacy=True)
        return a["action"], a["payload"]

    assert one(t.StatusChanged(CaseStatus.ACTIVE, CaseStatus.ACKNOWLEDGED)) == (
        "update",
        {"status": "in-progress"},
    )
    assert one(t.StatusChanged(CaseStatus.RESOLVED, CaseStatus.CLOSED))[1] == {"status": "closed"}
    assert one(
        t.PriorityChanged(
            PriorityDetails(CasePriority.P4), PriorityDetails(CasePriority.P4, CasePriority.P1)
        )
    ) == ("update", {"severity": "critical"})
    assert one(t.TagsChanged(("db",), ())) == ("add", {"tags": ["db"]})
    assert one(t.TagsChanged((), ("db",))) == ("delete", {"tags": ["db"]})
    assert one(t.Unassigned("u1")) == ("delete", {"assignees": [{"uid": "u1"}]})
    assert one(t.DescriptionChanged(True, True)) == ("update", {"description": "now"})
    opened = one(t.IncidentChanged("i1", t.IncidentChange.OPENED))
    assert opened[0] == "create"
    assert opened[1]["comment"]["type"] == "alert"  # type: ignore[index]
    assert opened[1]["comment"]["alertId"] == "i1"  # type: ignore[index]


def test_who_acted_in_kibanas_user_shape() -> None:
    system = render.user_actions(
        [event(t.Created(CasePriority.P2), Actor.system())], CASE, {}, legacy=True
    )[0]["created_by"]
    assert system == {"username": "casekeeper", "email": None, "full_name": "casekeeper (system)"}
    key = render.user_actions([event(t.Created(CasePriority.P2))], CASE, {}, legacy=True)
    assert key[0]["created_by"]["username"] == "bot"
    sender = Actor(ActorKind.PROMETHEUS_ALERT_MANAGER, {"receiverName": "sre"})
    am = render.user_actions([event(t.Created(CasePriority.P2), sender)], CASE, {}, legacy=True)
    assert am[0]["created_by"]["username"] == "prometheusAlertManager:sre"

"""The seeds' requests through real tools: seed 001's ListIncidents through the real grpcurl
(reflection, ``-plaintext``, the host swapped) and over REST as written; seed 003's
``POST /mgmt/openapi/incidents/incidents/v1/by-user`` with a body and without one.

grpcurl's JSON mapping writes ``StringValue`` wrappers as plain strings and refuses the seed's
``{"value": ...}`` objects on the client side (before anything is sent), so the grpcurl command
is the seed's with only those wrappers unwrapped (docs/INCIDENTS_API.md says so too).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from casekeeper.domain.incidents import Incident
from tests.api.coralogix.incidents.conftest import INCIDENTS_SERVICE, Alerts, Grpc, Rest

ASSIGNEE = "assignee@coralogixstg.wpengine.com"
ORDER_BYS = [
    {
        "direction": "ORDER_BY_DIRECTION_UNSPECIFIED",
        "incident_field": "INCIDENTS_FIELDS_CREATED_TIME",
    }
]
# Seed 001's request, as written.
SEED_001: dict[str, Any] = {"filter": {"assignee": [{"value": ASSIGNEE}]}, "order_bys": ORDER_BYS}
# The same with the StringValue wrappers unwrapped: what grpcurl accepts.
SEED_001_FOR_GRPCURL = {"filter": {"assignee": [ASSIGNEE]}, "order_bys": ORDER_BYS}


def _grpcurl(binary: Path, target: str, key: str, method: str, body: dict[str, Any]) -> Any:
    """The seed's command line (a heredoc on stdin), with -plaintext and the local host."""
    command = (
        f"{shlex.quote(str(binary))} -plaintext "
        f'-H "Authorization: Bearer {key}" -d @ {target} {INCIDENTS_SERVICE}/{method} <<EOF\n'
        f"{json.dumps(body, indent=4)}\n"
        "EOF\n"
    )
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.fixture
def assigned(api: Grpc, alerts: Alerts, rest: Rest) -> list[Incident]:
    """Three incidents, the first and last assigned to the seed's assignee (oldest first)."""
    made = [alerts.fire(name=f"seed alert {i}") for i in range(3)]
    for x in (made[0], made[2]):
        rest.call(
            "AssignIncidents", json={"incidentIds": [x.id], "assignedTo": {"userId": ASSIGNEE}}
        )
    return made


def test_reflection_describes_the_incidents_service(grpcurl_path: Path, grpc_target: str) -> None:
    def run(*args: str) -> str:
        done = subprocess.run(
            [str(grpcurl_path), "-plaintext", grpc_target, *args],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        return done.stdout

    assert INCIDENTS_SERVICE in run("list").split()
    methods = run("list", INCIDENTS_SERVICE).split()
    assert len(methods) == 18
    assert f"{INCIDENTS_SERVICE}.GetIncidentUsingCorrelationKey" in methods
    described = run("describe", "com.coralogixapis.incidents.v1.Incident")
    assert ".google.protobuf.StringValue id = 1;" in described
    assert ".google.protobuf.Duration duration = 19;" in described
    request = run("describe", "com.coralogixapis.incidents.v1.AssignIncidentsRequest")
    assert "repeated .google.protobuf.StringValue incident_ids = 5;" in request


def test_seed_001_list_incidents_through_grpcurl(
    grpcurl_path: Path, grpc_target: str, api: Grpc, assigned: list[Incident]
) -> None:
    done = _grpcurl(grpcurl_path, grpc_target, api.key, "ListIncidents", SEED_001_FOR_GRPCURL)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    # Newest first: the seed's UNSPECIFIED direction is the default (descending).
    assert [x["id"] for x in got["incidents"]] == [assigned[2].id, assigned[0].id]
    first = got["incidents"][0]
    assert first["assignments"][0]["assigned_to"] == {"user_id": ASSIGNEE}
    assert first["state"] == "INCIDENT_STATE_TRIGGERED"
    assert first["is_muted"] is False
    assert first["contextual_labels"]["alert_name"] == "seed alert 2"
    assert got["pagination"]["total_size"] == 2


def test_grpcurl_itself_refuses_the_seeds_wrapper_objects(
    grpcurl_path: Path, grpc_target: str, api: Grpc
) -> None:
    """Why the README unwraps them: grpcurl fails before sending (nothing reaches the server)."""
    done = _grpcurl(grpcurl_path, grpc_target, api.key, "ListIncidents", SEED_001)
    assert done.returncode == 1, done.stderr  # a client-side failure, not 64 + a status
    assert "error getting request data" in done.stderr, done.stderr
    assert "cannot unmarshal object into Go value of type string" in done.stderr
    assert "Code:" not in done.stderr  # no status: the call was never made


def test_seed_001_list_incidents_over_rest_as_written(rest: Rest, assigned: list[Incident]) -> None:
    body = rest.call("ListIncidents", json=SEED_001)
    assert [x["id"] for x in body["incidents"]] == [assigned[2].id, assigned[0].id]
    assert body["incidents"][0]["events"] == []
    assert body["pagination"]["totalSize"] == 2
    # The seed's response form for labels ([{key, value}]) is accepted as input too.
    labels = [{"key": "alert_name", "value": {"contextualLabelValues": ["seed alert 0"]}}]
    narrowed = {"assignee": [{"value": ASSIGNEE}], "contextual_labels": labels}
    only = rest.call("ListIncidents", json={"filter": narrowed, "order_bys": ORDER_BYS})
    assert [x["id"] for x in only["incidents"]] == [assigned[0].id]


def test_seed_003_assign_by_user(rest: Rest, alerts: Alerts) -> None:
    x = alerts.fire()
    path = "/mgmt/openapi/incidents/incidents/v1/by-user"
    body = {"incidentIds": [x.id], "assignedTo": {"userId": "<any>"}}
    response = rest.request("POST", path, json=body)
    assert response.status_code == 200, response.text
    got = rest.reference.validate("AssignIncidents", response)["incidents"]
    assert got[0]["assignments"][0]["assignedTo"] == {"userId": "<any>"}


@pytest.mark.parametrize("body", [None, b"", b"{}"])
def test_seed_003_without_a_body_is_a_400_naming_the_field(rest: Rest, body: bytes | None) -> None:
    """The seed's node snippet sends no body at all: a clear 400, never a 500."""
    path = "/mgmt/openapi/incidents/incidents/v1/by-user"
    response = rest.request("POST", path, content=body)
    assert response.status_code == 400, response.text
    message = rest.reference.validate("AssignIncidents", response)["message"]
    assert message.startswith("assignedTo.userId: ")


def test_seed_003_against_a_real_node_style_client(base_url: str, rest: Rest) -> None:
    """A bare POST with only the Authorization header, as the seed's fetch() sends it."""
    response = httpx.post(
        f"{base_url}/mgmt/openapi/incidents/incidents/v1/by-user",
        headers={"Authorization": f"Bearer {rest.key}"},
        timeout=15,
    )
    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert "assignedTo" in response.json()["message"]

"""The real grpcurl binary against the real server, the way the Coralogix docs use it.

grpcurl learns the schema by server reflection; against a Python server it prints proto field
names (``readable_id``), renders Timestamps as RFC 3339 and int64 as strings, writes errors to
stderr and exits with 64 + the gRPC status code.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.coralogix.grpc.conftest import Client, MakeClient
from tests.conftest import MakeCase

CASES = "com.coralogixapis.cases.v1.CasesService"
EVENTS = "com.coralogixapis.cases.v1.CaseEventsService"
USER = "8d3bd6c1-0d41-4c65-9a58-5f6f2f1a1e01"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        assert self.code == 0, (self.code, self.stderr)
        return json.loads(self.stdout)


@dataclass
class Grpcurl:
    binary: Path
    target: str

    def __call__(
        self,
        *verb: str,
        key: str | None = None,
        body: str | None = None,
        flags: tuple[str, ...] = (),
    ) -> Result:
        """``grpcurl -plaintext [flags] [-H auth] [-d @] <target> <verb...>``, body on stdin."""
        cmd = [str(self.binary), "-plaintext", *flags]
        if key is not None:
            cmd += ["-H", f"Authorization: Bearer {key}"]
        if body is not None:
            cmd += ["-d", "@"]
        cmd += [self.target, *verb]
        done = subprocess.run(cmd, input=body, capture_output=True, text=True, timeout=30)
        return Result(done.returncode, done.stdout, done.stderr)

    def call(self, method: str, key: str, body: dict[str, Any], *flags: str) -> Result:
        return self(method, key=key, body=json.dumps(body), flags=flags)


@pytest.fixture
def grpcurl(grpcurl_path: Path, grpc_target: str) -> Grpcurl:
    return Grpcurl(grpcurl_path, grpc_target)


def assert_error(result: Result, code_name: str, code_number: int, *words: str) -> None:
    assert result.code == 64 + code_number, (result.code, result.stderr)
    assert result.stdout == ""
    assert f"Code: {code_name}" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_list_services_by_reflection(grpcurl: Grpcurl) -> None:
    services = grpcurl("list").stdout.split()
    for name in (
        CASES,
        EVENTS,
        "casekeeper.v1.CaseAdminService",
        "casekeeper.v1.ApiKeysService",
        "grpc.health.v1.Health",
    ):
        assert name in services
    methods = grpcurl("list", CASES).stdout.split()
    assert len(methods) == 22
    assert f"{CASES}.GetCase" in methods
    assert f"{CASES}.GetCaseByIndicator" in methods
    assert len(grpcurl("list", EVENTS).stdout.split()) == 6
    described = grpcurl("describe", "com.coralogixapis.cases.v1.Case").stdout
    assert "optional string readable_id = 17;" in described


def test_health_check(grpcurl: Grpcurl) -> None:
    assert grpcurl("grpc.health.v1.Health/Check").json == {"status": "SERVING"}
    one = grpcurl("grpc.health.v1.Health/Check", body=json.dumps({"service": CASES}))
    assert one.json == {"status": "SERVING"}


def test_seed_get_case_command(
    grpcurl: Grpcurl, api: Client, make_case: MakeCase, grpc_target: str
) -> None:
    """The doc's sample, as written (with -plaintext): a heredoc on stdin and a lowercase
    readable id."""
    case = make_case(title="Spike in errors for specific country", priority=1)
    command = (
        f"{shlex.quote(str(grpcurl.binary))} -plaintext "
        f'-H "Authorization: Bearer {api.key}" -d @ {grpc_target} {CASES}/GetCase <<EOF\n'
        "{\n"
        f'    "id": "case-{case.number}"\n'
        "}\n"
        "EOF\n"
    )
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)["case"]
    assert got["id"] == case.id
    assert got["readable_id"] == f"CASE-{case.number}"
    assert got["title"] == "Spike in errors for specific country"
    assert got["status"] == "CASE_STATUS_ACTIVE"
    assert got["priority"] == "CASE_PRIORITY_P1"
    assert got["category"] == "CASE_CATEGORY_AVAILABILITY"
    assert got["priority_details"] == {"system": "CASE_PRIORITY_P1"}
    assert RFC3339.match(got["create_time"]), got["create_time"]
    assert RFC3339.match(got["update_time"]), got["update_time"]
    assert re.fullmatch(r"\d+", got["duration"]), got["duration"]  # int64 as a JSON string
    assert "assignee" not in got


def test_list_cases(grpcurl: Grpcurl, api: Client, make_case: MakeCase) -> None:
    low = make_case(priority=4)
    high = make_case(priority=1)
    make_case(priority=2, pending=True)
    body = {
        "filters": {"statuses": ["CASE_STATUS_ACTIVE"]},
        "pagination": {"page_size": 1},
        "order_by": {
            "field": "CASE_ORDER_BY_FIELD_PRIORITY",
            "direction": "CASE_ORDER_BY_DIRECTION_DESCENDING",
        },
    }
    first = grpcurl.call(f"{CASES}/ListCases", api.key, body).json
    assert [c["id"] for c in first["cases"]] == [high.id]
    token = first["pagination"]["next_page_token"]
    body["pagination"] = {"page_size": 1, "page_token": token}
    second = grpcurl.call(f"{CASES}/ListCases", api.key, body).json
    assert [c["id"] for c in second["cases"]] == [low.id]
    assert "next_page_token" not in second.get("pagination", {})
    # lowerCamelCase input (the REST spelling) is accepted too.
    camel = grpcurl.call(f"{CASES}/ListCases", api.key, {"filters": {"textSearch": "nothing"}})
    assert camel.json.get("cases", []) == []


def test_case_lifecycle(grpcurl: Grpcurl, api: Client, make_case: MakeCase) -> None:
    case = make_case()
    ref = f"case-{case.number}"

    assigned = grpcurl.call(
        f"{CASES}/AssignCase", api.key, {"id": ref, "assignee": {"user_id": USER}}
    ).json["case"]
    assert assigned["assignee"] == {"user_id": USER}

    acked = grpcurl.call(f"{CASES}/AcknowledgeCase", api.key, {"id": ref}).json["case"]
    assert acked["status"] == "CASE_STATUS_ACKNOWLEDGED"
    assert RFC3339.match(acked["acknowledge_time"])

    resolved = grpcurl.call(
        f"{CASES}/ResolveCase", api.key, {"id": ref, "reason": "restarted the pod"}
    ).json["case"]
    assert resolved["status"] == "CASE_STATUS_RESOLVED"
    details = resolved["resolution_details"]
    assert details["reason"] == "restarted the pod"
    assert details["resolved_by"] == {"api_key": {}}
    assert RFC3339.match(details["resolve_time"])

    closed = grpcurl.call(f"{CASES}/CloseCase", api.key, {"id": case.id}).json["case"]
    assert closed["status"] == "CASE_STATUS_CLOSED"

    comment = grpcurl.call(
        f"{EVENTS}/CreateComment", api.key, {"case_id": ref, "text": "post-mortem on Monday"}
    ).json["event"]
    assert comment["event_data"] == {"comment": {"unsafe_text": "post-mortem on Monday"}}
    assert comment["actor"] == {"api_key": {"id": api.key_id, "name": api.key_name}}

    events = grpcurl.call(f"{EVENTS}/ListEvents", api.key, {"case_id": ref}).json["events"]
    kinds = [next(iter(e["event_data"])) for e in events]
    assert kinds == [
        "created",
        "status_changed",
        "assigned",
        "status_changed",
        "status_changed",
        "status_changed",
        "comment",
    ]
    changes = [
        (
            e["event_data"]["status_changed"]["old_status"],
            e["event_data"]["status_changed"]["new_status"],
        )
        for e in events
        if "status_changed" in e["event_data"]
    ]
    assert changes == [
        ("CASE_STATUS_PENDING_ACTIVATION", "CASE_STATUS_ACTIVE"),
        ("CASE_STATUS_ACTIVE", "CASE_STATUS_ACKNOWLEDGED"),
        ("CASE_STATUS_ACKNOWLEDGED", "CASE_STATUS_RESOLVED"),
        ("CASE_STATUS_RESOLVED", "CASE_STATUS_CLOSED"),
    ]
    assert events[1]["actor"] == {"system": {}}
    for e in events[2:]:
        assert e["actor"] == {"api_key": {"id": api.key_id, "name": api.key_name}}
    assert events[-1]["event_id"] == comment["event_id"]


def test_errors_and_exit_codes(
    grpcurl: Grpcurl, api: Client, make_client: MakeClient, make_case: MakeCase
) -> None:
    case = make_case()
    missing = grpcurl.call(f"{CASES}/GetCase", api.key, {"id": "case-999999"})
    assert_error(missing, "NotFound", 5, "Message: Case not found: 'case-999999'")

    reader = make_client("case:Read")
    denied = grpcurl.call(
        f"{CASES}/AssignCase", reader.key, {"id": case.id, "assignee": {"user_id": USER}}
    )
    assert_error(denied, "PermissionDenied", 7, "'case:Assign'", "AssignCase")

    assert grpcurl.call(f"{CASES}/CloseCase", api.key, {"id": case.id}).code == 0
    refused = grpcurl.call(f"{CASES}/AcknowledgeCase", api.key, {"id": case.id})
    assert_error(refused, "FailedPrecondition", 9, "CASE_STATUS_CLOSED")

    bad = grpcurl.call(f"{CASES}/GetCase", api.key, {"id": "bad id!"})
    assert_error(bad, "InvalidArgument", 3, "is not a case UUID")

    anonymous = grpcurl(f"{CASES}/GetCase", body=json.dumps({"id": case.id}))
    assert_error(anonymous, "Unauthenticated", 16, "Authorization: Bearer")

    as_json = grpcurl.call(f"{CASES}/GetCase", api.key, {"id": "case-999999"}, "-format-error")
    assert as_json.code == 69
    assert json.loads(as_json.stderr) == {"code": 5, "message": "Case not found: 'case-999999'"}


def test_bulk_failures_trailer_is_visible(
    grpcurl: Grpcurl, api: Client, make_case: MakeCase
) -> None:
    case = make_case()
    result = grpcurl.call(f"{CASES}/BulkClose", api.key, {"ids": [case.id, "CASE-987654"]}, "-v")
    assert result.code == 0, result.stderr
    assert "casekeeper-bulk-failures:" in result.stdout
    line = next(x for x in result.stdout.splitlines() if x.startswith("casekeeper-bulk-failures:"))
    failures = json.loads(line.split(":", 1)[1])
    assert [(f["id"], f["code"]) for f in failures] == [("CASE-987654", "NOT_FOUND")]
    assert '"status": "CASE_STATUS_CLOSED"' in result.stdout

"""Write load on a real ``casekeeper serve`` for the fault tests and bench/faults.py.

Client threads create cases (gRPC CreateCase) and change them over REST (comments with unique
texts, acknowledge and unacknowledge, assign to a fresh user, priority override), each thread
on cases of its own, and record every operation with what became of it:

- ``OK``: the server acknowledged it (2xx, gRPC OK): it must be in the database, exactly once;
- ``DENIED``: refused (4xx, or the connection never opened): it must have left nothing;
- ``DOUBT``: unanswered or answered 503/UNAVAILABLE (the server died, the database went away
  mid-commit): all of its events or none.

Each thread only makes changes that take effect on the state it knows (acknowledge an active
case, a priority the case does not have), so every applied operation is one version and one
timeline event, and ``check_cases`` can replay the database's timeline against the record.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx

from casekeeper.api.kibana.render import parse_version
from casekeeper.proto.casekeeper.v1 import case_admin_pb2 as admin_pb
from casekeeper.proto.casekeeper.v1 import case_admin_pb2_grpc as admin_grpc
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb

OK, DENIED, DOUBT = "ok", "denied", "doubt"
ACTIVE, ACKNOWLEDGED = "CASE_STATUS_ACTIVE", "CASE_STATUS_ACKNOWLEDGED"
PRIORITIES = tuple(f"CASE_PRIORITY_P{n}" for n in range(1, 6))
# What a case created active carries (service/admin.py): created, then pending → active.
CREATE_EVENTS = (("created", ""), ("statusChanged", ACTIVE))
TIMEOUT = 10.0  # seconds: an answer later than this is a hang
# The loggers of request handling (api/http/middleware.py, api/grpc/calls.py, rpc.py).
REQUEST_LOGGERS = frozenset({"casekeeper.rest", "casekeeper.grpc", "casekeeper.access"})


@dataclass
class Op:
    kind: str  # create, comment, ack, unack, assign, priority, title
    case_id: str | None  # None for a create not acknowledged
    token: str  # the title, comment text, user id, new status or new priority
    outcome: str = DOUBT
    status: str = ""  # HTTP status or gRPC code name, or the transport error
    message: str = ""
    started: float = 0.0  # time.monotonic() when sent
    seconds: float = 0.0  # until answered
    returned: Any = None  # the answer's JSON

    def events(self) -> tuple[tuple[str, str], ...]:
        """The (kind, token) of the timeline events this operation makes when applied."""
        kind = {
            "create": "created", "comment": "comment", "ack": "statusChanged",
            "unack": "statusChanged", "assign": "assigned", "priority": "priorityDetailsChanged",
            "title": "titleChangedEvent",
        }[self.kind]  # fmt: skip
        return CREATE_EVENTS if kind == "created" else ((kind, self.token),)


def event_token(kind: str, data: dict[str, Any]) -> str:
    """What ``Op.token`` names of a stored event (event_codec.encode's JSON)."""
    if kind == "comment":
        return str(data.get("unsafeText", ""))
    if kind == "assigned":
        return str(data.get("assigneeUserId", ""))
    if kind == "statusChanged":
        return str(data.get("newStatus", ""))
    if kind == "priorityDetailsChanged":
        return str(data.get("to", {}).get("override", ""))
    if kind == "titleChangedEvent":
        return str(data.get("to", ""))
    return ""


class Api:
    """One thread's connections to one server."""

    def __init__(self, http: str, grpc_address: str, key: str) -> None:
        self.http = httpx.Client(
            base_url=f"http://{http}",
            headers={"authorization": f"Bearer {key}", "kbn-xsrf": "faults"},  # kbn: Kibana's
            timeout=TIMEOUT,
        )  # fmt: skip
        self.channel = grpc.insecure_channel(grpc_address)
        self.admin = admin_grpc.CaseAdminServiceStub(self.channel)
        self.auth = (("authorization", f"Bearer {key}"),)

    def close(self) -> None:
        self.http.close()
        self.channel.close()

    def create(self, title: str) -> Op:
        op = Op("create", None, title)
        req = admin_pb.CreateCaseRequest(
            title=title,
            category=c_pb.CASE_CATEGORY_AVAILABILITY,
            priority=c_pb.CASE_PRIORITY_P3,
        )
        started = op.started = time.monotonic()
        try:
            out = self.admin.CreateCase(req, metadata=self.auth, timeout=TIMEOUT)
            op.outcome, op.status, op.case_id = OK, "OK", out.case.id
        except grpc.RpcError as err:
            code = err.code()
            op.status, op.message = code.name, str(err.details())
            # UNAVAILABLE is also the channel's own word for a server that went away.
            doubt = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
            op.outcome = DOUBT if doubt else DENIED
        op.seconds = time.monotonic() - started
        return op

    def _rest(self, op: Op, method: str, path: str, body: Any = None) -> Op:
        started = op.started = time.monotonic()
        try:
            r = self.http.request(method, path, json=body)
        except httpx.ConnectError as err:  # never sent
            op.outcome, op.status = DENIED, type(err).__name__
        except httpx.HTTPError as err:
            op.outcome, op.status = DOUBT, type(err).__name__
        else:
            op.status = str(r.status_code)
            if r.is_success:
                op.outcome, op.returned = OK, r.json()
            else:
                op.outcome = DOUBT if r.status_code == 503 else DENIED
                op.message = r.text[:300]
        op.seconds = time.monotonic() - started
        return op

    def comment(self, case_id: str, text: str) -> Op:
        path = f"/cases/cases/v1/{case_id}/comments"
        return self._rest(Op("comment", case_id, text), "POST", path, {"text": text})

    def ack(self, case_id: str) -> Op:
        return self._rest(
            Op("ack", case_id, ACKNOWLEDGED), "PUT", f"/cases/acknowledged/v1/{case_id}"
        )

    def unack(self, case_id: str) -> Op:
        path = f"/cases/acknowledged/v1/{case_id}"
        return self._rest(Op("unack", case_id, ACTIVE), "DELETE", path)

    def assign(self, case_id: str, user: str) -> Op:
        path, body = f"/cases/assigned/v1/{case_id}", {"assignee": {"userId": user}}
        return self._rest(Op("assign", case_id, user), "POST", path, body)

    def priority(self, case_id: str, priority: str) -> Op:
        path = f"/cases/priority-override/v1/{case_id}"
        return self._rest(Op("priority", case_id, priority), "PUT", path, {"priority": priority})

    def retitle(self, case_id: str, title: str) -> Op:
        """A new title through the Kibana dialect, with its version check: the case's version
        as read, which the change must still find (else 409, nothing applied)."""
        op = Op("title", case_id, title)
        read = self.http.get(f"/api/cases/{case_id}")
        if not read.is_success:
            op.outcome, op.status, op.message = DENIED, str(read.status_code), read.text[:300]
            return op
        base = parse_version(read.json()["version"])
        body = {"cases": [{"id": case_id, "version": str(base), "title": title}]}
        self._rest(op, "PATCH", "/api/cases", body)
        if op.outcome == OK:
            op.returned = {"base": base, "version": parse_version(op.returned[0]["version"])}
        return op


@dataclass
class Known:
    """What a thread knows of one of its cases; ``sure`` is False once an operation on it was
    left in doubt (then only changes that are new whatever the state: comments, assigns)."""

    status: str = ACTIVE
    override: str = ""
    sure: bool = True


class Load:
    """``threads`` client threads on one server until ``stop`` (or ``duration`` seconds)."""

    def __init__(
        self,
        http: str,
        grpc_address: str,
        key: str,
        *,
        threads: int = 6,
        cases_per_thread: int = 3,
        stop_on_transport_error: bool = False,
        seed: int = 0,
    ) -> None:
        self.http, self.grpc, self.key = http, grpc_address, key
        self.threads = threads
        self.cases_per_thread = cases_per_thread
        self.stop_on_transport_error = stop_on_transport_error
        self.seed = seed
        self.stop = threading.Event()
        self.ops: list[Op] = []
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def start(self) -> Load:
        for n in range(self.threads):
            t = threading.Thread(target=self._work, args=(n,), name=f"load-{n}", daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def finish(self, timeout: float = 2 * TIMEOUT + 5) -> list[Op]:
        self.stop.set()
        for t in self._workers:
            t.join(timeout)
            assert not t.is_alive(), f"{t.name} still waiting for an answer"
        return self.ops

    def _record(self, op: Op) -> Op:
        with self._lock:
            self.ops.append(op)
        return op

    def _work(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        api = Api(self.http, self.grpc, self.key)
        known: dict[str, Known] = {}
        try:
            while not self.stop.is_set():
                op = self._step(api, rng, n, known)
                if op.status.endswith("Error") or op.status in (
                    "503",
                    "UNAVAILABLE",
                    "DEADLINE_EXCEEDED",
                ):
                    if self.stop_on_transport_error and op.outcome != OK:
                        return
                    time.sleep(0.05)  # the server or its database is away: do not spin
        finally:
            api.close()

    def _step(self, api: Api, rng: random.Random, n: int, known: dict[str, Known]) -> Op:
        # New cases now and then, so that the fault may also meet a create.
        if len(known) < self.cases_per_thread or rng.random() < 0.03:
            op = self._record(api.create(f"fault load {n} {uuid.uuid4().hex[:12]}"))
            if op.outcome == OK and op.case_id:
                known[op.case_id] = Known()
            return op
        case_id = rng.choice(sorted(known))
        k = known[case_id]
        choice = rng.random()
        if choice < 0.4:
            op = api.comment(case_id, f"comment {uuid.uuid4().hex}")
        elif choice < 0.6:
            op = api.assign(case_id, str(uuid.uuid4()))
        elif choice < 0.8 and k.sure:
            op = api.ack(case_id) if k.status == ACTIVE else api.unack(case_id)
        elif k.sure:
            op = api.priority(case_id, rng.choice([p for p in PRIORITIES if p != k.override]))
        else:
            op = api.comment(case_id, f"comment {uuid.uuid4().hex}")
        self._record(op)
        if op.outcome == DOUBT:
            k.sure = False
        elif op.outcome == OK and op.kind in ("ack", "unack"):
            k.status = op.token
        elif op.outcome == OK and op.kind == "priority":
            k.override = op.token
        return op


# -- checks of the database against the record -------------------------------------------------


@dataclass
class Stored:
    """A case as the database has it: its row and its timeline, oldest first."""

    title: str
    version: int
    status: str
    events: list[tuple[str, str]]
    event_ids: list[str]
    data: list[dict[str, Any]] = field(default_factory=list)


def check_cases(ops: list[Op], stored: dict[str, Stored]) -> list[str]:
    """Problems found replaying ``ops`` (one thread's operations per case, in order) against
    the database: an acknowledged change missing or made twice, a refused one applied, one in
    doubt half applied, a version that does not count the changes, an unknown case."""
    problems: list[str] = []
    by_case: dict[str, list[Op]] = {}
    for op in ops:
        if op.case_id is not None:
            by_case.setdefault(op.case_id, []).append(op)
    doubtful_titles = {op.token for op in ops if op.kind == "create" and op.outcome == DOUBT}
    for case_id, case in stored.items():
        if case_id not in by_case:
            if case.title not in doubtful_titles:
                problems.append(f"case {case_id} ({case.title!r}) was never acknowledged")
            elif tuple(case.events) != CREATE_EVENTS or case.version != 1:
                problems.append(f"half-made case {case_id}: {case.events} v{case.version}")
    for case_id, case_ops in by_case.items():
        found = stored.get(case_id)
        if found is None:
            problems.append(f"acknowledged case {case_id} is missing")
            continue
        problems += _replay(case_id, case_ops, found)
    return problems


def _replay(case_id: str, ops: list[Op], case: Stored) -> list[str]:
    events, at, applied = case.events, 0, 0
    for op in ops:
        want = list(op.events())
        got = events[at : at + len(want)]
        if op.outcome == OK or (op.outcome == DOUBT and got == want):
            if got != want:
                return [f"case {case_id}: acknowledged {op.kind} {op.token!r} not at {at}: {got}"]
            at += len(want)
            applied += 0 if op.kind == "create" else 1
    problems = []
    if at != len(events):
        problems.append(f"case {case_id}: events beyond the record: {events[at:]}")
    if case.version != 1 + applied:
        problems.append(f"case {case_id}: version {case.version}, {applied} changes applied")
    seen = [e for e in events if e[0] in ("comment", "assigned")]
    if len(seen) != len(set(seen)):
        problems.append(f"case {case_id}: a comment or assignment stored twice")
    return problems


def tally(ops: list[Op]) -> dict[str, dict[str, int]]:
    """Operations by kind and outcome, for a report."""
    out: dict[str, dict[str, int]] = {}
    for op in ops:
        by = out.setdefault(op.kind, {})
        by[op.outcome] = by.get(op.outcome, 0) + 1
    return out


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``predicate`` until true; the seconds it took. Fails after ``timeout``."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, f"not within {timeout} s: {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def logged_tracebacks(output: str) -> set[str]:
    """The loggers of a server's log records that carry a traceback (its log format:
    ``<date> <time> <LEVEL> <logger> <message>``)."""
    loggers, last = set(), ""
    for line in output.splitlines():
        parts = line.split(" ", 4)
        if len(parts) > 3 and parts[0][:2] == "20" and parts[2].isupper():
            last = parts[3]
        elif line.startswith("Traceback"):
            loggers.add(last)
    return loggers

"""What the golden scenario runs against: casekeeper built as ``serve`` builds it, except for a
step clock, with its gRPC and HTTP servers on loopback ports of their own.

Ids: case ids are chosen by the scenario (``NewCase.case_id``); readable numbers come from a
fresh space. What the code makes at random and offers no way to inject (API key ids, timeline
event ids) is replaced by placeholders when recorded (see ``record.py``).
"""

from __future__ import annotations

import calendar
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from casekeeper.api.grpc.server import GrpcServer
from casekeeper.bootstrap import Container, bootstrap
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.lifecycle import Operation
from casekeeper.domain.model import KeyValue
from casekeeper.runner import http_server
from casekeeper.service.admin import NewCase
from casekeeper.service.auth import OPERATOR, Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.permissions import Permission
from casekeeper.settings import Settings
from casekeeper.store.engine import make_engine
from casekeeper.store.uow import Database

UI_BASE_URL = "https://cases.example.test"
# 2026-03-02T08:15:30.123456Z; every step moves the clock on by 61.234567 s, so times carry
# changing fractions and durations grow between steps.
START_US = calendar.timegm((2026, 3, 2, 8, 15, 30)) * 1_000_000 + 123_456
STEP_US = 61_234_567
SPACE = "golden"
OTHER_SPACE = "golden-other"
TIMEOUT = 15.0


class StepClock:
    """The services' clock: fixed within a step, moved on by ``tick`` between steps, so the
    number of times an operation reads the clock never shows in its output."""

    def __init__(self) -> None:
        self.now = START_US

    def __call__(self) -> int:
        return self.now

    def tick(self) -> int:
        self.now += STEP_US
        return self.now


@dataclass
class Key:
    name: str
    secret: str
    principal: Principal


@dataclass
class World:
    container: Container
    clock: StepClock
    grpc_target: str
    http_url: str
    keys: dict[str, Key] = field(default_factory=dict)

    def make_key(self, label: str, name: str, *permissions: str, space: str = SPACE) -> Key:
        c = self.container
        perms = list(permissions) or [p.value for p in Permission]
        new = c.keys.create(name=name, permissions=perms, space=space, granted_by=OPERATOR)
        key = Key(name, new.key, c.keys.authenticate(f"Bearer {new.key}"))
        self.keys[label] = key
        return key

    def revoke(self, label: str) -> None:
        self.container.keys.revoke(OPERATOR, self.keys[label].principal.key_id)

    def create_case(self, case_id: str, fields: dict[str, Any], *, by: str = "admin") -> None:
        """Create a case with a chosen id, as the signal pipeline would (``case:Create``)."""
        spec = dict(fields)
        labels = [KeyValue(k, v) for k, v in spec.pop("labels", {}).items()]
        groupings = [KeyValue(k, v) for k, v in spec.pop("groupings", {}).items()]
        spec["category"] = CaseCategory(spec["category"])
        spec["priority"] = CasePriority(spec["priority"])
        new = NewCase(case_id=case_id, labels=labels, groupings=groupings, **spec)
        self.container.admin.create_case(self.keys[by].principal, new)

    def system(self, case_id: str, operation: str) -> None:
        """A lifecycle step the system takes (activation, auto-resolve, auto-close)."""
        admin = self.keys["admin"].principal
        self.container.admin.system_step(admin, case_id, Operation(operation))


def _start_http(server: uvicorn.Server) -> threading.Thread:
    thread = threading.Thread(target=server.run, name="golden-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started:
        assert thread.is_alive(), "the HTTP server thread died while starting"
        assert time.monotonic() < deadline, "the HTTP server did not start in time"
        time.sleep(0.01)
    return thread


@contextmanager
def open_world(database_url: str) -> Iterator[World]:
    clock = StepClock()
    settings = Settings(database_url=database_url, ui_base_url=UI_BASE_URL)
    ctx = ServiceContext(
        db=Database(make_engine(database_url)), clock=clock, ui_base_url=UI_BASE_URL
    )
    container = bootstrap(settings, ctx=ctx)
    grpc_server = GrpcServer(container, "127.0.0.1:0")
    grpc_server.start()
    http = http_server(container, "127.0.0.1:0")
    thread = _start_http(http)
    port = http.servers[0].sockets[0].getsockname()[1]
    try:
        yield World(container, clock, f"127.0.0.1:{grpc_server.port}", f"http://127.0.0.1:{port}")
    finally:
        http.should_exit = True
        thread.join(timeout=TIMEOUT)
        grpc_server.stop(grace=1.0)
        container.keys.drain()
        container.close()

"""Fixtures for the ingest tests: the captured Alertmanager payloads, casekeeper's HTTP server
exactly as ``serve`` builds it on a loopback port, and clients bound to API keys.

The payloads are Alertmanager 0.25's own, captured on this box (REAL_CLIENTS.md §1). They are
read from ``CASEKEEPER_REFERENCE_DIR`` (the folder holding ``alertmanager-webhooks/``; .ci/run
sets it), else ``<repo>/../shared/reference``, else the copies under ``data/`` (unmodified;
``test_packaged_payloads_are_the_reference`` proves it whenever the reference folder is there),
so a clean checkout runs every test.

Every test still works in its own fresh space (``space`` / ``make_key`` from tests/conftest.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from casekeeper.api.grpc.server import GrpcServer
from casekeeper.bootstrap import Container
from casekeeper.proto.casekeeper.v1 import ingest_pb2_grpc
from casekeeper.runner import http_server
from casekeeper.service.auth import Principal
from tests.api.coralogix.rest.conftest import RunningServer, start_server
from tests.conftest import MakeKey

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 15.0
PACKAGED_PAYLOADS = Path(__file__).resolve().parent / "data" / "alertmanager-webhooks"


def reference_payload_dir() -> Path | None:
    """The reference folder of captured webhooks, or None when it cannot be found."""
    configured = os.environ.get("CASEKEEPER_REFERENCE_DIR", "").strip()
    base = Path(configured) if configured else REPO.parent / "shared" / "reference"
    folder = base / "alertmanager-webhooks"
    return folder if folder.is_dir() else None


def payload_dir() -> Path:
    return reference_payload_dir() or PACKAGED_PAYLOADS


def payload_files() -> list[Path]:
    files = sorted(payload_dir().glob("*.json"))
    assert files, f"no captured webhooks in {payload_dir()}"
    return files


def load_payload(name: str) -> dict[str, Any]:
    """One captured webhook by file name (``01_firing_amtool_alert_add.json``)."""
    data: dict[str, Any] = json.loads((payload_dir() / name).read_text())
    return data


# -- the server -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ingest_http(container: Container) -> Iterator[RunningServer]:
    """casekeeper's HTTP server as ``serve`` builds it (uvloop, httptools, the app's limits)."""
    running = start_server(http_server(container, "127.0.0.1:0"), name="casekeeper-ingest")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def ingest_client(ingest_http: RunningServer) -> Iterator[httpx.Client]:
    """A plain client (no credentials) for the session's server."""
    with httpx.Client(base_url=ingest_http.url, timeout=TIMEOUT) as c:
        yield c


@pytest.fixture(scope="session")
def ingest_channel(container: Container) -> Iterator[grpc.Channel]:
    """A channel to casekeeper's gRPC server, started on a loopback port for the session."""
    server = GrpcServer(container, "127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
    yield channel
    channel.close()
    server.stop(grace=1.0)


@pytest.fixture(scope="session")
def ingest_stub(ingest_channel: grpc.Channel) -> ingest_pb2_grpc.IngestServiceStub:
    return ingest_pb2_grpc.IngestServiceStub(ingest_channel)


@dataclass
class Sender:
    """Posts to the ingest endpoints with one key (``None``: no Authorization header)."""

    http: httpx.Client
    key: str | None
    principal: Principal | None

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if self.key is not None:
            headers.setdefault("authorization", f"Bearer {self.key}")
        if body is not None:
            kw["json"] = body
        return self.http.post(path, headers=headers, **kw)

    def enqueue(self, event: dict[str, Any], **kw: Any) -> httpx.Response:
        """PagerDuty's way: the key travels in the body as ``routing_key``."""
        if self.key is not None:
            event = {"routing_key": self.key, **event}
        return self.http.post("/v2/enqueue", json=event, **kw)


MakeSender = Callable[..., Sender]


@pytest.fixture
def make_sender(make_key: MakeKey, ingest_client: httpx.Client) -> MakeSender:
    """``make_sender(*permissions, space_name=None)``: a new key (``signals:Write`` when none
    are given; the test's own space unless ``space_name``) and a sender for it."""

    def make(*permissions: str, space_name: str | None = None) -> Sender:
        key, principal = make_key(
            *(permissions or ("signals:Write",)), space_name=space_name, name="ingest test key"
        )
        return Sender(ingest_client, key, principal)

    return make


@pytest.fixture
def sender(make_sender: MakeSender) -> Sender:
    """A sender with ``signals:Write`` only, in the test's own space."""
    return make_sender()

"""Every setting of the README's configuration table takes effect: the ones about serving on a
real ``casekeeper serve``, the rest where they are read. (TLS: tests/server/test_tls.py; the
HTTP timeouts and cap end to end: tests/server/test_connections.py.)"""

from __future__ import annotations

import dataclasses
import socket

import httpx
import pytest

from casekeeper.api.grpc.server import GrpcServer
from casekeeper.api.rest.protocol import connection_cap, guarded_protocol
from casekeeper.bootstrap import Container
from casekeeper.settings import Settings
from tests.server.conftest import Serve, free_port, healthz, wait_listening


def test_addresses_database_metrics_token_and_base_url_from_the_environment(
    serve: Serve,
) -> None:
    served = serve(
        demo=True,
        env={
            "CASEKEEPER_METRICS_TOKEN": "t0ken",
            "CASEKEEPER_UI_BASE_URL": "https://cases.example.org",
            "CASEKEEPER_METRICS_SPACE_LABELS": "true",
            "CASEKEEPER_LOG_LEVEL": "debug",
        },
    )
    url = f"http://{served.http}"  # CASEKEEPER_HTTP_ADDRESS (a free port, not 8080)
    assert healthz(url) == 200
    socket.create_connection(tuple(served.grpc.rsplit(":", 1)), timeout=5).close()  # type: ignore[arg-type]
    auth = {"authorization": f"Bearer {served.key}"}
    # CASEKEEPER_DATABASE_URL: the demo cases loaded into that file are what it serves
    links = httpx.get(f"{url}/cases/cases/v1/CASE-1/deep-links", headers=auth, timeout=5)
    assert links.status_code == 200
    assert "https://cases.example.org/" in links.text  # CASEKEEPER_UI_BASE_URL
    assert httpx.get(f"{url}/metrics", timeout=5).status_code == 401  # CASEKEEPER_METRICS_TOKEN
    metrics = httpx.get(f"{url}/metrics", headers={"authorization": "Bearer t0ken"}, timeout=5)
    assert 'space="default"' in metrics.text  # CASEKEEPER_METRICS_SPACE_LABELS
    assert " DEBUG " in served.output()  # CASEKEEPER_LOG_LEVEL


def test_flags_win_over_the_environment(serve: Serve) -> None:
    port = free_port()
    env_http = f"127.0.0.1:{free_port()}"
    served = serve(
        env={"CASEKEEPER_HTTP_ADDRESS": env_http}, args=["--http", f"127.0.0.1:{port}"], wait=False
    )
    served.http = f"127.0.0.1:{port}"
    wait_listening(served)
    assert healthz(f"http://127.0.0.1:{port}") == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{env_http}/healthz", timeout=2)  # the environment's address


def test_grpc_workers_size_the_pool(container: Container) -> None:
    settings = dataclasses.replace(container.settings, grpc_workers=3)
    server = GrpcServer(dataclasses.replace(container, settings=settings), "127.0.0.1:0")
    try:
        assert server.executor._max_workers == 3
    finally:
        server.stop(grace=0)


def test_http_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEKEEPER_HTTP_MAX_CONNECTIONS", "7")
    monkeypatch.setenv("CASEKEEPER_HTTP_HEADER_TIMEOUT", "2.5")
    monkeypatch.setenv("CASEKEEPER_HTTP_BODY_TIMEOUT", "4")
    protocol = guarded_protocol(Settings.from_env())
    assert (protocol.max_connections, protocol.header_timeout, protocol.body_timeout) == (
        7,
        2.5,
        4.0,
    )
    assert connection_cap(0) >= 8  # derived from the open-files limit


def test_a_bad_flag_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEKEEPER_METRICS_SPACE_LABELS", "maybe")
    with pytest.raises(ValueError, match="CASEKEEPER_METRICS_SPACE_LABELS"):
        Settings.from_env()

"""Every setting of the README's configuration table takes effect: the ones about serving on a
real ``casekeeper serve`` (``serve`` from tests/server/conftest.py), the rest where they are
read. (TLS: tests/server/test_tls.py; the HTTP timeouts and cap end to end:
tests/server/test_connections.py and test_protocol.py.)"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from casekeeper.api.grpc.server import GrpcServer
from casekeeper.api.http.protocol import connection_cap, guarded_protocol
from casekeeper.bootstrap import Container, bootstrap
from casekeeper.settings import Settings
from tests.conftest import ALL_PERMISSIONS
from tests.server.conftest import CASEKEEPER, Serve, free_port, healthz, wait_listening


def grpc_serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        check = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    return bool(check.status == health_pb2.HealthCheckResponse.SERVING)


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
    assert grpc_serving(served.grpc)  # CASEKEEPER_GRPC_ADDRESS
    auth = {"authorization": f"Bearer {served.key}"}
    # CASEKEEPER_DATABASE_URL: the demo cases loaded into that file are what it serves
    links = httpx.get(f"{url}/cases/cases/v1/CASE-1/deep-links", headers=auth, timeout=5)
    assert links.status_code == 200
    assert "https://cases.example.org/" in links.text  # CASEKEEPER_UI_BASE_URL
    assert httpx.get(f"{url}/metrics", timeout=5).status_code == 401  # CASEKEEPER_METRICS_TOKEN
    metrics = httpx.get(f"{url}/metrics", headers={"authorization": "Bearer t0ken"}, timeout=5)
    assert 'space="default"' in metrics.text  # CASEKEEPER_METRICS_SPACE_LABELS
    assert " DEBUG " in served.output()  # CASEKEEPER_LOG_LEVEL


def test_flags_win_over_the_environment(serve: Serve, tmp_path: Path) -> None:
    # --database-url: a second database with the demo cases and a key of its own
    flagged_db = f"sqlite:///{tmp_path}/flagged.db"
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run(
            [CASEKEEPER, *command, "--database-url", flagged_db],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    perms = [arg for p in ALL_PERMISSIONS for arg in ("-p", p)]
    created = subprocess.run(
        [CASEKEEPER, "keys", "create", "--name", "flagged", *perms, "--json",
         "--database-url", flagged_db],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    key = json.loads(created.stdout)["key"]
    grpc_address, http_address = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    served = serve(
        args=["--grpc", grpc_address, "--http", http_address, "--database-url", flagged_db],
        wait=False,
    )
    env_grpc, env_http = served.grpc, served.http  # CASEKEEPER_*_ADDRESS, not used
    served.grpc, served.http = grpc_address, http_address
    wait_listening(served)
    assert grpc_serving(grpc_address)
    auth = {"authorization": f"Bearer {key}"}
    got = httpx.get(f"http://{http_address}/cases/cases/v1/CASE-1", headers=auth, timeout=5)
    assert got.status_code == 200, got.text  # the flag's database, not the environment's
    for address in (env_http, env_grpc):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{address}/healthz", timeout=2)  # nothing listens there


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


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CASEKEEPER_GRPC_WORKERS", "lots", "CASEKEEPER_GRPC_WORKERS: expected a whole number"),
        ("CASEKEEPER_GRPC_WORKERS", "0", "CASEKEEPER_GRPC_WORKERS: must be at least 1, got 0"),
        ("CASEKEEPER_HTTP_MAX_CONNECTIONS", "-5", "CASEKEEPER_HTTP_MAX_CONNECTIONS: must be"),
        ("CASEKEEPER_HTTP_HEADER_TIMEOUT", "10s", "CASEKEEPER_HTTP_HEADER_TIMEOUT: expected a"),
        ("CASEKEEPER_HTTP_BODY_TIMEOUT", "0", "CASEKEEPER_HTTP_BODY_TIMEOUT: must be at least"),
        ("CASEKEEPER_REPLICA_MAX_LAG", "0", "CASEKEEPER_REPLICA_MAX_LAG: must be at least 0.1"),
    ],
)
def test_a_bad_number_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message) as err:
        Settings.from_env(database_url="sqlite://")
    assert repr(value) in str(err.value) or value in str(err.value)


def test_the_replica_settings_build_a_standby_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    # What reads do with it, against a real standby: tests/store/test_replica.py (serve too).
    monkeypatch.setenv("CASEKEEPER_DATABASE_REPLICA_URL", "postgresql://reader@127.0.0.1:1/standby")
    monkeypatch.setenv("CASEKEEPER_REPLICA_MAX_LAG", "2.5")
    c = bootstrap(Settings.from_env(database_url="postgresql://writer@127.0.0.1:1/primary"))
    try:
        replica = c.db.replica
        assert replica is not None  # nothing connects until the first read
        assert (replica.engine.url.username, replica.engine.url.database) == ("reader", "standby")
        assert replica.max_lag == 2.5
    finally:
        c.close()
    monkeypatch.delenv("CASEKEEPER_DATABASE_REPLICA_URL")
    c = bootstrap(Settings.from_env(database_url="postgresql://writer@127.0.0.1:1/primary"))
    try:
        assert c.db.replica is None  # unset: every read on the primary, nothing else running
    finally:
        c.close()


def test_serve_refuses_a_replica_of_sqlite(tmp_path: Path) -> None:
    run = subprocess.run(
        [CASEKEEPER, "serve", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"],
        env={**os.environ, "CASEKEEPER_DATABASE_REPLICA_URL": "postgresql://127.0.0.1:1/x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "CASEKEEPER_DATABASE_REPLICA_URL needs PostgreSQL" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


def test_serve_refuses_a_bad_number_with_its_variable(tmp_path: Path) -> None:
    run = subprocess.run(
        [CASEKEEPER, "serve", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"],
        env={**os.environ, "CASEKEEPER_HTTP_BODY_TIMEOUT": "-1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "CASEKEEPER_HTTP_BODY_TIMEOUT: must be at least 0.1, got -1.0" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr

"""``casekeeper serve`` as a real process: free loopback ports, its own SQLite file, a key with
every permission. (What these tests check is the serving, the same on either database.)"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ALL_PERMISSIONS

CASEKEEPER = str(Path(sys.executable).with_name("casekeeper"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    grpc: str
    http: str
    key: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _key(env: Mapping[str, str]) -> str:
    perms = [arg for p in ALL_PERMISSIONS for arg in ("-p", p)]
    out = subprocess.run(
        [CASEKEEPER, "keys", "create", "--name", "server test", *perms, "--json"],
        env=env, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    import json

    key: str = json.loads(out.stdout)["key"]
    return key


Serve = Callable[..., Served]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve(env={...}, args=[...], preexec=None, demo=False)``: start ``casekeeper serve``
    with the given environment on top of a fresh SQLite file (with the demo cases if asked);
    addresses come from CASEKEEPER_GRPC_ADDRESS and CASEKEEPER_HTTP_ADDRESS unless the caller
    sets them (or passes flags)."""
    started: list[Served] = []

    def start(
        env: Mapping[str, str] | None = None,
        args: list[str] | None = None,
        preexec: Callable[[], None] | None = None,
        wait: bool = True,
        demo: bool = False,
    ) -> Served:
        grpc_addr, http_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        full = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CASEKEEPER_")},
            "CASEKEEPER_DATABASE_URL": f"sqlite:///{tmp_path}/serve-{len(started)}.db",
            "CASEKEEPER_GRPC_ADDRESS": grpc_addr,
            "CASEKEEPER_HTTP_ADDRESS": http_addr,
            **(env or {}),
        }
        subprocess.run(
            [CASEKEEPER, "db", "upgrade"], env=full, check=True, capture_output=True, timeout=60
        )
        if demo:
            subprocess.run([CASEKEEPER, "demo"], env=full, check=True, capture_output=True)
        key = _key(full)
        log = tmp_path / f"serve-{len(started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [CASEKEEPER, "serve", *(args or [])],
                env=full, stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec,
            )  # fmt: skip
        served = Served(
            proc, full["CASEKEEPER_GRPC_ADDRESS"], full["CASEKEEPER_HTTP_ADDRESS"], key, log
        )
        started.append(served)
        if wait:
            wait_listening(served)
        return served

    yield start
    for s in started:
        if s.process.poll() is None:
            s.process.send_signal(signal.SIGTERM)
            try:
                s.process.wait(20)
            except subprocess.TimeoutExpired:
                s.process.kill()
                s.process.wait(5)


def wait_listening(served: Served, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    for address in (served.grpc, served.http):
        host, port = address.rsplit(":", 1)
        while True:
            assert served.process.poll() is None, f"serve exited:\n{served.output()}"
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"not listening on {address}"
                time.sleep(0.05)


def healthz(url: str, **kw: object) -> int:
    return httpx.get(f"{url}/healthz", timeout=5, **kw).status_code  # type: ignore[arg-type]


def limit_open_files() -> None:
    """For ``preexec``: an open-files limit of 256 (a small server's)."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def closed_by_server(s: socket.socket, wait: float = 0.05) -> bool:
    """Whether the server closed ``s`` (anything it sent before is discarded)."""
    s.settimeout(wait)
    try:
        while s.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True

"""``casekeeper serve --processes N`` as real processes: the children share both ports, see each
other's writes (no per-process cache serves a stale case), a killed child is replaced, SIGHUP
replaces them all without a gap, and SIGTERM stops everything. On a private PostgreSQL database
when CASEKEEPER_TEST_DATABASE_URL names one, else on a SQLite file (both work)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import grpc
import httpx
import pytest

from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as cs_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc as cs_grpc
from casekeeper.supervisor import GIVE_UP_AFTER, Supervisor
from tests.server.conftest import CASEKEEPER, Serve, Served, free_port

ACTIVE = {"filters": {"statuses": ["CASE_STATUS_ACTIVE"]}, "pagination": {"pageSize": 5}}


def _pid(client: httpx.Client) -> int:
    pid: int = client.get("/healthz").json()["pid"]
    return pid


def _pids(served: Served, tries: int = 60) -> set[int]:
    """The pids that answer new connections (each request on a connection of its own)."""
    seen = set()
    for _ in range(tries):
        with httpx.Client(base_url=f"http://{served.http}", timeout=5) as c:
            seen.add(_pid(c))
    return seen


@contextmanager
def _pinned(served: Served, pid: int) -> Iterator[httpx.Client]:
    """A keep-alive client whose one connection is served by ``pid``."""
    for _ in range(200):
        c = httpx.Client(
            base_url=f"http://{served.http}",
            headers={"authorization": f"Bearer {served.key}"},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=10,
        )
        if _pid(c) == pid:
            try:
                yield c
            finally:
                c.close()
            return
        c.close()
    raise AssertionError(f"no connection reached pid {pid}")


def _children(served: Served) -> dict[int, int]:
    """Child index → pid of the newest start the supervisor logged."""
    found = re.findall(r"process (\d+) started \(pid (\d+)\)", served.output())
    return {int(i): int(pid) for i, pid in found}


def _wait_for(what: str, check: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _both_serving(served: Served) -> set[int]:
    _wait_for("2 processes serving", lambda: "2 processes serving" in served.output())
    pids = _pids(served)
    assert pids == set(_children(served).values()), served.output()
    return pids


@pytest.fixture
def two(serve: Serve, private_url: str) -> Served:
    return serve(env={"CASEKEEPER_DATABASE_URL": private_url}, args=["--processes", "2"], demo=True)


def test_children_share_the_ports_and_see_each_others_writes(two: Served) -> None:
    first, second = sorted(_both_serving(two))
    with _pinned(two, first) as a, _pinned(two, second) as b:
        case = a.post("/cases/cases/v1", json=ACTIVE).json()["cases"][0]
        before = a.get(f"/cases/cases/v1/{case['id']}").json()["case"]  # now cached in `a`
        assert b.put(f"/cases/acknowledged/v1/{case['id']}").status_code == 200
        after = a.get(f"/cases/cases/v1/{case['id']}").json()["case"]
        assert after["status"] == "CASE_STATUS_ACKNOWLEDGED"
        assert before["status"] == "CASE_STATUS_ACTIVE"
        assert a.post(f"/cases/cases/v1/{case['id']}/comments",
                      json={"text": "from the first process"}).status_code == 200  # fmt: skip
        events = b.get(f"/cases/cases/v1/{case['id']}/events").json()["events"]
        assert "from the first process" in str(events)
    # gRPC channels (one HTTP/2 connection each) reach the children too and read the same.
    for _ in range(4):
        with grpc.insecure_channel(two.grpc) as channel:
            got = cs_grpc.CasesServiceStub(channel).GetCase(
                cs_pb.GetCaseRequest(id=case["id"]),
                metadata=(("authorization", f"Bearer {two.key}"),),
                timeout=10,
            )
            assert got.case.status == case_pb2.CASE_STATUS_ACKNOWLEDGED


def test_a_revoked_key_is_refused_by_every_process(two: Served, private_url: str) -> None:
    """The key cache is per process: revocation elsewhere lands within its 5 s lifetime."""
    pids = sorted(_both_serving(two))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEKEEPER_")}
    env["CASEKEEPER_DATABASE_URL"] = private_url
    with _pinned(two, pids[0]) as a, _pinned(two, pids[1]) as b:
        assert a.post("/cases/cases/v1", json=ACTIVE).status_code == 200  # cached as valid
        assert b.post("/cases/cases/v1", json=ACTIVE).status_code == 200
        listed = subprocess.run([CASEKEEPER, "keys", "list", "--json"], env=env,
                                capture_output=True, check=True, timeout=60)  # fmt: skip
        for key in json.loads(listed.stdout):
            subprocess.run([CASEKEEPER, "keys", "revoke", key["id"]], env=env,
                           capture_output=True, check=True, timeout=60)  # fmt: skip
        for client in (a, b):
            _wait_for("the revocation", partial(_refused, client), timeout=8)


def _refused(client: httpx.Client) -> bool:
    return client.post("/cases/cases/v1", json=ACTIVE).status_code == 401


def test_a_killed_child_is_replaced(two: Served) -> None:
    old = _both_serving(two)
    victim = _children(two)[1]
    os.kill(victim, signal.SIGKILL)
    _wait_for("a replacement", lambda: _children(two)[1] != victim)
    _wait_for("the replacement serving", lambda: len(_pids(two, tries=20)) == 2)
    now = _pids(two)
    assert victim not in now
    assert len(now) == 2
    assert now & old  # the other child was left alone
    assert "exited with signal 9; restarting" in two.output()
    assert two.process.poll() is None


def test_sighup_replaces_every_child_without_a_gap(two: Served) -> None:
    old = _both_serving(two)
    failures = 0
    two.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with httpx.Client(base_url=f"http://{two.http}", timeout=5) as c:
                pid = _pid(c)
        except httpx.TransportError:
            failures += 1
            continue
        replaced = not set(_children(two).values()) & old
        if pid not in old and replaced and not _pids(two, tries=20) & old:
            break
    else:
        raise AssertionError(f"not replaced:\n{two.output()}")
    assert failures <= 2, "the ports went unserved while the children were replaced"
    for pid in old:
        _wait_for(f"pid {pid} to exit", partial(_gone, pid))


def _gone(pid: int) -> bool:
    """Exited (a zombie no one has reaped yet counts: it serves nothing)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_sigterm_stops_all_children(two: Served) -> None:
    pids = _both_serving(two)
    two.process.send_signal(signal.SIGTERM)
    assert two.process.wait(45) == 0, two.output()
    for pid in pids:
        _wait_for(f"pid {pid} to exit", partial(_gone, pid), timeout=5)
    assert "stopped" in two.output()


def test_a_taken_shared_or_zero_port_is_refused(serve: Serve, private_url: str) -> None:
    served = serve(env={"CASEKEEPER_DATABASE_URL": private_url})
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEKEEPER_")}
    env["CASEKEEPER_DATABASE_URL"] = private_url
    taken = subprocess.run(
        [CASEKEEPER, "serve", "--processes", "2", "--http", served.http,
         "--grpc", f"127.0.0.1:{free_port()}"],
        env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert taken.returncode == 1
    assert f"{served.http} is already in use" in taken.stderr.decode() + taken.stdout.decode()
    zero = subprocess.run(  # the count from the environment this time
        [CASEKEEPER, "serve", "--http", "127.0.0.1:0", "--grpc", f"127.0.0.1:{free_port()}"],
        env={**env, "CASEKEEPER_PROCESSES": "2"}, capture_output=True, timeout=60,
    )  # fmt: skip
    assert zero.returncode == 1
    assert "cannot share port 0" in zero.stderr.decode() + zero.stdout.decode()
    port = free_port()
    same = subprocess.run(
        [CASEKEEPER, "serve", "--processes", "2", "--http", f"127.0.0.1:{port}",
         "--grpc", f"127.0.0.1:{port}"],
        env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert same.returncode == 1
    assert "ports of their own" in same.stderr.decode() + same.stdout.decode()


def test_children_stop_when_the_supervisor_is_killed(two: Served) -> None:
    pids = _both_serving(two)
    two.process.kill()  # no chance to stop them itself: PR_SET_PDEATHSIG does
    two.process.wait(10)
    for pid in pids:
        _wait_for(f"pid {pid} to exit", partial(_gone, pid), timeout=30)


def test_a_fleet_that_never_starts_is_given_up(caplog: pytest.LogCaptureFixture) -> None:
    """Children that die before listening, again and again (a wrong setting): the supervisor
    stops after GIVE_UP_AFTER tries instead of restarting them forever."""
    failing = [sys.executable, "-c", "import sys; sys.exit(3)"]
    supervisor = Supervisor(1, dict(os.environ), argv=failing)
    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        assert supervisor.run() == 1
    finally:
        for sig, handler in handlers.items():  # run() took them over
            signal.signal(sig, handler)
    assert f"failed to start {GIVE_UP_AFTER} times in a row" in caplog.text

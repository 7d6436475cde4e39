"""An API key the cache does not hold is verified against the database on a worker thread, never
on the server's event loop. Before, the verification ran on the loop: on PostgreSQL it waited
there for a pooled connection and the network (up to the pool timeout, 30 s, with every
connection busy), and no other call was answered meanwhile."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from casekeeper.bootstrap import Container
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc
from casekeeper.service.auth import OPERATOR
from casekeeper.store.keys import ApiKeyRepository
from tests.api.coralogix.grpc.conftest import TIMEOUT, bearer, expect_error
from tests.conftest import MakeKey

HOLD_SECONDS = 30.0


def on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass
class KeyLookups:
    """Records every database lookup of an API key: on which thread it ran and whether that
    thread runs an event loop. ``hold(prefix)`` makes lookups of that prefix wait until
    ``release()`` (a database out of connections)."""

    seen: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    entered: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = ApiKeyRepository.by_prefix

        def by_prefix(repo: ApiKeyRepository, prefix: str) -> Any:
            here = threading.current_thread().name
            self.seen.setdefault(prefix, []).append((here, on_event_loop()))
            if prefix in self.held:
                self.entered.set()
                self.gate.wait(HOLD_SECONDS)
            return real(repo, prefix)

        monkeypatch.setattr(ApiKeyRepository, "by_prefix", by_prefix)

    def of(self, key: str) -> list[tuple[str, bool]]:
        return self.seen.get(key.split("_")[1], [])

    def hold(self, key: str) -> None:
        self.held.add(key.split("_")[1])

    def release(self) -> None:
        self.gate.set()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyLookups]:
    found = KeyLookups()
    found.install(monkeypatch)
    yield found
    found.release()


def new_key(container: Container, space: str) -> str:
    """A key that was never used: the cache does not hold it."""
    return container.keys.create(
        granted_by=OPERATOR, name="cold key", permissions=["case:Read"], space=space
    ).key


def assert_off_loop(seen: list[tuple[str, bool]], expected: int) -> None:
    assert len(seen) == expected, seen
    for thread, on_loop in seen:
        assert not on_loop, f"an API key was looked up on the event loop (thread {thread})"


def test_a_cache_miss_is_verified_off_the_event_loop(
    container: Container,
    space: str,
    cases_stub: cases_service_pb2_grpc.CasesServiceStub,
    lookups: KeyLookups,
) -> None:
    key = new_key(container, space)
    request = pb.GetGroupingKeysRequest()
    for _ in range(3):  # one miss, then the cache answers
        cases_stub.GetGroupingKeys(request, metadata=bearer(key), timeout=TIMEOUT)
    assert_off_loop(lookups.of(key), 1)
    # A key of the right shape with a wrong secret is looked up (off the loop) and refused.
    wrong = key[: len("ck_12345678_")] + "x" * 43
    call = functools.partial(cases_stub.GetGroupingKeys, metadata=bearer(wrong), timeout=TIMEOUT)
    expect_error(grpc.StatusCode.UNAUTHENTICATED, call, request)
    assert_off_loop(lookups.of(key), 2)


def test_calls_are_answered_while_a_key_lookup_waits_for_the_database(
    container: Container,
    space: str,
    make_key: MakeKey,
    cases_stub: cases_service_pb2_grpc.CasesServiceStub,
    lookups: KeyLookups,
) -> None:
    warm, _ = make_key("case:Read")  # verified (and cached) already
    cold = new_key(container, space)
    lookups.hold(cold)
    request = pb.GetGroupingKeysRequest()
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            cases_stub.GetGroupingKeys, request, metadata=bearer(cold), timeout=HOLD_SECONDS
        )
        assert lookups.entered.wait(TIMEOUT), "the cold key was never looked up"
        try:
            # The loop is free: a cached key's call is answered while the lookup waits.
            cases_stub.GetGroupingKeys(request, metadata=bearer(warm), timeout=5)
            assert not waiting.done()
        finally:
            lookups.release()
        waiting.result(TIMEOUT)
    assert_off_loop(lookups.of(cold), 1)

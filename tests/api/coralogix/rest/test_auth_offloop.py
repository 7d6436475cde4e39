"""REST: an API key the cache does not hold is verified against the database on a worker
thread, never on the server's event loop (see ../grpc/test_auth_offloop.py, whose key-lookup
recorder this shares)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from casekeeper.bootstrap import Container
from tests.api.coralogix.grpc.test_auth_offloop import (
    HOLD_SECONDS,
    KeyLookups,
    assert_off_loop,
    new_key,
)
from tests.api.coralogix.rest.conftest import TIMEOUT, ReferenceSpec, Rest, error_message
from tests.conftest import MakeKey


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyLookups]:
    found = KeyLookups()
    found.install(monkeypatch)
    yield found
    found.release()


def test_a_cache_miss_is_verified_off_the_event_loop(
    container: Container,
    space: str,
    client: httpx.Client,
    reference: ReferenceSpec,
    lookups: KeyLookups,
) -> None:
    key = new_key(container, space)
    rest = Rest(client, key, None, reference)
    for _ in range(3):  # one miss, then the cache answers
        rest.call("GetGroupingKeys")
    assert_off_loop(lookups.of(key), 1)
    # A key of the right shape with a wrong secret is looked up (off the loop) and refused.
    wrong = Rest(client, key[: len("ck_12345678_")] + "x" * 43, None, reference)
    body = wrong.call("GetGroupingKeys", expect=401)
    assert error_message(body, 401) == "invalid API key"
    assert_off_loop(lookups.of(key), 2)


def test_requests_are_answered_while_a_key_lookup_waits_for_the_database(
    container: Container,
    space: str,
    make_key: MakeKey,
    base_url: str,
    reference: ReferenceSpec,
    lookups: KeyLookups,
) -> None:
    warm, _ = make_key("case:Read")  # verified (and cached) already
    cold = new_key(container, space)
    lookups.hold(cold)
    with (
        httpx.Client(base_url=base_url, timeout=HOLD_SECONDS) as slow,
        httpx.Client(base_url=base_url, timeout=5) as quick,
        ThreadPoolExecutor(1) as pool,
    ):
        waiting = pool.submit(Rest(slow, cold, None, reference).call, "GetGroupingKeys")
        assert lookups.entered.wait(TIMEOUT), "the cold key was never looked up"
        try:
            # The loop is free: a cached key's request is answered while the lookup waits.
            Rest(quick, warm, None, reference).call("GetGroupingKeys")
            assert not waiting.done()
        finally:
            lookups.release()
        waiting.result(TIMEOUT)
    assert_off_loop(lookups.of(cold), 1)

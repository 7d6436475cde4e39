"""A key revoked while a call is verifying it is not cached by that verification. Adapters now
verify cache misses on worker threads, alongside revocations; before, a verification that read
the key just before a revocation cached it after the revocation had cleared the cache, and the
revoked key kept working in this process for ``CACHE_SECONDS``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.auth import OPERATOR
from casekeeper.store.keys import ApiKeyRepository


def test_a_key_revoked_during_its_verification_is_refused_next(
    container: Container, space: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = container.keys.create(
        granted_by=OPERATOR, name="racing", permissions=["case:Read"], space=space
    )
    read, go = threading.Event(), threading.Event()
    real = ApiKeyRepository.by_prefix

    def by_prefix(repo: ApiKeyRepository, prefix: str) -> Any:
        row = real(repo, prefix)
        if prefix == new.row.prefix:
            read.set()
            go.wait(10)
        return row

    monkeypatch.setattr(ApiKeyRepository, "by_prefix", by_prefix)
    with ThreadPoolExecutor(1) as pool:
        verifying = pool.submit(container.keys.authenticate, new.key)
        try:
            assert read.wait(10), "the key was never looked up"
            container.keys.revoke(OPERATOR, new.row.id)
        finally:
            go.set()
        # It read the key before the revocation: that call is let through.
        assert verifying.result(10).key_id == new.row.id
    with pytest.raises(CasekeeperError) as err:
        container.keys.authenticate(new.key)
    assert err.value.code is ErrorCode.UNAUTHENTICATED
    assert "revoked" in err.value.message

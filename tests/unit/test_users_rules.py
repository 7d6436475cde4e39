"""Pure rules of users: password hashes, the login throttle, usernames, roles."""

from __future__ import annotations

import pytest

from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.permissions import Permission
from casekeeper.service.users import (
    ROLE_PERMISSIONS,
    LoginThrottle,
    Role,
    hash_password,
    role_of,
    username_of,
    verify_password,
)


def test_a_hash_verifies_its_password_only_and_is_salted() -> None:
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one != two  # a salt per password
    assert one.startswith("scrypt$")
    assert verify_password("correct horse", one)
    assert not verify_password("correct hors", one)
    assert not verify_password("correct horse", "scrypt$bad")
    assert not verify_password("correct horse", "md5$x$y$z$a$b")


def test_the_throttle_limits_users_and_addresses_within_the_window() -> None:
    now = [0.0]
    t = LoginThrottle(per_user=2, per_address=3, window=60, clock=lambda: now[0])
    t.begin("a", "1.1.1.1")  # failed: never marked as succeeded
    t.begin("a", "1.1.1.1")
    with pytest.raises(CasekeeperError) as err:
        t.begin("a", "2.2.2.2")  # the user is held back from anywhere
    assert err.value.code is ErrorCode.RATE_LIMITED
    assert err.value.detail["retry_after"] == 61
    t.begin("b", "2.2.2.2")  # another user from elsewhere is not
    t.begin("b", "1.1.1.1")
    with pytest.raises(CasekeeperError):
        t.begin("c", "1.1.1.1")  # the address has failed three times
    now[0] = 61.0
    stamp = t.begin("a", "1.1.1.1")  # the failures aged out
    t.succeeded("a", "1.1.1.1", stamp)  # right: it no longer counts, and a's count is cleared
    t.begin("a", "9.9.9.9")
    t.begin("a", "9.9.9.9")
    with pytest.raises(CasekeeperError):
        t.begin("a", "8.8.8.8")


def test_attempts_are_counted_as_they_are_checked() -> None:
    """Parallel guesses: each is counted before the next is checked, so no more than the limit
    get through even before any answer is known."""
    t = LoginThrottle(per_user=5, per_address=100, window=60)
    passed = 0
    for _ in range(40):
        try:
            t.begin("victim", "1.2.3.4")
            passed += 1
        except CasekeeperError:
            pass
    assert passed == 5


def test_usernames_and_roles() -> None:
    assert username_of("  Alice@Example.com ") == "alice@example.com"
    for bad in ("", " ", "-x", "a b", "x" * 257, "ä"):
        with pytest.raises(CasekeeperError):
            username_of(bad)
    assert role_of(" Responder ") is Role.RESPONDER
    with pytest.raises(CasekeeperError) as err:
        role_of("root")
    assert "viewer, responder, admin" in err.value.message


def test_roles_nest_and_only_admins_delete_or_manage_keys() -> None:
    viewer, responder, admin = (ROLE_PERMISSIONS[r] for r in Role)
    assert viewer < responder < admin
    assert Permission.CASE_DELETE in admin - responder
    assert Permission.API_KEY_MANAGE in admin - responder
    assert all(p.value.endswith(("Read", "read")) for p in viewer)

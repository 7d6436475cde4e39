"""Logins do the same work whoever asks: an unknown user is checked against a hash as a wrong
password is, so the time taken tells nothing; a disabled user's right password is refused
alike."""

from __future__ import annotations

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service import users as users_module
from casekeeper.service.auth import OPERATOR
from casekeeper.service.users import LoginThrottle


def test_unknown_wrong_and_disabled_cost_one_hash_each_and_answer_alike(
    container: Container, space: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.users.throttle = LoginThrottle(per_user=100, per_address=100)
    container.users.create(
        OPERATOR, username=f"w-{space}", password="right password", space=space, role="viewer"
    )
    hashed: list[str] = []
    real = users_module.verify_password

    def counting(password: str, stored: str) -> bool:
        hashed.append(stored)
        return real(password, stored)

    monkeypatch.setattr(users_module, "verify_password", counting)
    answers = []
    for name, password in ((f"nobody-{space}", "x" * 12), (f"w-{space}", "wrong password")):
        with pytest.raises(CasekeeperError) as err:
            container.users.authenticate(name, password, space, "127.0.0.9")
        answers.append((err.value.code, err.value.message))
    container.users.set_disabled(OPERATOR, f"w-{space}", True)
    with pytest.raises(CasekeeperError) as err:
        container.users.authenticate(f"w-{space}", "right password", space, "127.0.0.9")
    answers.append((err.value.code, err.value.message))
    assert len(hashed) == 3  # one scrypt each: the unknown user against the dummy hash
    assert all(h.startswith("scrypt$") for h in hashed)
    assert len(set(answers)) == 1
    assert answers[0][0] is ErrorCode.UNAUTHENTICATED

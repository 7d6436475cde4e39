"""A key can grant at most the permissions it holds, in its own space; an operator (the CLI,
``granted_by=None``) grants anything (issue 10, item 9)."""

from __future__ import annotations

import uuid

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.auth import OPERATOR
from tests.conftest import MakeKey


def test_a_manage_only_key_cannot_grant_what_it_lacks(
    container: Container, make_key: MakeKey, space: str
) -> None:
    _, manager = make_key("api-key:Manage")
    with pytest.raises(CasekeeperError) as info:
        container.keys.create(
            name="escalate",
            permissions=["case:Read", "CASE:CLOSE", "api-key:Manage"],
            space=space,
            granted_by=manager,
        )
    assert info.value.code is ErrorCode.PERMISSION_DENIED
    # It names what it may not grant, and only that.
    assert info.value.message.startswith("this API key may not grant case:Read, case:Close:")
    assert [k.name for k in container.keys.list(OPERATOR, space=space)] == ["test key"]


def test_a_key_can_grant_what_it_holds(container: Container, make_key: MakeKey, space: str) -> None:
    _, grantor = make_key("api-key:Manage", "case:Read", "case:Comment")
    new = container.keys.create(
        name="reader", permissions=["case:read"], space=space, granted_by=grantor
    )
    assert new.row.permissions == ("case:Read",)
    again = container.keys.create(
        name="same", permissions=["case:Read", "case:Comment", "api-key:Manage"],
        space=space, granted_by=grantor,
    )  # fmt: skip
    assert set(again.row.permissions) == {"case:Read", "case:Comment", "api-key:Manage"}


def test_a_key_cannot_grant_in_another_space(
    container: Container, make_key: MakeKey, other_space: str
) -> None:
    _, grantor = make_key()
    with pytest.raises(CasekeeperError) as info:
        container.keys.create(
            name="elsewhere", permissions=["case:Read"], space=other_space, granted_by=grantor
        )
    assert info.value.code is ErrorCode.PERMISSION_DENIED
    assert container.keys.list(OPERATOR, space=other_space) == []


def test_an_operator_grants_anything(container: Container, space: str) -> None:
    new = container.keys.create(
        granted_by=OPERATOR, name="ops", permissions=["case:Close", "case:Create"], space=space
    )
    assert set(new.row.permissions) == {"case:Close", "case:Create"}


@pytest.fixture
def other_space() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def test_listing_and_revoking_keys_need_the_manage_permission_and_stay_in_the_space(
    container: Container, make_key: MakeKey
) -> None:
    _, reader = make_key("case:Read")
    _, manager = make_key("api-key:Manage")
    _, elsewhere = make_key("api-key:Manage", space_name=f"else-{uuid.uuid4().hex[:8]}")
    for call in (
        lambda: container.keys.list(reader),
        lambda: container.keys.revoke(reader, manager.key_id),
    ):
        with pytest.raises(CasekeeperError) as err:
            call()
        assert err.value.code is ErrorCode.PERMISSION_DENIED
    # A holder sees its own space's keys whatever space it names.
    listed = container.keys.list(manager, space=elsewhere.space_name)
    assert elsewhere.key_id not in {k.id for k in listed}
    assert manager.key_id in {k.id for k in listed}

"""Input rules shared by every adapter (pure functions; no database)."""

from __future__ import annotations

import pytest

from casekeeper.api.coralogix import vocabulary
from casekeeper.domain.enums import CasePriority, CaseStatus, OrderField
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service import validation as v

UUID_UPPER = "0B9D6F7E-3C2A-4E55-9A1B-5D7C8E9F0A1B"


def test_case_ref_reads_uuid_in_any_case_and_readable_ids() -> None:
    assert v.case_ref(UUID_UPPER).uuid == UUID_UPPER.lower()
    assert v.case_ref("case-12").number == 12
    assert v.case_ref("CASE-12").raw == "CASE-12"


@pytest.mark.parametrize("raw", ["FOO-1", "inc-7", "case-0000000000000000000001"])
def test_case_ref_raises_not_found_when_id_is_well_formed_but_names_no_case(raw: str) -> None:
    with pytest.raises(CasekeeperError) as err:
        v.case_ref(raw)
    assert err.value.code is ErrorCode.CASE_NOT_FOUND


def test_case_ref_parses_a_readable_id_that_may_exist() -> None:
    assert v.case_ref("CASE-999999").number == 999999


@pytest.mark.parametrize("raw", ["", "x" * 65, "bad id!", "CASE_1", "ÄSE-1", "case-1;drop"])
def test_case_ref_raises_invalid_argument_when_text_cannot_be_an_id(raw: str) -> None:
    with pytest.raises(CasekeeperError) as err:
        v.case_ref(raw, field="ids")
    assert err.value.code is ErrorCode.INVALID_ARGUMENT
    assert err.value.message.startswith("ids:")


@pytest.mark.parametrize("count", [0, 1001])
def test_bulk_ids_rejects_count_out_of_range(count: int) -> None:
    with pytest.raises(CasekeeperError) as err:
        v.bulk_ids(["CASE-1"] * count)
    assert err.value.code is ErrorCode.INVALID_ARGUMENT


def test_bulk_ids_accepts_1_and_1000_ids() -> None:
    assert v.bulk_ids(["CASE-1"]) == ["CASE-1"]
    assert len(v.bulk_ids(["CASE-1"] * 1000)) == 1000


def test_uuid_text_lowercases_and_rejects_non_uuids() -> None:
    assert v.uuid_text(UUID_UPPER, field="event_id") == UUID_UPPER.lower()
    for raw in ("", "123", UUID_UPPER + "0", UUID_UPPER.replace("-", "")):
        with pytest.raises(CasekeeperError) as err:
            v.uuid_text(raw, field="event_id")
        assert err.value.code is ErrorCode.INVALID_ARGUMENT
        assert "event_id" in err.value.message


def test_text_trims_before_checking_length() -> None:
    assert v.text("  abc  ", field="t", max_len=3) == "abc"
    with pytest.raises(CasekeeperError):
        v.text("abcd", field="t", max_len=3)
    for blank in (None, "", "   ", "\n"):
        with pytest.raises(CasekeeperError) as err:
            v.text(blank, field="t", max_len=3)
        assert "non-whitespace" in err.value.message


def test_optional_text_passes_none_through() -> None:
    assert v.optional_text(None, field="t", max_len=3) is None
    assert v.optional_text(" x ", field="t", max_len=3) == "x"


@pytest.mark.parametrize("value", [1, 2, 3, 4, 5])
def test_priority_accepts_p1_to_p5(value: int) -> None:
    assert vocabulary.priority(value) is CasePriority(value)


@pytest.mark.parametrize("value", [0, 6, -1])
def test_priority_rejects_unspecified_and_unknown(value: int) -> None:
    with pytest.raises(CasekeeperError) as err:
        vocabulary.priority(value, field="priority")
    assert err.value.code is ErrorCode.INVALID_ARGUMENT


def test_enum_list_converts_values_and_rejects_unspecified_unknown_and_too_many() -> None:
    assert v.enum_list([2, 3], CaseStatus, field="statuses") == (
        CaseStatus.ACTIVE,
        CaseStatus.ACKNOWLEDGED,
    )
    assert v.enum_list([], OrderField, field="f") == ()
    for values in ([0], [2, 0], [9], list(range(1, 6)) * 201):
        with pytest.raises(CasekeeperError) as err:
            v.enum_list(values, CaseStatus, field="statuses")
        assert err.value.code is ErrorCode.INVALID_ARGUMENT

"""REST answers with large indicators: a read keeps their JSON for its version; a bulk
change's answer, rendered while its COMMIT runs, keeps nothing (that version might not
commit); what the client reads is the same either way."""

from __future__ import annotations

from typing import Any

from casekeeper.api.coralogix.rest import render
from tests.api.coralogix.rest.conftest import Rest, rich_case_fields
from tests.conftest import MakeCase


def _group(n: int) -> dict[str, Any]:
    """``n`` alert indicators shaped as the spec gives them (kept from 16 on)."""
    (one,) = rich_case_fields()["indicators"]["alertIndicators"]
    alerts = [{**one, "alertId": f"2a1b3c4d-5e6f-4a0b-8c1d-{k:012d}"} for k in range(n)]
    return {"alertIndicators": alerts}


def test_a_bulk_answer_keeps_nothing_and_a_read_keeps_the_committed_version(
    rest: Rest, make_case: MakeCase
) -> None:
    made = [make_case(indicators=_group(20)) for _ in range(2)]
    render._INDICATORS.clear()
    body = rest.call("BulkClose", json={"ids": [c.id for c in made]})
    assert {c["status"] for c in body["cases"]} == {"CASE_STATUS_CLOSED"}
    for case in body["cases"]:
        assert case["caseIndicators"]["alertIndicators"] == _group(20)["alertIndicators"]
    assert render._INDICATORS.items == {}  # the closed versions were rendered uncommitted

    read = rest.call("GetCase", made[0].id)["case"]
    assert read["caseIndicators"]["alertIndicators"] == _group(20)["alertIndicators"]
    assert len(render._INDICATORS.items) == 1  # the committed closed version, once read

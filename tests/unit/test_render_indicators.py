"""The Coralogix REST rendering of a case's indicators: a large one is encoded once per
(case, version) and spliced into every answer after; what the client reads is the same."""

from __future__ import annotations

from typing import Any

import orjson

from casekeeper.api.coralogix.rest import render
from casekeeper.domain.enums import CaseCategory, CasePriority, CaseStatus
from casekeeper.domain.model import Case, PriorityDetails, evolve


def _group(alerts: int) -> dict[str, Any]:
    return {
        "prometheusAlertIndicators": [{
            "alertGroupId": "g1",
            "alerts": [{"fingerprint": f"fp{n}", "status": "firing"} for n in range(alerts)],
        }]
    }  # fmt: skip


def _case(indicators: dict[str, Any], version: int = 3) -> Case:
    return Case(
        id="0192f4c2-0000-7000-8000-0000000000aa", space_id=1, title="NodeDown",
        status=CaseStatus.ACTIVE, priority=PriorityDetails(CasePriority.P3),
        category=CaseCategory.AVAILABILITY, create_time=1, update_time=2,
        indicators=indicators, version=version,
    )  # fmt: skip


def _read(case: Case) -> Any:
    return orjson.loads(orjson.dumps(render.case_json(case, 10)))["caseIndicators"]


def test_a_large_group_reads_the_same_from_the_cache_and_a_new_version_afresh() -> None:
    case = _case(_group(40))
    expected = {**_group(40), "alertIndicators": []}
    assert _read(case) == expected
    assert (case.id, case.version, case.update_time) in render._INDICATORS.items
    assert _read(case) == expected  # now spliced from the cache
    grown = evolve(case, indicators=_group(41), version=case.version + 1)
    assert _read(grown) == {**_group(41), "alertIndicators": []}
    assert _read(case) == expected  # the older version is still its own


def test_a_small_one_is_encoded_each_time() -> None:
    case = _case(_group(2), version=9)
    assert _read(case) == {**_group(2), "alertIndicators": []}
    assert (case.id, 9, case.update_time) not in render._INDICATORS.items
    assert _read(_case({}, version=10)) == {"alertIndicators": []}


def test_a_version_not_yet_committed_is_never_kept() -> None:
    case = _case(_group(30), version=20)
    out = orjson.loads(orjson.dumps(render.case_json(case, 10, cached=False)))
    assert out["caseIndicators"] == {**_group(30), "alertIndicators": []}
    assert (case.id, 20, case.update_time) not in render._INDICATORS.items


def test_indicators_as_stored_are_kept_as_they_are() -> None:
    case = _case({"alertIndicators": None, "genericIndicators": []}, version=21)
    assert _read(case) == {"alertIndicators": None, "genericIndicators": []}

"""REST refuses the same oversized filters as gRPC, with the same message (one check serves
both: ``CaseFilters.check``)."""

from __future__ import annotations

from casekeeper.domain.query import MAX_FILTER_GROUPS
from tests.api.coralogix.rest.conftest import Rest, error_message


def test_flat_label_keys_over_the_limit_are_400(rest: Rest) -> None:
    flat = [{"key": f"k{i}", "value": "v"} for i in range(MAX_FILTER_GROUPS + 1)]
    body = rest.call(
        "ListCases", expect=400, json={"filters": {"caseLabelsFilter": {"flatLabels": flat}}}
    )
    assert "filters.caseLabelsFilter.flatLabels: at most" in error_message(body, 400)
    ok = rest.call("ListCases", json={"filters": {"caseLabelsFilter": {"flatLabels": flat[:-1]}}})
    assert ok["cases"] == []

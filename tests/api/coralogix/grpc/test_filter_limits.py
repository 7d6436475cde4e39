"""Every list in a filter is bounded, the same for both dialects (``CaseFilters.check``).
Before, 10,000 flat labels of distinct keys reached PostgreSQL as a statement too deep for its
parser (INTERNAL); now they are INVALID_ARGUMENT, and the largest filter allowed still runs."""

from __future__ import annotations

import uuid

import grpc

from casekeeper.domain.query import MAX_FILTER_GROUPS, MAX_FILTER_VALUES
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from tests.api.coralogix.grpc.conftest import Client, expect_error
from tests.conftest import MakeCase


def _flat(count: int, keys: int) -> pb.ListCasesRequest:
    req = pb.ListCasesRequest()
    for i in range(count):
        kv = req.filters.case_labels_filter.flat_labels.add()
        kv.key, kv.value = f"k{i % keys}", f"v{i}"
    return req


def test_ten_thousand_flat_label_keys_are_refused(api: Client) -> None:
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.cases.ListCases, _flat(10_000, 10_000))
    assert "filters.caseLabelsFilter.flatLabels: at most" in (err.details() or "")
    req = pb.GetFilterValuesRequest()
    req.filters.CopyFrom(_flat(10_000, 10_000).filters)
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.cases.GetFilterValues, req)


def test_the_largest_allowed_filters_run(api: Client, make_case: MakeCase) -> None:
    case = make_case(labels={"k0": "v0"})
    found = api.cases.ListCases(_flat(MAX_FILTER_VALUES, MAX_FILTER_GROUPS))
    assert [c.id for c in found.cases] == []  # every key must match: none does
    one_key = api.cases.ListCases(_flat(MAX_FILTER_VALUES, 1))
    assert [c.id for c in one_key.cases] == [case.id]
    req = pb.ListCasesRequest()
    for g in range(MAX_FILTER_GROUPS):
        group = req.filters.groupings.add(key=f"g{g}")
        group.values.extend(f"x{g}-{i}" for i in range(MAX_FILTER_VALUES // MAX_FILTER_GROUPS))
    assert list(api.cases.ListCases(req).cases) == []
    req.filters.groupings.add(key="one-too-many", values=["x"])
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.cases.ListCases, req)
    assert f"filters.groupings: at most {MAX_FILTER_GROUPS} groups" in (err.details() or "")


def test_value_lists_are_bounded(api: Client) -> None:
    req = pb.ListCasesRequest()
    req.filters.alert_filters.alert_ids.extend(
        str(uuid.UUID(int=i)) for i in range(MAX_FILTER_VALUES + 1)
    )
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.cases.ListCases, req)
    assert "filters.alertFilters.alertIds: at most" in (err.details() or "")
    req = pb.ListCasesRequest()
    for i in range(MAX_FILTER_VALUES + 1):
        req.filters.assignees.add(assignee=f"user-{i}")
    err = expect_error(grpc.StatusCode.INVALID_ARGUMENT, api.cases.ListCases, req)
    assert "filters.assignees: at most" in (err.details() or "")

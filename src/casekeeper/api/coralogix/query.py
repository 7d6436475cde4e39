"""Protobuf → domain: CaseFilters, ordering and pagination of ListCases/GetFilterValues.

REST parses its JSON into the same protobuf messages, so both dialects share these rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from casekeeper.api.coralogix.convert import micros_of
from casekeeper.domain.enums import (
    CaseCategory,
    CasePriority,
    CaseStatus,
    ConnectorType,
    DateRangeMode,
    IndicatorType,
    KpiFilter,
    OrderDirection,
    OrderField,
)
from casekeeper.domain.errors import invalid, quote
from casekeeper.domain.model import KeyValue
from casekeeper.domain.query import (
    MAX_SEARCH,
    CaseFilters,
    CaseOrder,
    CaseQuery,
    DateRange,
    FilterGroup,
    PageRequest,
    check_range,
)
from casekeeper.proto.com.coralogixapis.cases.v1 import case_filters_pb2 as f_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as svc_pb
from casekeeper.service import validation as v

MAX_TEXT = 4096


def _texts(items: Iterable[str], field: str) -> tuple[str, ...]:
    return tuple(v.text(x, field=field, max_len=MAX_TEXT) for x in items)


def _groups(items: Iterable[f_pb.FilterGroup], name: str) -> tuple[FilterGroup, ...]:
    out = []
    for g in items:
        key = v.text(g.key, field=f"filters.{name}.key", max_len=4096)
        if not g.values:
            raise invalid(f"filters.{name}: group {quote(key)} needs at least one value")
        values = tuple(v.text(x, field=f"filters.{name}.values", max_len=4096) for x in g.values)
        out.append(FilterGroup(key, values))
    return tuple(out)  # how many: CaseFilters.check, for every dialect


def filters_from_pb(pb: f_pb.CaseFilters) -> CaseFilters:
    assignees: list[str] = []
    unassigned = False
    for opt in pb.assignees:
        which = opt.WhichOneof("value")
        if which == "unassigned":
            unassigned = True
        elif which == "assignee":
            assignees.append(v.text(opt.assignee, field="filters.assignees.assignee", max_len=256))
        else:
            raise invalid("filters.assignees: each entry needs 'assignee' or 'unassigned'")
    date_range = None
    if pb.HasField("date_range"):
        dr = pb.date_range
        if not dr.HasField("from") or not dr.HasField("to"):
            raise invalid("filters.dateRange: both 'from' and 'to' are required")
        start = micros_of(getattr(dr, "from"), "filters.dateRange.from")
        end = micros_of(dr.to, "filters.dateRange.to")
        check_range(start, end)
        mode = _enum(DateRangeMode, dr.mode, "filters.dateRange.mode", allow_zero=True)
        date_range = DateRange(start, end, mode or DateRangeMode.ACTIVE_WINDOW)
    connectors: list[ConnectorType] = []
    no_connector = False
    for cf in pb.connector_type_filters:
        kind = cf.WhichOneof("filter")
        if kind == "no_connector":
            no_connector = True
        elif kind == "connector_type":
            connectors.append(
                _enum(ConnectorType, cf.connector_type, "filters.connectorTypeFilters")
            )
        else:
            raise invalid(
                "filters.connectorTypeFilters: each entry needs 'connectorType' or 'noConnector'"
            )
    services: list[str] = []
    databases: list[str] = []
    for ie in pb.impacted_entities:
        entity = ie.WhichOneof("entity")
        if entity == "apm_service":
            services.append(
                v.text(
                    ie.apm_service.name,
                    field="filters.impactedEntities.apmService.name",
                    max_len=4096,
                )
            )
        elif entity == "apm_database":
            databases.append(
                v.text(
                    ie.apm_database.name,
                    field="filters.impactedEntities.apmDatabase.name",
                    max_len=4096,
                )
            )
        else:
            raise invalid(
                "filters.impactedEntities: each entry needs 'apmService' or 'apmDatabase'"
            )
    alerts = pb.alert_filters
    text_search = None
    if pb.HasField("text_search"):
        text_search = v.text(pb.text_search, field="filters.textSearch", max_len=MAX_SEARCH)
    return CaseFilters(
        statuses=v.enum_list(pb.statuses, CaseStatus, field="filters.statuses"),
        priorities=v.enum_list(pb.priorities, CasePriority, field="filters.priorities"),
        categories=v.enum_list(pb.categories, CaseCategory, field="filters.categories"),
        assignees=tuple(assignees),
        include_unassigned=unassigned,
        groupings=_groups(pb.groupings, "groupings"),
        labels=_groups(pb.labels, "labels"),
        flat_labels=tuple(
            KeyValue(
                v.text(kv.key, field="filters.caseLabelsFilter.flatLabels.key", max_len=4096),
                v.text(kv.value, field="filters.caseLabelsFilter.flatLabels.value", max_len=4096),
            )
            for kv in pb.case_labels_filter.flat_labels
        ),
        text_search=text_search,
        date_range=date_range,
        indicator_types=v.enum_list(
            pb.indicator_types, IndicatorType, field="filters.indicatorTypes"
        ),
        breached=v.enum_list(pb.breached, KpiFilter, field="filters.breached"),
        connector_types=tuple(connectors),
        include_no_connector=no_connector,
        impacted_services=tuple(services),
        impacted_databases=tuple(databases),
        alert_ids=tuple(
            v.uuid_text(x, field="filters.alertFilters.alertIds") for x in alerts.alert_ids
        ),
        alert_versions=_texts(alerts.alert_versions, "filters.alertFilters.alertVersions"),
        alert_filters_present=pb.HasField("alert_filters"),
    )


def _enum(enum: Any, value: int, field: str, allow_zero: bool = False) -> Any:
    try:
        member = enum(value)
    except ValueError:
        raise invalid(f"{field}: unknown value {value}") from None
    if int(value) == 0 and not allow_zero:
        raise invalid(f"{field}: the UNSPECIFIED value is not allowed")
    return member if int(value) else None


def query_from_pb(pb: svc_pb.ListCasesRequest) -> CaseQuery:
    order = CaseOrder()
    if pb.HasField("order_by"):
        field = _enum(OrderField, pb.order_by.field, "orderBy.field", allow_zero=True)
        if field is OrderField.SEVERITY:  # casekeeper's own, not the spec's
            raise invalid(f"orderBy.field: unknown value {int(field)}")
        direction = _enum(
            OrderDirection, pb.order_by.direction, "orderBy.direction", allow_zero=True
        )
        order = CaseOrder(field or OrderField.CREATED_AT, direction or OrderDirection.DESCENDING)
    page = PageRequest()
    if pb.HasField("pagination"):
        pg = pb.pagination
        size = pg.page_size if pg.HasField("page_size") else page.size
        skip = pg.skip if pg.HasField("skip") else 0
        token = pg.page_token if pg.HasField("page_token") and pg.page_token else None
        page = PageRequest(size=size, token=token, skip=skip)
        page.check()  # the service checks again; here it answers before the filters, as ever
    return CaseQuery(filters=filters_from_pb(pb.filters), order=order, page=page)

"""The Coralogix dialect's words for the service's errors: its field names, the spec's enum
names in a refused transition, and its own hints (it has no reopen)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from casekeeper.api.coralogix.vocabulary import STATUS_NAME
from casekeeper.domain.enums import CaseStatus
from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.lifecycle import HINTS, refusal

# Canonical field → this dialect's name for it, in errors the service raises.
_FIELDS = {
    "assignee": "assignee.userId",
    "title": "patch.title",
    "resolution_reason": "patch.resolutionReason",
    "page.size": "pagination.pageSize",
    "page.skip": "pagination.skip",
    "page.token": "pagination.pageToken",
    "filters.date_range": "filters.dateRange",
    "filters.text_search": "filters.textSearch",
    "filters.indicator_types": "filters.indicatorTypes",
    "filters.connector_types": "filters.connectorTypeFilters",
    "filters.impacted_entities": "filters.impactedEntities",
    "filters.alert_ids": "filters.alertFilters.alertIds",
    "filters.alert_versions": "filters.alertFilters.alertVersions",
    "filters.flat_labels": "filters.caseLabelsFilter.flatLabels",
    "indicator.fingerprint": "prometheusAlert.fingerprint",
    "messages.external_id": "messages.externalId",
}
# The spec has no reopen: its words for why a closed or resolved case refuses a change.
_HINTS = {
    **HINTS,
    "closed": "a closed case is final",
    "resolved": "a resolved case cannot be reopened; close it instead",
}


def refusal_message(detail: Mapping[str, object]) -> str | None:
    """A refused transition's message in this dialect's words (statuses by the spec's enum
    names); None if ``detail`` is not a refused transition's."""
    status = detail.get("status")
    if not isinstance(status, CaseStatus):
        return None
    hint = str(detail.get("hint", ""))
    return refusal(
        str(detail["operation"]), str(detail["case"]), STATUS_NAME[status], _HINTS.get(hint, hint)
    )


def worded(err: CasekeeperError) -> CasekeeperError:
    """``err`` as this dialect says it: its field names, its status names."""
    message = refusal_message(err.detail)
    if message is not None:
        return CasekeeperError(err.code, message, detail=err.detail)
    return err.rename(_FIELDS)


F = TypeVar("F", bound=Callable[..., Any])


def in_our_words(fn: F) -> F:
    """An operation whose service errors reach the caller in this dialect's words."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CasekeeperError as err:
            raise worded(err) from None

    return cast(F, run)

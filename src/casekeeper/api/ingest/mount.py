"""The ingest doors as the HTTP app mounts them: two mounts, because their errors differ in
shape. ``/ingest/...`` answers in casekeeper's own; ``/v2/enqueue`` in PagerDuty's, so that a
404, 405 or 413 there reads like PagerDuty too (the app renders those, not the handler)."""

from __future__ import annotations

from typing import Final

from casekeeper.api.http.errors import DialectMount, generic_error
from casekeeper.api.ingest.routes import (
    ENQUEUE_PATH,
    ingest_routes,
    pagerduty_error,
    pagerduty_routes,
)

INGEST: Final = DialectMount("ingest", ("/ingest",), generic_error, ingest_routes)
PAGERDUTY: Final = DialectMount("pagerduty", (ENQUEUE_PATH,), pagerduty_error, pagerduty_routes)
MOUNTS: Final = (INGEST, PAGERDUTY)

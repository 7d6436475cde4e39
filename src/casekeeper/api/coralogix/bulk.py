"""How both dialects tell a bulk caller which ids failed and why, without changing the spec's
response shape: a JSON list ``[{"id", "code", "message"}]`` in a gRPC trailer / HTTP header.

Metadata and headers are small (gRPC clients refuse more than 8-16 KiB by default), so the list
is capped; the total count always comes along, and the response's ``cases`` — exactly the cases
processed — still let a caller work out every id that was not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from casekeeper.domain.errors import CATALOG
from casekeeper.service.cases import BulkFailure

FAILURES_KEY = "casekeeper-bulk-failures"
TOTAL_KEY = "casekeeper-bulk-failures-total"
BUDGET = 6000  # bytes of JSON


def failure_report(failures: Sequence[BulkFailure], budget: int = BUDGET) -> str:
    items: list[dict[str, str]] = []
    size = 2
    for f in failures:
        item = {"id": f.id[:128], "code": CATALOG[f.code].grpc_status, "message": f.message[:200]}
        cost = len(_dumps(item)) + 1
        if size + cost > budget:
            break
        items.append(item)
        size += cost
    return _dumps(items)


def _dumps(data: object) -> str:
    # ASCII only: gRPC metadata and HTTP headers carry no other characters.
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"))

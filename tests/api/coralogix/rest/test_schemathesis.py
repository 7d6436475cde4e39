"""schemathesis against casekeeper's own ``/openapi.json``, served on loopback by the session's
server, authorised with a real key that has every permission, with every check on.

The CLI runs as a subprocess (``schemathesis.pytest.from_fixture`` is broken on pytest 9.2 and the
module-level ``from_url`` pattern would need a server before the fixtures' database exists). The
key's space is seeded first — enough cases that the spec's own example ids (``CASE-123`` and the
example UUID) exist, cases in every status, comments — and the real ids are offered to the
generator through dictionaries, so GETs and state changes hit real data.

``CASEKEEPER_SCHEMATHESIS_EXAMPLES`` lowers the examples per operation (CI runs 100);
``CASEKEEPER_SCHEMATHESIS_SEED`` changes the seed (fixed, so a run is reproducible).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.errors import CasekeeperError
from casekeeper.service.admin import NewCase
from casekeeper.service.auth import Principal
from tests.api.coralogix.rest.conftest import USER, MakeRest, Rest, rich_case_fields
from tests.conftest import MakeCase
from tests.schemathesis_run import run_schemathesis

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_EXAMPLES", "100"))
SEED = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_SEED", "20261123"))
SPEC_EXAMPLE_CASE = (
    "3f166e9f-3c88-4af2-b52e-138f339dab3e"  # the id the reference spec's examples use
)
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


def _seed(
    container: Container, principal: Principal, make_case: MakeCase, api: Rest
) -> tuple[list[str], list[str]]:
    """Cases CASE-1..CASE-125 in every status, plus the spec's example UUID; returns (case ids
    to offer, event ids to offer)."""
    with contextlib.suppress(CasekeeperError):  # made by an earlier run on the same database
        container.admin.create_case(
            principal,
            NewCase(
                title="Spec example",
                category=CaseCategory(2),
                priority=CasePriority(2),
                case_id=SPEC_EXAMPLE_CASE,
            ),
        )
    cases = [
        make_case(
            title=f"Seed {i}",
            priority=CasePriority(i % 5 + 1),
            category=CaseCategory(i % 2 + 1),
            labels={"team": f"t{i % 3}"},
            groupings={"service": f"svc{i % 4}"},
            pending=(i % 10 == 9),
            who=principal,
            **(
                {
                    k: v
                    for k, v in rich_case_fields(fingerprint=f"fp{i:04d}").items()
                    if k not in ("labels", "groupings")
                }
                if i % 5 == 0
                else {}
            ),
        )
        for i in range(125)
    ]
    offered: list[str] = []
    events: list[str] = []
    for i, case in enumerate(cases):
        if case.number is None:
            offered.append(case.id)
            continue
        ident = f"CASE-{case.number}"
        if i % 7 == 1:
            api.call("AcknowledgeCase", ident)
        elif i % 7 == 2:
            api.call("ResolveCase", ident, json={"reason": "seeded"})
        elif i % 7 == 3:
            api.call("CloseCase", ident)
        elif i % 7 == 4:
            api.call("AssignCase", ident, json={"assignee": {"userId": USER}})
        if i % 4 == 0:
            events.append(
                api.call("CreateComment", ident, json={"text": f"seed comment {i}"})["event"][
                    "eventId"
                ]
            )
        if i < 40:
            offered += [ident, case.id]
    events += [e["eventId"] for e in api.call("ListEvents", "CASE-1")["events"]]
    return offered, events


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def test_schemathesis_finds_no_problem(
    base_url: str, container: Container, make_rest: MakeRest, make_case: MakeCase, tmp_path: Path
) -> None:
    api = make_rest(name="schemathesis")
    assert api.principal is not None
    assert api.key is not None
    case_ids, event_ids = _seed(container, api.principal, make_case, api)
    config = f"""
# A schema-valid request is accepted (2xx) or names something that does not exist (404): the
# document states every rule the server enforces. positive_data_acceptance_unless_state
# (schemathesis_hooks.py) replaces the built-in check and excuses only the refusals that depend
# on state: a lifecycle step the case's status forbids (400, FAILED_PRECONDITION) and a page
# token the server did not issue; it tells them apart by X-Casekeeper-Error-Code.
hooks = "{HOOKS}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404"]

[dictionaries.case_ids]
values = {_toml_list(case_ids)}

[dictionaries.event_ids]
values = {_toml_list(event_ids)}

[parameters]
"path.id" = {{ dictionary = "case_ids", probability = 0.5 }}
"path.case_id" = {{ dictionary = "case_ids", probability = 0.5 }}
"path.event_id" = {{ dictionary = "event_ids", probability = 0.5 }}
"""
    args = [
        # The Cases and Case Events operations (and health); the Incidents and Case Settings
        # operations have their own runs (tests/api/coralogix/{incidents,settings}/), the
        # notification ledger is checked against its own spec (tests/api/coralogix/notifications/).
        "--include-path-regex",
        "^/(cases/|healthz$|readyz$)",
        "--exclude-path-regex",
        "^/cases/(cases/case-settings|notifications)/",
        "--exclude-tag",
        "Tracecat cases",  # /cases?workspace_id=… (tests/api/tracecat/)
        "-H",
        f"Authorization: Bearer {api.key}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",  # wrapped by positive_data_acceptance_unless_state
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
    ]
    run_schemathesis(base_url, tmp_path, config, args, operations=30)

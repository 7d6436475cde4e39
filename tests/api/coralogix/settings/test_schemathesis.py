"""schemathesis over the Case Settings routes of casekeeper's ``/openapi.json``, served by the
session's server, with a key holding case-config:Read and case-config:Update and every check on:
no server error, every response in the document's shape, every schema-valid request accepted
(``schemathesis_hooks.py`` excuses only a repeated KPI threshold), every invalid one refused.

The key's space starts with a settings record, whose id is offered to the generator, so reads,
changes and deletes hit it. ``CASEKEEPER_SCHEMATHESIS_EXAMPLES`` and
``CASEKEEPER_SCHEMATHESIS_SEED`` work as in the cases run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.api.coralogix.settings.conftest import FULL, MakeRest
from tests.schemathesis_run import run_schemathesis

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_EXAMPLES", "100"))
SEED = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_SEED", "20261123"))
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


def test_schemathesis_finds_no_problem_in_the_settings_routes(
    base_url: str, make_rest: MakeRest, tmp_path: Path
) -> None:
    api = make_rest("case-config:Read", "case-config:Update")
    made = api.call("CreateCaseSettings", json=FULL)["caseSettings"]
    config = f"""
hooks = "{HOOKS}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409"]

[dictionaries.settings_ids]
values = ["{made["id"]}"]

[parameters]
"path.id" = {{ dictionary = "settings_ids", probability = 0.7 }}
"""
    args = [
        "--include-path-regex",
        "^/cases/cases/case-settings/",
        "-H",
        f"Authorization: Bearer {api.key}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",  # wrapped by positive_data_acceptance_unless_repeated_kpi
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
    ]
    run_schemathesis(base_url, tmp_path, config, args, operations=6)

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
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.coralogix.settings.conftest import FULL, MakeRest

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_EXAMPLES", "100"))
SEED = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_SEED", "20261123"))
RUN_TIMEOUT = 1500
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


def test_schemathesis_finds_no_problem_in_the_settings_routes(
    base_url: str, make_rest: MakeRest, tmp_path: Path
) -> None:
    api = make_rest("case-config:Read", "case-config:Update")
    made = api.call("CreateCaseSettings", json=FULL)["caseSettings"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f"""
hooks = "{HOOKS}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409"]

[dictionaries.settings_ids]
values = ["{made["id"]}"]

[parameters]
"path.id" = {{ dictionary = "settings_ids", probability = 0.7 }}
"""
    )
    script = Path(sys.executable).with_name("schemathesis")
    assert script.exists(), f"schemathesis is not installed beside {sys.executable}"
    command = [
        str(script),
        "--config-file",
        str(config),
        "run",
        f"{base_url}/openapi.json",
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
        "--request-timeout",
        "30",
        "--no-color",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.log").write_text(output)
    summary = "\n".join(
        line
        for line in output.splitlines()
        if re.match(r"^(_{3,} .* _{3,}|- ST\d+|\s+curl |=+ .* =+$)", line)
    )
    assert "Operations:       6 selected / " in output, output[-3000:]
    assert "Server error" not in output, summary[-12000:]
    assert result.returncode == 0, (
        f"schemathesis found problems (log: {tmp_path}/schemathesis.log):\n{summary[-12000:]}"
    )

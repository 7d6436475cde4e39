"""schemathesis over the Tracecat routes of casekeeper's ``/openapi.json`` (``/cases…``),
served by the session's server, with the session cookie of a real login as an admin: no
server error, every answer in the document's shape and status codes. Real case, comment and
tag ids and the workspace's UUID are offered to the generator, so reads and changes hit data.
``CASEKEEPER_SCHEMATHESIS_EXAMPLES`` and ``CASEKEEPER_SCHEMATHESIS_SEED`` work as in the
Coralogix runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.api.tracecat.conftest import Tracecat
from tests.schemathesis_run import run_schemathesis

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_EXAMPLES", "60"))
SEED = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_SEED", "20261205"))


def test_schemathesis_finds_no_server_error_in_the_tracecat_routes(
    base_url: str, tracecat: Tracecat, tmp_path: Path
) -> None:
    cases = [tracecat.create(summary=f"case {n}", tags=[f"t{n}"]) for n in range(3)]
    comment = tracecat.call("POST", f"/{cases[0]['id']}/comments", json={"content": "c"},
                            expect=201)  # fmt: skip
    case_ids = ", ".join(f'"{c["id"]}"' for c in cases)
    tags = ", ".join(f'"{c["tags"][0]["id"]}", "{c["tags"][0]["ref"]}"' for c in cases)
    config = f"""
[dictionaries.case_ids]
values = [{case_ids}]

[dictionaries.comment_ids]
values = ["{comment["id"]}"]

[dictionaries.tag_ids]
values = [{tags}]

[dictionaries.workspaces]
values = ["{tracecat.workspace_id}"]

[parameters]
"query.workspace_id" = {{ dictionary = "workspaces", probability = 0.95 }}
"path.case_id" = {{ dictionary = "case_ids", probability = 0.7 }}
"path.comment_id" = {{ dictionary = "comment_ids", probability = 0.7 }}
"path.tag_id" = {{ dictionary = "tag_ids", probability = 0.7 }}
"""
    checks = "all"
    cookie = f"fastapiusersauth={tracecat.http.cookies['fastapiusersauth']}"
    args = [
        "--include-tag", "Tracecat cases", "--exclude-path", "/auth/logout",
        "--exclude-path", "/auth/login", "--header", f"Cookie: {cookie}",
        "--checks", checks, "--exclude-checks", "positive_data_acceptance",
        "--max-examples", str(EXAMPLES), "--seed", str(SEED),
    ]  # fmt: skip
    run_schemathesis(base_url, tmp_path, config, args, operations=17)

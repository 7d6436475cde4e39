"""schemathesis over the Kibana routes of casekeeper's ``/openapi.json`` (the named-space
paths, ``/s/{space_id}/api/cases…``), served by the session's server, as an admin user over
HTTP Basic: no server error, every answer in the document's shape and status codes. Real case
and comment ids are offered to the generator, so reads and changes hit data.
``CASEKEEPER_SCHEMATHESIS_EXAMPLES`` and ``CASEKEEPER_SCHEMATHESIS_SEED`` work as in the
Coralogix runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.api.kibana.conftest import PASSWORD, Kibana
from tests.schemathesis_run import run_schemathesis

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_EXAMPLES", "60"))
SEED = int(os.environ.get("CASEKEEPER_SCHEMATHESIS_SEED", "20261205"))


def test_schemathesis_finds_no_server_error_in_the_kibana_routes(
    base_url: str, kibana: Kibana, user: str, tmp_path: Path
) -> None:
    cases = [kibana.create(title=f"case {n}", tags=[f"t{n}"]) for n in range(3)]
    after = kibana.call(
        "POST", f"/{cases[0]['id']}/comments", json={"type": "user", "comment": "c"}
    )
    comments = kibana.call("GET", f"/{after['id']}/comments/_find")["comments"]
    case_ids = ", ".join(f'"{c["id"]}"' for c in cases)
    config = f"""
[dictionaries.case_ids]
values = [{case_ids}]

[dictionaries.comment_ids]
values = ["{comments[0]["id"]}"]

[dictionaries.spaces]
values = ["{kibana.space}"]

[parameters]
"path.space_id" = {{ dictionary = "spaces", probability = 0.9 }}
"path.case_id" = {{ dictionary = "case_ids", probability = 0.7 }}
"path.comment_id" = {{ dictionary = "comment_ids", probability = 0.7 }}
"""
    checks = (
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance,response_headers_conformance"
    )
    args = [
        "--include-path-regex", r"^/s/\{space_id\}/api/cases",
        "--auth", f"{user}:{PASSWORD}", "--checks", checks,
        "--max-examples", str(EXAMPLES), "--seed", str(SEED),
    ]  # fmt: skip
    run_schemathesis(base_url, tmp_path, config, args, operations=16)

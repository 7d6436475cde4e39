"""Golden files of the Coralogix wire output: one scripted scenario, run against real servers
over gRPC and over REST, must answer byte for byte what ``data/grpc.json`` and
``data/rest.json`` hold (issue 11: the refactor must not change a byte of these bodies).

The scenario (``scenario.py``, ``steps.py``, ``errors.py``) seeds eight cases with chosen ids
in a fresh database and space, under a step clock, then calls every RPC of ``CasesService``
and ``CaseEventsService`` (every REST route of Coralogix's OpenAPI documents): reads, lists
with each filter, ordering and pagination, filter values, deep links, the lifecycle, overrides,
bulk calls with per-case failures, comments, external thread sync, and errors (unauthenticated,
permission denied, other space, not found, invalid argument, failed precondition).

Each gRPC step records the status, details and metadata, the response as protobuf JSON
(``MessageToJson``, camelCase) and the response's bytes as the server sent them; each REST step
records the status, every response header but ``Date``, and the body exactly. What differs from
run to run by design is normalised, and nothing else (``record.py``): random key and event ids
become placeholders, and protobuf map entries and a 405's ``Allow`` methods are put in a stable
order.

Regenerate (only on code whose output is known right, and review the diff)::

    CASEKEEPER_GOLDEN_UPDATE=1 .venv/bin/python -m pytest -p no:cacheprovider tests/golden

Without it the test compares, and a mismatch shows a diff of the first step that differs. The
same files hold for SQLite and PostgreSQL (``CASEKEEPER_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import grpc
import httpx
import pytest

from tests.golden.errors import errors, final
from tests.golden.record import compare_or_update
from tests.golden.scenario import Transport, seed
from tests.golden.steps import bulk, events, mutations, reads
from tests.golden.transports import SERVICES, GrpcTransport, Recorder, RestTransport, rest_routes
from tests.golden.world import TIMEOUT, World

ABOUT = (
    "Golden output of tests/golden (see test_golden.py): one step per exchange. Random ids are "
    "placeholders (<key:NAME>, <event-N>); protobuf map entries are sorted (gRPC bytes), so "
    "are deepLinks.alertIndicators keys and the methods of an Allow header (REST); all else is "
    "as the server sent it."
)


def run_scenario(t: Transport, world: World) -> None:
    seed(t, world.create_case)
    reads(t)
    mutations(t)
    bulk(t)
    events(t)
    errors(t)
    final(t)


def _uncovered(recorder: Recorder, every: set[str], ok: object) -> list[str]:
    answered = {s.get("rpc", "").rsplit("/", 1)[-1] for s in recorder.steps if s["status"] == ok}
    return sorted(every - answered)


@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_golden(world: World, transport: str) -> None:
    world.make_key("admin", "golden admin")
    recorder: Recorder
    if transport == "grpc":
        with grpc.insecure_channel(world.grpc_target) as channel:
            grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
            recorder = GrpcTransport(world, channel)
            run_scenario(recorder, world)
        every = {m.name for s in SERVICES for m in s.methods}
        missing = _uncovered(recorder, every, "OK")
    else:
        with httpx.Client(base_url=world.http_url, timeout=TIMEOUT) as client:
            recorder = RestTransport(world, client)
            run_scenario(recorder, world)
        missing = _uncovered(recorder, set(rest_routes()), 200)
    assert not missing, f"the scenario never gets a success from {missing}: cover them"
    compare_or_update(transport, {"about": ABOUT, "transport": transport, "steps": recorder.steps})

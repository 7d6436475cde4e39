"""The scenario's two ways in: a real gRPC channel and a real HTTP client, each recording
every exchange as one golden step.

Requests are written once, as protobuf JSON of the RPC's request message. The gRPC transport
sends the message (raw bytes in, raw bytes out: the recorded bytes are the server's); the REST
transport finds the operation's verb and path in Coralogix's OpenAPI documents (by
``operationId``, not through casekeeper's route table, so it outlives a refactor of that table),
puts ``id``/``caseId``/``eventId`` into the path, ``ids`` of a DELETE into the query string and
the rest into a JSON body.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc
import httpx
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor

from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2, cases_service_pb2
from tests.golden.record import Placeholders, hex_lines, sorted_deep_links, sorted_maps
from tests.golden.world import TIMEOUT, World

REPO = Path(__file__).resolve().parents[2]
SERVICES = (
    cases_service_pb2.DESCRIPTOR.services_by_name["CasesService"],
    case_events_service_pb2.DESCRIPTOR.services_by_name["CaseEventsService"],
)
SPEC_FILES = ("cases_service.json", "case_events_service.json")
PATH_FIELDS = {"id": "id", "case_id": "caseId", "event_id": "eventId"}


def grpc_method(rpc: str) -> MethodDescriptor:
    for service in SERVICES:
        if rpc in service.methods_by_name:
            return service.methods_by_name[rpc]
    raise KeyError(f"no Coralogix RPC named {rpc}")


@cache
def rest_routes() -> dict[str, tuple[str, str]]:
    """RPC name → (verb, path template), from the reference OpenAPI documents (the folder of
    ``CASEKEEPER_REFERENCE_DIR``, else ``../shared/reference``, else the copies the package
    ships, wherever they live)."""
    configured = os.environ.get("CASEKEEPER_REFERENCE_DIR", "").strip()
    base = Path(configured) if configured else REPO.parent / "shared" / "reference"
    folder = base / "coralogix-openapi"
    if not folder.is_dir():
        found = sorted((REPO / "src").rglob(SPEC_FILES[0]))
        assert found, "no Coralogix OpenAPI document found (set CASEKEEPER_REFERENCE_DIR)"
        folder = found[0].parent
    routes: dict[str, tuple[str, str]] = {}
    for name in SPEC_FILES:
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
        for path, ops in doc["paths"].items():
            for verb, op in ops.items():
                if isinstance(op, dict) and "operationId" in op:
                    routes[op["operationId"].split("_", 1)[1]] = (verb.upper(), path)
    return routes


class Recorder:
    """What both transports share: the world, the step count (one clock tick per step) and the
    recorded steps."""

    name = ""

    def __init__(self, world: World) -> None:
        self.world = world
        self.ids = Placeholders()
        self.steps: list[dict[str, Any]] = []
        for label, key in world.keys.items():
            self.ids.name_key(key.principal.key_id, label)

    def tick(self) -> None:
        self.world.clock.tick()

    def add_key(self, label: str, name: str, *permissions: str, space: str | None = None) -> None:
        self.tick()
        extra = {"space": space} if space else {}
        key = self.world.make_key(label, name, *permissions, **extra)
        self.ids.name_key(key.principal.key_id, label)

    def system(self, case_id: str, operation: str) -> None:
        self.tick()
        self.world.system(case_id, operation)

    def revoke(self, label: str) -> None:
        self.tick()
        self.world.revoke(label)

    def authorization(self, key: str | None, auth: str | None) -> str | None:
        if auth is not None:
            return auth
        return None if key is None else f"Bearer {self.world.keys[key].secret}"

    def begin(self, name: str, key: str | None, auth: str | None) -> dict[str, Any]:
        self.tick()
        step: dict[str, Any] = {"step": len(self.steps) + 1, "name": name}
        step["key"] = key if auth is None else f"<literal: {auth}>"
        self.steps.append(step)
        return step


class GrpcTransport(Recorder):
    name = "grpc"

    def __init__(self, world: World, channel: grpc.Channel) -> None:
        super().__init__(world)
        self.channel = channel

    def call(
        self,
        name: str,
        rpc: str,
        request: Mapping[str, Any] | None = None,
        *,
        key: str | None = "admin",
        auth: str | None = None,
        raw: bytes | None = None,
    ) -> dict[str, Any] | None:
        """Call ``rpc`` with ``request`` (protobuf JSON; or ``raw`` bytes as the body); returns
        the response as protobuf JSON, or None when the call failed."""
        method = grpc_method(rpc)
        step = self.begin(name, key, auth)
        step["rpc"] = f"{method.containing_service.name}/{rpc}"
        if raw is None:
            message = message_factory.GetMessageClass(method.input_type)()
            json_format.ParseDict(dict(request or {}), message)
            body = message.SerializeToString()
            step["request"] = self.ids.data(json_format.MessageToDict(message))
        else:
            body = raw
            step["requestBytes"] = hex_lines(raw)
        authorization = self.authorization(key, auth)
        metadata = () if authorization is None else (("authorization", authorization),)
        # No (de)serializers: the bytes sent and received are recorded as they are.
        stub = self.channel.unary_unary(
            f"/{method.containing_service.full_name}/{rpc}",
            request_serializer=None,
            response_deserializer=None,
        )
        try:
            data, call = stub.with_call(body, metadata=metadata, timeout=TIMEOUT)
        except grpc.RpcError as err:
            failed: Any = err  # a grpc.Call as well
            step["status"] = failed.code().name
            step["details"] = self.ids.text(failed.details() or "")
            self._metadata(step, failed)
            return None
        step["status"] = "OK"
        self._metadata(step, call)
        response = message_factory.GetMessageClass(method.output_type).FromString(data)
        step["responseBytes"] = hex_lines(self.ids.bytes(sorted_maps(data, method.output_type)))
        as_json = json_format.MessageToJson(response, preserving_proto_field_name=False)
        step["response"] = self.ids.data(json.loads(as_json))
        return json_format.MessageToDict(response)

    def _metadata(self, step: dict[str, Any], call: Any) -> None:
        for what, items in (
            ("initialMetadata", call.initial_metadata()),
            ("trailingMetadata", call.trailing_metadata()),
        ):
            pairs = [[k, self.ids.text(str(v))] for k, v in items or ()]
            if pairs:
                step[what] = pairs


class RestTransport(Recorder):
    name = "rest"

    def __init__(self, world: World, client: httpx.Client) -> None:
        super().__init__(world)
        self.client = client

    def call(
        self,
        name: str,
        rpc: str,
        request: Mapping[str, Any] | None = None,
        *,
        key: str | None = "admin",
        auth: str | None = None,
        raw: bytes | None = None,
    ) -> dict[str, Any] | None:
        """Run the REST operation of ``rpc`` (see the module docstring)."""
        if raw is not None:
            raise ValueError("a raw protobuf body means nothing to REST: use only(t, 'grpc', ...)")
        verb, template = rest_routes()[rpc]
        fields = dict(request or {})
        path = template
        for param in re.findall(r"\{(\w+)\}", template):
            value = str(fields.pop(PATH_FIELDS[param]))
            path = path.replace("{" + param + "}", quote(value, safe=""))
        query = ""
        if verb == "DELETE" and "ids" in fields:
            query = "?" + "&".join(f"ids={quote(str(i), safe='')}" for i in fields.pop("ids"))
        payload = fields.get("patch") if rpc == "UpdateCase" else fields
        body = json.dumps(payload, separators=(",", ":")).encode() if payload else None
        return self.send(name, verb, path + query, body, key=key, auth=auth, rpc=rpc)

    def send(
        self,
        name: str,
        verb: str,
        target: str,
        body: bytes | None = None,
        *,
        key: str | None = "admin",
        auth: str | None = None,
        headers: Mapping[str, str] | None = None,
        rpc: str = "",
    ) -> dict[str, Any] | None:
        """Send one HTTP request as given; returns the JSON body of a 200, else None."""
        step = self.begin(name, key, auth)
        if rpc:
            step["rpc"] = rpc
        sent = {"x-request-id": f"golden-{step['step']}"}
        if body is not None:
            sent["content-type"] = "application/json"
        sent.update(headers or {})
        step["request"] = {"method": verb, "target": self.ids.text(target)}
        if body is not None:
            step["request"]["body"] = self.ids.text(body.decode())
        if headers:
            step["request"]["headers"] = dict(headers)
        authorization = self.authorization(key, auth)
        if authorization is not None:
            sent["authorization"] = authorization
        response = self.client.request(verb, target, content=body, headers=sent)
        data = response.content
        if rpc == "GetCaseDeepLinks" and response.status_code == 200:
            data, has_map = sorted_deep_links(data)
            if has_map:
                step["bodyNote"] = "deepLinks.alertIndicators sorted by key (a protobuf map)"
        step["status"] = response.status_code
        step["headers"] = {
            k: self.ids.text(v) for k, v in response.headers.multi_items() if k != "date"
        }
        if "allow" in step["headers"]:
            step["headers"]["allow"] = ", ".join(sorted(step["headers"]["allow"].split(", ")))
            step["headersNote"] = "allow: methods sorted (Starlette keeps a route's in a set)"
        text = data.decode("utf-8")
        step["body"] = self.ids.text(text)
        if response.headers.get("content-type", "").startswith("application/json"):
            step["bodyJson"] = self.ids.data(json.loads(text))
        return response.json() if response.status_code == 200 else None

"""Method handlers for casekeeper's services, built from their descriptors.

The generated ``add_*Servicer_to_server`` functions decode requests with ``FromString``, which
raises on bytes that are not the method's message: grpcio then answers UNKNOWN and logs a
traceback before casekeeper's code runs. Here a request that does not decode becomes an
``Undecodable`` value instead, and the ``rpc`` wrapper (``rpc.py``) answers it INVALID_ARGUMENT
like any other bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A request body that is not the protobuf message its method takes."""

    reason: str


def _decoder(cls: type[Message]) -> Callable[[bytes], Message | Undecodable]:
    def decode(data: bytes) -> Message | Undecodable:
        try:
            return cls.FromString(data)
        except Exception as err:  # any failure is the caller's bytes, never the server's
            return Undecodable(str(err) or type(err).__name__)

    return decode


def _encode(message: Message) -> bytes:
    return message.SerializeToString()


def method_handlers(service: str, servicer: object) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    """The unary handlers of every method of ``service`` (a full name, e.g.
    ``casekeeper.v1.ApiKeysService``), bound to the same-named methods of ``servicer``."""
    desc = descriptor_pool.Default().FindServiceByName(service)
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
    for method in desc.methods:
        if method.client_streaming or method.server_streaming:
            raise TypeError(f"{service}/{method.name}: only unary methods are served")
        request: Any = message_factory.GetMessageClass(method.input_type)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            getattr(servicer, method.name),
            request_deserializer=_decoder(request),
            response_serializer=_encode,
        )
    return handlers


def add_services(server: grpc.aio.Server, services: Iterable[tuple[str, object]]) -> None:
    """Register each ``(service full name, servicer)`` on ``server``, as the generated
    ``add_*Servicer_to_server`` functions do, with decoding that never raises."""
    for name, servicer in services:
        handlers = method_handlers(name, servicer)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
        server.add_registered_method_handlers(name, handlers)  # type: ignore[attr-defined]  # not in the stubs

"""Who is calling, as Kibana clients say it: HTTP Basic with a casekeeper user,
``ApiKey <base64(id:secret)>`` or ``ApiKey <key>``, or ``Bearer <key>``; and in which space.
A space the caller has no part in is answered as one that does not exist."""

from __future__ import annotations

import base64
import binascii
import functools

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from casekeeper.api.kibana.errors import space_not_found
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.auth import Principal, authenticate_async

HOW = "send 'Authorization: Basic <user:password>', 'ApiKey <key>' or 'Bearer <key>'"


def _unauthenticated(why: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.UNAUTHENTICATED, why)


def _decoded(text: str) -> str | None:
    try:
        return base64.b64decode(text.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def api_key_of(token: str) -> str:
    """The casekeeper key in an ``ApiKey`` value: the key itself, or Elasticsearch's
    ``base64(id:api_key)`` where id is the key's prefix and api_key the rest
    (``ck_<prefix>_<secret>`` is ``base64(<prefix>:<secret>)``) or the whole key."""
    plain = _decoded(token)
    if plain is None or ":" not in plain:
        return token.strip()
    key_id, secret = plain.split(":", 1)
    return secret if secret.startswith("ck_") else f"ck_{key_id}_{secret}"


async def principal(c: Container, request: Request, space: str) -> Principal:
    header = request.headers.get("authorization")
    if not header or " " not in header.strip():
        raise _unauthenticated(f"missing credentials: {HOW}")
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        plain = _decoded(value)
        if plain is None or ":" not in plain:
            raise _unauthenticated("Basic credentials must be base64 of 'username:password'")
        username, password = plain.split(":", 1)
        address = request.client.host if request.client else "?"
        found = await run_in_threadpool(
            functools.partial(c.users.authenticate, username, password, space, address)
        )
    elif scheme in ("apikey", "bearer"):
        key = api_key_of(value) if scheme == "apikey" else value.strip()
        found = await authenticate_async(c.keys, f"Bearer {key}", run_in_threadpool)
    else:
        raise _unauthenticated(f"unsupported authorization scheme {scheme!r}: {HOW}")
    if found.space_name != space or not found.permissions:
        raise space_not_found(space)
    return found

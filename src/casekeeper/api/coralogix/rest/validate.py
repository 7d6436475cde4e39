"""Request bodies are checked against casekeeper's own OpenAPI document, so the document and the
server agree on what is valid: whatever the document forbids is a 400 naming the field.

The body is first normalized (canonical camelCase names, ``{"value": x}`` unwrapped, timestamps
as RFC 3339 text, maps as objects), so the lenient input forms are judged like canonical ones.
"""

from __future__ import annotations

import copy
from collections import deque
from functools import cache
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError, best_match, relevance

from casekeeper.api.coralogix.rest.openapi import openapi_document
from casekeeper.api.coralogix.rest.openapi_rules import TEXT
from casekeeper.domain.errors import QUOTE_LIMIT, invalid, quote


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema draft 4: ``nullable`` becomes an explicit null alternative."""
    if isinstance(node, list):
        return [_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k not in ("nullable", "example")}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _validator(path: str, method: str) -> Draft4Validator | None:
    doc = openapi_document()
    op = doc["paths"][path][method.lower()]
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "schema" not in body:
        return None
    root = _to_json_schema(copy.deepcopy(body["schema"]))
    root["components"] = {"schemas": _to_json_schema(doc["components"]["schemas"])}
    return Draft4Validator(root)


@cache
def _query_validator(path: str, method: str) -> Draft4Validator | None:
    """The query string's parameters (as ``querystring.query_to_json`` reads them: camelCase
    names, JSON values) as one object schema."""
    doc = openapi_document()
    params = [p for p in doc["paths"][path][method.lower()].get("parameters", [])
              if p["in"] == "query"]  # fmt: skip
    if not params:
        return None
    props = {
        _camel(p["name"]): (p["content"]["application/json"] if "content" in p else p)["schema"]
        for p in params
    }
    root: dict[str, Any] = _to_json_schema(copy.deepcopy({"type": "object", "properties": props}))
    required = [_camel(p["name"]) for p in params if p.get("required")]
    if required:
        root["required"] = required
    root["components"] = {"schemas": _to_json_schema(doc["components"]["schemas"])}
    return Draft4Validator(root)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def check_query(path: str, method: str, data: dict[str, Any]) -> None:
    """Check a request read from the query string (``querystring.py``) as ``check_body``
    checks a body."""
    _check(_query_validator(path, method), data, "")


def check_body(path: str, method: str, body: dict[str, Any], *, prefix: str = "") -> None:
    _check(_validator(path, method), body, prefix)


def _check(validator: Draft4Validator | None, body: dict[str, Any], prefix: str) -> None:
    if validator is None:
        return
    # Missing fields and malformed UUIDs are left to the service layer, which reports them in
    # the same words over gRPC and REST; everything else the document forbids stops here.
    errors = [_leaf(e) for e in validator.iter_errors(body)]
    errors = [e for e in errors if not _left_to_service(e)]
    error = best_match(errors, key=_relevance)
    if error is not None:
        raise invalid(_message(error, prefix))


def _relevance(error: ValidationError) -> tuple[Any, ...]:
    """jsonschema's relevance, with paths as text: the paths of errors seen through ``nullable``
    are relative, so one may start with an index where another starts with a name."""
    return tuple(
        [str(p) for p in part] if isinstance(part, deque | list) else part
        for part in relevance(error)
    )


def _leaf(error: ValidationError) -> ValidationError:
    """See through the ``anyOf: [schema, null]`` that ``nullable`` became."""
    while error.validator == "anyOf" and error.context:
        real = [e for e in error.context if e.validator_value != "null"]
        if not real:
            break
        error = best_match(real) or error
    return error


def _left_to_service(error: ValidationError) -> bool:
    if error.validator == "required":
        return True
    value = error.validator_value
    # Text that must hold a non-whitespace character is checked by the service too, which
    # names the field as gRPC does (``filters.labels.key``, not ``filters.labels[0].key``).
    return error.validator == "pattern" and (value == TEXT or "[0-9a-f" in str(value))


def _message(error: ValidationError, prefix: str) -> str:
    where = prefix
    for part in error.absolute_path:
        if isinstance(part, str) and len(part) > QUOTE_LIMIT:  # a caller's map key
            part = quote(part)
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return f"{where or 'body'}: {_detail(error)}"


def _detail(error: ValidationError) -> str:
    rule, value = error.validator, error.validator_value
    if rule == "pattern" and isinstance(value, str) and "\\S" in value:
        return "must contain a non-whitespace character"
    if rule == "pattern" and isinstance(value, str) and "[0-9a-f" in value:
        return f"{quote(error.instance)} is not a UUID"
    texts = {
        "maxLength": f"at most {value} characters",
        "minLength": f"at least {value} characters",
        "maxItems": f"at most {value} items",
        "minItems": f"at least {value} items",
        "maximum": f"at most {value}",
        "minimum": f"at least {value}",
        "type": f"must be of type {value}",
    }
    if rule in texts:
        return texts[str(rule)]
    if rule == "anyOf":
        return f"{quote(error.instance)} is not an accepted value"
    if rule == "enum" and isinstance(value, list):
        return f"{quote(error.instance)} is not one of {', '.join(map(str, value))}"
    detail = str(error.message)
    return detail if len(detail) <= 300 else detail[:300] + "..."

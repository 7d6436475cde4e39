"""The Case Settings API's part of casekeeper's OpenAPI document: the spec's 6 operations
(``settings_routes``), and the server's input rules on their request bodies (as
``openapi_rules`` does for cases).

What differs from Coralogix's spec, and why:

- ids are read in any letter case (the spec's are lower case);
- a filter's ``all`` and ``values`` may not both be set, and a null one is unset;
- periods are protobuf Duration text (``"3600s"``, ``"1.5s"``), never negative, and bounded
  (a year; ``suppressionPeriod`` a week); ``inactivePeriod`` and KPI thresholds are positive;
- enums the server refuses unspecified (an indicator priority in a filter, a KPI's type and
  priority) lose member 0, and a KPI threshold needs its type, priority and threshold; a name
  must hold a non-whitespace character, and label text too.

Only request schemas change here: the response schemas stay the spec's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from casekeeper.api.coralogix.rest.openapi_rules import TEXT, UUID_ANY_CASE, without_unspecified
from casekeeper.api.coralogix.rest.routes import RouteSpec
from casekeeper.api.coralogix.rest.settings_routes import SETTINGS_ROUTES
from casekeeper.domain.case_settings import DAY, SECOND
from casekeeper.service.case_settings import (
    MAX_FILTER_ITEMS,
    MAX_FILTERS,
    MAX_LABEL_TEXT,
    MAX_NAME,
    MAX_PERIOD,
    MAX_SUPPRESSION,
)

Finish = Callable[[dict[str, Any], RouteSpec], None]
# A period no shorter than a microsecond (the server keeps microseconds: 1ns would be 0s).
_POSITIVE = r"(?=0*[1-9]|[0-9]*\.[0-9]{0,5}[1-9])"


def _at_most(n: int) -> str:
    """A regex for the decimal integers 0..n (no leading zeros)."""
    digits = str(n)
    k = len(digits)
    if k == 1:
        return f"[0-{n}]"
    parts = ["[0-9]"]  # the shorter numbers: one digit, then 2..k-1 digits
    if k > 2:
        parts.append(f"[1-9][0-9]{{1,{k - 2}}}")
    for i, d in enumerate(digits):  # k digits: n's first i, then a smaller one, then any
        low = 1 if i == 0 else 0
        if int(d) > low:
            rest = k - i - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            parts.append(f"{digits[:i]}[{low}-{int(d) - 1}]{tail}")
    parts.append(digits)
    return "(" + "|".join(parts) + ")"


def duration_pattern(most_seconds: int, *, positive: bool = False) -> str:
    """Protobuf Duration text from 0s (or more than 0s) to ``most_seconds``, exactly: whole
    seconds (leading zeros allowed, as protobuf reads them), then up to 9 decimals."""
    below = _at_most(most_seconds - 1)
    body = f"0*({below}(\\.[0-9]{{1,9}})?|{most_seconds}(\\.0{{1,9}})?)s"
    return "^" + (_POSITIVE if positive else "") + body + "$"


def settings_paths(spec: dict[str, Any], finish: Finish) -> dict[str, Any]:
    """Path → method → operation for every case settings route; ``finish`` adds what every
    casekeeper operation documents (its extra statuses, its security)."""
    paths: dict[str, Any] = {}
    for route in SETTINGS_ROUTES:
        op = copy.deepcopy(spec["paths"][route.path][route.method.lower()])
        op.pop("externalDocs", None)
        for param in op.get("parameters", []):
            if param["in"] == "path":
                param["schema"] = {**param["schema"], "pattern": UUID_ANY_CASE}
                param["description"] += " (a UUID, any letter case)"
        finish(op, route)
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return paths


def _seconds(most: int) -> str:
    days = most // DAY
    return f"{most // SECOND}s ({days} days)"


def _period(prop: dict[str, Any], most: int, *, positive: bool = False) -> None:
    prop["pattern"] = duration_pattern(most // SECOND, positive=positive)
    prop["minLength"] = 2
    prop["maxLength"] = 30
    low = "more than 0s" if positive else "0s or more"
    prop["description"] = (
        f"{prop.get('description', '').rstrip('.')}. A protobuf Duration: {low}, at most "
        f"{_seconds(most)}; a larger one is refused with 400."
    ).lstrip(". ")


def _request_copy(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    """A request-only copy of component ``name`` (its response twin keeps the spec's text)."""
    copied: dict[str, Any] = copy.deepcopy(schemas[name])
    copied.pop("externalDocs", None)
    schemas[f"{name}Input"] = copied
    return copied


def _ref(name: str, node: dict[str, Any]) -> dict[str, Any]:
    """``node`` (a property referring to a component) pointed at component ``name``."""
    out = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
    return {**out, "allOf": [{"$ref": f"#/components/schemas/{name}"}]}


def strict_settings_components(schemas: dict[str, Any]) -> None:
    """Request copies (``*Input``) of the settings components, narrowed to what is accepted."""
    life = _request_copy(schemas, "CaseLifecycle")["properties"]
    _period(life["suppressionPeriod"], MAX_SUPPRESSION)
    _period(life["resolutionSnoozePeriod"], MAX_PERIOD)
    auto_resolve = _request_copy(schemas, "AutoResolveConfig")["properties"]
    _period(auto_resolve["inactivePeriod"], MAX_PERIOD, positive=True)
    auto_close = _request_copy(schemas, "AutoCloseConfig")
    _period(auto_close["properties"]["postResolutionPeriod"], MAX_PERIOD)
    kpis = _request_copy(schemas, "CaseKPIs")
    kpis["description"] = (
        f"{kpis['description'].rstrip('.')}. One threshold per (type, priority) at most."
    )
    kpi_input = _request_copy(schemas, "KPISettings")
    kpi = kpi_input["properties"]
    _period(kpi["threshold"], MAX_PERIOD, positive=True)
    kpi["threshold"].pop("nullable", None)
    for name in ("type", "priority"):
        kpi[name] = without_unspecified(schemas, kpi[name])
    kpi_input["required"] = ["type", "priority", "threshold"]  # a threshold needs all three
    kpis["properties"]["thresholds"]["items"] = {"$ref": "#/components/schemas/KPISettingsInput"}
    life["autoResolve"] = _ref("AutoResolveConfigInput", life["autoResolve"])
    life["autoClose"] = _ref("AutoCloseConfigInput", life["autoClose"])
    life["kpi"] = _ref("CaseKPIsInput", life["kpi"])

    values = _request_copy(schemas, "IndicatorPriorityFilter.Values")["properties"]["items"]
    values["items"] = without_unspecified(schemas, values["items"])
    values["maxItems"] = MAX_FILTER_ITEMS
    labels = _request_copy(schemas, "EntityLabelFilter.Values")["properties"]["items"]
    labels["maxItems"] = MAX_FILTER_ITEMS
    pair = copy.deepcopy(schemas["v1.KeyValue"])
    pair.pop("externalDocs", None)
    for name in ("key", "value"):
        pair["properties"][name].update(pattern=TEXT, minLength=1, maxLength=MAX_LABEL_TEXT)
    labels["items"] = pair
    for owner in ("IndicatorPriorityFilter", "EntityLabelFilter"):
        schema = _request_copy(schemas, owner)
        props = schema["properties"]
        props["values"] = _ref(f"{owner}.ValuesInput", props["values"])
        # At most one member set: the server drops nulls, so ``{"all": null, "values": {...}}``
        # is one member, and ``{"all": null}`` none (every value), which the spec's oneOf of
        # ``required`` lists would call two and one.
        del schema["oneOf"]
        schema["not"] = {
            "required": ["all", "values"],
            "properties": {"all": {"type": "object"}, "values": {"type": "object"}},
        }
    indicator = _request_copy(schemas, "IndicatorFilter")["properties"]
    indicator["priorities"] = _ref("IndicatorPriorityFilterInput", indicator["priorities"])
    indicator["entityLabels"] = _ref("EntityLabelFilterInput", indicator["entityLabels"])
    settings = _request_copy(schemas, "GlobalIndicatorSettings")["properties"]
    settings["filteringConditions"]["maxItems"] = MAX_FILTERS
    settings["filteringConditions"]["items"] = {"$ref": "#/components/schemas/IndicatorFilterInput"}


def strict_settings_body(body: dict[str, Any]) -> None:
    """Point one settings request body at the ``*Input`` components; its name is text."""
    props = body.get("properties", {})
    if "name" in props:
        props["name"].update(pattern=TEXT, minLength=1, maxLength=MAX_NAME)
    for name, component in (
        ("caseLifecycle", "CaseLifecycleInput"),
        ("globalIndicatorSettings", "GlobalIndicatorSettingsInput"),
    ):
        if name in props:
            props[name] = _ref(component, props[name])

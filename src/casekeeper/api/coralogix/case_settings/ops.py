"""Every CaseSettingsService RPC as one function of (container, principal, request message) that
returns the response message. The gRPC servicer sends it; the REST routes render it as JSON.

The service names fields in snake_case paths (``case_lifecycle.auto_close.post_resolution_period``);
the errors reach the caller with the spec's camelCase names (``caseLifecycle.autoClose...``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

from casekeeper.api.coralogix.case_settings import convert as cv
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CasekeeperError
from casekeeper.proto.com.coralogixapis.cases.v1 import case_settings_service_pb2 as pb
from casekeeper.service.auth import Principal

F = TypeVar("F", bound=Callable[..., Any])
_SNAKE = re.compile(r"_([a-z])")


def camel(path: str) -> str:
    """``case_lifecycle.kpi.thresholds[0].type`` → ``caseLifecycle.kpi.thresholds[0].type``;
    quoted map keys (``[...]`` parts) are left as they are."""
    parts = re.split(r"(\[[^\]]*\])", path)
    return "".join(
        p if p.startswith("[") else _SNAKE.sub(lambda m: m.group(1).upper(), p) for p in parts
    )


def _worded(fn: F) -> F:
    """An operation whose errors name fields as the spec does."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CasekeeperError as err:
            if err.field is None:
                raise
            raise CasekeeperError(
                err.code, err.reason, field=camel(err.field), detail=err.detail
            ) from None

    return cast(F, run)


@_worded
def create_case_settings(
    c: Container, p: Principal, r: pb.CreateCaseSettingsRequest
) -> pb.CreateCaseSettingsResponse:
    made = c.case_settings.create(p, cv.change(r))
    response = pb.CreateCaseSettingsResponse()
    cv.settings_to_pb(made, response.case_settings)
    return response


@_worded
def get_case_settings(
    c: Container, p: Principal, r: pb.GetCaseSettingsRequest
) -> pb.GetCaseSettingsResponse:
    response = pb.GetCaseSettingsResponse()
    cv.settings_to_pb(c.case_settings.get(p, r.id), response.case_settings)
    return response


@_worded
def update_case_settings(
    c: Container, p: Principal, r: pb.UpdateCaseSettingsRequest
) -> pb.UpdateCaseSettingsResponse:
    changed = c.case_settings.update(p, r.id, cv.change(r))
    response = pb.UpdateCaseSettingsResponse()
    cv.settings_to_pb(changed, response.case_settings)
    return response


@_worded
def delete_case_settings(
    c: Container, p: Principal, r: pb.DeleteCaseSettingsRequest
) -> pb.DeleteCaseSettingsResponse:
    c.case_settings.delete(p, r.id)
    return pb.DeleteCaseSettingsResponse()


@_worded
def get_active_case_settings(
    c: Container, p: Principal, _: pb.GetActiveCaseSettingsRequest
) -> pb.GetActiveCaseSettingsResponse:
    response = pb.GetActiveCaseSettingsResponse()
    cv.settings_to_pb(c.case_settings.get_active(p), response.case_settings)
    return response


@_worded
def get_system_default_case_settings(
    c: Container, p: Principal, _: pb.GetSystemDefaultCaseSettingsRequest
) -> pb.GetSystemDefaultCaseSettingsResponse:
    defaults = c.case_settings.system_defaults(p)
    response = pb.GetSystemDefaultCaseSettingsResponse()
    cv.global_to_pb(
        defaults.indicators_enabled, defaults.filters, response.global_indicator_settings
    )
    cv.lifecycle_to_pb(defaults.lifecycle, response.case_lifecycle)
    return response


Run = Callable[..., Any]

# RPC name → (request message type, implementation): the REST handler's table.
SETTINGS_OPERATIONS: dict[str, tuple[type[Any], Run]] = {
    "CreateCaseSettings": (pb.CreateCaseSettingsRequest, create_case_settings),
    "GetCaseSettings": (pb.GetCaseSettingsRequest, get_case_settings),
    "UpdateCaseSettings": (pb.UpdateCaseSettingsRequest, update_case_settings),
    "DeleteCaseSettings": (pb.DeleteCaseSettingsRequest, delete_case_settings),
    "GetActiveCaseSettings": (pb.GetActiveCaseSettingsRequest, get_active_case_settings),
    "GetSystemDefaultCaseSettings": (
        pb.GetSystemDefaultCaseSettingsRequest,
        get_system_default_case_settings,
    ),
}

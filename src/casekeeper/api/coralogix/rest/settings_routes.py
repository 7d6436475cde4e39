"""The REST routes of the Case Settings spec (``case_settings_service.json``): its 4 paths, 6
operations. Each answers the RPC's response message as JSON (``Render.MESSAGE``), and is also
served under ``/mgmt/openapi[/{version}]``. ``configs:getActive`` and ``configs:getSystemDefaults``
are literal segments, never an ``{id}``."""

from __future__ import annotations

from casekeeper.api.coralogix.permissions import NOTIFICATIONS, SETTINGS
from casekeeper.api.coralogix.rest.routes import Body, Render, RouteSpec

CONFIGS = "/cases/cases/case-settings/v1/configs"


def _r(method: str, path: str, rpc: str, body: Body) -> RouteSpec:
    return RouteSpec(method, path, SETTINGS, rpc, body, Render.MESSAGE)


NOTIFICATION_ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("POST", "/cases/notifications/v1/deliveries", NOTIFICATIONS,
              "ListNotificationDeliveries", Body.JSON, Render.MESSAGE),
)  # fmt: skip

SETTINGS_ROUTES: tuple[RouteSpec, ...] = (
    _r("POST", CONFIGS, "CreateCaseSettings", Body.JSON),
    _r("GET", CONFIGS + "/{id}", "GetCaseSettings", Body.NONE),
    _r("PATCH", CONFIGS + "/{id}", "UpdateCaseSettings", Body.JSON),
    _r("DELETE", CONFIGS + "/{id}", "DeleteCaseSettings", Body.NONE),
    _r("GET", CONFIGS + ":getActive", "GetActiveCaseSettings", Body.NONE),
    _r("GET", CONFIGS + ":getSystemDefaults", "GetSystemDefaultCaseSettings", Body.NONE),
)

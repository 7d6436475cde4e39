"""Permission names, and the permission each command needs.

The service checks them for every caller (``Principal.require``): a change of several fields
needs each one's permission. Names are the Coralogix specs' spelling (``case:Read``); the
seed's ``CASE:READ`` is accepted case-insensitively.

The Coralogix dialect's table of RPCs and their permissions is in
``api/coralogix/permissions.py``, derived from the commands each RPC sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from casekeeper.domain import commands as cmd


class Permission(StrEnum):
    CASE_READ = "case:Read"
    CASE_UPDATE = "case:Update"
    CASE_ASSIGN = "case:Assign"
    CASE_ACKNOWLEDGE = "case:Acknowledge"
    CASE_CLOSE = "case:Close"
    CASE_COMMENT = "case:Comment"
    CASE_CONFIG_READ = "case-config:Read"
    CASE_CONFIG_UPDATE = "case-config:Update"
    CASE_CREATE = "case:Create"
    CASE_DELETE = "case:Delete"  # cases gone for good, with their timelines (Kibana's delete)
    API_KEY_MANAGE = "api-key:Manage"
    INCIDENTS_READ = "incidents:read"
    INCIDENTS_ASSIGN = "incidents:assign"
    INCIDENTS_ACKNOWLEDGE = "incidents:acknowledge"
    INCIDENTS_CLOSE = "incidents:close"
    SIGNALS_WRITE = "signals:Write"  # alert events in: they open, update and resolve incidents
    NOTIFICATIONS_READ = "notifications:Read"  # connectors and routes, listed (never secrets)
    NOTIFICATIONS_MANAGE = "notifications:Manage"  # change them, test them, replay deliveries


_BY_LOWER: Final = {p.value.lower(): p for p in Permission}


# Tracecat's scopes (``case:read|create|update|delete``) as the permissions they stand for: an
# API key made with a scope holds these (``casekeeper keys create --scope case:update``).
SCOPES: Final[dict[str, frozenset[Permission]]] = {
    "case:read": frozenset({Permission.CASE_READ}),
    # Each writing scope reads too: a change reads the case it changes.
    "case:create": frozenset({Permission.CASE_READ, Permission.CASE_CREATE}),
    "case:update": frozenset(
        {
            Permission.CASE_READ,
            Permission.CASE_UPDATE,
            Permission.CASE_ASSIGN,
            Permission.CASE_ACKNOWLEDGE,
            Permission.CASE_CLOSE,
            Permission.CASE_COMMENT,
        }
    ),
    "case:delete": frozenset({Permission.CASE_READ, Permission.CASE_DELETE}),
}


def permissions_of_scopes(scopes: Iterable[str]) -> list[str]:
    """The permission names ``scopes`` stand for, in catalog order."""
    wanted: set[Permission] = set()
    for scope in scopes:
        found = SCOPES.get(scope.strip().lower())
        if found is None:
            raise ValueError(f"unknown scope {scope!r}; scopes: {', '.join(SCOPES)}")
        wanted |= found
    return [p.value for p in Permission if p in wanted]


def parse_permission(text: str) -> Permission | None:
    """``case:Read``, ``CASE:READ`` and ``case:read`` all name the same permission."""
    return _BY_LOWER.get(text.strip().lower())


P = Permission

# What each command needs. A test proves every command has an entry.
REQUIRES: Final[dict[type[cmd.CaseCommand], Permission]] = {
    cmd.Assign: P.CASE_ASSIGN,
    cmd.Unassign: P.CASE_ASSIGN,
    cmd.SetAssignees: P.CASE_ASSIGN,
    cmd.Acknowledge: P.CASE_ACKNOWLEDGE,
    cmd.Unacknowledge: P.CASE_ACKNOWLEDGE,
    cmd.SetOnHold: P.CASE_ACKNOWLEDGE,
    cmd.Resolve: P.CASE_CLOSE,
    cmd.Close: P.CASE_CLOSE,
    cmd.Reopen: P.CASE_CLOSE,
    cmd.SetPriorityOverride: P.CASE_UPDATE,
    cmd.ClearPriorityOverride: P.CASE_UPDATE,
    cmd.Retitle: P.CASE_UPDATE,
    cmd.SetDescription: P.CASE_UPDATE,
    cmd.SetResolutionReason: P.CASE_UPDATE,
    cmd.SetTags: P.CASE_UPDATE,
    cmd.AddTags: P.CASE_UPDATE,
    cmd.RemoveTags: P.CASE_UPDATE,
    cmd.SetSeverity: P.CASE_UPDATE,
    cmd.SetExtension: P.CASE_UPDATE,
}


def needed(commands: Iterable[cmd.CaseCommand]) -> tuple[Permission, ...]:
    """The permissions a change of ``commands`` needs, each once, in catalog order."""
    wanted = {REQUIRES[type(c)] for c in commands}
    return tuple(p for p in Permission if p in wanted)

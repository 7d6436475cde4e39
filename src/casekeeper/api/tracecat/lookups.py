"""Reads the Tracecat handlers share: user profiles, and the workspace's tags by every name a
Tracecat client may give one."""

from __future__ import annotations

from collections.abc import Iterable

from casekeeper.api.tracecat import render
from casekeeper.api.tracecat.http import Call


async def profiles_of(call: Call, user_ids: Iterable[str | None]) -> render.Profiles:
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return {}
    found = call.c.users.cached_profiles(ids)
    return found if found is not None else await call.run(call.c.users.profiles, ids)


async def tags_by_key(call: Call) -> dict[str, str]:
    """Every way a Tracecat client may name a tag of the workspace (id, ref, name) → name."""
    names = await call.run(call.c.case_views.tags, call.p)
    out: dict[str, str] = {}
    for name in names:
        out[render.tag_id(call.workspace_id, name)] = name
        out.setdefault(render.tag_ref(name), name)
        out[name] = name
    return out

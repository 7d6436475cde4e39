"""Changes to the canonical fields beyond the lifecycle's (description, tags, severity, the
dialects' extensions): each returns a ``Change``, a same-value repeat changing nothing."""

from __future__ import annotations

from casekeeper.domain import timeline as t
from casekeeper.domain.change import Change
from casekeeper.domain.change import next_version as _next
from casekeeper.domain.enums import Severity
from casekeeper.domain.errors import invalid
from casekeeper.domain.model import MAX_EXTENSIONS, MAX_TAGS, Case, Json, Micros


def set_description(case: Case, text: str | None, *, now: Micros) -> Change:
    if case.description == text:
        return Change.none(case)
    event = t.DescriptionChanged(case.description is not None, text is not None)
    return Change(_next(case, now, description=text), [event])


def set_tags(case: Case, tags: tuple[str, ...], *, now: Micros) -> Change:
    """Tags are a set: the same tags in another order change nothing."""
    if len(tags) > MAX_TAGS:
        raise invalid(f"at most {MAX_TAGS} (got {len(tags)})", field="tags")
    if set(case.tags) == set(tags):
        return Change.none(case)
    added = tuple(tag for tag in tags if tag not in case.tags)
    removed = tuple(tag for tag in case.tags if tag not in tags)
    # One event per effect: tags that came, tags that went.
    events = [
        t.TagsChanged(added, ()) if added else None,
        t.TagsChanged((), removed) if removed else None,
    ]
    return Change(_next(case, now, tags=tags), [e for e in events if e is not None])


def set_severity(case: Case, severity: Severity, *, now: Micros) -> Change:
    if case.severity is severity:
        return Change.none(case)
    return Change(_next(case, now, severity=severity), [t.SeverityChanged(case.severity, severity)])


def set_extension(case: Case, namespace: str, value: Json | None, *, now: Micros) -> Change:
    current = case.extensions.get(namespace)
    if current == value:
        return Change.none(case)
    extensions = {k: v for k, v in case.extensions.items() if k != namespace}
    if value is not None:
        if len(extensions) >= MAX_EXTENSIONS:
            raise invalid(f"at most {MAX_EXTENSIONS} dialects' fields", field="extensions")
        extensions[namespace] = value
    return Change(_next(case, now, extensions=extensions), [t.ExtensionChanged(namespace)])


def distinct(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))

"""Message templates: Jinja2 in its sandbox, so a template written by a space's administrator
can format values but not reach Python objects, files or the network. Templates are checked
when they are saved (``compile_template``), rendered when a notification is routed (title and
text) or sent (a webhook's body and headers)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from casekeeper.domain.errors import CasekeeperError, invalid

MAX_TEMPLATE = 20_000
MAX_RENDERED = 100_000  # characters a rendering may produce (a loop cannot fill memory)

_ENV = ImmutableSandboxedEnvironment(
    undefined=jinja2.ChainableUndefined,  # {{ case.labels.team }} on a case without it: empty
    autoescape=False,
    keep_trailing_newline=False,
)


class TemplateError(Exception):
    """A template that compiled but failed while rendering (a sandbox refusal, a type error)."""


@lru_cache(maxsize=512)
def compile_template(source: str, field: str = "template") -> jinja2.Template:
    """The compiled template, or INVALID_ARGUMENT naming ``field`` and the line at fault."""
    if len(source) > MAX_TEMPLATE:
        raise invalid(f"a template is at most {MAX_TEMPLATE} characters", field=field)
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise invalid(f"template syntax error on line {exc.lineno}: {exc.message}",
                      field=field) from None  # fmt: skip


def render(source: str, context: dict[str, Any], field: str = "template") -> str:
    """The rendering, or TemplateError (a template that does not even compile included: one
    stored before a check existed must fail its notification, not the worker)."""
    try:
        text = compile_template(source, field).render(context)
    except CasekeeperError as exc:
        raise TemplateError(exc.message) from None
    except jinja2.TemplateError as exc:  # includes the sandbox's SecurityError
        raise TemplateError(f"{field}: {exc}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise TemplateError(f"{field}: {type(exc).__name__}: {exc}") from None
    if len(text) > MAX_RENDERED:
        raise TemplateError(f"{field}: rendered to more than {MAX_RENDERED} characters")
    return text

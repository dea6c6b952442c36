"""Message texts: Jinja2 templates in German (default) or English (`LOTSE_LOCALE=en`).

A template defines two blocks, `subject` and `body`, and is found by the kind of message
(`stage_changed`, `reminder`, `undeliverable`, `test`, `sign_in`), its topic (the event, or the
deadline) and the recipient's roles, most specific first:

    <locale>/<kind>/event-<topic>.role-<role>.j2
    <locale>/<kind>/event-<topic>.j2
    <locale>/<kind>/role-<role>.j2
    <locale>/<kind>/default.j2

A folder in `LOTSE_TEMPLATE_DIR` with the same layout overrides ours file by file; an override may
`{% extends "de/stage_changed/default.j2" %}` and replace one block. An override that is broken
(syntax, an unknown variable) never stops a message: the shipped default is sent instead, and the
row carries a warning that `lotse outbox` shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

PACKAGED = Path(__file__).parent / "templates"
KINDS = ("stage_changed", "reminder", "undeliverable", "test", "sign_in")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    warning: str | None = None  # set when a broken override was replaced by the default


def template_names(locale: str, kind: str, topic: str | None, roles: tuple[str, ...]) -> list[str]:
    names = []
    if topic:
        names += [f"{locale}/{kind}/event-{topic}.role-{role}.j2" for role in roles]
        names.append(f"{locale}/{kind}/event-{topic}.j2")
    names += [f"{locale}/{kind}/role-{role}.j2" for role in roles]
    names.append(f"{locale}/{kind}/default.j2")
    return names


def render(
    kind: str, context: dict[str, Any], *, locale: str, topic: str | None = None,
    roles: tuple[str, ...] = (), template_dir: Path | None = None,
) -> Rendered:
    """Subject and body of one message; falls back to the shipped default if an override fails."""
    return Texts(locale, template_dir).render(kind, context, topic=topic, roles=roles)


class Texts:
    """The templates of one locale and override folder, each chosen once: a daily check renders
    thousands of messages from a handful of templates. Keep one for a batch, not for longer, so
    that an edited override is read again by the next batch."""

    def __init__(self, locale: str, template_dir: Path | None) -> None:
        self.locale = locale
        self.template_dir = template_dir
        self._chosen: dict[tuple[str, ...], Any] = {}  # a template, or why the override failed

    def render(
        self, kind: str, context: dict[str, Any], *, topic: str | None = None, roles: tuple[str, ...] = (),
    ) -> Rendered:
        names = template_names(self.locale, kind, topic, roles)
        chosen = self._choose(tuple(names))
        problem = chosen if isinstance(chosen, str) else None
        if problem is None:
            try:
                subject, body = _blocks(chosen, context)
                return Rendered(subject, body)
            except Exception as exc:  # an override can fail in any way: variables, filters
                if self.template_dir is None:
                    raise  # our own templates are tested; a failure here is a bug, not a setting
                problem = describe(exc)
        subject, body = _blocks(self._choose((names[-1],), shipped=True), context)
        return Rendered(subject, body, f"warning: template in {self.template_dir} is broken ({problem}); "
                                       "the default text was sent")

    def _choose(self, names: tuple[str, ...], *, shipped: bool = False) -> Any:
        key = ("", *names) if shipped else names
        if key not in self._chosen:
            env = _environment(self.locale, None if shipped else _folder(self.template_dir))
            try:
                self._chosen[key] = env.select_template(list(names))
            except Exception as exc:  # an override can fail in any way: syntax, a missing file
                if shipped or self.template_dir is None:
                    raise
                self._chosen[key] = describe(exc)
        return self._chosen[key]


def check(template_dir: Path | None) -> list[str]:
    """Every problem of the override folder: missing, unreadable or invalid templates."""
    if template_dir is None:
        return []
    folder = Path(template_dir).expanduser()
    if not folder.is_dir():
        return [f"LOTSE_TEMPLATE_DIR={folder} is not a folder"]
    env = _environment("de", _folder(folder))
    problems = []
    for path in sorted(folder.rglob("*.j2")):
        name = path.relative_to(folder).as_posix()
        try:
            env.get_template(name)
        except TemplateError as exc:
            problems.append(f"template {name}: {describe(exc)}")
    return problems


def describe(exc: Exception) -> str:
    where = getattr(exc, "name", None) or getattr(exc, "filename", None)
    line = getattr(exc, "lineno", None)
    prefix = f"{where}" + (f", line {line}" if line else "") + ": " if where else ""
    return f"{prefix}{exc}"


def _blocks(template: Any, context: dict[str, Any]) -> tuple[str, str]:
    variables = template.new_context(context)
    # Rendering the whole template first resolves `{% extends %}`: afterwards the context knows
    # every block of the chain, the most derived first.
    "".join(template.root_render_func(variables))
    for block in ("subject", "body"):
        if block not in variables.blocks:
            raise ValueError(f"{template.name}: no {{% block {block} %}}")
    subject = " ".join("".join(variables.blocks["subject"][0](variables)).split())
    body = "".join(variables.blocks["body"][0](variables)).strip() + "\n"
    return subject, body


def _folder(template_dir: Path | None) -> str | None:
    return str(Path(template_dir).expanduser()) if template_dir is not None else None


@lru_cache(maxsize=8)
def _environment(locale: str, override: str | None) -> SandboxedEnvironment:
    # Sandboxed: templates come from the alliance's folder, not from us.
    loaders = [FileSystemLoader(override)] if override else []
    loaders.append(FileSystemLoader(str(PACKAGED)))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, auto_reload=True,
    )
    env.filters["day"] = lambda value: format_day(value, locale)
    return env


def format_day(value: dt.date | dt.datetime | str | None, locale: str) -> str:
    """A calendar date the way the reader writes it: 03.03.2027 (de), 2027-03-03 (en)."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.strftime("%d.%m.%Y") if locale == "de" else value.isoformat()


__all__ = ["KINDS", "Rendered", "TemplateNotFound", "Texts", "check", "render", "template_names"]

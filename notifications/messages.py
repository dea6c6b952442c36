"""Message texts: Jinja2 templates in German (default) or English (`LOTSE_LOCALE=en`).

A template defines two blocks, `subject` and `body`, and is found by the kind of message
(`stage_changed`, `reminder`, `undeliverable`, `test`, `sign_in`, `course_assigned`,
`course_left`, `course_ended`), its topic (the event, or the
deadline) and the recipient's roles, most specific first:

    <locale>/<kind>/event-<topic>.role-<role>.j2
    <locale>/<kind>/event-<topic>.j2
    <locale>/<kind>/role-<role>.j2
    <locale>/<kind>/default.j2

A folder in `LOTSE_TEMPLATE_DIR` with the same layout overrides ours file by file; an override may
`{% extends "de/stage_changed/default.j2" %}` and replace one block. An override that is broken
(syntax, an unknown variable) never stops a message: the shipped default is sent instead, and the
row carries a warning that `lotse outbox` shows.

Every value a template prints is made harmless for the channel it goes to, by the environment's
`finalize`, so that the shipped templates and every override get it without asking: control
characters (a newline in a name) become spaces everywhere, so a subject stays one plain line;
in a chat, and in a message whose channel is not known yet, Markdown and HTML characters are
escaped with a backslash, so that Teams, Mattermost or Matrix show a given name like `**fett**`
or `[klick](http://evil.example)` as the text it is. E-mail goes as plain text, unescaped.
Links Lotse made itself (`Verbatim`) are printed as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    nodes,
)
from jinja2.sandbox import SandboxedEnvironment

PACKAGED = Path(__file__).parent / "templates"
KINDS = ("stage_changed", "reminder", "undeliverable", "test", "sign_in", "family_needs", "course_assigned",
         "course_ended", "course_left", "employer_changed", "handed_over")
EMAIL = "email"  # the one channel that gets plain text; every other one (or none yet) gets Markdown
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What Markdown or HTML reads in the middle of a line. `(` and `)` make a link only after `]`,
# which is escaped; `-`, `+`, `1.` and tables matter only at the start of a line, where no value
# is (control characters are gone). So titles like "(§ 81a AufenthG)" stay as they are.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#~])")


class Verbatim(str):
    """A value Lotse made itself (an answer link, the desk's URL): printed as it is."""


def plain(value: str) -> str:
    """A value for plain text: one line, no control characters."""
    return _CONTROL.sub(" ", value)


def markdown(value: str) -> str:
    """A value for Markdown (and the HTML it may carry): shown as the text it is."""
    return _MARKDOWN.sub(r"\\\1", plain(value))


def _finalize(channel: str | None) -> Any:
    escape = plain if channel == EMAIL else markdown

    def finalize(value: Any) -> Any:
        if isinstance(value, Verbatim) or not isinstance(value, str):
            return value
        return escape(value)

    return finalize


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
    roles: tuple[str, ...] = (), template_dir: Path | None = None, channel: str | None = None,
) -> Rendered:
    """Subject and body of one message; falls back to the shipped default if an override fails."""
    return Texts(locale, template_dir).render(kind, context, topic=topic, roles=roles, channel=channel)


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
        channel: str | None = None,
    ) -> Rendered:
        """The texts for one channel (`email`, `chat`, or None: not known yet)."""
        escaping = EMAIL if channel == EMAIL else None
        names = template_names(self.locale, kind, topic, roles)
        chosen = self._choose(tuple(names), escaping)
        problem = chosen if isinstance(chosen, str) else None
        if problem is None:
            try:
                subject, body = _blocks(chosen, context)
                return Rendered(subject, body)
            except Exception as exc:  # an override can fail in any way: variables, filters
                if self.template_dir is None:
                    raise  # our own templates are tested; a failure here is a bug, not a setting
                problem = describe(exc)
        subject, body = _blocks(self._choose((names[-1],), escaping, shipped=True), context)
        return Rendered(subject, body, f"warning: template in {self.template_dir} is broken ({problem}); "
                                       "the default text was sent")

    def _choose(self, names: tuple[str, ...], escaping: str | None, *, shipped: bool = False) -> Any:
        if shipped or self.template_dir is None:
            return _shipped(self.locale, names, escaping)
        key = (escaping or "", *names)
        if key not in self._chosen:
            env = _environment(self.locale, _folder(self.template_dir), escaping)
            try:
                self._chosen[key] = env.select_template(list(names))
            except Exception as exc:  # an override can fail in any way: syntax, a missing file
                self._chosen[key] = describe(exc)
        return self._chosen[key]


@lru_cache(maxsize=256)
def _shipped(locale: str, names: tuple[str, ...], escaping: str | None) -> Template:
    """The shipped template for these names, chosen once per process: ours do not change while
    Lotse runs (an override folder's may, and is asked again by every batch)."""
    return _environment(locale, None, escaping).select_template(list(names))


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
    if _extends(template):
        # Rendering the whole template first resolves `{% extends %}`: afterwards the context
        # knows every block of the chain, the most derived first. A template that extends none
        # has all its blocks already, and is not rendered twice.
        "".join(template.root_render_func(variables))
    for block in ("subject", "body"):
        if block not in variables.blocks:
            raise ValueError(f"{template.name}: no {{% block {block} %}}")
    subject = " ".join("".join(variables.blocks["subject"][0](variables)).split())
    body = "".join(variables.blocks["body"][0](variables)).strip() + "\n"
    return subject, body


_EXTENDING: WeakKeyDictionary[Template, bool] = WeakKeyDictionary()


def _extends(template: Template) -> bool:
    """Whether a template extends another (read once from its source, per loaded template)."""
    if template not in _EXTENDING:
        source = template.environment.loader.get_source(template.environment, template.name)[0]
        _EXTENDING[template] = template.environment.parse(source).find(nodes.Extends) is not None
    return _EXTENDING[template]


def _folder(template_dir: Path | None) -> str | None:
    return str(Path(template_dir).expanduser()) if template_dir is not None else None


@lru_cache(maxsize=16)
def _environment(locale: str, override: str | None, escaping: str | None = None) -> Environment:
    # Sandboxed where templates come from the alliance's folder, not from us. Our own, shipped
    # with Lotse and read only from its package, render without the sandbox's check of every
    # attribute they read (about a tenth of a message's time).
    loaders = [FileSystemLoader(override)] if override else []
    loaders.append(FileSystemLoader(str(PACKAGED)))
    kind = SandboxedEnvironment if override else Environment
    env = kind(
        loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, auto_reload=override is not None, finalize=_finalize(escaping),
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


__all__ = ["KINDS", "Rendered", "TemplateNotFound", "Texts", "Verbatim", "check", "render", "template_names"]

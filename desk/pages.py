"""The desk's pages: Jinja2 templates, escaped everywhere, in German (default) or English.

Each part of the desk brings its own words (`WORDS = {"de": {...}, "en": {...}}`) and passes them
to `render`; the words every page shares (title, contact, footer) are here. A page never shows
a traceback: errors are pages of their own with a status and one sentence on what to do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from lotse.notifications.messages import format_day

TEMPLATES = Path(__file__).parent / "templates"

COMMON = {
    "de": {
        "lotse": "Lotse", "desk": "Lotse – Fallsteuerung der Fachkräfteallianz",
        "contact": "Ansprechpartner", "contact_fallback": "die Koordinierungsstelle der Allianz",
        "error": "Das hat nicht geklappt", "back": "Zurück",
        "too_many": "Zu viele Anfragen. Bitte warten Sie eine Minute und versuchen Sie es erneut.",
        "csrf": "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Bitte laden Sie die "
                "Seite neu und senden Sie es noch einmal.",
        "not_found": "Diese Seite gibt es nicht.",
        "busy": "Lotse ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.",
        "broken": "Ein unerwarteter Fehler in Lotse. Bitte versuchen Sie es später erneut oder wenden "
                  "Sie sich an die Koordinierungsstelle.",
    },
    "en": {
        "lotse": "Lotse", "desk": "Lotse – case management of the skilled-worker alliance",
        "contact": "Contact", "contact_fallback": "the alliance's coordination office",
        "error": "That did not work", "back": "Back",
        "too_many": "Too many requests. Please wait a minute and try again.",
        "csrf": "The form has expired or does not come from this page. Please reload the page and "
                "send it again.",
        "not_found": "There is no such page.",
        "busy": "Lotse cannot be reached right now. Please try again in a few minutes.",
        "broken": "An unexpected error in Lotse. Please try again later or ask the coordination "
                  "office.",
    },
}


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    return env


class Pages:
    """Renders the desk's templates in one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.env = environment()
        self.env.filters["day"] = lambda value: format_day(value, locale)
        self.env.filters["moment"] = lambda value: _moment(value, locale)

    def render(
        self, request: Request, name: str, *, words: dict[str, dict[str, str]] | None = None,
        status: int = 200, **context: Any,
    ) -> HTMLResponse:
        w = self.words(words or {})
        html = self.env.get_template(name).render(w=w, locale=self.locale, request=request, **context)
        return HTMLResponse(html, status_code=status)

    def words(self, words: dict[str, dict[str, str]]) -> dict[str, str]:
        """A part's words in this locale, over the words every page shares."""
        return {**COMMON[self.locale], **words.get(self.locale, {})}

    def problem(self, request: Request, message: str, *, status: int, contact: dict[str, Any] | None = None,
                title: str | None = None) -> HTMLResponse:
        """A plain page saying what went wrong and whom to contact; nothing changed."""
        return self.render(request, "problem.html", status=status, message=message,
                           title=title or COMMON[self.locale]["error"], contact=contact)


def _moment(value: dt.datetime | None, locale: str) -> str:
    if value is None:
        return ""
    local = value.astimezone()
    return local.strftime("%d.%m.%Y %H:%M") if locale == "de" else local.strftime("%Y-%m-%d %H:%M")

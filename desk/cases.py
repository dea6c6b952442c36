"""Signed-in coordinators: the search for cases and the case page with its form.

The search's words stay out of every log (the access log writes no query string). The case page
shows everything, names and personal facts included, and offers what the `work-case` form of the
Prefect UI offers: tick items, set facts, fire an event with a note, in one change made by the
signed-in coordinator (`via=desk`, proof `sign-in:<id>`), on the version the page showed. A
refusal shows the page again with one line, and nothing changed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lotse.config.settings import Settings
from lotse.desk.app import Desk, desk_of, render_form, too_many
from lotse.desk.security import client_address
from lotse.desk.sign_in import WORDS as SIGN_IN_WORDS
from lotse.desk.sign_in import signed_in, to_sign_in
from lotse.states.errors import (
    BadInput,
    Conflict,
    LotseError,
    NotFound,
    NotYours,
    RequirementsMissing,
    RoleMissing,
)
from lotse.tasks import case_page, case_search, casework, delivery, overviews
from lotse.tasks.sign_in import DeskSession

router = APIRouter()
log = logging.getLogger("lotse.desk")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

WORDS: dict[str, dict[str, str]] = {
    "de": {
        **SIGN_IN_WORDS["de"],
        "find": "Suchen", "query": "Familienname, Vorname oder Aktenzeichen",
        "query_help": "Anfang des Namens genügt; Groß- und Kleinschreibung und Akzente sind egal "
                      "(„muller“ findet „Müller“).",
        "ref": "Aktenzeichen", "given_name": "Vorname", "family_name": "Familienname", "stage": "Stufe",
        "employer": "Arbeitgeber", "region": "Region", "none_found": "Kein Fall gefunden.",
        "more": "Mehr als {limit} Fälle passen; die ersten {limit} stehen hier. Bitte genauer suchen.",
        "process": "Prozess", "version": "Version", "opened": "Eröffnet", "entered": "In dieser Stufe seit",
        "facts": "Angaben", "personal": "personenbezogen", "no_facts": "Noch keine Angaben.",
        "checklist": "Checkliste der Stufe", "item": "Punkt", "owner": "zuständig", "done_by": "erledigt",
        "open": "offen", "deadlines": "Offene Fristen", "due": "fällig am", "level": "Erinnerungsstufe",
        "not_reminded": "noch nicht erinnert",
        "family": "Familie", "member": "Angehörige/r", "born": "Geburtsjahr", "arrives": "kommt am",
        "family_needs": "Bedarf", "no_needs": "kein Bedarf nach dem Ablauf",
        "language": "Sprachkurse und Prüfungen", "course": "Kursgruppe", "school": "Sprachschule",
        "course_level": "Zielniveau", "pace": "Tempo", "dates": "Zeitraum", "place": "Ort",
        "exam": "Prüfung", "exam_level": "Niveau", "exam_date": "am", "result": "Ergebnis",
        "passed": "bestanden", "failed": "nicht bestanden",
        "pace_fast": "schnell", "pace_standard": "normal", "pace_slow": "langsam",
        "no_deadlines": "Keine offenen Fristen.", "history": "Verlauf", "when": "Wann", "action": "Aktion",
        "from_to": "von → nach", "by": "Wer", "via": "über", "proof": "Nachweis", "note": "Notiz",
        "messages": "Nachrichten", "to": "An", "channel": "Weg", "status": "Stand",
        "no_messages": "Keine Nachrichten.", "prefect": "Läufe und Übersicht dieses Falls in Prefect",
        "work": "Bearbeiten", "tick": "Erledigt melden", "set": "Angaben setzen", "event": "Ereignis",
        "no_event": "kein Ereignis", "choose": "–", "yes": "ja", "no": "nein", "apply": "Übernehmen",
        "work_intro": "Alles wird zusammen übernommen (Haken, Angaben, dann das Ereignis) oder nichts. "
                      "Sie handeln als {name}.",
        "closed": "Der Fall ist abgeschlossen; es lässt sich nichts mehr ändern.",
        "saved": "Übernommen.", "nothing": "Nichts zu tun: haken Sie einen Punkt ab, setzen Sie eine "
                                          "Angabe oder wählen Sie ein Ereignis.",
        "conflict": "Der Fall wurde inzwischen geändert; nichts wurde übernommen. Die Seite zeigt ihn "
                    "jetzt, wie er ist.",
        "bad_value": "Nicht übernommen: {title}: {hint}.",
        "hint_date": "bitte ein Datum angeben", "hint_int": "bitte eine ganze Zahl angeben",
        "hint_bool": "bitte ja oder nein wählen", "hint_cefr": "bitte eine Stufe von A1 bis C2 wählen",
        "hint_enum": "bitte einen der angebotenen Werte wählen",
        "hint_country": "bitte einen Ländercode mit drei Buchstaben angeben (z. B. PHL)",
        "hint_str": "bitte Text angeben",
        "needs": "Nicht übernommen: „{event}“ braucht noch {missing}.",
        "refused": "Nicht übernommen: {reason}",
        "no_items": "Keine offenen Punkte.",
    },
    "en": {
        **SIGN_IN_WORDS["en"],
        "find": "Search", "query": "Family name, given name or reference",
        "query_help": "The start of a name is enough; case and accents do not matter (\"muller\" finds "
                      "\"Müller\").",
        "ref": "Reference", "given_name": "Given name", "family_name": "Family name", "stage": "Stage",
        "employer": "Employer", "region": "Region", "none_found": "No case found.",
        "more": "More than {limit} cases match; the first {limit} are shown. Please search more narrowly.",
        "process": "Process", "version": "Version", "opened": "Opened", "entered": "In this stage since",
        "facts": "Facts", "personal": "personal", "no_facts": "No facts yet.",
        "checklist": "Checklist of the stage", "item": "Item", "owner": "owner", "done_by": "done",
        "open": "open", "deadlines": "Open deadlines", "due": "due on", "level": "reminder level",
        "not_reminded": "not reminded yet",
        "family": "Family", "member": "Member", "born": "Birth year", "arrives": "arrives on",
        "family_needs": "Needs", "no_needs": "no need by the process",
        "language": "Language courses and exams", "course": "Course group", "school": "Language school",
        "course_level": "Target level", "pace": "Pace", "dates": "Dates", "place": "Place",
        "exam": "Exam", "exam_level": "Level", "exam_date": "on", "result": "Result",
        "passed": "passed", "failed": "failed",
        "pace_fast": "fast", "pace_standard": "standard", "pace_slow": "slow",
        "no_deadlines": "No open deadlines.", "history": "History", "when": "When", "action": "Action",
        "from_to": "from → to", "by": "Who", "via": "via", "proof": "Proof", "note": "Note",
        "messages": "Messages", "to": "To", "channel": "Channel", "status": "Status",
        "no_messages": "No messages.", "prefect": "Runs and overview of this case in Prefect",
        "work": "Work on the case", "tick": "Report done", "set": "Set facts", "event": "Event",
        "no_event": "no event", "choose": "–", "yes": "yes", "no": "no", "apply": "Apply",
        "work_intro": "Everything is applied together (ticks, facts, then the event) or nothing. You act "
                      "as {name}.",
        "closed": "The case is closed; nothing can change any more.",
        "saved": "Applied.", "nothing": "Nothing to do: tick an item, set a fact or choose an event.",
        "conflict": "The case was changed meanwhile; nothing was applied. The page shows it as it is now.",
        "bad_value": "Not applied: {title}: {hint}.",
        "hint_date": "please give a date", "hint_int": "please give a whole number",
        "hint_bool": "please choose yes or no", "hint_cefr": "please choose a level from A1 to C2",
        "hint_enum": "please choose one of the values offered",
        "hint_country": "please give a three-letter country code (e.g. PHL)",
        "hint_str": "please give a text",
        "needs": "Not applied: \"{event}\" still needs {missing}.",
        "refused": "Not applied: {reason}",
        "no_items": "No open items.",
    },
}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Signed in: the search; else the sign-in."""
    who = signed_in(request)
    if who is None:
        return to_sign_in(request)
    return _search_page(desk_of(request), request, who, "", None)


@router.get("/cases", response_class=HTMLResponse)
def find(request: Request, q: str = "") -> Response:
    desk = desk_of(request)
    who = signed_in(request)
    if who is None:
        return to_sign_in(request)
    if not q.strip():
        return _search_page(desk, request, who, "", None)
    if not desk.limits["search"].allow("search", client_address(request)):
        return too_many(desk, request)
    return _search_page(desk, request, who, q, case_search.search(desk.ctx, q))


@router.get("/cases/{ref}", response_class=HTMLResponse)
def show(ref: str, request: Request, saved: str | None = None) -> Response:
    desk = desk_of(request)
    who = signed_in(request)
    if who is None:
        return to_sign_in(request)
    return _case_page(desk, request, who, ref, notice=_words(desk)["saved"] if saved else None)


@router.post("/cases/{ref}", response_class=HTMLResponse)
async def work(ref: str, request: Request, background: BackgroundTasks) -> Response:
    """Apply the form: ticks, facts, event and note in one change by the signed-in coordinator."""
    desk = desk_of(request)
    form = await request.form()
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return await _run(_apply, desk, request, background, ref, fields)


async def _run(function: Any, *args: Any) -> Response:
    # The work is synchronous (the database): off the event loop, as FastAPI runs a plain route.
    response: Response = await run_in_threadpool(function, *args)
    return response


def _apply(desk: Desk, request: Request, background: BackgroundTasks, ref: str,
           fields: Mapping[str, list[str]]) -> Response:
    who = signed_in(request)
    if who is None:
        return to_sign_in(request)
    w = _words(desk)
    if not desk.csrf.valid(request, _first(fields, "csrf")):
        return desk.pages.problem(request, w["csrf"], status=403)
    request_id = _first(fields, "request_id")
    if not _REQUEST_ID.fullmatch(request_id):
        return _case_page(desk, request, who, ref, problem=w["csrf"], status=400)
    try:
        page = case_page.case_page(desk.ctx, ref)
    except NotFound:
        return desk.pages.problem(request, w["not_found"], status=404)
    if case_page.applied(desk.ctx, f"desk:{request_id}"):  # the same form again: done already
        return RedirectResponse(f"/cases/{page.ref}?saved=1", status_code=303)
    if page.sheet is None:
        return _case_page(desk, request, who, ref, problem=w["closed"], status=409)
    if not (_first(fields, "version").isdigit() and _first(fields, "seen") == page.seen):
        # Changed since the page was shown (ticks and facts too, not only the stage): its
        # fields would undo what others did meanwhile.
        return _case_page(desk, request, who, ref, problem=w["conflict"], status=409)
    wanted = None
    try:
        wanted = case_page.answer(page, fields)
        if not (wanted["items"] or wanted["facts"] or wanted["event"]):
            return _case_page(desk, request, who, ref, problem=w["nothing"], status=400)
        casework.work(
            dataclasses.replace(desk.ctx, proof=who.proof), page.ref, by=who.actor_id,
            items=wanted["items"], facts=wanted["facts"], event=wanted["event"], note=wanted["note"],
            via="desk", request_id=f"desk:{request_id}", expected_version=int(_first(fields, "version")),
            expected_state=page.seen,
        )
    except LotseError as refusal:
        line, status = _refusal(desk, page, refusal, wanted)
        return _case_page(desk, request, who, ref, problem=line, status=status)
    background.add_task(_after_change, desk, page.ref)
    return RedirectResponse(f"/cases/{page.ref}?saved=1", status_code=303)


def prefect_link(settings: Settings, ref: str, environ: Mapping[str, str] | None = None) -> str:
    """The case's overview in the Prefect UI (the artifact `case-<ref>`; its runs are named by
    their reference): PREFECT_UI_URL, else PREFECT_API_URL without `/api`, else `lotse up`'s."""
    environ = os.environ if environ is None else environ
    ui = environ.get("PREFECT_UI_URL", "").strip()
    if not ui and (api := environ.get("PREFECT_API_URL", "").strip()):
        ui = api.rstrip("/").removesuffix("/api")
    if not ui:
        ui = f"http://127.0.0.1:{settings.prefect_port}"
    return f"{ui.rstrip('/')}/artifacts/key/case-{ref.lower()}"


def _search_page(desk: Desk, request: Request, who: DeskSession, query: str,
                 result: case_search.Result | None) -> Response:
    return render_form(desk, request, "search.html", words=WORDS, who=who, query=query, result=result,
                       limit=case_search.LIMIT)


def _case_page(desk: Desk, request: Request, who: DeskSession, ref: str, *, notice: str | None = None,
               problem: str | None = None, status: int = 200) -> Response:
    try:
        page = case_page.case_page(desk.ctx, ref)
    except NotFound:
        return desk.pages.problem(request, _words(desk)["not_found"], status=404)
    return render_form(
        desk, request, "case.html", words=WORDS, status=status, who=who, page=page, notice=notice,
        problem=problem, request_id=secrets.token_urlsafe(16),
        prefect=prefect_link(desk.settings, page.ref), note_max=case_page.NOTE_MAX,
    )


def _refusal(desk: Desk, page: case_page.CasePage, refusal: LotseError,
             wanted: dict[str, Any] | None) -> tuple[str, int]:
    """One clear line for a refusal, and its status."""
    w = _words(desk)
    if isinstance(refusal, Conflict):
        return w["conflict"], 409
    if isinstance(refusal, case_page.BadField):
        return w["bad_value"].format(title=refusal.field.title, hint=w[f"hint_{refusal.field.kind}"]), 400
    if isinstance(refusal, RequirementsMissing) and wanted and wanted["event"]:
        event = next((o.title for o in page.events if o.id == wanted["event"]), wanted["event"])
        missing = case_page.still_lacking(desk.ctx, page.ref, wanted) or refusal.missing
        return w["needs"].format(event=event, missing=", ".join(missing)), 409
    if isinstance(refusal, BadInput):
        return w["refused"].format(reason=refusal), 400
    if isinstance(refusal, RoleMissing | NotYours):
        return w["refused"].format(reason=refusal), 403
    return w["refused"].format(reason=refusal), 409


def _after_change(desk: Desk, ref: str) -> None:
    """As the command line does after a change: the messages right away, then the overview in
    Prefect. Failures are warnings in the desk's log; the outbox and the next report catch up."""
    def warn(line: str) -> None:
        log.warning("%s", line)

    try:
        delivery.deliver_after_change(desk.ctx, ref, warn)
        overviews.after_change(desk.ctx, [ref], warn)
    except Exception as exc:  # neither raises; the change is made whatever happens here
        log.warning("after the change of %s: %s", ref, type(exc).__name__)


def _first(fields: Mapping[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0]


def _words(desk: Desk) -> dict[str, str]:
    return desk.pages.words(WORDS)

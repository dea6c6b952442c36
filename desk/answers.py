"""The pages an answer link opens: GET shows what the link reports, POST reports it.

GET changes nothing in the case: mail scanners and link previews open every link in a message.
Only the POST of the page's form (with its CSRF field) changes the case, through
`tasks/answers.py`. A dead link gets a plain page saying why, whom to contact, and that nothing
changed. Both are rate limited per client address.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response

from lotse.desk.app import Desk, desk_of, render_form, too_many
from lotse.desk.security import client_address
from lotse.notifications.messages import format_day
from lotse.tasks import answers, overviews

router = APIRouter()
log = logging.getLogger("lotse.desk")

WORDS: dict[str, dict[str, str]] = {
    "de": {
        "report_item": "Erledigt melden", "report_fact": "Angabe eintragen",
        "case": "Fall", "given_name": "Vorname", "organisation": "Ihre Organisation",
        "item": "Aufgabe", "fact": "Angabe", "due": "Fällig am",
        "confirm": "erledigt melden", "save": "eintragen", "choose": "bitte wählen",
        "yes": "ja", "no": "nein",
        "intro_item": "Bitte bestätigen Sie, dass diese Aufgabe erledigt ist.",
        "intro_fact": "Bitte tragen Sie die Angabe ein.",
        "only_by_click": "Erst mit dem Klick auf die Schaltfläche wird der Fall geändert.",
        "thanks": "Danke",
        "reported": "{title} ist für den Fall {ref} als erledigt gemeldet, am {on}.",
        "entered_now": "{title} ist für den Fall {ref} eingetragen, am {on}.",
        "already": "Bereits gemeldet am {on}. Am Fall wurde nichts geändert.",
        "close": "Sie können dieses Fenster schließen.",
        "dead": "Dieser Link gilt nicht mehr",
        "dead_done_title": "Bereits erledigt",
        "nothing_changed": "Am Fall wurde nichts geändert.",
        "dead_unreadable": "Dieser Link ist ungültig: er wurde verändert oder unvollständig kopiert.",
        "dead_expired": "Dieser Link ist abgelaufen.",
        "dead_used": "Dieser Link wurde bereits verwendet: bereits gemeldet am {on}.",
        "dead_done": "Diese Aufgabe ist bereits erledigt: bereits erledigt am {on} von {by}.",
        "dead_entered": "Diese Angabe ist bereits eingetragen: am {on} von {by}.",
        "dead_moved-on": "Der Fall ist inzwischen einen Schritt weiter; dieser Link gilt nicht mehr.",
        "dead_not-asked": "Der Fall braucht diese Meldung jetzt nicht.",
        "dead_closed": "Der Fall ist abgeschlossen.",
        "dead_gone": "Diesen Fall gibt es nicht.",
        "dead_actor-gone": "Die Organisation, an die dieser Link ging, steht nicht mehr im Verzeichnis "
                           "der Allianz.",
        "dead_not-allowed": "Ihre Organisation darf dies bei diesem Fall nicht melden.",
        "bad_date": "Bitte geben Sie ein Datum an (z. B. 01.03.2027).",
        "bad_int": "Bitte geben Sie eine ganze Zahl an.",
        "bad_bool": "Bitte wählen Sie ja oder nein.",
        "bad_cefr": "Bitte wählen Sie eine Stufe von A1 bis C2.",
        "bad_enum": "Bitte wählen Sie einen der angebotenen Werte.",
        "bad_country": "Bitte geben Sie einen Ländercode mit drei Buchstaben an (z. B. PHL).",
        "bad_str": "Bitte füllen Sie das Feld aus.",
    },
    "en": {
        "report_item": "Report done", "report_fact": "Enter information",
        "case": "Case", "given_name": "Given name", "organisation": "Your organisation",
        "item": "Task", "fact": "Information", "due": "Due on",
        "confirm": "report done", "save": "enter", "choose": "please choose",
        "yes": "yes", "no": "no",
        "intro_item": "Please confirm that this task is done.",
        "intro_fact": "Please enter the information.",
        "only_by_click": "The case changes only when you press the button.",
        "thanks": "Thank you",
        "reported": "{title} is reported done for case {ref}, on {on}.",
        "entered_now": "{title} is entered for case {ref}, on {on}.",
        "already": "Already reported on {on}. Nothing about the case was changed.",
        "close": "You may close this window.",
        "dead": "This link is no longer valid",
        "dead_done_title": "Already done",
        "nothing_changed": "Nothing about the case was changed.",
        "dead_unreadable": "This link is not valid: it was altered or copied incompletely.",
        "dead_expired": "This link has expired.",
        "dead_used": "This link was used before: already reported on {on}.",
        "dead_done": "This task is done already: already done on {on} by {by}.",
        "dead_entered": "This information was entered already: on {on} by {by}.",
        "dead_moved-on": "The case has moved on; this link is no longer valid.",
        "dead_not-asked": "The case does not need this now.",
        "dead_closed": "The case is closed.",
        "dead_gone": "There is no such case.",
        "dead_actor-gone": "The organisation this link was sent to is no longer in the alliance's "
                           "directory.",
        "dead_not-allowed": "Your organisation may not report this for this case.",
        "bad_date": "Please give a date (e.g. 2027-03-01).",
        "bad_int": "Please give a whole number.",
        "bad_bool": "Please choose yes or no.",
        "bad_cefr": "Please choose a level from A1 to C2.",
        "bad_enum": "Please choose one of the values offered.",
        "bad_country": "Please give a three-letter country code (e.g. PHL).",
        "bad_str": "Please fill in the field.",
    },
}
_ANSWERED = ("used", "done", "entered")  # dead because it is done: a calmer title


@router.get("/a/{token}", response_class=HTMLResponse)
def open_link(token: str, request: Request) -> Response:
    """What the link reports, and the button that reports it; changes nothing in the case."""
    desk = desk_of(request)
    if not desk.limits["token"].allow("token", client_address(request)):
        return too_many(desk, request)
    try:
        question = answers.look(desk.ctx, desk.key, token)
    except answers.Dead as dead:
        return _dead(desk, request, dead)
    return _form(desk, request, question)


@router.post("/a/{token}", response_class=HTMLResponse)
def report(
    token: str, request: Request, background: BackgroundTasks,
    csrf: Annotated[str | None, Form()] = None, value: Annotated[str | None, Form()] = None,
) -> Response:
    """Report the item done or enter the fact, once; the same form again changes nothing."""
    desk = desk_of(request)
    if not desk.limits["token"].allow("token", client_address(request)):
        return too_many(desk, request)
    if not desk.csrf.valid(request, csrf):
        dead = answers.refuse(desk.ctx, desk.key, token, "csrf")
        return desk.pages.problem(request, _words(desk)["csrf"], status=403, contact=dead.contact)
    try:
        done = answers.answer(desk.ctx, desk.key, token, value)
    except answers.Dead as dead:
        return _dead(desk, request, dead)
    except answers.BadValue as bad:
        kind = bad.question.field.kind if bad.question.field else "str"
        return _form(desk, request, bad.question, status=400, value=value,
                     problem=_words(desk)[f"bad_{kind}"])
    w = _words(desk)
    on = format_day(done.on, desk.pages.locale)
    if done.repeated:  # the link was used: said calmly, since it is what the reader wanted
        return desk.pages.render(request, "answered.html", words=WORDS, status=409, q=done.question,
                                 message=w["already"].format(on=on), heading=w["dead_done_title"])
    message = w["reported" if done.question.kind == "item" else "entered_now"].format(
        title=done.question.title, ref=done.question.ref, on=on)
    background.add_task(_publish, desk, done.question.ref)
    return desk.pages.render(request, "answered.html", words=WORDS, q=done.question, message=message,
                             heading=w["thanks"])


def _form(desk: Desk, request: Request, question: answers.Question, *, status: int = 200,
          problem: str | None = None, value: str | None = None) -> Response:
    heading = _words(desk)["report_item" if question.kind == "item" else "report_fact"]
    return render_form(desk, request, "answer.html", words=WORDS, status=status, q=question,
                       heading=heading, problem=problem, value=value or "")


def _dead(desk: Desk, request: Request, dead: answers.Dead) -> Response:
    w = _words(desk)
    on = format_day(dead.on, desk.pages.locale) if dead.on else "?"
    message = f"{w['dead_' + dead.why].format(on=on, by=dead.by or '?')} {w['nothing_changed']}"
    title = w["dead_done_title"] if dead.why in _ANSWERED else w["dead"]
    return desk.pages.problem(request, message, status=dead.status, contact=dead.contact, title=title)


def _words(desk: Desk) -> dict[str, Any]:
    return desk.pages.words(WORDS)


def _publish(desk: Desk, ref: str) -> None:
    """The case's overview in Prefect, after the change, as the command line does; a failure is a
    warning in the desk's log, never the user's problem."""
    try:
        overviews.after_change(desk.ctx, [ref], lambda line: log.warning("%s", line))
    except Exception as exc:  # after_change never raises; the response is sent whatever happens
        log.warning("the overview of %s was not published: %s", ref, type(exc).__name__)

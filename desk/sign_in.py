"""Coordinators sign in without passwords: their address, a one-time link by their route, a session.

`POST /sign-in` answers every address with the same page, whether a coordinator has it or not,
and sends the link after the answer (a known address takes no longer to answer than an unknown
one). `GET /sign-in/<token>` changes nothing (mail scanners open every link): it shows a button;
its `POST` signs in, once. The session cookie `lotse_session` is HttpOnly, SameSite=Strict, Secure
when the desk's public address is https, and holds a random value whose digest alone is stored.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lotse.desk.app import Desk, desk_of, render_form, too_many
from lotse.desk.pages import COMMON
from lotse.desk.security import client_address, set_cookie
from lotse.tasks import sign_in
from lotse.tasks.sign_in import DeskSession, SignInRefused

router = APIRouter()

COOKIE = "lotse_session"
_NEXT = re.compile(r"/cases/[A-Za-z0-9-]{1,32}")  # where the sign-in page may lead on to

WORDS: dict[str, dict[str, str]] = {
    "de": {
        "sign_in": "Anmelden", "sign_out": "Abmelden", "search": "Fälle suchen", "reports": "Berichte",
        "signed_in_as": "Angemeldet als",
        "address": "E-Mail-Adresse",
        "intro": "Koordinatorinnen und Koordinatoren der Allianz melden sich ohne Passwort an: Geben "
                 "Sie die E-Mail-Adresse Ihrer Organisation ein, Sie erhalten einen Anmeldelink.",
        "send_link": "Anmeldelink senden",
        "sent_title": "Bitte sehen Sie in Ihr Postfach",
        "sent": "Wenn diese Adresse einer Koordinierungsstelle der Allianz gehört, ist ein Anmeldelink "
                "unterwegs. Er gilt {minutes} Minuten und nur einmal.",
        "sent_more": "Keine Nachricht erhalten? Prüfen Sie den Spam-Ordner oder fordern Sie in einigen "
                     "Minuten einen neuen Link an.",
        "no_address": "Bitte geben Sie eine E-Mail-Adresse ein.",
        "ended": "Ihre Sitzung ist beendet: {minutes} Minuten ohne Nutzung, oder abgemeldet. Bitte melden "
                 "Sie sich erneut an.",
        "confirm_title": "Bei Lotse anmelden",
        "confirm": "Anmelden als {name}. Erst der Klick auf die Schaltfläche meldet Sie an; der Link gilt "
                   "danach nicht mehr.",
        "refused_title": "Dieser Anmeldelink gilt nicht",
        "refused_bad": "Dieser Anmeldelink ist ungültig: er wurde verändert oder unvollständig kopiert.",
        "refused_unknown": "Diesen Anmeldelink kennt Lotse nicht.",
        "refused_used": "Dieser Anmeldelink wurde bereits verwendet; jeder Link meldet nur einmal an.",
        "refused_expired": "Dieser Anmeldelink ist abgelaufen.",
        "refused_not-coordinator": "Die Organisation dieses Links ist keine Koordinierungsstelle mehr.",
        "refused_csrf": "Das Formular stammt nicht von dieser Seite.",
        "new_link": "Neuen Anmeldelink anfordern",
        "onward": "Schon angemeldet? Weiter zu {where}",
    },
    "en": {
        "sign_in": "Sign in", "sign_out": "Sign out", "search": "Find cases", "reports": "Reports",
        "signed_in_as": "Signed in as",
        "address": "E-mail address",
        "intro": "The alliance's coordinators sign in without a password: enter your organisation's "
                 "e-mail address and you receive a sign-in link.",
        "send_link": "Send sign-in link",
        "sent_title": "Please look into your mailbox",
        "sent": "If this address belongs to a coordinator of the alliance, a sign-in link is on its way. "
                "It is valid for {minutes} minutes, and once.",
        "sent_more": "No message? Look into the spam folder, or ask for a new link in a few minutes.",
        "no_address": "Please enter an e-mail address.",
        "ended": "Your session has ended: {minutes} minutes without use, or signed out. Please sign in "
                 "again.",
        "confirm_title": "Sign in to Lotse",
        "confirm": "Sign in as {name}. Only pressing the button signs you in; the link is used up then.",
        "refused_title": "This sign-in link is not valid",
        "refused_bad": "This sign-in link is not valid: it was altered or copied incompletely.",
        "refused_unknown": "Lotse does not know this sign-in link.",
        "refused_used": "This sign-in link was used before; each link signs in once.",
        "refused_expired": "This sign-in link has expired.",
        "refused_not-coordinator": "The organisation of this link is no longer a coordinator.",
        "refused_csrf": "The form does not come from this page.",
        "new_link": "Ask for a new sign-in link",
        "onward": "Signed in already? On to {where}",
    },
}
_STATUS = {"bad": 400, "unknown": 400, "used": 410, "expired": 410, "not-coordinator": 403, "csrf": 403}


def signed_in(request: Request) -> DeskSession | None:
    """The coordinator signed in with this request's cookie, if the session is open (touched)."""
    desk = desk_of(request)
    return sign_in.session_of(desk.ctx, request.cookies.get(COOKIE))


def to_sign_in(request: Request) -> RedirectResponse:
    """Back to the sign-in page; it says the session ended if the request brought one. A request
    without the cookie may come from a link in a webmail (SameSite=Strict keeps the cookie from
    it): the page offers the way on, a click within the desk, which brings the cookie along."""
    if request.cookies.get(COOKIE):
        where = "/sign-in?ended=1"
    elif request.method == "GET" and _NEXT.fullmatch(request.url.path):
        where = f"/sign-in?next={request.url.path}"
    else:
        where = "/sign-in"
    response = RedirectResponse(where, status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=desk_of(request).secure, httponly=True, samesite="strict")
    return response


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, ended: str | None = None, next: str | None = None) -> Response:
    desk = desk_of(request)
    onward = next if next and _NEXT.fullmatch(next) else None
    return _address_form(desk, request, ended=bool(ended), onward=onward)


@router.post("/sign-in", response_class=HTMLResponse)
def ask_for_link(
    request: Request, background: BackgroundTasks,
    csrf: Annotated[str | None, Form()] = None, email: Annotated[str | None, Form()] = None,
) -> Response:
    """The same answer for every address; the link is sent after it, to coordinators only."""
    desk = desk_of(request)
    if not desk.limits["sign-in"].allow("sign-in", client_address(request)):
        return too_many(desk, request)
    if not desk.csrf.valid(request, csrf):
        return desk.pages.problem(request, COMMON[desk.pages.locale]["csrf"], status=403)
    if not (email or "").strip():
        return _address_form(desk, request, problem=_words(desk)["no_address"], status=400)
    requested = sign_in.request(desk.ctx, desk.key, email or "")
    background.add_task(sign_in.send, desk.ctx, requested)
    return desk.pages.render(request, "sign_in_sent.html", words=WORDS,
                             minutes=desk.settings.sign_in_minutes)


@router.get("/sign-in/{token}", response_class=HTMLResponse)
def open_link(token: str, request: Request) -> Response:
    """Whom the link signs in, and the button; changes nothing."""
    desk = desk_of(request)
    if not desk.limits["token"].allow("token", client_address(request)):
        return too_many(desk, request)
    try:
        pending = sign_in.look(desk.ctx, desk.key, token)
    except SignInRefused as refused:
        return _refused(desk, request, refused.reason)
    return render_form(desk, request, "sign_in_confirm.html", words=WORDS, token=token, pending=pending)


@router.post("/sign-in/{token}", response_class=HTMLResponse)
def use_link(token: str, request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    """Sign in, once: the session cookie, and on to the search."""
    desk = desk_of(request)
    if not desk.limits["token"].allow("token", client_address(request)):
        return too_many(desk, request)
    if not desk.csrf.valid(request, csrf):
        sign_in.refuse(desk.ctx, desk.key, token, "csrf")
        return _refused(desk, request, "csrf")
    try:
        signed = sign_in.use(desk.ctx, desk.key, token)
    except SignInRefused as refused:
        return _refused(desk, request, refused.reason)
    response = RedirectResponse("/", status_code=303)
    set_cookie(response, COOKIE, signed.cookie, secure=desk.secure)
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    desk = desk_of(request)
    if not desk.csrf.valid(request, csrf):
        return desk.pages.problem(request, COMMON[desk.pages.locale]["csrf"], status=403)
    sign_in.sign_out(desk.ctx, request.cookies.get(COOKIE))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=desk.secure, httponly=True, samesite="strict")
    return response


def _address_form(desk: Desk, request: Request, *, ended: bool = False, problem: str | None = None,
                  status: int = 200, onward: str | None = None) -> Response:
    return render_form(desk, request, "sign_in.html", words=WORDS, status=status, ended=ended,
                       problem=problem, minutes=desk.settings.desk_idle_minutes, onward=onward)


def _refused(desk: Desk, request: Request, reason: str) -> Response:
    w = _words(desk)
    return desk.pages.render(request, "sign_in_refused.html", words=WORDS, status=_STATUS[reason],
                             message=w[f"refused_{reason}"])


def _words(desk: Desk) -> dict[str, str]:
    return desk.pages.words(WORDS)

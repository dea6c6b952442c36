"""The desk as an ASGI application: `create_app(settings)`.

Its parts are routers (`answers`: the pages answer links open; `coordinators`: sign-in, search
and the case page), each calling `tasks/` for the work. Everything they share lives on
`app.state.desk`: the context, the secret key, the pages, the CSRF guard and the rate limits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from lotse.config.settings import Settings
from lotse.desk.pages import COMMON, Pages
from lotse.desk.security import Csrf, RateLimit, SecurityHeaders
from lotse.states.errors import LotseError, NotReady
from lotse.tasks.context import Context

log = logging.getLogger("lotse.desk")


@dataclass
class Desk:
    ctx: Context
    key: bytes
    pages: Pages
    csrf: Csrf
    secure: bool  # cookies only over https: the public URL is https
    limits: dict[str, RateLimit] = field(default_factory=lambda: {
        "sign-in": RateLimit(5, 60),  # requests for a sign-in link, per client address
        "token": RateLimit(30, 60),  # answer and sign-in links opened or posted
        "search": RateLimit(60, 60),
    })

    @property
    def settings(self) -> Settings:
        return self.ctx.settings


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def render_form(
    desk: Desk, request: Request, template: str, *, words: dict[str, dict[str, str]], status: int = 200,
    **context: Any,
) -> Response:
    """A page with forms: its CSRF field (and cookie, where the browser has none yet)."""
    holder = Response()
    csrf = desk.csrf.field(request, holder)
    page = desk.pages.render(request, template, words=words, status=status, csrf=csrf, **context)
    page.raw_headers.extend(h for h in holder.raw_headers if h[0] == b"set-cookie")
    return page


def too_many(desk: Desk, request: Request) -> Response:
    """The page of a client past its rate limit."""
    return desk.pages.problem(request, COMMON[desk.pages.locale]["too_many"], status=429)


def create_app(settings: Settings, ctx: Context | None = None) -> FastAPI:
    """The desk on these settings; refuses to start without a secret key (`lotse init` makes one)."""
    key = settings.signing_key()
    if key is None:
        raise NotReady(f"no secret key: run `lotse init` (it writes {settings.secret_key_file}) "
                       "or set LOTSE_SECRET_KEY")
    ctx = ctx or Context.from_settings(settings)
    for edited in ctx.edited:  # the file and the version: nothing personal
        log.warning("%s", edited)
    secure = settings.desk_url.startswith("https://")
    desk = Desk(ctx=ctx, key=key, pages=Pages(settings.locale), csrf=Csrf(key, secure=secure), secure=secure)
    app = FastAPI(title="Lotse desk", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.desk = desk
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    from lotse.desk import answers, coordinators

    app.include_router(answers.router)
    app.include_router(coordinators.router)

    @app.get("/health", response_class=PlainTextResponse)
    def health() -> str:
        return "ok"

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> Response:
        words = COMMON[settings.locale]
        message = words["not_found"] if exc.status_code == 404 else str(exc.detail)
        return desk.pages.problem(request, message, status=exc.status_code)

    @app.exception_handler(DBAPIError)
    async def database_problem(request: Request, exc: DBAPIError) -> HTMLResponse:
        # The statement's parameters may hold names: log the kind of failure only.
        log.error("database error: %s", type(exc.orig).__name__)
        return desk.pages.problem(request, COMMON[settings.locale]["busy"], status=503)

    @app.exception_handler(LotseError)
    async def lotse_problem(request: Request, exc: LotseError) -> HTMLResponse:
        return desk.pages.problem(request, str(exc), status=400 if exc.exit_code == 2 else 409)

    @app.exception_handler(Exception)
    async def any_problem(request: Request, exc: Exception) -> HTMLResponse:
        # Never a traceback on a page; the server's log names the kind of failure only.
        return desk.pages.problem(request, COMMON[settings.locale]["broken"], status=500)

    return app

"""What every page of the desk is protected by: security headers, CSRF tokens on every form,
rate limits, and private cookies.

- Headers: a Content-Security-Policy without inline scripts or styles, no framing, no referrer
  (a token in the address never leaks to another site), no caching of pages with names on them.
- CSRF: a random cookie (`lotse_csrf`, HttpOnly, SameSite=Strict) and, in every form, a hidden
  field holding that cookie's HMAC under the secret key; a POST must bring both, matching.
- Rate limits: a sliding window per client address and bucket, kept in memory (one desk process).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "lotse_csrf"
CSRF_FIELD = "csrf"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding `HEADERS` to every response. Plain ASGI rather than Starlette's
    BaseHTTPMiddleware: that one streams each response in pieces, and on a keep-alive connection
    Nagle's algorithm then holds the last piece until the client's delayed ACK, about 40 ms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._raw = [(name.lower().encode(), value.encode()) for name, value in HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(n, v) for n, v in self._raw if n not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


def set_cookie(
    response: Response, name: str, value: str, *, secure: bool, max_age: int | None = None,
) -> None:
    """A cookie no script can read and no other site can send."""
    response.set_cookie(name, value, max_age=max_age, path="/", secure=secure, httponly=True,
                        samesite="strict")


class Csrf:
    """The form field that proves a POST comes from a page of the desk."""

    def __init__(self, key: bytes, *, secure: bool) -> None:
        self._key = hmac.new(key, b"lotse:csrf", hashlib.sha256).digest()
        self.secure = secure

    def field(self, request: Request, response: Response) -> str:
        """The hidden field's value for a page; sets the cookie it is bound to if missing."""
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        if len(cookie) < 20:
            cookie = secrets.token_urlsafe(24)
            set_cookie(response, CSRF_COOKIE, cookie, secure=self.secure)
            request.state.csrf_cookie = cookie
        return self._mac(cookie)

    def valid(self, request: Request, given: str | None) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        if len(cookie) < 20 or not given:
            return False
        return hmac.compare_digest(self._mac(cookie), given)

    def _mac(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()


class RateLimit:
    """At most `limit` requests per `seconds` per client address and bucket."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._seen: dict[tuple[str, str], collections.deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, bucket: str, client: str) -> bool:
        now = self.clock()
        with self._lock:
            if len(self._seen) > 10_000:  # forget quiet clients, bounded memory
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.seconds}
            window = self._seen.setdefault((bucket, client), collections.deque())
            while window and window[0] <= now - self.seconds:
                window.popleft()
            if len(window) >= self.limit:
                return False
            window.append(now)
            return True


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"

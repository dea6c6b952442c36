"""Secrets of a route, never shown, not even partly: `mailto://lotse:***@smtp.example`.

Apprise's own masked URL keeps the first and last character of a token (`a...z`) and leaves
header values (`+Authorization=...`) as they are; its error texts often repeat the whole URL.
So Lotse finds a route's secrets itself: every part of the URL that Apprise hides (the password,
tokens in the path), every header value, and every value taken from the environment (`${NAME}`
in the routes file, where passwords belong). Every text about a route (its label, a failed
send's error that the outbox keeps and the coordinator is mailed, a configuration warning) is
passed through `hide`, which also masks any `scheme://user:password@` and any of Apprise's own
partial masks it finds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "***"
SHORTEST = 4  # a shorter part (a port, `no`) is no secret worth masking, and would mask too much
_PARTS = re.compile(r"[/:@?&=#]")
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)[^\s@/?#]+@")
# Apprise's own masks: `****`, and `a...z` (a token's first and last character)
_APPRISE_MASK = re.compile(r"(?<=[/:@=])(?:\*{4}|[^/:@?&=\s]\.\.\.[^/:@?&=\s])(?=[/:@?&\s]|$)")


def secrets_of(service: Any) -> frozenset[str]:
    """The secrets in one Apprise service's URL."""
    private = str(service.url(privacy=False))
    public = str(service.url(privacy=True))
    shown = {unquote(part) for part in _PARTS.split(public)}
    found = {unquote(part) for part in _PARTS.split(private)} - shown
    for key, value in parse_qsl(urlsplit(private).query):
        if key.startswith("+") and value:  # a header: often `Authorization=Bearer <token>`
            found.update((value, value.split()[-1]))
    password = getattr(service, "password", None)
    if password:
        found.add(str(password))
    return frozenset(s for s in found if len(s) >= SHORTEST)


def hide(text: str, secrets: Iterable[str] = ()) -> str:
    """The text with every secret replaced by `***`, longest first (a token inside a header)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret))):
            text = text.replace(form, MASK)
    return _APPRISE_MASK.sub(MASK, _USERINFO.sub(rf"\g<1>{MASK}@", text))


def label(service: Any, secrets: Iterable[str]) -> str:
    """A route as it is shown: its URL without the query, every secret masked alike."""
    return hide(str(service.url(privacy=True)).split("?")[0], secrets)

"""Signed tokens: what a link carries, sealed with the alliance's secret key (HMAC-SHA256).

A token is `<payload>.<signature>`, both base64url without padding. The payload is a short JSON
list; the key is derived per purpose (`answer`, `sign-in`), so a token made for one purpose is
never accepted for another. Signatures are compared in constant time. Whoever reads a token
learns its payload: never put a name or a fact value in it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from functools import lru_cache
from typing import Any


class BadToken(Exception):
    """The token is malformed or its signature does not match: tampered, or of another key."""


def random_id() -> str:
    """A link's random id: 96 bits, 16 characters."""
    return secrets.token_urlsafe(12)


class Signer:
    def __init__(self, key: bytes, purpose: str) -> None:
        self._key = hmac.new(key, f"lotse:{purpose}".encode(), hashlib.sha256).digest()

    def sign(self, payload: list[Any]) -> str:
        body = _encode(json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode())
        return f"{body}.{_encode(self._mac(body))}"

    def read(self, token: str) -> list[Any]:
        """The payload of a token this signer made; `BadToken` otherwise."""
        body, dot, signature = token.strip().partition(".")
        if not dot or len(token) > 1000:
            raise BadToken("not a Lotse link")
        try:
            given = _decode(signature)
        except (binascii.Error, ValueError):
            raise BadToken("not a Lotse link") from None
        if not hmac.compare_digest(given, self._mac(body)):
            raise BadToken("the link's signature does not match")
        try:
            payload = json.loads(_decode(body))
        except (binascii.Error, ValueError):
            raise BadToken("not a Lotse link") from None
        if not isinstance(payload, list):
            raise BadToken("not a Lotse link")
        return payload

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode("ascii", "replace"), hashlib.sha256).digest()


@lru_cache(maxsize=8)
def signer(key: bytes, purpose: str) -> Signer:
    """The signer of a key and a purpose, its key derived once: a message signs several links."""
    return Signer(key, purpose)


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

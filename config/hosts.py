"""Addresses a server of Lotse binds to: which are well-formed, which stay on this machine
(loopback), and where a client on this machine reaches a server bound to one."""

from __future__ import annotations

import ipaddress
import re

LOOPBACK = "127.0.0.1"
_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
WILDCARDS = {"0.0.0.0": LOOPBACK, "::": "::1"}


def check(host: str) -> str:
    """The host, trimmed, if it is an IP address or a host name; else a ValueError saying so."""
    value = host.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if not _NAME.fullmatch(value):
        raise ValueError(f"{host!r} is not an IP address or host name (e.g. 127.0.0.1, 0.0.0.0 or ::1)")
    return value


def is_loopback(host: str) -> bool:
    """Reachable from this machine only: 127.x, ::1 or localhost. Any other name may resolve
    to an outside address, so it counts as outside."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def for_clients(host: str) -> str:
    """Where a client on this machine reaches a server bound to `host`, ready for a URL: a
    wildcard address is reached over loopback; an IPv6 address goes in brackets."""
    address = WILDCARDS.get(host, host)
    return f"[{address}]" if ":" in address else address

"""Routes: which channel (e-mail, Teams, Matrix, Mattermost, a webhook) reaches whom.

The routes are an Apprise configuration file (YAML or text, path in `LOTSE_NOTIFY_CONFIG`) whose
tags are actor ids, role names and regions. `${NAME}` in the file is replaced by the environment
variable NAME, so passwords and tokens never sit in a committed file.

A recipient is looked up from the most specific tag to the least, and the first level that finds
a route wins:

    1. its actor id                           tag: klinik-nord
    2. one of its roles and the case's region tags: housing, SE-Seestadt
       then the same with each region above it tags: housing, SE-Nord; then housing, SE
       (the hierarchy of config/regions.yaml, nearest first)
    3. one of its roles alone                 tag: housing  (a route that also carries another
                                              region's tag belongs to that region and is skipped)

Apprise compares tags in lower case; so does Lotse.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lotse.config.settings import Settings
from lotse.notifications import masked
from lotse.notifications.apprise_log import listening

EMAIL = "email"
CHAT = "chat"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Address:
    """Whom a message is for: an actor of the directory (if one is known), its roles, the region
    of the case. Stored on the outbox row, so that delivery looks the route up again."""

    roles: tuple[str, ...]
    region: str | None = None
    actor: str | None = None
    above: tuple[str, ...] = ()  # the regions above `region`, nearest first: routes fall back to them

    @property
    def recipient(self) -> str:
        return self.actor or f"{self.roles[0]}@{self.region or '*'}"

    def __str__(self) -> str:
        parts = [f"actor={self.actor}"] if self.actor else []
        parts.append(f"roles={','.join(self.roles)}")
        if self.region:
            parts.append(f"region={self.region}")
        if self.above:
            parts.append(f"above={','.join(self.above)}")
        return ";".join(parts)

    @classmethod
    def parse(cls, text: str) -> Address:
        fields = dict(part.partition("=")[::2] for part in text.split(";") if "=" in part)
        roles = tuple(r for r in fields.get("roles", "").split(",") if r)
        above = tuple(r for r in fields.get("above", "").split(",") if r)
        return cls(roles=roles, region=fields.get("region") or None, actor=fields.get("actor") or None,
                   above=above)

    def describe(self) -> str:
        """In words, for error messages and the route report."""
        who = f"actor '{self.actor}' " if self.actor else ""
        where = f" in region '{self.region}'" if self.region else ""
        return f"{who}(role {', '.join(self.roles)}{where})"


@dataclass(frozen=True)
class Target:
    """One configured route: an Apprise service with its tags."""

    key: str  # a hash of the service's identity: stable, and free of its secrets
    channel: str  # email or chat
    label: str  # the URL with its secrets masked
    tags: frozenset[str]
    service: Any = field(compare=False, repr=False)  # the Apprise plugin object
    secrets: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def hide(self, text: str) -> str:
        """A text about this route (an error of its service) without its secrets."""
        return masked.hide(text, self.secrets)


@dataclass
class Routes:
    """Every route of the configuration, and what was wrong with the configuration."""

    targets: list[Target]
    warnings: list[str]
    source: Path | None = None

    @property
    def configured(self) -> bool:
        return self.source is not None

    def find(self, address: Address, regions: set[str]) -> list[Target]:
        """The routes of an address, most specific level first (see the module docstring)."""
        chain = [address.region, *address.above] if address.region else []
        other_regions = {r.lower() for r in regions} - {r.lower() for r in chain}
        levels: list[list[set[str]]] = []
        if address.actor:
            levels.append([{address.actor.lower()}])
        for region in chain:
            levels.append([{role.lower(), region.lower()} for role in address.roles])
        levels.append([{role.lower()} for role in address.roles])
        for index, level in enumerate(levels):
            by_actor = index == 0 and address.actor is not None
            found = [
                t for t in self.targets
                if any(wanted <= t.tags for wanted in level) and (by_actor or not t.tags & other_regions)
            ]
            if found:
                return found
        return []

    def by_key(self, key: str | None) -> Target | None:
        return next((t for t in self.targets if key and t.key == key), None)

    def explain_missing(self, address: Address, *, with_warnings: bool = True) -> str:
        """Why an address has no route, and what to do about it."""
        if not self.configured:
            return "LOTSE_NOTIFY_CONFIG is not set; see config/notify.example.yaml"
        tags = " or ".join(f"'{t}'" for t in ([address.actor] if address.actor else []) + list(address.roles))
        problem = f"no route for {address.describe()}: add a URL tagged {tags} to {self.source}"
        if self.warnings and with_warnings:
            problem += f" (configuration problems: {'; '.join(self.warnings)})"
        return problem


_cache: dict[tuple[str, str, float], Routes] = {}


def load(settings: Settings) -> Routes:
    """The routes of `LOTSE_NOTIFY_CONFIG`; never raises: problems become warnings, so that a
    broken configuration never stops a change (its messages wait in the outbox)."""
    if settings.notify_config is None:
        return Routes([], ["LOTSE_NOTIFY_CONFIG is not set: messages wait in the outbox"])
    path = Path(settings.notify_config).expanduser()
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Routes([], [f"LOTSE_NOTIFY_CONFIG={path} cannot be read: {exc}"], path)
    text, warnings, values = expand(raw)
    key = (str(path), hashlib.sha256(text.encode()).hexdigest(), settings.notify_timeout_seconds)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _parse(text, path, warnings, settings.notify_timeout_seconds, values)
    return _cache[key]


def expand(text: str) -> tuple[str, list[str], set[str]]:
    """Replace `${NAME}` by the environment variable NAME; name every variable that is not set.
    Also returns the values put in: they are secrets (that is why they live in the environment)."""
    missing: list[str] = []
    values: set[str] = set()

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            missing.append(name)
            return ""
        values.add(os.environ[name])
        return os.environ[name]

    lines = []
    for line in text.splitlines():
        lines.append(line if line.lstrip().startswith("#") else _VARIABLE.sub(value, line))
    warnings = [f"environment variable {name} is not set" for name in dict.fromkeys(missing)]
    return "\n".join(lines) + "\n", warnings, {v for v in values if len(v) >= masked.SHORTEST}


def _parse(text: str, path: Path, warnings: list[str], timeout: float, values: set[str]) -> Routes:
    import apprise  # only where routes are read: it takes a moment to load its plugins

    config = apprise.AppriseConfig()
    with listening() as heard:
        loaded = config.add_config(text, format=_format(path, text))
        services = list(config.servers()) if loaded else []
    problems = list(warnings)
    if not loaded:
        problems.append(f"{path} is not an Apprise configuration (YAML or text)")
    every_secret = set(values).union(*(masked.secrets_of(s) for s in services))
    problems.extend(masked.hide(line, every_secret) for line in heard.lines)
    targets = []
    for service in services:
        # The whole URL (Apprise's own url_id leaves out the recipients), hashed: no secret is kept.
        identity = service.url(privacy=False)
        channel = EMAIL if type(service).__name__ == "NotifyEmail" else CHAT
        service.socket_connect_timeout = timeout
        service.socket_read_timeout = timeout
        if channel == EMAIL:
            # Apprise waits 5.5 s between two sends of one service, a rule for rate-limited web
            # APIs; an SMTP server needs none. Our texts are plain text, not HTML.
            service.request_rate_per_sec = 0
            service.notify_format = apprise.NotifyFormat.TEXT
        secrets = masked.secrets_of(service) | values
        targets.append(Target(
            key=hashlib.sha256(identity.encode()).hexdigest()[:16], channel=channel,
            label=masked.label(service, secrets),
            tags=frozenset(str(tag).lower() for tag in service.tags), service=service, secrets=secrets,
        ))
    return Routes(targets, problems, path)


def _format(path: Path, text: str) -> str | None:
    if path.suffix.lower() in (".yaml", ".yml"):
        return "yaml"
    if path.suffix.lower() in (".txt", ".cfg", ".conf"):
        return "text"
    return None  # Apprise tells them apart by their content

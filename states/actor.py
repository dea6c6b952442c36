"""An actor of the alliance's directory: an organisation or person with roles and a region."""

from __future__ import annotations

from dataclasses import dataclass

from lotse.states.process import COORDINATOR


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    roles: frozenset[str]
    region: str | None = None
    email: str | None = None
    serves: frozenset[str] = frozenset()  # regions it serves besides its own (`actor_regions`)

    @property
    def is_coordinator(self) -> bool:
        return COORDINATOR in self.roles

    def has_any(self, roles: list[str]) -> bool:
        return self.is_coordinator or bool(self.roles.intersection(roles))

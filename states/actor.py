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
    def area(self) -> frozenset[str] | None:
        """The regions it serves, each with the regions below it; None: the whole alliance (an
        actor with neither a region nor regions served)."""
        if self.region is None and not self.serves:
            return None
        return self.serves | ({self.region} if self.region else set())

    @property
    def is_coordinator(self) -> bool:
        return COORDINATOR in self.roles

    def has_any(self, roles: list[str]) -> bool:
        return self.is_coordinator or bool(self.roles.intersection(roles))

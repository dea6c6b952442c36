"""The directory as a change and its messages read it: every actor's name, e-mail, region, roles
and the regions it serves, read together in one query rather than one query per role, per name
and per author.

A roster is a snapshot of the open transaction. A batch of messages reads one for its own life
only, so a change of the directory earlier in the same transaction (a hand-over) is seen; a
change of a case, which never changes the directory, holds one for its whole transaction
(`hold`), and its author and its messages are read from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from lotse.states.actor import Actor
from lotse.states.errors import NotFound
from lotse.states.records import ActorRecord, ActorRegionRecord, ActorRoleRecord

_HELD = "lotse.roster"  # the key in `Session.info`: (the transaction, its roster)


@dataclass(frozen=True)
class Entry:
    """One actor as the directory lists it (a removed actor keeps its row, without roles)."""

    name: str
    email: str | None
    region: str | None
    removed: bool


@dataclass
class Roster:
    actors: dict[str, Entry]
    roles: dict[str, list[str]]  # actor -> its roles
    served: dict[str, set[str]]  # actor -> the regions of `actor_regions`
    _serving: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session) -> Roster:
        """One query: each actor with each of its roles and each region it serves besides (an
        actor has a few of either)."""
        session.flush()  # an actor added earlier in the transaction is on the roster
        actors: dict[str, Entry] = {}
        roles: dict[str, list[str]] = {}
        served: dict[str, set[str]] = {}
        for actor_id, name, email, region, removed, role, serves in session.connection().execute(_QUERY):
            if actor_id not in actors:
                actors[actor_id] = Entry(name, email, region, removed is not None)
            if role is not None and role not in (held := roles.setdefault(actor_id, [])):
                held.append(role)
            if serves is not None:
                served.setdefault(actor_id, set()).add(serves)
        return cls(actors, roles, served)

    def actor(self, actor_id: str) -> Actor:
        """An actor that may act (as `store.get_actor` reads it); a removed one acts no more."""
        entry = self.actors.get(actor_id)
        if entry is None or entry.removed:
            raise NotFound(f"unknown actor '{actor_id}'; see `lotse actor list`")
        return Actor(actor_id, entry.name, frozenset(self.roles.get(actor_id, ())), entry.region, entry.email,
                     frozenset(self.served.get(actor_id, ())))

    def serving(self, role: str) -> dict[str, frozenset[str]]:
        """The actors of a role, each with the regions it serves: its own and those of
        `actor_regions`; an empty set: the whole alliance."""
        if not self._serving:
            for actor_id in sorted(self.roles):
                if actor_id not in self.actors:
                    continue
                own = self.actors[actor_id].region
                regions = frozenset(({own} if own else set()) | self.served.get(actor_id, set()))
                for held in self.roles[actor_id]:
                    self._serving.setdefault(held, {})[actor_id] = regions
        return self._serving.get(role, {})

    def regions(self) -> set[str]:
        """The regions of the directory's actors (removed ones included)."""
        return {entry.region for entry in self.actors.values() if entry.region}


_actors, _roles, _serves = (t.__table__ for t in (ActorRecord, ActorRoleRecord, ActorRegionRecord))  # type: ignore[attr-defined]
_a, _r, _g = _actors.c, _roles.c, _serves.c
_QUERY = (select(_a.id, _a.name, _a.email, _a.region, _a.removed_at, _r.role, _g.region)
          .outerjoin(_roles, _r.actor_id == _a.id).outerjoin(_serves, _g.actor_id == _a.id))


def hold(session: Session) -> Roster:
    """Read the roster and keep it for the rest of the session's open transaction: only for a
    transaction that does not change the directory."""
    roster = Roster.read(session)
    session.info[_HELD] = (session.get_transaction(), roster)
    return roster


def of(session: Session) -> Roster:
    """The roster the open transaction holds, else one read now (and not kept)."""
    held = session.info.get(_HELD)
    if held is not None and held[0] is not None and held[0] is session.get_transaction():
        return held[1]
    return Roster.read(session)

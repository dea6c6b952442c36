"""The directory as the database holds it: actors with their roles and the regions they serve.

Apart from states/store.py (cases and their history); `lotse actor list` reads by the Core tables
(states/tables.py) and builds no class (issue 15).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Row, select
from sqlmodel import Session

from lotse.states import records, tables
from lotse.states.actor import Actor
from lotse.states.errors import NotFound


def get_actor(session: Session, actor_id: str, *, bind: bool = False) -> Actor:
    """An actor of the directory. `bind`: the change will name it on a row (a case's employer, a
    group's school); its row is locked for sharing until the commit, so that its removal, which
    locks it first (tasks/hand_over.py), either sees that row or refuses this change."""
    record = session.get(records.ActorRecord, actor_id, with_for_update={"read": True} if bind else None)
    if record is None or record.removed_at is not None:  # a removed actor acts no more
        raise NotFound(f"unknown actor '{actor_id}'; see `lotse actor list`")
    roles_, serves_ = tables.actor_roles.c, tables.actor_regions.c
    roles = session.scalars(select(roles_.role).where(roles_.actor_id == record.id)).all()
    serves = session.scalars(select(serves_.region).where(serves_.actor_id == record.id)).all()
    return Actor(record.id, record.name, frozenset(roles), record.region, record.email, frozenset(serves))


def list_actors(session: Session) -> list[Actor]:
    """The actors of the directory (not those removed from it), by id: three queries, whatever
    their number."""
    return [actor for actor, _ in profiles(session)]


def profiles(session: Session) -> list[tuple[Actor, Row[Any]]]:
    """The actors of the directory by id, each with its row (its profile: services, languages,
    contact, website). Read by Core columns: `lotse actor list` configures no mapper."""
    actors, roles_, serves_ = tables.actors.c, tables.actor_roles.c, tables.actor_regions.c
    records = session.execute(select(actors).where(actors.removed_at.is_(None)).order_by(actors.id)).all()
    roles: dict[str, set[str]] = defaultdict(set)
    serves: dict[str, set[str]] = defaultdict(set)
    for actor_id, role in session.execute(select(roles_.actor_id, roles_.role)):
        roles[actor_id].add(role)
    for actor_id, region in session.execute(select(serves_.actor_id, serves_.region)):
        serves[actor_id].add(region)
    return [(Actor(r.id, r.name, frozenset(roles[r.id]), r.region, r.email, frozenset(serves[r.id])), r)
            for r in records]

"""The alliance's directory of actors: organisations and people with roles and a region."""

from __future__ import annotations

import re

from lotse.states import limits, regions, store
from lotse.states.actor import Actor
from lotse.states.errors import BadInput, Refused
from lotse.states.records import ActorRecord, ActorRoleRecord
from lotse.states.regions import Regions
from lotse.tasks.context import Context

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
REGION_RULE = regions.CODE_RULE


def check_region(region: str, known: Regions) -> str:
    """The region if it is a plain name of the hierarchy (states/regions.py); anything else is
    bad input naming the known ones."""
    if not regions.CODE.fullmatch(region):
        raise BadInput(f"region {region!r}: {REGION_RULE}")
    return known.check(region)


def add_actor(
    ctx: Context,
    actor_id: str,
    *,
    name: str,
    roles: list[str],
    region: str | None = None,
    email: str | None = None,
) -> Actor:
    """Add an actor; every role must be declared by at least one process definition."""
    if not _ID.match(actor_id):
        raise BadInput(f"actor id '{actor_id}': use lower case letters, digits, '-', '_' or '.'")
    if not name.strip():
        raise BadInput("an actor needs a --name")
    limits.check_length("the actor's --name", name.strip(), limits.NAME)
    if not roles:
        raise BadInput("an actor needs at least one --role")
    known = sorted({role for process in ctx.catalog.versions() for role in process.roles})
    for role in roles:
        if role not in known:
            raise BadInput(f"unknown role '{role}'; roles of the processes: {', '.join(known)}")
    if region is not None:
        check_region(region, ctx.regions)
    if email is not None:
        limits.check_length("the actor's --email", email, limits.EMAIL)
    if email is not None and not _EMAIL.match(email):
        raise BadInput(f"'{email}' is not an e-mail address")
    with ctx.db.writing() as session:
        if session.get(ActorRecord, actor_id) is not None:
            raise Refused(f"actor '{actor_id}' exists already; see `lotse actor list`")
        session.add(ActorRecord(
            id=actor_id, name=name.strip(), region=region, email=email, created_at=ctx.clock()
        ))
        session.flush()
        for role in dict.fromkeys(roles):
            session.add(ActorRoleRecord(actor_id=actor_id, role=role))
        session.flush()
        return store.get_actor(session, actor_id)


def list_actors(ctx: Context) -> list[Actor]:
    with ctx.db.reading() as session:
        return store.list_actors(session)

"""The alliance's directory of actors: organisations with roles, a region, the regions they serve
besides, and a profile (services per role, languages, a contact point, a website).

Every change of the directory (`add`, `edit`, and `remove` in tasks/hand_over.py) writes one row
of the append-only `directory_changes`: who (a coordinator, `--by`, with the operating-system
user as proof), when, and each field as it was and as it became. `edit` and `remove` need the
coordinator; `add` takes `--by` where given, and is the operator's alone (the proof records the
operating-system user) for the first actors of an alliance, before there is a coordinator.

The contact point is a function mailbox or a switchboard number (pflege@klinik.example,
+49 4551 1234-0), never a private person's address or phone: Lotse cannot tell the one from the
other, so the command says so and the coordinator answers for it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lotse.states import actor_store, limits, records, regions
from lotse.states.actor import Actor
from lotse.states.errors import BadInput, NotFound, Refused, RoleMissing
from lotse.states.process import COORDINATOR
from lotse.tasks.context import Context

if TYPE_CHECKING:
    from lotse.tasks.hand_over import Owned

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()/-]{4,30}$")
_WEBSITE = re.compile(r"^https?://[^\s<>()\[\]\"'`|]+$")  # it ends up in markdown and mermaid
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")  # ISO 639 (de, en, tl, ...)
SERVICE_LENGTH = 500
CLEAR = "-"  # `--region -`, `--email -`, ...: no value any more
CONTACT_RULE = ("give a function mailbox or a switchboard number (pflege@klinik.example, "
                "+49 4551 1234-0), never a private person's")
REGION_RULE = regions.CODE_RULE


@dataclass
class Profile:
    """What a change of the directory sets; a field left None is not changed (`CLEAR`: emptied)."""

    name: str | None = None
    email: str | None = None
    region: str | None = None
    serves: list[str] | None = None
    services: dict[str, str] = field(default_factory=dict)  # role -> text; "" removes it
    languages: list[str] | None = None
    contact: str | None = None
    website: str | None = None


def add_actor(
    ctx: Context,
    actor_id: str,
    *,
    name: str,
    roles: list[str],
    region: str | None = None,
    email: str | None = None,
    profile: Profile | None = None,
    by: str | None = None,
    via: str = "cli",
) -> Actor:
    """Add an actor; every role must be declared by at least one process definition. `by`: the
    coordinator adding it (none only while the directory has no coordinator yet)."""
    if not _ID.match(actor_id):
        raise BadInput(f"actor id '{actor_id}': use lower case letters, digits, '-', '_' or '.'")
    if not name.strip():
        raise BadInput("an actor needs a --name")
    if not roles:
        raise BadInput("an actor needs at least one --role")
    for role in roles:
        check_role(ctx, role)
    wanted = _checked(ctx, Profile(**{**vars(profile or Profile()), "name": name, "email": email,
                                      "region": region}), roles)
    now = ctx.clock()
    with ctx.db.writing() as session:
        author = coordinator(session, by, "add actors")
        existing = session.get(records.ActorRecord, actor_id)
        if existing is not None:
            gone = f" (removed {existing.removed_at.date().isoformat()})" if existing.removed_at else ""
            raise Refused(f"actor '{actor_id}' exists already{gone}; see `lotse actor list`")
        record = records.ActorRecord(id=actor_id, name=wanted.name or name.strip(), created_at=now)
        session.add(record)
        session.flush()
        for role in dict.fromkeys(roles):
            session.add(records.ActorRoleRecord(actor_id=actor_id, role=role))
        changes = _apply(session, record, wanted)
        changes["roles"] = [[], sorted(set(roles))]
        log(session, ctx, actor_id, "add", author, changes, via, now)
        session.flush()
        return actor_store.get_actor(session, actor_id)


def edit_actor(
    ctx: Context, actor_id: str, profile: Profile, *, add_roles: list[str] | None = None,
    remove_roles: list[str] | None = None, by: str, via: str = "cli",
) -> dict[str, list[Any]]:
    """Change an actor's name, addresses, regions, profile or roles, audited; returns each field
    changed as [before, after] (empty: nothing was different, nothing written)."""
    add_roles, remove_roles = add_roles or [], remove_roles or []
    for role in add_roles + remove_roles:
        check_role(ctx, role)
    if set(add_roles) & set(remove_roles):
        both = sorted(set(add_roles) & set(remove_roles))[0]
        raise BadInput(f"role '{both}' is both added and removed")
    if not add_roles and not remove_roles and profile == Profile():
        raise BadInput("nothing to change: give --name, --email, --region, --serves, --service, --language, "
                       "--contact, --website, --add-role or --remove-role")
    now = ctx.clock()
    with ctx.db.writing() as session:
        author = coordinator(session, by, "edit the directory")
        record = listed(session, actor_id)
        before = set(session.scalars(
            select(records.ActorRoleRecord.role).where(records.ActorRoleRecord.actor_id == actor_id)))
        roles = (before | set(add_roles)) - set(remove_roles)
        if not roles:
            raise BadInput(f"actor '{actor_id}' needs at least one role; to take it out of the directory: "
                           "`lotse actor remove`")
        wanted = _checked(ctx, profile, sorted(roles))
        if "employer" in before - roles and (n := open_cases_employed(ctx, session, actor_id)):
            raise Refused(f"actor '{actor_id}' employs {n} open case(s): it stays an employer; hand them "
                          f"over with `lotse actor remove {actor_id} --hand-over-to OTHER`")
        # What only this actor does (items, groups), read before the edit may route it elsewhere.
        owned = None
        if before - roles or profile.region is not None or profile.serves is not None:
            from lotse.states.courses import LANGUAGE_SCHOOL  # routing and courses: only for such an edit
            from lotse.tasks.hand_over import owned_by

            owned = owned_by(ctx, session, actor_id, frozenset(before - {"employer", COORDINATOR}))
            if owned.groups and LANGUAGE_SCHOOL in before - roles:
                raise Refused(f"actor '{actor_id}' runs {len(owned.groups)} course group(s) that have not "
                              f"ended: it stays a language school; hand them over with `lotse actor "
                              f"remove {actor_id} --hand-over-to OTHER`")
        if before - roles:  # services of a role it no longer has go with the role
            kept = {r: t for r, t in (record.services or {}).items() if r in roles}
            wanted.services = {**{r: "" for r in record.services or {} if r not in kept}, **wanted.services}
        changes = _apply(session, record, wanted)
        if roles != before:
            session.execute(delete(records.ActorRoleRecord).where(
                records.ActorRoleRecord.actor_id == actor_id,  # type: ignore[arg-type]
                records.ActorRoleRecord.role.in_(sorted(before - roles))))  # type: ignore[attr-defined]
            for role in sorted(roles - before):
                session.add(records.ActorRoleRecord(actor_id=actor_id, role=role))
            changes["roles"] = [sorted(before), sorted(roles)]
        if owned is not None and owned.items and changes:
            session.flush()
            _check_still_asked(ctx, session, actor_id, owned)
        if changes:
            log(session, ctx, actor_id, "edit", author, changes, via, now)
        return changes


def list_actors(ctx: Context) -> list[Actor]:
    with ctx.db.reading() as session:
        return actor_store.list_actors(session)


def profiles(ctx: Context) -> list[dict[str, Any]]:
    """Every actor of the directory with its profile, for `lotse actor list`."""
    with ctx.db.reading() as session:
        found = actor_store.profiles(session)
    return [{
        "id": a.id, "name": a.name, "roles": sorted(a.roles), "region": a.region, "email": a.email,
        "serves": sorted(a.serves), "services": dict(sorted((record.services or {}).items())),
        "languages": list(record.languages or []), "contact": record.contact, "website": record.website,
    } for a, record in found]


def changes(ctx: Context, actor_id: str | None = None) -> list[dict[str, Any]]:
    """The directory's change log, oldest first (of one actor, if given)."""
    from lotse.states.records import DirectoryChangeRecord  # built only where the log is used

    query = select(DirectoryChangeRecord).order_by(DirectoryChangeRecord.id)  # type: ignore[arg-type]
    if actor_id is not None:
        query = query.where(DirectoryChangeRecord.actor_id == actor_id)
    with ctx.db.reading() as session:
        # removed ones have rows
        if actor_id is not None and session.get(records.ActorRecord, actor_id[:64]) is None:
            raise NotFound(f"unknown actor '{actor_id[:64]}'; see `lotse actor list`")
        return [{"at": r.at.isoformat(), "actor": r.actor_id, "action": r.action, "by": r.by, "via": r.via,
                 "proof": r.proof, "changes": r.detail or {}} for r in session.scalars(query)]


def check_role(ctx: Context, role: str) -> str:
    known = sorted({role for process in ctx.catalog.versions() for role in process.roles})
    if role not in known:
        raise BadInput(f"unknown role '{role}'; roles of the processes: {', '.join(known)}")
    return role


def open_cases_employed(ctx: Context, session: Session, actor_id: str) -> int:
    from lotse.states.records import CaseRecord

    stages = session.execute(select(CaseRecord.process, CaseRecord.process_version, CaseRecord.stage)
                             .where(CaseRecord.employer_id == actor_id)).all()
    return sum(1 for p, v, stage in stages if not ctx.catalog.get(p, v).is_final(stage))


def _check_still_asked(ctx: Context, session: Session, actor_id: str, owned: Owned) -> None:
    """Refuse an edit (flushed, not committed) after which nobody is asked for an open item this
    actor alone was asked for (`owned`, read before the edit): a role taken, a region left."""
    from lotse.notifications.dispatch import nearest, serving

    asked = [(record.region, item, role) for record, found in owned.items.values() for item, role in found]
    serving_by_role = {role: serving(session, role) for role in {role for _, _, role in asked}}
    orphaned = [(region, item, role) for region, item, role in asked
                if not nearest(serving_by_role[role], ctx.regions.chain(region))]
    if orphaned:
        roles = ", ".join(sorted({role for _, _, role in orphaned}))
        regions = ", ".join(sorted({region for region, _, _ in orphaned}))
        raise Refused(
            f"after this edit nobody would be asked for {len(orphaned)} open item(s) that only "
            f"'{actor_id}' is asked for now ({roles} in {regions}); nothing was changed. Give the role "
            f"there to another actor first, or hand them over with `lotse actor remove {actor_id} "
            "--hand-over-to OTHER`")


def log(session: Session, ctx: Context, actor_id: str, action: str, by: str | None,
        detail: dict[str, Any], via: str, now: dt.datetime) -> None:
    """Append one row to the directory's change log."""
    from lotse.states.records import DirectoryChangeRecord

    session.add(DirectoryChangeRecord(actor_id=actor_id, at=now, action=action, by=by, via=via,
                                      proof=ctx.proof, detail=detail))


def coordinator(session: Session, by: str | None, action: str) -> str | None:
    """The coordinator making the change; None for an actor added by the operator without `--by`
    (the first actors of an alliance, before there is a coordinator): the proof records who."""
    if by is None:
        return None
    author = actor_store.get_actor(session, by)
    if not author.is_coordinator:
        raise RoleMissing(author.id, action, [COORDINATOR])
    return author.id


def listed(session: Session, actor_id: str, *, lock: bool = False) -> records.ActorRecord:
    """The actor's row, if it is in the directory; `lock`: for the rest of the transaction (a removal)."""
    record = session.get(records.ActorRecord, actor_id, with_for_update=lock or None)
    if record is None or record.removed_at is not None:
        raise NotFound(f"unknown actor '{actor_id}'; see `lotse actor list`")
    return record


def _checked(ctx: Context, profile: Profile, roles: list[str]) -> Profile:
    """The profile's values as they will be stored; anything malformed is bad input."""
    done = Profile()
    if profile.name is not None:
        if not profile.name.strip():
            raise BadInput("an actor needs a --name")
        done.name = limits.check_length("the actor's --name", profile.name.strip(), limits.NAME)
    if profile.email is not None:
        done.email = profile.email.strip()
        if done.email != CLEAR:
            limits.check_length("the actor's --email", done.email, limits.EMAIL)
            if not _EMAIL.match(done.email):
                raise BadInput(f"'{done.email}' is not an e-mail address")
    if profile.region is not None:
        done.region = profile.region.strip()
        if done.region != CLEAR:
            regions.check_region(done.region, ctx.regions)
    if profile.serves is not None:
        served = [r.strip() for r in profile.serves if r.strip() != CLEAR]
        done.serves = [regions.check_region(r, ctx.regions) for r in dict.fromkeys(served)]
    for role, text in profile.services.items():
        if role not in roles:
            raise BadInput(f"--service {role}=...: the actor has no role '{role}' "
                           f"(roles: {', '.join(roles)})")
        text = " ".join(text.split())
        limits.check_length(f"the service of role {role}", text, SERVICE_LENGTH)
        done.services[role] = text
    if profile.languages is not None:
        languages = [x.strip().lower() for x in profile.languages if x.strip() != CLEAR]
        for language in languages:
            if not _LANGUAGE.match(language):
                raise BadInput(f"--language {language!r}: give a language code like de, en, tl (ISO 639)")
        done.languages = list(dict.fromkeys(languages))
    if profile.contact is not None:
        done.contact = " ".join(profile.contact.split())
        if done.contact != CLEAR:
            limits.check_length("the actor's --contact", done.contact, limits.EMAIL)
            if not (_EMAIL.match(done.contact) or _PHONE.match(done.contact)):
                raise BadInput(f"--contact: {CONTACT_RULE}")
    if profile.website is not None:
        done.website = profile.website.strip()
        if done.website != CLEAR:
            limits.check_length("the actor's --website", done.website, 300)
            if not _WEBSITE.match(done.website):
                raise BadInput(f"--website {done.website!r}: give a web address like https://klinik.example")
    return done


def _apply(session: Session, record: records.ActorRecord, profile: Profile) -> dict[str, list[Any]]:
    """Write a checked profile on the actor's row; returns each field changed as [before, after]."""
    changed: dict[str, list[Any]] = {}

    def put(name: str, value: Any) -> None:
        if getattr(record, name) != value:
            changed[name] = [getattr(record, name), value]
            setattr(record, name, value)

    for name in ("name", "email", "region", "contact", "website"):
        value = getattr(profile, name)
        if value is not None:
            put(name, None if value == CLEAR else value)
    if profile.languages is not None:
        put("languages", profile.languages or None)
    if profile.services:
        services = dict(record.services or {})
        for role, text in profile.services.items():
            if text:
                services[role] = text
            else:
                services.pop(role, None)
        put("services", dict(sorted(services.items())) or None)
    if profile.serves is not None:
        before = sorted(session.scalars(
            select(records.ActorRegionRecord.region).where(records.ActorRegionRecord.actor_id == record.id)))
        after = sorted(set(profile.serves))
        if before != after:
            session.execute(delete(records.ActorRegionRecord).where(
                records.ActorRegionRecord.actor_id == record.id))  # type: ignore[arg-type]
            session.flush()
            for region in after:
                session.add(records.ActorRegionRecord(actor_id=record.id, region=region))
            changed["serves"] = [before, after]
    session.add(record)
    session.flush()
    return changed

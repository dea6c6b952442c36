"""The tables: actors, cases with their facts and checklist, and the append-only history.

Portable SQL only (SQLite and PostgreSQL). Personal data (names) lives only in `cases`; the
history refers to cases by id and to actors by id.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from lotse.states.names import fold


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment, stored and read back as UTC on every database.

    SQLite keeps no time zone: it would store an aware moment's wall time as it is and hand back
    a naive one. So a moment is turned into UTC before it is written and marked UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Cents(TypeDecorator[Decimal]):
    """An amount in euros, a `Decimal` with two places, stored as whole cents (an integer).

    SQLite has no exact decimal type: SQLAlchemy's `Numeric` goes through a float there (and
    warns so), and sums in SQL would be sums of floats. Integer cents are exact on every
    database, and so are their sums. An amount with more than two places is refused, never
    rounded."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"an amount has at most two decimal places, not {value}")
        return int(cents)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)


def named(given_name: str, family_name: str) -> dict[str, str]:
    """A case's name columns: the names as given, and folded for search."""
    return {"given_name": given_name, "family_name": family_name,
            "given_key": fold(given_name), "family_key": fold(family_name)}


def _when(**kw: Any) -> Any:
    return Field(sa_column=Column(UtcDateTime(), **kw))


class ActorRecord(SQLModel, table=True):
    __tablename__ = "actors"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    region: str | None = Field(default=None, max_length=64, index=True)
    email: str | None = Field(default=None, max_length=320)
    created_at: dt.datetime = _when(nullable=False)
    # The directory's profile (no private person's data): services offered per role as free text,
    # languages spoken, a contact point (a function mailbox or phone), a website.
    services: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    languages: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    contact: str | None = Field(default=None, max_length=320)
    website: str | None = Field(default=None, max_length=300)
    # `lotse actor remove`: the row stays (closed cases and the history name it), its roles and
    # regions go, so it is told nothing, acts on nothing and is no longer listed.
    removed_at: dt.datetime | None = _when(nullable=True)


class ActorRoleRecord(SQLModel, table=True):
    __tablename__ = "actor_roles"

    actor_id: str = Field(foreign_key="actors.id", primary_key=True, max_length=64)
    role: str = Field(primary_key=True, max_length=64, index=True)


class ActorRegionRecord(SQLModel, table=True):
    """A region an actor serves besides its own (`actors.region`): any level of the hierarchy."""

    __tablename__ = "actor_regions"

    actor_id: str = Field(foreign_key="actors.id", primary_key=True, max_length=64)
    region: str = Field(primary_key=True, max_length=64, index=True)


class DirectoryChangeRecord(SQLModel, table=True):
    """Append-only: every change of the directory (`lotse actor add/edit/remove`): who changed
    which actor, when, how they proved it, and each field as it was and as it became. Holds the
    directory's own data only (organisations, their function mailboxes), never a case's."""

    __tablename__ = "directory_changes"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: str = Field(max_length=64, index=True)  # the actor changed
    at: dt.datetime = _when(nullable=False)
    action: str = Field(max_length=16)  # add, edit, remove, hand-over
    by: str | None = Field(default=None, max_length=64)  # the coordinator; None: the first actors
    via: str = Field(max_length=16)
    proof: str | None = Field(default=None, max_length=100)
    detail: Any = Field(default=None, sa_column=Column(JSON, nullable=True))  # field: [before, after]


class CaseRecord(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=32)
    process: str = Field(max_length=64, index=True)
    process_version: int
    stage: str = Field(max_length=64, index=True)
    version: int = 0
    employer_id: str = Field(foreign_key="actors.id", max_length=64, index=True)
    region: str = Field(max_length=64, index=True)
    given_name: str = Field(max_length=200)
    family_name: str = Field(max_length=200)
    # The names folded for search (`names.fold`: "Müller" -> "muller"); set with the names.
    given_key: str = Field(default="", max_length=200, index=True)
    family_key: str = Field(default="", max_length=200, index=True)
    created_at: dt.datetime = _when(nullable=False)
    stage_entered_at: dt.datetime = _when(nullable=False)


class FactRecord(SQLModel, table=True):
    __tablename__ = "case_facts"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    name: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_column=Column(JSON, nullable=False))
    set_at: dt.datetime = _when(nullable=False)
    set_by: str = Field(max_length=64)


class ItemRecord(SQLModel, table=True):
    __tablename__ = "case_items"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    item: str = Field(primary_key=True, max_length=64)
    done: bool = True
    at: dt.datetime = _when(nullable=False)
    by: str = Field(max_length=64)


class HistoryRecord(SQLModel, table=True):
    """Append-only: one row per change, never deleted, and updated only by an erasure (Art. 17
    GDPR, tasks/erasure.py), which replaces its note and personal values with a marker."""

    __tablename__ = "history"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: dt.datetime = _when(nullable=False)
    action: str = Field(max_length=64)
    from_stage: str | None = Field(default=None, max_length=64)
    to_stage: str | None = Field(default=None, max_length=64)
    actor_id: str = Field(max_length=64)
    via: str = Field(max_length=16)
    note: str | None = None
    detail: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    request_id: str | None = Field(default=None, max_length=100, unique=True)
    # How the author proved who they are: `os:<user>` (command line, flows, imports, schedules),
    # `link:<link id>` (an answer link), `sign-in:<sign-in id>` (a coordinator at the desk).
    proof: str | None = Field(default=None, max_length=100)


class RefCounterRecord(SQLModel, table=True):
    """The last number given out per region prefix and year (SE-2026-0042)."""

    __tablename__ = "ref_counters"
    __table_args__ = (UniqueConstraint("prefix", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16)
    year: int
    last: int = 0


class OutboxRecord(SQLModel, table=True):
    """A message to one recipient, written in the transaction of the change that causes it and
    delivered afterwards. `dedup_key` makes sure one cause never queues the same message twice
    (a key longer than the column is stored shortened, with its digest: `outbox.stored_key`)."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    dedup_key: str = Field(unique=True, max_length=200)
    recipient: str = Field(max_length=200)  # an actor id, or role@region where no actor is known
    tags: str  # the address the route is looked up by: actor, every role it has, region
    channel: str | None = Field(default=None, max_length=32)  # email, chat, ... once known
    route: str | None = Field(default=None, max_length=32)  # the route's id (no secrets), once known
    subject: str = Field(max_length=300)
    body: str
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = _when(nullable=False, index=True)
    claimed_until: dt.datetime | None = _when(nullable=True)
    claim_token: str | None = Field(default=None, max_length=64)
    last_error: str | None = None
    created_at: dt.datetime = _when(nullable=False)
    sent_at: dt.datetime | None = _when(nullable=True)
    # taken again after a claim expired mid-send: the server may have had it already
    resent: int = 0
    # each `lotse outbox retry` of a dead row: {at, by, via, proof, error}
    revivals: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


class DeadlineRecord(SQLModel, table=True):
    """A deadline a case has: opened when the case enters a stage or a fact is set, closed when the
    item is done, the fact changes or the case leaves the stage. One row per (case, deadline, due
    date): a deadline closed and opened again on the same due date keeps the levels it reminded.
    Only open rows carry `alert_on`, so the daily check reads the index range `alert_on <= day`:
    every open deadline whose first level is due, reminded already or not, since `lotse check`
    lists them all. `next_at` is only shown (the next reminder in the case file); a check does
    not select by it, because the ladder it was computed from may have changed since."""

    __tablename__ = "deadlines"
    __table_args__ = (UniqueConstraint("case_id", "deadline", "due"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    deadline: str = Field(max_length=64)  # the deadline's id in the process definition
    due: dt.date
    alert_on: dt.date | None = Field(default=None, index=True)  # level 1 is due (open rows only)
    next_at: dt.date | None = None  # the next level is due (open rows only; shown, not queried)
    level: int = 0  # the highest level reminded so far
    opened_at: dt.datetime = _when(nullable=False)
    closed_at: dt.datetime | None = _when(nullable=True)
    closed_why: str | None = Field(default=None, max_length=16)  # done, left, changed, closed


class OverviewRecord(SQLModel, table=True):
    """What the case's overview artifact in Prefect last showed: up to which history row, with
    which reminder levels of its open deadlines, in which language. A case whose newest history
    row, levels or locale differ (or that has no row here) has a stale overview, which the next
    `pipeline-report` publishes again."""

    __tablename__ = "case_overviews"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    history_id: int  # the newest history row the published overview shows
    deadline_levels: int = 0  # the sum of the levels reminded of the case's open deadlines
    locale: str = Field(max_length=8)
    published_at: dt.datetime = _when(nullable=False)


class LinkUseRecord(SQLModel, table=True):
    """Append-only: every opening, use and refused use of an answer link or a sign-in link. It
    names the link by its random id, never by its token, and holds no name and no fact value."""

    __tablename__ = "link_uses"

    id: int | None = Field(default=None, primary_key=True)
    link_id: str | None = Field(default=None, max_length=32, index=True)  # None: unreadable token
    kind: str = Field(max_length=16)  # answer, sign-in
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    actor_id: str | None = Field(default=None, max_length=64)
    at: dt.datetime = _when(nullable=False)
    outcome: str = Field(max_length=32)  # opened, used, repeated, refused:<why>
    history_id: int | None = None  # the change a use made


class SignInRecord(SQLModel, table=True):
    """A one-time sign-in link sent to a coordinator's address: single use, short-lived."""

    __tablename__ = "desk_sign_ins"

    id: str = Field(primary_key=True, max_length=32)  # random; the link carries it, signed
    actor_id: str = Field(foreign_key="actors.id", max_length=64, index=True)
    created_at: dt.datetime = _when(nullable=False)
    expires_at: dt.datetime = _when(nullable=False)
    used_at: dt.datetime | None = _when(nullable=True)


class DeskSessionRecord(SQLModel, table=True):
    """A signed-in coordinator's session at the desk. Only the digest of the cookie's value is
    stored: a copy of the database opens no session."""

    __tablename__ = "desk_sessions"

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie value
    actor_id: str = Field(foreign_key="actors.id", max_length=64, index=True)
    sign_in_id: str = Field(max_length=32)
    created_at: dt.datetime = _when(nullable=False)
    last_seen_at: dt.datetime = _when(nullable=False)
    ended_at: dt.datetime | None = _when(nullable=True)


class DefinitionRecord(SQLModel, table=True):
    """A process version as it was when its first case opened on it (or moved to it): the YAML
    text and a digest of its meaning (`process.digest`). Cases run on this copy when the file is
    gone or was edited in place (states/definitions.py). Never changed once written."""

    __tablename__ = "process_definitions"

    name: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    digest: str = Field(max_length=64)
    content: str
    source: str = Field(max_length=500)  # the file it was read from, for the operator
    stored_at: dt.datetime = _when(nullable=False)


class FamilyMemberRecord(SQLModel, table=True):
    """A family member of a case's person: spouse or partner, or a child. Personal data, like the
    case's names: shown in the desk and `case show` only, never in Prefect, a chat message or a
    report. The needs a member brings (Kita place, school place, ...) are checklist items of the
    case (states/family.py), with their deadlines and reminders."""

    __tablename__ = "family_members"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    relation: str = Field(max_length=16)  # spouse, child
    given_name: str = Field(max_length=200)
    birth_year: int | None = None
    arrives: dt.date | None = None  # comes later (family reunification) on this day
    added_at: dt.datetime = _when(nullable=False)
    added_by: str = Field(max_length=64)


class CourseRecord(SQLModel, table=True):
    """A language course group: a school's course to a target level at a pace, with its dates,
    place and capacity. Holds no personal data."""

    __tablename__ = "courses"

    id: str = Field(primary_key=True, max_length=64)
    school_id: str = Field(foreign_key="actors.id", max_length=64, index=True)
    level: str = Field(max_length=2)  # the target level, A1..C2
    pace: str = Field(max_length=16)  # fast, standard, slow
    start: dt.date
    end: dt.date
    capacity: int | None = None
    place: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = _when(nullable=False)
    created_by: str = Field(max_length=64)  # the coordinator who added it
    proof: str | None = Field(default=None, max_length=100)  # how it proved who it is (`os:<user>`)


class CourseMemberRecord(SQLModel, table=True):
    """A case assigned to a course group."""

    __tablename__ = "course_members"

    course_id: str = Field(foreign_key="courses.id", primary_key=True, max_length=64)
    case_id: int = Field(foreign_key="cases.id", primary_key=True, index=True)
    assigned_at: dt.datetime = _when(nullable=False)
    assigned_by: str = Field(max_length=64)


class ExamRecord(SQLModel, table=True):
    """A language exam a case's person took: level, exam, date, passed or not, as the language
    school recorded it. A passed exam raises the case's `language_level` (never lowers it)."""

    __tablename__ = "exam_results"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    level: str = Field(max_length=2)
    exam: str = Field(max_length=200)
    taken_on: dt.date
    passed: bool
    recorded_at: dt.datetime = _when(nullable=False)
    recorded_by: str = Field(max_length=64)


class CostRecord(SQLModel, table=True):
    """What recruiting cost: one entry for a case, or for a cohort (a joint recruiting trip) split
    among the cases or employers it covers (`cost_shares`). Amounts are exact decimals in euros;
    no personal data (a case is named by its reference where shown)."""

    __tablename__ = "costs"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    cohort: str | None = Field(default=None, max_length=64)
    incurred_on: dt.date
    category: str = Field(max_length=32)
    amount: Decimal = Field(sa_column=Column("amount_cents", Cents(), nullable=False))
    payer_id: str = Field(max_length=64)  # an employer, the alliance, a funding programme
    programme: str | None = Field(default=None, max_length=64)
    split: str | None = Field(default=None, max_length=16)  # per_case, per_employer (cohort costs)
    recorded_at: dt.datetime = _when(nullable=False)
    recorded_by: str = Field(max_length=64)
    # A cost recorded by mistake is voided, never deleted: it stays listed, and counts nowhere.
    voided_at: dt.datetime | None = _when(nullable=True)
    voided_by: str | None = Field(default=None, max_length=64)


class CostShareRecord(SQLModel, table=True):
    """A cost's share borne for one case (or one employer) by the cost's split key."""

    __tablename__ = "cost_shares"

    id: int | None = Field(default=None, primary_key=True)
    cost_id: int = Field(foreign_key="costs.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    employer_id: str = Field(max_length=64)
    amount: Decimal = Field(sa_column=Column("amount_cents", Cents(), nullable=False))

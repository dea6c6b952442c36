"""Erasing a person from Lotse (Art. 17 GDPR): `lotse person erase` and the retention run.

The names (and their folded search keys), the personal facts and the names of family members
(their birth years and days of arrival go) become the marker `[gelöscht]`,
the texts of the case's messages (subject, body, the errors that may quote them) and every note
of its history too, as do the values of personal facts in the history's detail. What stays is
pseudonymous: the reference, the stages and the history chain (who did what, when, by which
entry point), the deadlines, the non-personal facts, so counts and statistics still add up. Only
a closed case (in a final stage) is erased; the erasure is itself audited (`erased`, with its
reason) and cannot be undone.

On SQLite, freed space is overwritten (`secure_delete`) and the file is rebuilt (`VACUUM`) and
checkpointed afterwards, so the names are gone from the file's bytes, not only from its rows.
Backups made before keep them: they age out by the alliance's backup rotation.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from lotse.notifications import outbox
from lotse.states import store
from lotse.states.errors import BadInput, Refused, RoleMissing
from lotse.states.moments import iso
from lotse.states.names import fold
from lotse.states.process import COORDINATOR, Process
from lotse.states.records import CaseRecord, FactRecord, HistoryRecord, OutboxRecord
from lotse.tasks import casework
from lotse.tasks.context import Context

ERASED = "[gelöscht]"
ACTION = "erased"
REASON_MAX = 200
CHECKPOINT_WAIT_MS = 2000
WITHDRAW, WITHDRAW_FACT = "withdraw", "withdraw_reason"
WITHDRAW_REASON = "Löschung verlangt (Art. 17 DSGVO)"  # names no one: it stays in the history
# The category a withdrawal for an erasure is counted under (`lotse report --attrition`): the
# person asked to be forgotten, which says nothing about why they left.
WITHDRAW_CATEGORY, WITHDRAW_CATEGORY_VALUE = "withdraw_category", "other"
REASON_HELP = ("Why, e.g. 'Antrag nach Art. 17 DSGVO vom 2027-03-01' or 'retention'. It is kept in "
               "the history for good: never a name or anything else about the person.")


@dataclass(frozen=True)
class Erased:
    ref: str
    facts: list[str]  # the personal facts erased, by name
    messages: int  # outbox rows whose texts were erased
    notes: int  # history rows whose note or detail was erased
    family: int = 0  # family members whose name, birth year and arrival were erased
    problem: str | None = None  # what kept the file from being compacted (SQLite)

    def as_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "facts": self.facts, "messages": self.messages, "notes": self.notes,
                "family": self.family, "compacted": self.problem is None}


def check_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise BadInput("--reason is empty; say why the data is erased (never a name)")
    if len(reason) > REASON_MAX:
        raise BadInput(f"--reason has {len(reason)} characters, at most {REASON_MAX}")
    return reason


def erase(ctx: Context, ref: str, *, reason: str, by: str, via: str = "cli") -> Erased:
    """Erase one closed case's personal data, in one transaction; refuses an open case, an
    erased one, and an author who is not a coordinator."""
    reason = check_reason(reason)
    with ctx.db.writing() as session:
        zero_freed_pages(ctx, session)
        author = store.get_actor(session, by)
        if not author.is_coordinator:
            raise RoleMissing(author.id, "erase a person's data", [COORDINATOR])
        record = store.find_case(session, ref, lock=True)
        done = erase_case(session, ctx, record, reason=reason, by=author.id, via=via)
    return replace(done, problem=compact(ctx))


def withdraw_first(ctx: Context, ref: str, *, by: str) -> dict[str, Any] | None:
    """`--close`: withdraw an open case through its process (`withdraw`, with a reason that names
    no one), so it can be erased; None if it is closed already. Refuses, writing nothing, what the
    erasure would refuse."""
    with ctx.db.reading() as session:
        author = store.get_actor(session, by)
        if not author.is_coordinator:
            raise RoleMissing(author.id, "erase a person's data", [COORDINATOR])
        record = store.find_case(session, ref)
        if (when := erased_at(session, record.id or 0)) is not None:
            raise Refused(f"{record.ref} is erased already (on {iso(when)}); nothing was written")
    process = ctx.catalog.get(record.process, record.process_version)
    if process.is_final(record.stage):
        return None
    if process.transition(WITHDRAW, record.stage) is None:
        raise Refused(f"{record.ref}: process {process.key} has no '{WITHDRAW}' from stage {record.stage}; "
                      "close the case by its process first")
    facts = {WITHDRAW_FACT: WITHDRAW_REASON} if WITHDRAW_FACT in process.facts else {}
    if WITHDRAW_CATEGORY in process.facts:
        facts[WITHDRAW_CATEGORY] = WITHDRAW_CATEGORY_VALUE
    return casework.advance(ctx, record.ref, WITHDRAW, by=author.id, facts=facts or None,
                            note=WITHDRAW_REASON)


def erased_at(session: Session, case_id: int) -> dt.datetime | None:
    """When the case was erased, or None."""
    return session.scalars(
        select(HistoryRecord.at).where(HistoryRecord.case_id == case_id, HistoryRecord.action == ACTION)
        .limit(1)
    ).first()


def erase_case(
    session: Session, ctx: Context, record: CaseRecord, *, reason: str, by: str, via: str,
) -> Erased:
    """Erase one case in the caller's open transaction (its row locked)."""
    assert record.id is not None
    if (when := erased_at(session, record.id)) is not None:
        raise Refused(f"{record.ref} is erased already (on {iso(when)}); nothing was written")
    process = ctx.catalog.get(record.process, record.process_version)
    if not process.is_final(record.stage):
        raise Refused(
            f"{record.ref} is open (stage {record.stage}): only a closed case is erased; "
            "add --close to withdraw it first, or close it by its process"
        )
    record.given_name = record.family_name = ERASED
    record.given_key = record.family_key = fold(ERASED)
    session.add(record)
    facts = _erase_facts(session, process, record.id)
    notes = _erase_history(session, process, record.id)
    messages = _erase_messages(session, record.id)
    # what was not sent has nothing left to say: its texts are erased
    outbox.cancel(session, "the case was erased (Art. 17 GDPR)", ctx.clock(), case_id=record.id)
    family = _erase_family(session, record.id)
    session.add(HistoryRecord(
        case_id=record.id, at=ctx.clock(), action=ACTION, from_stage=record.stage, to_stage=record.stage,
        actor_id=by, via=via, proof=ctx.proof, note=reason,
        detail={"facts": facts, "messages": messages, "notes": notes,
                **({"family": family} if family else {})},
    ))
    session.flush()
    return Erased(record.ref, facts, messages, notes, family)


def _erase_facts(session: Session, process: Process, case_id: int) -> list[str]:
    erased = []
    for row in session.scalars(select(FactRecord).where(FactRecord.case_id == case_id)):
        if not process.is_personal(row.name):
            continue
        erased.append(row.name)
        kind = process.facts[row.name].type if row.name in process.facts else "str"
        if kind == "date":
            # Every reader parses a date fact as a date: it cannot hold the marker, so it goes.
            session.delete(row)
        else:
            row.value = ERASED
            session.add(row)
    return sorted(erased)


def _erase_history(session: Session, process: Process, case_id: int) -> int:
    # The history is append-only but for this: Art. 17 outranks keeping a note as it was.
    count = 0
    for row in session.scalars(select(HistoryRecord).where(HistoryRecord.case_id == case_id)):
        detail = row.detail if row.action == "set" else None  # only `set` rows hold fact values
        personal = isinstance(detail, dict) and any(process.is_personal_in_history(n) for n in detail)
        if row.note is None and not personal:
            continue
        if row.note is not None:
            row.note = ERASED
        if personal:
            row.detail = {name: ERASED if process.is_personal_in_history(name) else value
                          for name, value in detail.items()}
        session.add(row)
        count += 1
    return count


def _erase_family(session: Session, case_id: int) -> int:
    """A family member keeps its relation (its needs' ids, deadlines and history refer to it);
    its name, birth year and day of arrival go."""
    rows = store.family_rows(session, case_id)
    for row in rows:
        row.given_name, row.birth_year, row.arrives = ERASED, None, None
        session.add(row)
    return len(rows)


def _erase_messages(session: Session, case_id: int) -> int:
    count = 0
    for row in session.scalars(select(OutboxRecord).where(OutboxRecord.case_id == case_id)):
        row.subject = row.body = ERASED
        if row.last_error is not None:  # a refusing server may quote the message
            row.last_error = ERASED
        if row.revivals:
            row.revivals = [{**revival, "error": ERASED if revival.get("error") else None}
                            for revival in row.revivals]
        session.add(row)
        count += 1
    return count


def zero_freed_pages(ctx: Context, session: Session) -> None:
    """SQLite overwrites what this transaction frees, instead of leaving it in free space."""
    if ctx.db.is_sqlite:
        session.execute(text("PRAGMA secure_delete=ON"))


def compact(ctx: Context) -> str | None:
    """SQLite: rebuild the file without the free space older changes left (copies of rows as they
    were), and move the write-ahead log into it, so no erased value stays in the file's bytes.
    Returns what kept it from doing so (the erasure itself is committed), or None."""
    if not ctx.db.is_sqlite:
        return None
    # A raw connection: VACUUM runs outside a transaction, and SQLAlchemy would begin one.
    connection = ctx.db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("VACUUM")
        # Readers' transactions are short; a long one is not waited for: the next run finishes it.
        waits = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout={int(waits)}")  # the pooled connection's own again
        cursor.close()
    except sqlite3.Error as exc:
        busy, why = 1, str(exc)
    else:
        why = "a reader held the write-ahead log"
    finally:
        connection.close()
    if not busy:
        return None
    return (f"the database file could not be compacted now ({why}): erased values may stay in its "
            "free space until the next `lotse retention` run compacts it")

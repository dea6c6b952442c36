"""Exam results: a language school (or the coordinator) records that a case's person took a
language exam, passed or not.

One transaction: the result row, its history row (`exam`: level, exam, date, passed; who, via,
proof), and, when a passed exam is above the case's `language_level`, the fact raised through the
casework path (its own `set` history row, deadlines synced, the messages a fact change causes).
A passed exam never lowers the level, a failed one changes no fact. A school acts on the cases of
its region, the ones it is named on, and the cases in its own course groups.
"""

from __future__ import annotations

from typing import Any

from lotse.states import courses as rules
from lotse.states import limits, scope, store
from lotse.states.errors import BadInput, Refused, RoleMissing
from lotse.states.events import DomainEvent
from lotse.states.process import COORDINATOR
from lotse.states.records import ExamRecord, HistoryRecord
from lotse.tasks import casework, deadlines
from lotse.tasks.context import VIA, Context
from lotse.tasks.courses import LANGUAGE_SCHOOL, check_scope, in_group_of, parse_day

LEVEL_FACT = "language_level"
EXAM = "exam"  # the history action of an exam result


def record_exam(
    ctx: Context, ref: str, *, level: str, exam: str, taken_on: str, passed: bool, by: str,
    via: str = "cli",
) -> dict[str, Any]:
    """Record one exam result; raise `language_level` if it was passed above the level the case has."""
    if via not in VIA:
        raise BadInput(f"unknown entry point '{via}'; one of {', '.join(VIA)}")
    target = rules.check_level(level)
    name = exam.strip()
    if not name:
        raise BadInput("--exam is empty; name the exam (e.g. telc Deutsch B1-B2 Pflege)")
    limits.check_length("--exam", name, rules.EXAM)
    rules.check_line("--exam", name)
    day = parse_day(taken_on, "--date")
    if day > deadlines.today(ctx):
        raise BadInput(f"--date {day.isoformat()} is in the future; record an exam once it was taken")
    now = ctx.clock()
    with ctx.db.writing() as session:
        record = store.find_case(session, ref, lock=True)
        actor = store.get_actor(session, by)
        if not actor.has_any([LANGUAGE_SCHOOL]):
            raise RoleMissing(actor.id, "record an exam result", [LANGUAGE_SCHOOL, COORDINATOR])
        # A school acts on the cases of its own groups, wherever they live.
        if not (LANGUAGE_SCHOOL in actor.roles and in_group_of(session, actor.id, record.id or 0)):
            check_scope(ctx, session, actor, record)
        actor = scope.as_on_case(actor, employer=record.employer_id)
        process = ctx.catalog.get(record.process, record.process_version)
        if process.is_final(record.stage):
            raise Refused(f"{record.ref} is closed (stage '{record.stage}'); nothing was recorded")
        case = store.load_case(session, record, process)
        before = case.facts.get(LEVEL_FACT)
        higher = before is None or rules.rank(target) > rules.rank(before)
        raises = passed and LEVEL_FACT in process.facts and higher
        session.add(ExamRecord(case_id=record.id or 0, level=target, exam=name, taken_on=day, passed=passed,
                               recorded_at=now, recorded_by=actor.id))
        session.add(HistoryRecord(
            case_id=record.id or 0, at=now, action=EXAM, from_stage=record.stage, to_stage=record.stage,
            actor_id=actor.id, via=via, proof=ctx.proof,
            detail={"level": target, "exam": name, "taken_on": day.isoformat(), "passed": passed},
        ))
        session.flush()
        if raises:
            events: list[DomainEvent] = [case.set_facts(process, actor, {LEVEL_FACT: target})]
            casework.commit_change(session, ctx, process, record, case, events, via, now, None)
        return {"ref": record.ref, "level": target, "exam": name, "date": day.isoformat(), "passed": passed,
                "language_level": {"before": before, "after": target if raises else before}}

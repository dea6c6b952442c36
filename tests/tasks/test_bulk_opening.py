"""An import opens each case with the rows `lotse case add` writes for it (tasks/bulk_opening.py
writes them for the lot at once): the same facts, history rows and deadlines, on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.states.records import CaseRecord, DeadlineRecord, FactRecord, HistoryRecord
from lotse.tasks import casework, directory
from lotse.tasks.cohort_import import enrol
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.postgres import postgres_context

FACTS = {"arrival_date": "2026-05-04", "visa_valid_until": "2026-08-31", "accelerated_procedure": "true",
         "approval_requested_date": "2026-03-01"}


def written(ctx: Context, ref: str) -> dict[str, Any]:
    """What was written for a case, without ids, names, via and request id."""
    with ctx.db.reading() as session:
        case = session.scalars(select(CaseRecord).where(CaseRecord.ref == ref)).one()
        facts = session.scalars(select(FactRecord).where(FactRecord.case_id == case.id)).all()
        history = session.scalars(select(HistoryRecord).where(HistoryRecord.case_id == case.id)
                                  .order_by(HistoryRecord.id)).all()
        due = session.scalars(select(DeadlineRecord).where(DeadlineRecord.case_id == case.id)
                              .order_by(DeadlineRecord.deadline)).all()
        return {
            "case": (case.process, case.process_version, case.stage, case.version, case.employer_id,
                     case.region, case.created_at, case.stage_entered_at),
            "facts": sorted((f.name, f.value, f.set_at, f.set_by) for f in facts),
            "history": [(h.at, h.action, h.from_stage, h.to_stage, h.actor_id, h.note, h.detail, h.proof,
                         h.request_id is not None) for h in history],
            "deadlines": [(d.deadline, d.due, d.alert_on, d.next_at, d.level, d.opened_at, d.closed_at)
                          for d in due],
        }


def same_rows_either_way(ctx: Context, tmp_path: Path) -> None:
    one = casework.open_case(ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord", facts=FACTS, by="koord", request_id="one-by-one")
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("given_name,family_name,nationality,employer," + ",".join(FACTS) + "\n"
                      "Joanna,Reyes,PHL,klinik-nord," + ",".join(FACTS.values()) + "\n", encoding="utf-8")
    [imported] = enrol(ctx, cohort, by="koord").enrolled
    by_hand, by_import = written(ctx, one), written(ctx, imported)
    assert by_import == by_hand
    assert by_import["deadlines"], "the case should have deadlines at once (labour agency consent)"
    assert [h[1] for h in by_import["history"]] == ["open", "set"]


def make_alliance(ctx: Context) -> None:
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
    directory.add_actor(ctx, "klinik-nord", name="Klinik Nord", roles=["employer"], region="SE-Nord")


def test_an_imported_case_has_the_rows_of_a_case_added_by_hand(ctx: Context, tmp_path: Path) -> None:
    make_alliance(ctx)
    same_rows_either_way(ctx, tmp_path)


@pytest.mark.postgres
def test_the_same_on_postgresql(settings: Settings, clock: Clock, tmp_path: Path) -> None:
    with postgres_context(settings, clock) as ctx:
        make_alliance(ctx)
        same_rows_either_way(ctx, tmp_path)

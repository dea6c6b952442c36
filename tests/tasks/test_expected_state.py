"""A change made on what its author saw is refused when anything changed since, inside the
change's own transaction: a tick or a fact as well as the stage (`expected_state`). Without it an
answer link's tick could land after someone else had ticked the item in between, and a desk form
could undo facts others set meanwhile."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from lotse.notifications import answer_links
from lotse.states import store
from lotse.states.errors import Conflict
from lotse.states.records import HistoryRecord
from lotse.tasks import answers, casework
from lotse.tasks.context import Context
from tests.desk.conftest import in_arrival

HOUSING, ITEM = "wohnbau-nord", "landlord_confirmation"


def seen(ctx: Context, ref: str) -> str:
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
        process = ctx.catalog.get(record.process, record.process_version)
        return store.load_case(session, record, process).digest(process)


def history_count(ctx: Context) -> int:
    with ctx.db.reading() as session:
        return session.scalar(select(func.count()).select_from(HistoryRecord)) or 0


def test_a_tick_by_someone_else_since_the_author_looked_is_a_conflict_and_writes_nothing(
    alliance: Context,
) -> None:
    ref = in_arrival(alliance)
    looked = seen(alliance, ref)
    casework.tick(alliance, ref, ["address_registered"], by="klinik-nord")  # someone else, meanwhile
    before = history_count(alliance)

    with pytest.raises(Conflict, match="changed since it was read"):
        casework.work(alliance, ref, by=HOUSING, items=[ITEM], expected_state=looked)

    assert history_count(alliance) == before
    now = seen(alliance, ref)
    assert casework.work(alliance, ref, by=HOUSING, items=[ITEM], expected_state=now)["action"] == "done"


def test_a_fact_set_since_is_a_conflict_too_though_the_stage_and_version_are_the_same(
    alliance: Context,
) -> None:
    ref = in_arrival(alliance)
    looked = seen(alliance, ref)
    casework.set_facts(alliance, ref, {"visa_valid_until": "2026-12-31"}, by="klinik-nord")

    with pytest.raises(Conflict):
        casework.work(alliance, ref, by="klinik-nord", facts={"arrival_date": "2026-03-04"},
                      expected_state=looked)


def test_an_answer_link_whose_item_is_ticked_between_its_check_and_its_write_says_done_by_the_other(
    alliance: Context, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = in_arrival(alliance)
    key = b"k" * 40
    with alliance.db.reading() as session:
        entered = store.find_case(session, ref).stage_entered_at
    link = answer_links.new(ref, "item", ITEM, HOUSING, entered, alliance.clock(), 30)
    real_work = casework.work

    def coordinator_first(*args: Any, **kw: Any) -> dict[str, Any]:
        real_work(alliance, ref, by="koord", items=[ITEM])  # lands after the link's check
        return real_work(*args, **kw)

    monkeypatch.setattr(casework, "work", coordinator_first)

    with pytest.raises(answers.Dead) as dead:
        answers.answer(alliance, key, answer_links.token(link, key))

    assert (dead.value.why, dead.value.status) == ("done", 409)
    with alliance.db.reading() as session:
        ticks = session.scalars(select(HistoryRecord.actor_id).where(HistoryRecord.action == "done")
                                .order_by(HistoryRecord.id)).all()
    assert ticks[-1] == "koord" and "wohnbau-nord" not in ticks[-2:]

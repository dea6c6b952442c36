"""Random sequences of openings, events, facts and checklist ticks by random actors, on random
cases of both processes, through the real casework on a real SQLite file, never break the rules:

- every case's stage is one of its definition's stages;
- the history is a chain: the first row opens the case in the initial stage (from == to), each
  row's `from` is the `to` of the row before it; a row that changes no stage (set, done, undone)
  has from == to == the stage the case was in;
- the version equals the number of stage changes in the history;
- a case in a final stage never changes again (no row, no fact, no tick);
- every refused change left the whole database unchanged, row for row.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.states import schema, store
from lotse.states.errors import LotseError
from lotse.states.records import CaseRecord
from lotse.tasks import casework, directory
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.requirements import meeting_texts, sample_text
from tests.tables import dump

ACTORS = {
    "koord": ["coordinator"], "klinik-nord": ["employer"], "vermittlung": ["agency"],
    "abh-nord": ["foreigners_office"], "anerkennung": ["recognition_office"],
    "sprachschule": ["language_school"], "wohnbau-nord": ["housing"], "beratung": ["counsellor"],
}
ANYONE = [*ACTORS, "nobody"]  # "nobody" is not in the directory
NEUTRAL = {"open", "set", "done", "undone"}
GARBAGE = ["", "soon", "B7", "XX", "maybe", "-1.5", "2027-02-30"]


@functools.cache
def template() -> Path:
    """A migrated database with the alliance's actors, copied for every example (fast)."""
    home = Path(tempfile.mkdtemp(prefix="lotse-lifecycle-"))
    ctx = Context.from_settings(Settings(home=home, _env_file=None), check_schema=False)  # type: ignore[call-arg]
    schema.upgrade(ctx.db.engine)
    for actor_id, roles in ACTORS.items():
        directory.add_actor(ctx, actor_id, name=actor_id.title(), roles=roles, region="SE-Nord")
    ctx.db.dispose()
    return home / "lotse.db"


class CaseLifecycles(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.home = Path(tempfile.mkdtemp(prefix="lotse-example-"))
        shutil.copy(template(), self.home / "lotse.db")
        self.ctx = Context.from_settings(Settings(home=self.home, _env_file=None))  # type: ignore[call-arg]
        self.ctx.clock = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
        self.refs: list[str] = []
        self.closed: dict[str, Any] = {}  # ref -> its rows when it reached a final stage
        self.refusals = 0

    def teardown(self) -> None:
        self.ctx.db.dispose()
        shutil.rmtree(self.home, ignore_errors=True)

    # -- what may happen ----------------------------------------------------------------------

    def attempt(self, change: Any) -> Any:
        """Run a change; if it is refused, nothing at all may have been written."""
        before = dump(self.ctx.db.engine)
        try:
            return change()
        except LotseError:
            self.refusals += 1
            assert dump(self.ctx.db.engine) == before
            return None

    @initialize(process=st.sampled_from(["pflege", "chancen"]))
    def first_case(self, process: str) -> None:
        self.open_case(process, "klinik-nord")

    @precondition(lambda self: len(self.refs) < 4)  # few cases, so that they get far
    @rule(process=st.sampled_from(["pflege", "chancen"]), by=st.sampled_from(ANYONE))
    def open_case(self, process: str, by: str) -> None:
        ref = self.attempt(lambda: casework.open_case(
            self.ctx, given_name="Test", family_name="Person", nationality="PHL",
            employer="klinik-nord", process=process, by=by,
        ))
        if ref is not None:
            self.refs.append(ref)

    @precondition(lambda self: self.refs)
    @rule(data=st.data(), by=st.sampled_from(ANYONE))
    def fire_any_event(self, data: st.DataObject, by: str) -> None:
        ref = data.draw(st.sampled_from(self.refs))
        process = self.process_of(ref)
        event = data.draw(st.sampled_from([*process.events, "teleport"]))
        self.attempt(lambda: casework.advance(self.ctx, ref, event, by=by))

    @precondition(lambda self: self.refs)
    @rule(data=st.data())
    def fire_a_ready_event(self, data: st.DataObject) -> None:
        """Meet every requirement of an event allowed now (as the coordinator), then fire it as one
        of its roles, or as anyone: the way a case really gets on."""
        ref = data.draw(st.sampled_from(self.refs))
        process, stage = self.process_of(ref), self.stage_of(ref)
        options = process.transitions_from(stage)
        if not options:
            return
        onward = [t for t in options if t.event != "withdraw"]
        transition = data.draw(st.sampled_from(onward * 4 + options))  # mostly onward
        if transition.requires.items:
            self.attempt(lambda: casework.tick(self.ctx, ref, list(transition.requires.items), by="koord"))
        if process.conditions(transition):
            self.attempt(lambda: casework.set_facts(
                self.ctx, ref, meeting_texts(process, transition), by="koord"))
        allowed = [a for a, roles in ACTORS.items() if set(roles) & {*transition.roles, "coordinator"}]
        by = data.draw(st.one_of(st.sampled_from(allowed), st.sampled_from(ANYONE)))
        self.attempt(lambda: casework.advance(self.ctx, ref, transition.event, by=by,
                                              expected_version=self.version_of(ref)))

    @precondition(lambda self: self.refs)
    @rule(data=st.data(), by=st.sampled_from(ANYONE), garbage=st.booleans())
    def set_a_fact(self, data: st.DataObject, by: str, garbage: bool) -> None:
        ref = data.draw(st.sampled_from(self.refs))
        process = self.process_of(ref)
        name = data.draw(st.sampled_from([*process.facts, "shoe_size"]))
        value = data.draw(st.sampled_from(GARBAGE)) if garbage or name not in process.facts \
            else sample_text(process, name)
        self.attempt(lambda: casework.set_facts(self.ctx, ref, {name: value}, by=by))

    @precondition(lambda self: self.refs)
    @rule(data=st.data(), by=st.sampled_from(ANYONE), done=st.booleans())
    def tick_an_item(self, data: st.DataObject, by: str, done: bool) -> None:
        ref = data.draw(st.sampled_from(self.refs))
        items = [item.id for _, item in self.process_of(ref).items()]
        chosen = data.draw(st.lists(st.sampled_from([*items, "unicorn"]), min_size=1, max_size=3))
        self.attempt(lambda: casework.tick(self.ctx, ref, chosen, by=by, done=done))

    @precondition(lambda self: self.refs)
    @rule(data=st.data(), stale=st.integers(min_value=1, max_value=3))
    def fire_on_a_stale_version(self, data: st.DataObject, stale: int) -> None:
        ref = data.draw(st.sampled_from(self.refs))
        version = self.version_of(ref)
        self.attempt(lambda: casework.advance(
            self.ctx, ref, "withdraw", by="koord", facts={"withdraw_category": "moved_away",
                                                          "withdraw_reason": "stale"},
            expected_version=version - stale,
        ))

    @rule(days=st.integers(min_value=0, max_value=90))
    def time_passes(self, days: int) -> None:
        self.ctx.clock.advance(days=days)  # type: ignore[attr-defined]

    # -- what must always hold ----------------------------------------------------------------

    @invariant()
    def every_case_keeps_the_rules(self) -> None:
        with self.ctx.db.reading() as session:
            for record in session.scalars(select(CaseRecord)).all():
                process = self.ctx.catalog.get(record.process, record.process_version)
                assert record.stage in process.stages
                rows = store.history(session, record.id or 0)
                assert rows[0].action == "open"
                assert rows[0].from_stage == rows[0].to_stage == process.initial
                for before, row in itertools.pairwise(rows):
                    assert row.from_stage == before.to_stage
                    if row.action in NEUTRAL:
                        assert row.from_stage == row.to_stage
                    else:
                        assert row.from_stage != row.to_stage
                assert rows[-1].to_stage == record.stage
                assert record.version == sum(1 for row in rows if row.action not in NEUTRAL)
                snapshot = ([r.id for r in rows], store.load_case(session, record, process))
                if record.ref in self.closed:
                    assert snapshot == self.closed[record.ref], f"{record.ref} changed after it closed"
                elif process.is_final(record.stage):
                    self.closed[record.ref] = snapshot

    # -- reading the database -----------------------------------------------------------------

    def record_of(self, ref: str) -> CaseRecord:
        with self.ctx.db.reading() as session:
            return store.find_case(session, ref)

    def process_of(self, ref: str) -> Any:
        record = self.record_of(ref)
        return self.ctx.catalog.get(record.process, record.process_version)

    def stage_of(self, ref: str) -> str:
        return self.record_of(ref).stage

    def version_of(self, ref: str) -> int:
        return self.record_of(ref).version


CaseLifecycles.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRandomCaseworkKeepsEveryRule = CaseLifecycles.TestCase

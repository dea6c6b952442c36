"""The random casework of test_case_lifecycle_properties.py, with pflege in two versions (v1 and
the v2 of tests/versions.py) and migrations between them mixed in at any point: the history stays
a chain, the version counts the stage changes (a migration is one), every fact and done item is one
of the case's version, a closed case never changes, a refused change or migration writes nothing,
and migrating a case there and back gives it back its stage, items and facts."""

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
from hypothesis.stateful import invariant, precondition, rule
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.states import store
from lotse.states.migration import Mapping
from lotse.states.records import CaseRecord, FactRecord, ItemRecord
from lotse.tasks.context import Context
from lotse.tasks.process_migration import CANNOT, MIGRATED, migrate
from tests.conftest import Clock
from tests.tables import dump
from tests.tasks.test_case_lifecycle_properties import NEUTRAL, CaseLifecycles, template
from tests.versions import BACKWARD, FORWARD, write_pflege_v1, write_pflege_v2

MIGRATIONS: list[str] = []  # every migration made, over all examples: the rule is not idle


@functools.cache
def both_versions() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="lotse-versions-"))
    write_pflege_v1(folder)
    write_pflege_v2(folder)
    return folder


class CasesAcrossVersions(CaseLifecycles):
    def __init__(self) -> None:
        super().__init__()
        self.ctx.db.dispose()
        shutil.copy(template(), self.home / "lotse.db")
        self.ctx = Context.from_settings(Settings(  # type: ignore[call-arg]
            home=self.home, process_dir=both_versions(), _env_file=None))
        self.ctx.clock = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
        self.migrations = 0

    @precondition(lambda self: self.refs)
    @rule(data=st.data(), there_and_back=st.booleans())
    def migrate_a_case(self, data: st.DataObject, there_and_back: bool) -> None:
        ref = data.draw(st.sampled_from(self.refs))
        record = self.record_of(ref)
        if record.process != "pflege":
            return
        before, kept = dump(self.ctx.db.engine), self.kept(ref)
        to, mapping = (2, FORWARD) if record.process_version == 1 else (1, BACKWARD)
        result = self.move(ref, to, mapping)
        (_, plan, status), = result.cases
        if status == CANNOT:
            assert plan is not None and plan.problems
            assert dump(self.ctx.db.engine) == before
            return
        assert status == MIGRATED
        self.migrations += 1
        MIGRATIONS.append(ref)
        if there_and_back and not plan.items_dropped:  # v2 -> v1 drops nothing: all comes back
            back = (1, BACKWARD) if to == 2 else (2, FORWARD)
            self.move(ref, *back)
            assert self.kept(ref) == kept

    @precondition(lambda self: self.refs)
    @rule(to=st.sampled_from([1, 2]))
    def migrate_every_open_case(self, to: int) -> None:
        """The bulk run: every open pflege case on the other version, each in its own transaction."""
        result = migrate(self.ctx, "pflege", to, by="koord",
                         mapping=Mapping.model_validate(FORWARD if to == 2 else BACKWARD))
        for ref, plan, status in result.cases:
            assert status == MIGRATED or (status == CANNOT and plan is not None and plan.problems)
            if status == MIGRATED:
                MIGRATIONS.append(ref)
        assert migrate(self.ctx, "pflege", to, by="koord", mapping=Mapping.model_validate(
            FORWARD if to == 2 else BACKWARD)).count(MIGRATED) == 0  # again: nothing left to move

    def move(self, ref: str, to: int, mapping: dict[str, Any]) -> Any:
        chosen = Mapping.model_validate(mapping)
        return migrate(self.ctx, "pflege", to, by="koord", refs=[ref], mapping=chosen)

    def kept(self, ref: str) -> tuple[str, list[str], list[tuple[str, object]]]:
        with self.ctx.db.reading() as session:
            record = store.find_case(session, ref)
            process = self.ctx.catalog.get(record.process, record.process_version)
            case = store.load_case(session, record, process)
            return record.stage, sorted(case.done), sorted(case.facts.items(), key=lambda kv: kv[0])

    @invariant()
    def every_case_keeps_the_rules(self) -> None:
        """As for one version, except that a migration may keep the stage's name (from == to)."""
        with self.ctx.db.reading() as session:
            for record in session.scalars(select(CaseRecord)).all():
                process = self.ctx.catalog.get(record.process, record.process_version)
                assert record.stage in process.stages
                rows = store.history(session, record.id or 0)
                assert rows[0].action == "open"
                for before, row in itertools.pairwise(rows):
                    assert row.from_stage == before.to_stage
                    if row.action in NEUTRAL:
                        assert row.from_stage == row.to_stage
                    elif row.action != "migrate":
                        assert row.from_stage != row.to_stage
                assert rows[-1].to_stage == record.stage
                assert record.version == sum(1 for row in rows if row.action not in NEUTRAL)
                facts = set(session.scalars(select(FactRecord.name).where(FactRecord.case_id == record.id)))
                items = set(session.scalars(select(ItemRecord.item).where(ItemRecord.case_id == record.id)))
                assert facts <= set(process.facts)
                assert items <= {i.id for _, i in process.items()}
                snapshot = ([r.id for r in rows], store.load_case(session, record, process))
                if record.ref in self.closed:
                    assert snapshot == self.closed[record.ref], f"{record.ref} changed after it closed"
                elif process.is_final(record.stage):
                    self.closed[record.ref] = snapshot


CasesAcrossVersions.TestCase.settings = settings(
    max_examples=30, stateful_step_count=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCaseworkAndMigrationsKeepEveryRule = CasesAcrossVersions.TestCase


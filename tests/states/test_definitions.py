"""Stored definitions (states/definitions.py) on real SQLite files and a real PostgreSQL database:
a version is stored with its first case, once; the stored copy is in force when its file is gone
or edited in place (an `Edited`, never a lost stage); a comment is no edit; `adopt` stores what a
database from before uses, and names what no file defines."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import event, select, update

from lotse.config.settings import Settings
from lotse.states import definitions, schema
from lotse.states.definitions import Edited, Unknown
from lotse.states.errors import NotFound
from lotse.states.process import Catalog, digest, load_file, load_text
from lotse.states.records import DefinitionRecord
from lotse.tasks import case_file, case_overview, case_views, casework, directory
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.postgres import postgres_context
from tests.states.test_process_definitions import VALID

MINI: dict[str, Any] = copy.deepcopy(VALID)
MINI["facts"]["nationality"] = {"type": "country", "set_by": ["employer"], "personal": True}


def write(path: Path, data: dict[str, Any], comment: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(comment + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def own(tmp_path: Path) -> Path:
    folder = tmp_path / "own"
    write(folder / "mini.yaml", MINI, "# the alliance's small pathway\n")
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, home: Path, own: Path, clock: Clock) -> Iterator[Context]:
    """A context on a fresh database of each kind, with the alliance's folder, an employer and a
    coordinator."""
    settings = Settings(home=home, process_dir=own, _env_file=None)  # type: ignore[call-arg]
    if request.param == "sqlite":
        ctx = Context.from_settings(settings, check_schema=False)
        schema.upgrade(ctx.db.engine)
        ctx.clock = clock
        contexts: Any = _just(ctx)
    else:
        contexts = postgres_context(settings, clock)
    with contexts as ctx:
        directory.add_actor(ctx, "klinik-nord", name="Klinik Nord", roles=["employer"], region="SE-Nord",
                            email="klinik@example.org")
        directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"], region=None,
                            email="koord@example.org")
        yield ctx


class _just:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __enter__(self) -> Context:
        return self.ctx

    def __exit__(self, *_: object) -> None:
        self.ctx.db.dispose()


def reloaded(ctx: Context) -> tuple[Context, list[Edited]]:
    """A command started anew on the same database: the files as they are now, bound."""
    catalog = Catalog.load(ctx.settings.process_dirs)
    edited = definitions.bind(catalog, ctx.db)
    return Context(db=ctx.db, catalog=catalog, settings=ctx.settings, clock=ctx.clock), edited


def open_mini(ctx: Context) -> str:
    return casework.open_case(ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                              employer="klinik-nord", process="mini")


def rows(ctx: Context) -> list[DefinitionRecord]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(DefinitionRecord).order_by(DefinitionRecord.version)))


def stage(ctx: Context, ref: str) -> tuple[int, str]:
    case = case_file.case_file(ctx, ref)
    return case["process_version"], case["stage"]


# -- stored on first use ---------------------------------------------------------------------------


def test_the_first_case_stores_the_file_text_and_digest_and_the_next_writes_nothing(
    world: Context, own: Path, clock: Clock,
) -> None:
    first_at = clock.now
    open_mini(world)
    statements: list[str] = []
    event.listen(world.db.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: statements.append(sql) if "process_definitions" in sql else None)
    clock.advance(days=1)

    open_mini(world)  # looked up (the first insert may yet have been rolled back), not written
    unbound = Context(db=world.db, catalog=Catalog.load(world.settings.process_dirs),
                      settings=world.settings, clock=clock)
    open_mini(unbound)  # a context that did not bind: looked up once, and then known
    open_mini(unbound)
    bound, _ = reloaded(world)  # the bind's one query
    open_mini(bound)  # a command that bound knows it is stored: no query at all
    seen = [sql.split()[0] for sql in statements]

    [row] = rows(world)
    path = own / "mini.yaml"
    assert (row.name, row.version, row.source) == ("mini", 1, str(path))
    assert row.content == path.read_text(encoding="utf-8") and row.content.startswith("# the alliance's")
    assert row.digest == digest(load_file(path)) and len(row.digest) == 64
    assert row.stored_at == first_at
    assert seen == ["SELECT", "SELECT", "SELECT"], statements  # and never an INSERT
    assert unbound.catalog.stored == bound.catalog.stored == {("mini", 1)}
    assert unbound.catalog.stored == {("mini", 1)}


def test_two_versions_side_by_side_are_each_stored_when_first_used(world: Context, own: Path) -> None:
    open_mini(world)
    write(own / "mini2.yaml", {**MINI, "version": 2, "title": "The second"})
    second, edited = reloaded(world)

    ref = open_mini(second)

    assert edited == [] and stage(second, ref) == (2, "start")
    assert [(r.version, r.content) for r in rows(world)] == [
        (1, (own / "mini.yaml").read_text(encoding="utf-8")),
        (2, (own / "mini2.yaml").read_text(encoding="utf-8")),
    ]


# -- the stored copy in force ----------------------------------------------------------------------


def test_cases_run_on_the_stored_copy_when_the_file_is_gone(world: Context, own: Path) -> None:
    ref = open_mini(world)
    (own / "mini.yaml").unlink()

    ctx, edited = reloaded(world)

    assert edited == []
    process = ctx.catalog.get("mini", 1)
    assert process.source == f"{own / 'mini.yaml'} (stored copy)" and "start" in process.stages
    assert ctx.catalog.offered("mini", 1) is None and "mini" not in ctx.catalog.names()
    with pytest.raises(NotFound, match="unknown process 'mini'"):
        open_mini(ctx)
    [view] = case_views.views(ctx, refs=[ref])  # the Prefect overview of the case
    assert view.process is process and view.case.stage == "start"
    assert "Start" in case_overview.render(view, locale="en", timezone="Europe/Berlin")
    casework.tick(ctx, ref, ["flat"], by="koord")
    casework.advance(ctx, ref, "finish", by="klinik-nord",
                     facts={"arrival_date": "2026-04-01", "language_level": "B2"})
    assert stage(ctx, ref) == (1, "done")
    assert definitions.open_cases_per_version(ctx.catalog, ctx.db) == {}


def test_an_edit_in_place_is_named_and_the_stored_copy_stays_in_force(world: Context, own: Path) -> None:
    refs = [open_mini(world), open_mini(world)]
    renamed = yaml.safe_dump(MINI, sort_keys=False).replace("start", "begin")
    (own / "mini.yaml").write_text(renamed, encoding="utf-8")
    write(own / "mini2.yaml", {**MINI, "version": 2})

    ctx, edited = reloaded(world)

    assert edited == [Edited(str(own / "mini.yaml"), "mini", 1, 2, 3)]
    assert "mini v1 was changed in place, but 2 case(s) use it" in str(edited[0])
    assert "(version: 3)" in str(edited[0]) and "lotse process migrate mini --to 3" in str(edited[0])
    assert "start" in ctx.catalog.get("mini", 1).stages
    assert "begin" in ctx.catalog.offered("mini", 1).stages  # type: ignore[union-attr]
    assert [stage(ctx, ref) for ref in refs] == [(1, "start"), (1, "start")]
    assert stage(ctx, open_mini(ctx)) == (2, "start")  # a new case opens on the newest version
    casework.tick(ctx, refs[0], ["flat"], by="koord")
    casework.advance(ctx, refs[0], "finish", by="klinik-nord",
                     facts={"arrival_date": "2026-04-01", "language_level": "B2"})
    assert stage(ctx, refs[0]) == (1, "done")
    assert definitions.open_cases_per_version(ctx.catalog, ctx.db) == {("mini", 1): 1, ("mini", 2): 1}
    # the stored copy of v1 is never rewritten
    first = "# the alliance's small pathway\n" + yaml.safe_dump(MINI, sort_keys=False)
    assert [(r.version, r.content == first) for r in rows(world)] == [(1, True), (2, False)]


def test_comments_layout_and_key_order_are_no_edit_but_a_title_is(world: Context, own: Path) -> None:
    open_mini(world)
    path = own / "mini.yaml"
    path.write_text("# reworded\n" + yaml.safe_dump(MINI, sort_keys=True, default_flow_style=True),
                    encoding="utf-8")

    ctx, edited = reloaded(world)

    assert edited == []
    assert ctx.catalog.get("mini", 1) is ctx.catalog.offered("mini", 1)  # the file itself
    write(path, {**MINI, "title": "Retitled"})
    assert [e.name for e in reloaded(world)[1]] == ["mini"]


def test_a_digest_of_an_older_lotse_is_no_edit(world: Context, own: Path) -> None:
    open_mini(world)
    with world.db.writing() as session:
        session.execute(update(DefinitionRecord).values(digest="0" * 64))

    ctx, edited = reloaded(world)

    assert edited == [] and ctx.catalog.get("mini", 1) is ctx.catalog.offered("mini", 1)


def test_the_context_of_a_command_binds_and_keeps_the_edits(world: Context, own: Path) -> None:
    open_mini(world)
    write(own / "mini.yaml", {**MINI, "title": "Retitled"})
    settings = world.settings
    if world.db.engine.dialect.name == "postgresql":
        settings = settings.model_copy(update={"database_url": world.db.engine.url.render_as_string(
            hide_password=False)})

    ctx = Context.from_settings(settings)
    try:
        assert [(e.name, e.version, e.cases) for e in ctx.edited] == [("mini", 1, 1)]
        assert ctx.catalog.stored == {("mini", 1)}
        assert ctx.catalog.get("mini", 1).title == "A small pathway"
    finally:
        ctx.db.dispose()


# -- a database from before stored definitions ----------------------------------------------------


def forget(ctx: Context) -> None:
    with ctx.db.writing() as session:
        session.execute(DefinitionRecord.__table__.delete())  # type: ignore[attr-defined]


def test_adopt_stores_the_versions_cases_use_and_a_dry_run_writes_nothing(
    world: Context, own: Path, clock: Clock,
) -> None:
    open_mini(world)
    forget(world)
    ctx, _ = reloaded(world)
    later = clock.now + dt.timedelta(days=30)

    assert definitions.adopt(ctx.catalog, ctx.db, later, write=False) == (["mini v1"], [])
    assert rows(world) == [] and ctx.catalog.stored == set()
    assert definitions.adopt(ctx.catalog, ctx.db, later) == (["mini v1"], [])
    assert [(r.version, r.stored_at) for r in rows(world)] == [(1, later)]
    assert ctx.catalog.stored == {("mini", 1)}
    assert definitions.adopt(ctx.catalog, ctx.db, later) == ([], [])


def test_adopt_names_the_stages_a_file_lacks_and_the_versions_nothing_defines(
    world: Context, own: Path,
) -> None:
    open_mini(world)
    open_mini(world)
    forget(world)
    write(own / "mini.yaml", {**copy.deepcopy(MINI), "stages": {
        "begin" if k == "start" else k: v for k, v in MINI["stages"].items()}, "initial": "begin",
        "transitions": [{**t, "from": "begin" if t["from"] == "start" else t["from"]}
                        for t in MINI["transitions"]]})
    ctx, _ = reloaded(world)

    assert definitions.adopt(ctx.catalog, ctx.db, ctx.clock()) == ([], [Unknown("mini", 1, 2, ("start",))])
    assert rows(world) == []
    (own / "mini.yaml").unlink()
    ctx, _ = reloaded(world)
    _, unknown = definitions.adopt(ctx.catalog, ctx.db, ctx.clock())
    assert unknown == [Unknown("mini", 1, 2)]
    assert "2 case(s) run on mini v1, which no process file and no stored copy defines" in str(unknown[0])
    assert rows(world) == []


def test_a_stored_copy_reads_back_as_the_same_definition(world: Context, own: Path) -> None:
    open_mini(world)
    [row] = rows(world)
    assert digest(load_text(row.content, "stored")) == row.digest == digest(load_file(own / "mini.yaml"))

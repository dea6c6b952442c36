"""Benchmark: transitions per second through `casework.advance`, one transaction each, on SQLite
and on PostgreSQL, beside the floor of the same writes in raw SQL (issue 15; goal: at most 2x).

A fresh database (a SQLite file; a uniquely named PostgreSQL database at 127.0.0.1:5432, dropped
after, skipped with a note when the server is not there) with an alliance (coordinator, employer,
agency, foreigners' office; routes for some of them; a secret key, so messages carry answer links)
and 3 x M cases made ready to move through Lotse's own paths (`casework.open_case`,
`casework.tick`). Then M transitions (`apply_visa`) through `casework.advance`, one transaction
each, as `lotse case advance` runs them; and the floor on the other M cases: the same writes by
the DBAPI (update the case, a history row, close and open the deadlines Lotse closed and opened,
the k outbox rows Lotse queued, with their texts), one transaction each; and, for comparison on M
more cases, the same with the reads Lotse makes before it decides (`READS`). Printed: wall and CPU
time (`time.process_time`, this process only: PostgreSQL's server works beside it), transitions/s,
the ratio, and the SQL statements Lotse issues per transition (counted on a few more cases
before the timing, which warms Lotse up), and the part of Lotse's time spent making the messages'
texts and answer links, which the floor writes ready-made. `--profile FILE` prints where Lotse's
time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/postgres.py: a throwaway database
from tests.postgres import Unreachable, throwaway_database

M = 300  # transitions timed, and as many by the floor
COUNTED = 20  # transitions whose SQL statements are counted, apart from the timing
GOAL = 2.0
SECRET = "benchmark-secret-key-of-at-least-32-characters"
ROUTES = """version: 1
urls:
  - "mailto://lotse@127.0.0.1:2525?mode=insecure&from=lotse@example.org&to=visa@amt.example":
      tag: foreigners_office
  - "mailto://lotse@127.0.0.1:2525?mode=insecure&from=lotse@example.org&to=personal@klinik.example":
      tag: klinik
  - "json://127.0.0.1:8099/chat":
      tag: coordinator
"""


def context(home: Path, url: str | None) -> Any:
    from lotse.config.settings import Settings
    from lotse.tasks.context import Context

    (home / "routes.yaml").parent.mkdir(parents=True, exist_ok=True)
    (home / "routes.yaml").write_text(ROUTES)
    settings = Settings(home=home, database_url=url, secret_key=SECRET, notify_config=home / "routes.yaml")
    return Context.from_settings(settings, check_schema=False)


def prepare(ctx: Any, count: int) -> list[str]:
    """An alliance and `count` cases in `recruited`, ready for `apply_visa` by the employer."""
    from recruited import ready_for_visa

    from lotse.states import schema
    from lotse.tasks import directory

    schema.upgrade(ctx.db.engine)
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"], email="k@allianz.example")
    directory.add_actor(ctx, "klinik", name="Klinik Nord", roles=["employer"], region="SE-Nord")
    directory.add_actor(ctx, "bruecke", name="Vermittlung Brücke", roles=["agency"], region="SE-Nord")
    directory.add_actor(ctx, "abh-nord", name="Ausländerbehörde Nord", roles=["foreigners_office"],
                        region="SE-Nord")
    return ready_for_visa(ctx, count)


def lotse(ctx: Any, refs: list[str], profile: str | None) -> tuple[float, float, float]:
    """(wall, CPU, the part of the wall time spent making the messages' texts and answer links)."""
    from lotse.notifications import dispatch
    from lotse.tasks import casework

    texts = 0.0

    def timed(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            nonlocal texts
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                texts += time.perf_counter() - began
        return run

    render, link = dispatch.Batch._render, dispatch.Batch.link
    dispatch.Batch._render, dispatch.Batch.link = timed(render), timed(link)  # type: ignore[method-assign]
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    try:
        for ref in refs:
            casework.advance(ctx, ref, "apply_visa", by="klinik")
    finally:
        if profiler:
            profiler.disable()
        dispatch.Batch._render, dispatch.Batch.link = render, link  # type: ignore[method-assign]
    took, took_cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler and profile:
        profiler.dump_stats(profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    return took, took_cpu, texts


def statements(ctx: Any, refs: list[str]) -> float:
    """SQL statements per transition through `casework.advance` (BEGIN and COMMIT included)."""
    from sqlalchemy import event

    from lotse.tasks import casework

    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    engine = ctx.db.engine
    event.listen(engine, "before_cursor_execute", counted)
    event.listen(engine, "commit", counted)
    try:
        for ref in refs:
            casework.advance(ctx, ref, "apply_visa", by="klinik")
    finally:
        event.remove(engine, "before_cursor_execute", counted)
        event.remove(engine, "commit", counted)
    # SQLite's BEGIN IMMEDIATE goes through exec_driver_sql and is counted already
    return count / len(refs)


# -- the floor: the same writes by the DBAPI ---------------------------------------------------------


class Floor:
    """What Lotse wrote for each transition, read back, and written again for other cases by hand."""

    def __init__(self, connect: Callable[[], Any], mark: str, begin: str | None, postgres: bool) -> None:
        self.connect, self.mark, self.begin, self.postgres = connect, mark, begin, postgres

    def rows(self, cursor: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
        cursor.execute(sql.replace("?", self.mark), args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def plan(self, done: list[str], todo: list[str]) -> list[dict[str, Any]]:
        """Per case of `todo`, the writes Lotse made for the case of `done` at the same place."""
        connection = self.connect()
        cursor = connection.cursor()
        plans = []
        for ref, other in zip(done, todo, strict=True):
            [case] = self.rows(cursor, "SELECT * FROM cases WHERE ref = ?", ref)
            [target] = self.rows(cursor, "SELECT id FROM cases WHERE ref = ?", other)
            at = case["stage_entered_at"]
            [history] = self.rows(cursor, "SELECT * FROM history WHERE case_id = ? AND action = ?",
                                  case["id"], "apply_visa")
            closed = self.rows(cursor, "SELECT * FROM deadlines WHERE case_id = ? AND closed_at = ?",
                               case["id"], at)
            opened = self.rows(cursor, "SELECT * FROM deadlines WHERE case_id = ? AND opened_at = ?",
                               case["id"], at)
            messages = self.rows(cursor, "SELECT * FROM outbox WHERE case_id = ?", case["id"])
            plans.append({"id": target["id"], "case": case, "history": history, "closed": closed,
                          "opened": opened, "outbox": messages})
        connection.close()
        return plans

    def value(self, value: Any) -> Any:
        return json.dumps(value) if self.postgres and isinstance(value, dict | list) else value

    def insert(self, table: str, row: dict[str, Any], **changed: Any) -> tuple[str, tuple[Any, ...]]:
        values = {k: v for k, v in {**row, **changed}.items() if k != "id"}
        marks = ", ".join([self.mark] * len(values))
        return (f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks})",
                tuple(self.value(v) for v in values.values()))

    def run(self, plans: list[dict[str, Any]], *, reads: bool = False) -> tuple[float, float, float]:
        """(wall, CPU, outbox rows per transition) of the plans, one transaction each; with `reads`,
        each first reads what Lotse reads to decide (`READS`), rows fetched and dropped."""
        connection = self.connect()
        cursor = connection.cursor()
        m = self.mark
        started, cpu = time.perf_counter(), time.process_time()
        for plan in plans:
            case, history, case_id = plan["case"], plan["history"], plan["id"]
            if self.begin:
                cursor.execute(self.begin)
            for sql, by_case in READS if reads else ():
                locked = " FOR UPDATE" if self.postgres and sql.startswith("SELECT * FROM cases") else ""
                cursor.execute(sql.replace("?", m) + locked, (case_id,) if by_case else ())
                cursor.fetchall()
            cursor.execute(f"UPDATE cases SET stage = {m}, version = version + 1, stage_entered_at = {m} "
                           f"WHERE id = {m}", (case["stage"], case["stage_entered_at"], case_id))
            cursor.execute(*self.insert("history", history, case_id=case_id))
            for row in plan["closed"]:
                cursor.execute(f"UPDATE deadlines SET closed_at = {m}, closed_why = {m}, alert_on = NULL, "
                               f"next_at = NULL WHERE case_id = {m} AND deadline = {m} AND closed_at IS NULL",
                               (row["closed_at"], row["closed_why"], case_id, row["deadline"]))
            for row in plan["opened"]:
                cursor.execute(*self.insert("deadlines", row, case_id=case_id))
            inserts = [self.insert("outbox", row, case_id=case_id, dedup_key=f"floor:{case_id}:{n}:{reads}")
                       for n, row in enumerate(plan["outbox"])]
            if inserts:
                cursor.executemany(inserts[0][0], [values for _, values in inserts])
            connection.commit() if self.postgres else cursor.execute("COMMIT")
        took, took_cpu = time.perf_counter() - started, time.process_time() - cpu
        connection.close()
        return took, took_cpu, sum(len(p["outbox"]) for p in plans) / len(plans)


# What a change reads before it decides: the case (locked), the directory, the case's facts, ticked
# items, family members and deadlines. Each with whether it takes the case's id.
READS = [
    ("SELECT * FROM cases WHERE id = ?", True),
    ("SELECT actors.id, actors.name, actors.email, actors.region, actors.removed_at, actor_roles.role, "
     "actor_regions.region FROM actors LEFT OUTER JOIN actor_roles ON actor_roles.actor_id = actors.id "
     "LEFT OUTER JOIN actor_regions ON actor_regions.actor_id = actors.id", False),
    ("SELECT name, value FROM case_facts WHERE case_id = ?", True),
    ("SELECT item FROM case_items WHERE case_id = ? AND done", True),
    ("SELECT id, relation, birth_year, arrives, added_at FROM family_members WHERE case_id = ? ORDER BY id",
     True),
    ("SELECT id, deadline, due, level, closed_at FROM deadlines WHERE case_id = ?", True),
]


def sqlite_floor(path: Path) -> Floor:
    def connect() -> Any:
        connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
            connection.execute(f"PRAGMA {pragma}")
        return connection

    return Floor(connect, "?", "BEGIN IMMEDIATE", postgres=False)


def postgres_floor(url: str) -> Floor:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    return Floor(lambda: psycopg.connect(plain), "%s", None, postgres=True)


def measure(label: str, ctx: Any, floor: Floor, m: int, profile: str | None) -> bool:
    refs = prepare(ctx, 3 * m + COUNTED)
    mine, theirs, read_too, counted = refs[:m], refs[m:2 * m], refs[2 * m:3 * m], refs[3 * m:]
    per = statements(ctx, counted)  # first: it also warms up (templates, routes, Apprise's plugins)
    wall, cpu, texts = lotse(ctx, mine, profile)
    ctx.db.dispose()
    plans = floor.plan(mine, theirs)
    closed, opened = (sum(len(p[kind]) for p in plans) / m for kind in ("closed", "opened"))
    floor_wall, floor_cpu, k = floor.run(plans)
    read_wall, read_cpu, _ = floor.run(floor.plan(mine, read_too), reads=True)
    # BEGIN (SQLite), the case, history, each deadline closed and opened, one executemany, COMMIT
    floor_statements = (2 if floor.begin else 1) + 2 + closed + opened + 1
    ratio = wall / floor_wall
    print(f"{label}: {m} transitions (apply_visa), one transaction each: {k:g} outbox rows, "
          f"{closed:g} deadline closed, {opened:g} opened each")
    print(f"  lotse, casework.advance: {wall:6.2f} s wall, {cpu:5.2f} s CPU, {m / wall:7,.0f}/s, "
          f"{per:.1f} SQL statements per transition")
    print(f"    of which the messages' texts and answer links: {texts:6.2f} s wall, "
          f"{texts / floor_wall:.1f}x the floor's whole time")
    print(f"  floor, raw SQL (DBAPI):  {floor_wall:6.2f} s wall, {floor_cpu:5.2f} s CPU, "
          f"{m / floor_wall:7,.0f}/s, {floor_statements:g} statements")
    print(f"  ratio {ratio:.1f}x wall, {cpu / max(floor_cpu, 1e-9):.1f}x CPU; goal <= {GOAL:g}x -> "
          f"{'ok' if ratio <= GOAL else 'MISSED'}")
    print(f"  for comparison, the floor with the {len(READS)} reads Lotse makes to decide: "
          f"{read_wall:6.2f} s wall, {read_cpu:5.2f} s CPU, {m / read_wall:7,.0f}/s; "
          f"Lotse {wall / read_wall:.1f}x wall, {cpu / max(read_cpu, 1e-9):.1f}x CPU of it")
    return ratio <= GOAL


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-m", type=int, default=M, help="transitions timed (and as many by the floor)")
    parser.add_argument("--profile", metavar="FILE",
                        help="profile Lotse's part: print cProfile's top, keep the whole in FILE")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="measure one database only")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        if args.only != "postgres":
            ctx = context(home / "sqlite", None)
            ok &= measure("SQLite", ctx, sqlite_floor(home / "sqlite" / "lotse.db"), args.m, args.profile)
        if args.only != "sqlite":
            try:
                with throwaway_database("lotse_bench") as url:
                    ctx = context(home / "postgres", url)
                    ok &= measure("PostgreSQL", ctx, postgres_floor(url), args.m, args.profile)
            except Unreachable as exc:
                print(f"PostgreSQL: skipped, {exc}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: `lotse process migrate` moving running cases from pflege v1 to v2 (a stage, an item and a
fact renamed, an item dropped: tests/versions.py), on a SQLite file and on PostgreSQL when it is
reachable at 127.0.0.1:5432.

Per case, beside two floors measured in the same run on copies of the same database: one ordinary
change of a case in its own transaction (`casework.tick`: lock, history row, deadline sync, the
commit), and raw SQL moving the case (one UPDATE and its commit, through the same driver). Wall and
CPU time; the ratio is to the ordinary change. Goal: a migration costs about what a change does,
so 10,000 cases move in minutes, not hours.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/versions.py: the v2

CASES = 400


def prepare(home: Path, url: str | None) -> list[str]:
    from lotse.config.settings import Settings
    from lotse.states import schema
    from lotse.tasks import casework, directory
    from lotse.tasks.context import Context
    from tests.requirements import meeting_texts, path_to
    from tests.versions import write_pflege_v1

    write_pflege_v1(home / "own")
    settings = Settings(home=home, process_dir=home / "own", **({"database_url": url} if url else {}))
    ctx = Context.from_settings(settings, check_schema=False)
    schema.upgrade(ctx.db.engine)
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
    directory.add_actor(ctx, "klinik", name="Klinik", roles=["employer"], region="SE-Nord")
    process = ctx.catalog.get("pflege")
    refs = []
    for n in range(CASES):
        ref = casework.open_case(ctx, given_name=f"Given{n}", family_name=f"Family{n}", nationality="PHL",
                                 employer="klinik")
        for transition in path_to(process, "visa"):
            casework.work(ctx, ref, by="koord", items=list(transition.requires.items) or None,
                          facts=meeting_texts(process, transition) or None, event=transition.event)
        casework.set_facts(ctx, ref, {"visa_valid_until": "2026-09-30"}, by="koord")
        refs.append(ref)
    ctx.db.dispose()
    return refs


def context(home: Path, url: str | None) -> Any:
    from lotse.config.settings import Settings
    from lotse.tasks.context import Context
    from tests.versions import add_v2

    settings = Settings(home=home, process_dir=home / "own", **({"database_url": url} if url else {}))
    ctx = Context.from_settings(settings)
    add_v2(ctx)
    return ctx


def timed(work: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(label: str, url: str | None) -> None:
    from sqlalchemy import text

    from lotse.states.migration import Mapping
    from lotse.tasks import casework
    from lotse.tasks.process_migration import MIGRATED, migrate
    from tests.versions import FORWARD

    home = Path(tempfile.mkdtemp(prefix="lotse-bench-migrate-"))
    refs = prepare(home, url)
    rows: list[tuple[str, float, float]] = []

    ctx = context(home, url)  # the ordinary change: ticks an item the migration keeps
    rows.append(("floor: one change per case (tick)",
                 *timed(lambda: [casework.tick(ctx, r, ["visa_granted"], by="koord") for r in refs])))
    ctx.db.dispose()

    ctx = context(home, url)

    def raw(version: int, stage: str) -> None:
        for ref in refs:
            with ctx.db.engine.begin() as connection:
                connection.execute(text("UPDATE cases SET process_version = :v, stage = :s WHERE ref = :ref"),
                                   {"v": version, "s": stage, "ref": ref})

    rows.append(("floor: raw SQL UPDATE per case", *timed(lambda: raw(2, "visum"))))
    raw(1, "visa")  # back where the migration starts
    ctx.db.dispose()

    ctx = context(home, url)
    mapping = Mapping.model_validate(FORWARD)
    rows.append(("migrate --dry-run", *timed(lambda: migrate(ctx, "pflege", 2, by="koord", mapping=mapping,
                                                             dry_run=True))))
    result: list[Any] = []
    rows.append(("migrate", *timed(lambda: result.append(migrate(ctx, "pflege", 2, by="koord",
                                                                 mapping=mapping)))))
    assert result[0].count(MIGRATED) == CASES
    rows.append(("migrate again (nothing to move)",
                 *timed(lambda: migrate(ctx, "pflege", 2, by="koord", mapping=mapping))))
    ctx.db.dispose()
    shutil.rmtree(home, ignore_errors=True)

    change = rows[0][1] / CASES
    print(f"\n{label}: {CASES} cases in `visa` on pflege v1 -> v2")
    print(f"{'':36} {'wall/case':>10} {'cpu/case':>10} {'total':>8} {'x change':>9}")
    for name, wall, cpu in rows:
        print(f"{name:36} {wall / CASES * 1000:8.2f}ms {cpu / CASES * 1000:8.2f}ms {wall:7.2f}s "
              f"{wall / CASES / change:8.2f}x")


def main() -> None:
    from tests.postgres import Unreachable, throwaway_database

    measure("SQLite", None)
    try:
        with throwaway_database("lotse_bench_migrate") as url:
            measure("PostgreSQL", url)
    except Unreachable as exc:  # no server here: SQLite alone
        print(f"\nPostgreSQL: skipped ({exc})")

if __name__ == "__main__":
    main()

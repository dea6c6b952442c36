"""The scale builder: databases of 10,000, 100,000 and 300,000 cases, built through Lotse's own
bulk path (`lotse enrol`, tasks/cohort_import.py), so that every figure measured on them can be
reproduced.

Each cohort is enrolled on its own day: month by month back from the day of the measurements, on
the context's clock, so the cases' stage limits (6 months after they were recruited) fall due on
every day of the last half year, as they would in a county that recruits all year. Every row names
an employer of three regions, a nationality and an arrival date (which opens the arrival deadlines
once a case gets there) and, for one case in four, the date the labour agency's approval was
requested (a deadline two weeks later, § 36 (2) BeschV). Names are invented and numbered.

    .venv/bin/python benchmarks/scale.py [CASES ...] [--into FOLDER]

Prints, per size, how long building it took (wall and CPU) and the rows it holds; the databases
stay in FOLDER (default: a temporary folder, removed at the end) as `<cases>/lotse.db`, with the
LOTSE_HOME of each ready for `lotse check --as-of`, `lotse case list` and the other benchmarks.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.tasks import cohort_import, directory
from lotse.tasks.context import Context

SIZES = [10_000, 100_000, 300_000]
AS_OF = dt.date(2026, 6, 1)  # the day the measurements look at
MONTHS = 12  # cohorts: one per month back from AS_OF
EMPLOYERS = [("klinik-nord", "SE-Nord"), ("heim-sued", "SE-Sued"), ("dienst-ost", "SE-Ost")]
TABLES = ("cases", "case_facts", "history", "deadlines")


def alliance(ctx: Context) -> None:
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
    for employer, region in EMPLOYERS:
        directory.add_actor(ctx, employer, name=employer.title(), roles=["employer"], region=region)


def write_cohort(path: Path, first: int, count: int, month: int) -> None:
    opened = AS_OF - dt.timedelta(days=30 * month)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["given_name", "family_name", "nationality", "employer", "arrival_date",
                         "approval_requested_date"])
        for n in range(first, first + count):
            writer.writerow([
                f"Given{n}", f"Family{n}", ("PHL", "IND", "TUN", "VNM")[n % 4], EMPLOYERS[n % 3][0],
                opened + dt.timedelta(days=60 + n % 120),
                opened + dt.timedelta(days=n % 20) if n % 4 == 0 else "",
            ])


def build(home: Path, cases: int) -> tuple[float, float]:
    """Enrol `cases` cases into a new database under `home`, a cohort per month; (wall, CPU)."""
    ctx = Context.from_settings(Settings(home=home, _env_file=None), check_schema=False)  # type: ignore[call-arg]
    schema.upgrade(ctx.db.engine)
    alliance(ctx)
    started, cpu = time.perf_counter(), time.process_time()
    per_month, first = -(-cases // MONTHS), 0
    for month in range(MONTHS, 0, -1):
        count = min(per_month, cases - first)
        if count <= 0:
            break
        cohort = home / f"cohort-{month:02d}.csv"
        write_cohort(cohort, first, count, month)
        day = AS_OF - dt.timedelta(days=30 * month)
        ctx.clock = lambda day=day: dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
        result = cohort_import.enrol(ctx, cohort, by="koord")
        assert len(result.enrolled) == count, result.summary()
        cohort.unlink()
        first += count
    took = time.perf_counter() - started, time.process_time() - cpu
    ctx.db.dispose()
    return took


def rows(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=SIZES)
    parser.add_argument("--into", type=Path, default=None, help="keep the databases in this folder")
    args = parser.parse_args()
    folder = args.into or Path(tempfile.mkdtemp(prefix="lotse-scale-"))
    try:
        for cases in args.sizes:
            home = folder / str(cases)
            if home.exists():
                shutil.rmtree(home)
            home.mkdir(parents=True)
            wall, cpu = build(home, cases)
            counted = rows(home / "lotse.db")
            print(f"{cases:>8,} cases enrolled: {wall:7.1f} s wall, {cpu:7.1f} s CPU "
                  f"({cases / wall:,.0f} cases/s); rows: "
                  + ", ".join(f"{t} {n:,}" for t, n in counted.items()))
    finally:
        if args.into is None:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()

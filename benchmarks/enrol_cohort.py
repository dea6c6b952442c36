"""Benchmark: enrolling a cohort of 10,000 rows from a CSV file (goal: under 15 s).

Runs the plain import (the same function the `enrol-cohort` flow's task and `lotse enrol` call) on
a fresh SQLite database in a temporary folder, and prints the figures and the floor.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from config.settings import Settings
from states import schema
from tasks import cohort_import, directory
from tasks.context import Context

ROWS = 10_000
FLOOR_S = 15.0
EMPLOYERS = ["klinik-nord", "heim-sued", "dienst-ost"]


def write_cohort(path: Path, rows: int) -> None:
    """Invented people: given and family names numbered, so every row is a different person."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["given_name", "family_name", "nationality", "employer", "process", "arrival_date"])
        for n in range(rows):
            writer.writerow([f"Given{n}", f"Family{n}", ("PHL", "IND", "TUN")[n % 3],
                             EMPLOYERS[n % 3], "pflege", (dt.date(2026, 1, 1) + dt.timedelta(days=n % 300))])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Context.from_settings(Settings(home=Path(tmp) / "home"), check_schema=False)
        schema.upgrade(ctx.db.engine)
        directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
        for n, employer in enumerate(EMPLOYERS):
            directory.add_actor(ctx, employer, name=employer.title(), roles=["employer"],
                                region=("SE-Nord", "SE-Sued", "SE-Ost")[n])
        cohort = Path(tmp) / "cohort.csv"
        write_cohort(cohort, ROWS)
        started = time.perf_counter()
        result = cohort_import.enrol(ctx, cohort)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = cohort_import.enrol(ctx, cohort)
        second = time.perf_counter() - started
        ctx.db.dispose()
    print(f"enrol-cohort, {ROWS} rows (CSV, SQLite):")
    print(f"  first import:  {first:6.2f} s  ({len(result.enrolled)} cases enrolled, "
          f"{ROWS / first:,.0f} rows/s)")
    print(f"  same file again: {second:4.2f} s  ({len(again.enrolled)} enrolled, "
          f"{len(again.already)} recognised as enrolled before)")
    ok = first < FLOOR_S and len(result.enrolled) == ROWS and not again.enrolled
    print(f"  floor: under {FLOOR_S:.0f} s for the first import -> {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

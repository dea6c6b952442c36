"""Benchmark: enrolling a cohort of 10,000 rows from a CSV file (goal: 3 s on SQLite, issue 15).

Measures the plain import (what `lotse enrol` runs without Prefect) on a fresh SQLite database,
beside its floor: the rows it wrote (cases, facts, history, deadlines) copied into a fresh
database by plain sqlite3 `executemany` in one transaction. Then the same file again (all rows
recognised, none enrolled twice), and the `enrol-cohort` flow run on a local Prefect server with
its progress artifact, on a second fresh database, and apart from it the publishing of the 10,000
new cases' overviews that follows the commit in the same run (bound by Prefect's server, see
benchmarks/case_overviews.py). Prints wall and CPU time beside the floor and the ratio.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import socket
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROWS = 10_000
GOAL_S = 3.0
TABLES = ("cases", "case_facts", "history", "deadlines")
EMPLOYERS = ["klinik-nord", "heim-sued", "dienst-ost"]


def write_cohort(path: Path, rows: int) -> None:
    """Invented people: given and family names numbered, so every row is a different person."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["given_name", "family_name", "nationality", "employer", "process", "arrival_date"])
        for n in range(rows):
            writer.writerow([f"Given{n}", f"Family{n}", ("PHL", "IND", "TUN")[n % 3],
                             EMPLOYERS[n % 3], "pflege", (dt.date(2026, 1, 1) + dt.timedelta(days=n % 300))])


def alliance(home: Path) -> None:
    from lotse.config.settings import Settings
    from lotse.states import schema
    from lotse.tasks import directory
    from lotse.tasks.context import Context

    ctx = Context.from_settings(Settings(home=home), check_schema=False)
    schema.upgrade(ctx.db.engine)
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
    for n, employer in enumerate(EMPLOYERS):
        directory.add_actor(ctx, employer, name=employer.title(), roles=["employer"],
                            region=("SE-Nord", "SE-Sued", "SE-Ost")[n])
    ctx.db.dispose()


def plain(home: Path, cohort: Path) -> tuple[float, float, float, int, int]:
    """(wall, CPU) of the first import, wall of the second, cases enrolled, rows recognised."""
    from lotse.config.settings import Settings
    from lotse.tasks import cohort_import
    from lotse.tasks.context import Context

    ctx = Context.from_settings(Settings(home=home))
    started, cpu = time.perf_counter(), time.process_time()
    first = cohort_import.enrol(ctx, cohort)
    middle, first_cpu = time.perf_counter(), time.process_time() - cpu
    again = cohort_import.enrol(ctx, cohort)
    ended = time.perf_counter()
    ctx.db.dispose()
    assert len(first.enrolled) == ROWS and not again.enrolled and len(again.already) == ROWS
    return middle - started, first_cpu, ended - middle, len(first.enrolled), len(again.already)


def floor(written: Path, empty: Path) -> tuple[float, float, int]:
    """The rows the import wrote, inserted into an empty copy of the schema by sqlite3
    `executemany` in one transaction: (wall, CPU, rows)."""
    with sqlite3.connect(written) as source:
        rows = {t: source.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
    db = sqlite3.connect(empty)
    started, cpu = time.perf_counter(), time.process_time()
    with db:
        for table, values in rows.items():
            if values:
                marks = ", ".join("?" * len(values[0]))
                db.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    took, took_cpu = time.perf_counter() - started, time.process_time() - cpu
    db.close()
    return took, took_cpu, sum(len(v) for v in rows.values())


def as_flow_run(tmp: Path, home: Path, cohort: Path) -> tuple[float, float]:
    """The whole run, and the part of it that published the overviews after the enrolment."""
    from lotse.flows.server import LocalServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = LocalServer(port, tmp / "prefect")
    server.start()
    try:
        server.wait_healthy()
        os.environ["PREFECT_API_URL"] = server.api
        os.environ["LOTSE_HOME"] = str(home)
        from prefect import get_client
        from prefect.logging.handlers import APILogWorker

        from lotse.flows.cli.prefect_console import quiet
        from lotse.flows.enrol_cohort import enrol_cohort

        quiet()
        started = time.perf_counter()
        from lotse.tasks import inbox

        received = inbox.receive(home, cohort)  # as `lotse enrol` does: the flow names no file
        state = enrol_cohort(file=received.name, return_state=True)
        took = time.perf_counter() - started
        assert state.result()["enrolled"] == ROWS
        APILogWorker.drain_all(timeout=5)
        run_id = state.state_details.flow_run_id
        with get_client(sync_client=True) as client:
            [published] = [t for t in client.read_task_runs()
                           if t.flow_run_id == run_id and t.name.startswith("publish")]
        assert published.start_time is not None and published.end_time is not None
        return took, (published.end_time - published.start_time).total_seconds()
    finally:
        server.stop()


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        cohort = tmp / "cohort.csv"
        write_cohort(cohort, ROWS)
        alliance(tmp / "plain")
        alliance(tmp / "empty")
        first, first_cpu, second, enrolled, recognised = plain(tmp / "plain", cohort)
        raw, raw_cpu, written = floor(tmp / "plain" / "lotse.db", tmp / "empty" / "lotse.db")
        alliance(tmp / "flow")
        flow_run, overviews = as_flow_run(tmp, tmp / "flow", cohort)
    enrolment = flow_run - overviews
    print(f"enrol-cohort, {ROWS} rows (CSV, SQLite):")
    print(f"  plain import:     {first:6.2f} s wall, {first_cpu:.2f} s CPU  ({enrolled} cases enrolled, "
          f"{ROWS / first:,.0f} rows/s)")
    print(f"  floor, sqlite3 executemany in one transaction: {raw:.2f} s wall, {raw_cpu:.2f} s CPU "
          f"({written:,} rows in {', '.join(TABLES)}); ratio {first / raw:.1f}x")
    print(f"  same file again:  {second:6.2f} s  ({recognised} rows recognised, none enrolled twice)")
    print(f"  as a flow run:    {enrolment:6.2f} s  (enrol-cohort on a local Prefect server, with progress)")
    print(f"  then overviews:   {overviews:6.2f} s  ({ROWS} case-<ref> artifacts after the commit, same run: "
          f"{flow_run:.2f} s in all)")
    ok = first <= GOAL_S
    print(f"  goal: the plain import of {ROWS:,} rows in {GOAL_S:.0f} s or less -> "
          f"{'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""A long import locks no one out, and a killed one is completed by running it again.

Real subprocesses on one SQLite file: a 60,000-row `lotse enrol` commits 500 rows at a time and
pauses after each half second of writing, so 30 `lotse case set/done` commands on other cases, run
while it writes, each finish within the default busy timeout of 30 s, shorter than the import takes
(one transaction for the whole file would hold the write lock longer). The import is then killed
midway, and the same file enrolled again ends with exactly 60,000 cases, each person once, and says
how many were there already.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.enrol_cohort import EMPLOYERS, write_cohort
from lotse.tasks import casework, directory
from lotse.tasks.context import Context
from tests.conftest import LOTSE, run_lotse

ROWS = 60_000  # enough that the import outlasts the other commands
OTHERS = 30
TIMEOUT = {"LOTSE_BUSY_TIMEOUT_SECONDS": "30"}  # the default; the whole import takes longer


def prepare(ctx: Context) -> list[str]:
    """The benchmark's employers, and 30 cases of another employer for the other commands."""
    directory.add_actor(ctx, "koord", name="Koordination", roles=["coordinator"])
    for n, employer in enumerate(EMPLOYERS):
        directory.add_actor(ctx, employer, name=employer.title(), roles=["employer"],
                            region=("SE-Nord", "SE-Sued", "SE-Ost")[n])
    directory.add_actor(ctx, "klinik-west", name="Klinik West", roles=["employer"], region="SE-West")
    return [casework.open_case(ctx, given_name=f"Andere{n}", family_name="West", nationality="PHL",
                               employer="klinik-west") for n in range(OTHERS)]


def other_command(home: Path, n: int, ref: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    if n % 2:
        done = run_lotse(home, "case", "done", ref, "employment_contract", "--by", "koord", env=TIMEOUT)
    else:
        done = run_lotse(home, "case", "set", ref, "arrival_date=2027-03-01", "--by", "koord", env=TIMEOUT)
    return done, time.monotonic() - started


def cases(home: Path) -> tuple[int, int]:
    """(cases enrolled from the file, distinct people among them)."""
    with sqlite3.connect(home / "lotse.db") as db:
        return db.execute(
            "SELECT count(*), count(DISTINCT given_name || ' ' || family_name) FROM cases "
            "WHERE employer_id <> 'klinik-west'"
        ).fetchone()


def test_a_long_import_locks_no_one_out_and_a_killed_one_completes_when_run_again(
    ctx: Context, home: Path, tmp_path: Path
) -> None:
    others = prepare(ctx)
    cohort = tmp_path / "cohort.csv"
    write_cohort(cohort, ROWS)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    environment["LOTSE_HOME"] = str(home)
    enrol = subprocess.Popen([*LOTSE, "enrol", str(cohort)], env=environment, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert enrol.stderr is not None
        first = enrol.stderr.readline()  # the first chunk is committed: the import is writing
        assert first.startswith(f"enrolling: 500 of {ROWS}"), first

        with ThreadPoolExecutor(max_workers=3) as pool:
            done = list(pool.map(other_command, [home] * OTHERS, range(OTHERS), others))
        running = enrol.poll() is None
    finally:
        enrol.kill()
        enrol.wait()

    assert [(r.returncode, r.stderr) for r, _ in done] == [(0, "")] * OTHERS
    print(f"the other commands took {min(t for _, t in done):.1f} to {max(t for _, t in done):.1f} s")
    assert running, "the import ended before the other commands did: nothing was tested"
    written, people = cases(home)
    assert 0 < written < ROWS and people == written  # killed midway, each chunk whole

    again = subprocess.run([*LOTSE, "enrol", str(cohort)], env=environment, capture_output=True, text=True,
                           timeout=600)

    assert again.returncode == 0, again.stderr
    assert (f"cohort.csv: {ROWS - written} case(s) enrolled, {written} enrolled before, "
            f"0 bad row(s) skipped, of {ROWS} row(s)") in again.stdout
    assert cases(home) == (ROWS, ROWS)
    with sqlite3.connect(home / "lotse.db") as db:
        keys = db.execute("SELECT count(*), count(DISTINCT request_id) FROM history "
                          "WHERE request_id LIKE 'enrol:%'").fetchone()
    assert keys == (ROWS, ROWS)  # each row's key (on its opening's last history row) once

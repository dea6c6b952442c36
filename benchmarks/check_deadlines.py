"""Benchmark: `lotse check` over 100,000 open cases with 5,000 deadlines due (goal: under 3 s and
under 300 MB peak memory on SQLite, for the real run that queues the reminders).

Builds the database by bulk insert (cases, deadline rows open and closed, actors) and a routes
file (a chat route per role and region, e-mail routes for the coordinator and the recognition
office) in a temporary folder, then runs the real command line in a fresh process (dry run, real
run, the same day again) and measures its wall time and peak memory (the child's maximum resident
set). Beside it: the check's own time in this process, the part of it spent queueing the
reminders, and the floor, the same query written by hand in SQL.

    .venv/bin/python benchmarks/check_deadlines.py
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from lotse.config.settings import Settings
from lotse.notifications import dispatch
from lotse.states import schema
from lotse.states.records import ActorRecord, ActorRoleRecord, CaseRecord, DeadlineRecord
from lotse.tasks.context import Context
from lotse.tasks.deadlines import check_deadlines

CASES = 100_000
DUE = 5_000
AS_OF = dt.date(2026, 6, 1)
GOAL_S, GOAL_MB = 3.0, 300
REGIONS = [f"SE-{n:02d}" for n in range(10)]
STAGES = ["recruited", "visa", "arrival", "language_course", "recognition", "housed"]
ROLES = ["employer", "agency", "foreigners_office", "language_school", "housing", "counsellor"]
ROUTES = "\n".join(
    ["version: 1", "urls:"]
    + [line for role in ("coordinator", "recognition_office")
       for line in (f'  - "mailto://127.0.0.1:9?mode=insecure&from=lotse@example.org&to={role}@example.org":',
                    f"      tag: {role}")]
    + [line for region in REGIONS for role in ROLES
       for line in (f'  - "json://127.0.0.1:9/{role}/{region}":', f"      tag: {role}, {region}")]
) + "\n"
FLOOR_SQL = """
SELECT d.id, d.deadline, d.due, d.level, c.ref, c.process, c.process_version
FROM deadlines d JOIN cases c ON c.id = d.case_id
WHERE d.alert_on <= ? ORDER BY d.due, c.ref, d.deadline
"""


def build(ctx: Context) -> None:
    """Invented cases (numbered names), each with its stage's limit open; every 20th is due."""
    now = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    actors, roles = [], []
    for region in REGIONS:
        for role in ROLES:
            actors.append({"id": f"{role}-{region}".lower(), "name": f"{role} {region}", "region": region,
                           "email": None, "created_at": now})
            roles.append({"actor_id": f"{role}-{region}".lower(), "role": role})
    for actor_id, role in (("koord", "coordinator"), ("anerkennung", "recognition_office")):
        actors.append({"id": actor_id, "name": actor_id, "region": None, "email": None, "created_at": now})
        roles.append({"actor_id": actor_id, "role": role})
    cases, rows = [], []
    limits = {"recruited": 183, "visa": 70, "arrival": 91, "language_course": 365, "recognition": 365,
              "housed": 183}
    for n in range(1, CASES + 1):
        region, stage = REGIONS[n % len(REGIONS)], STAGES[n % len(STAGES)]
        due_now = n % (CASES // DUE) == 0
        due = AS_OF - dt.timedelta(days=n % 20) if due_now else AS_OF + dt.timedelta(days=1 + n % 300)
        entered = due - dt.timedelta(days=limits[stage])
        cases.append({
            "id": n, "ref": f"SE-2026-{n:06d}", "process": "pflege", "process_version": 1, "stage": stage,
            "version": 1, "employer_id": f"employer-{region}".lower(), "region": region,
            "given_name": f"Given{n}", "family_name": f"Family{n}", "created_at": now,
            "stage_entered_at": dt.datetime.combine(entered, dt.time(9), dt.UTC),
        })
        rows.append({"case_id": n, "deadline": f"{stage}_limit", "due": due, "alert_on": due,
                     "next_at": due, "level": 0, "opened_at": now, "closed_at": None, "closed_why": None})
        if n % 2:  # history: a closed deadline of an earlier stage, which the check must not read
            rows.append({"case_id": n, "deadline": "recruited_limit", "due": due - dt.timedelta(days=400),
                         "alert_on": None, "next_at": None, "level": 1, "opened_at": now, "closed_at": now,
                         "closed_why": "left"})
    with ctx.db.engine.begin() as connection:
        connection.execute(insert(ActorRecord), actors)
        connection.execute(insert(ActorRoleRecord), roles)
        connection.execute(insert(CaseRecord), cases)
        connection.execute(insert(DeadlineRecord), rows)
    with ctx.db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")


def floor(db: Path) -> tuple[float, int]:
    connection = sqlite3.connect(db)
    started = time.perf_counter()
    found = connection.execute(FLOOR_SQL, (AS_OF.isoformat(),)).fetchall()
    took = time.perf_counter() - started
    connection.close()
    return took, len(found)


# The child reports its own peak resident memory (VmHWM) when it exits: the figure of this command
# alone. Not ru_maxrss: Linux carries that over from the forking parent, this big benchmark.
_CHILD = """
import re, sys
from lotse.flows.cli import main
try:
    main()
finally:
    status = open("/proc/self/status").read()
    print("peak_kb=" + re.search(r"VmHWM:\\s+(\\d+)", status).group(1), file=sys.stderr)
"""


def command(home: Path, *args: str) -> tuple[float, float, str]:
    """The real `lotse check` in a fresh process: wall time, peak memory in MB, its last line."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LOTSE_")}, "LOTSE_HOME": str(home),
           "LOTSE_NOTIFY_CONFIG": str(home / "routes.yaml")}
    argv = ["lotse", "check", "--as-of", AS_OF.isoformat(), *args]
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", _CHILD, *argv[1:]], capture_output=True, text=True,
                           env=env, check=False)
    took = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"lotse check failed: {child.stderr}")
    peak_kb = int(child.stderr.strip().splitlines()[-1].removeprefix("peak_kb="))
    return took, peak_kb / 1024, child.stdout.strip().splitlines()[-1]


def in_process(home: Path) -> tuple[float, float, float, int]:
    """The check as a function on its own copy: dry run, real run, and the part of the real run
    spent in `notifications.dispatch.remind_many` (rendering and queueing the messages)."""
    ctx = Context.from_settings(settings(home))
    spent = [0.0]
    real_remind_many = dispatch.remind_many

    def timed_remind_many(*args: Any, **kwargs: Any) -> int:
        started = time.perf_counter()
        try:
            return real_remind_many(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    started = time.perf_counter()
    found = check_deadlines(ctx, as_of=AS_OF, dry_run=True)
    dry = time.perf_counter() - started
    dispatch.remind_many = timed_remind_many  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        check_deadlines(ctx, as_of=AS_OF)
        real = time.perf_counter() - started
    finally:
        dispatch.remind_many = real_remind_many  # type: ignore[assignment]
        ctx.db.dispose()
    return dry, real, spent[0], len(found)


def settings(home: Path) -> Settings:
    return Settings(home=home, notify_config=home / "routes.yaml", _env_file=None)  # type: ignore[call-arg]


def queued(db: Path) -> tuple[int, int]:
    """Rows in the outbox, and how many of them found a route."""
    connection = sqlite3.connect(db)
    rows, routed = connection.execute("SELECT count(*), count(route) FROM outbox").fetchone()
    connection.close()
    return rows, routed


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        home, copy = Path(tmp) / "home", Path(tmp) / "copy"
        home.mkdir()
        (home / "routes.yaml").write_text(ROUTES, encoding="utf-8")
        ctx = Context.from_settings(settings(home), check_schema=False)
        schema.upgrade(ctx.db.engine)
        started = time.perf_counter()
        build(ctx)
        built = time.perf_counter() - started
        ctx.db.dispose()
        copy.mkdir()
        shutil.copy(home / "lotse.db", copy / "lotse.db")
        shutil.copy(home / "routes.yaml", copy / "routes.yaml")
        floor_s, floor_rows = floor(home / "lotse.db")
        dry_in, real_in, in_remind, found = in_process(copy)
        dry = command(home, "--dry-run")
        runs = {
            "real run, queues the reminders": command(home),
            "dry run (--dry-run), before it": dry,
            "the same day again": command(home),
        }
        rows, routed = queued(home / "lotse.db")

    print(f"check-deadlines, {CASES:,} open cases, {DUE:,} due on {AS_OF} "
          f"(SQLite, {ROUTES.count('tag:')} routes; built in {built:.1f} s):")
    print(f"  floor, the query by hand in SQL:       {floor_s:6.3f} s  ({floor_rows:,} rows)")
    print(f"  check_deadlines() in this process:     {dry_in:6.3f} s dry run ({found:,} due); "
          f"{real_in:.3f} s real run, of which {in_remind:.3f} s queueing the reminders (remind_many)")
    print(f"  lotse check in a fresh process (goal: under {GOAL_S:.0f} s and {GOAL_MB} MB peak; "
          "the times include starting Python and importing Lotse):")
    for name, (took, peak, line) in runs.items():
        verdict = "ok" if took < GOAL_S and peak < GOAL_MB else "MISSED"
        print(f"    {name + ':':35} {took:6.3f} s  peak {peak:4.0f} MB  {verdict:6}  ({line})")
    again = runs["the same day again"][2]
    right = found == floor_rows == DUE and rows == routed == DUE and again.endswith("0 reminders queued")
    print(f"  finds the {DUE:,} due, queues {rows:,} reminders ({routed:,} with a route), "
          f"nothing the second time: {'ok' if right else 'WRONG'}")
    met = right and all(took < GOAL_S and peak < GOAL_MB for took, peak, _ in runs.values())
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: `lotse check` over many open cases (goals, issue 15: the dry run within 2x its
floor, the same query written by hand in SQL; the real run queues its reminders in chunks and
stays under 150 MB peak memory).

Either builds a database of N invented cases (default 100,000; every 20th due) by bulk insert, with
a routes file (a chat route per role and region, e-mail routes for the coordinator and the
recognition office), or measures a copy of a scale database (benchmarks/scale.py, built through
Lotse's own enrol path: `--home /tmp/scale/300000`). Then runs the real command line in fresh
processes (dry run, as text and JSON; real run; the same day again) and prints the wall time, CPU
time and peak memory of each (the child's own peak, VmHWM) beside the floor run the same way, with
the ratios; and the check itself in this process (dry run, no Python start, no printing) beside
the floor's query in this process.

    .venv/bin/python benchmarks/check_deadlines.py [--cases N] [--home FOLDER]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import child
from sqlalchemy import insert

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.states.records import ActorRecord, ActorRoleRecord, CaseRecord, DeadlineRecord
from lotse.tasks.context import Context
from lotse.tasks.deadlines import each_due

CASES = 100_000
DUE_EVERY = 20  # every 20th case of the built database is due
AS_OF = dt.date(2026, 6, 1)
GOAL_RATIO, GOAL_MB = 2.0, 150
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


def build(ctx: Context, size: int) -> None:
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
    version = ctx.catalog.get("pflege").version  # the one offered now: a built row names no stored copy
    limits = {"recruited": 183, "visa": 70, "arrival": 91, "language_course": 365, "recognition": 365,
              "housed": 183}
    for n in range(1, size + 1):
        region, stage = REGIONS[n % len(REGIONS)], STAGES[n % len(STAGES)]
        due_now = n % DUE_EVERY == 0
        due = AS_OF - dt.timedelta(days=n % 20) if due_now else AS_OF + dt.timedelta(days=1 + n % 300)
        entered = due - dt.timedelta(days=limits[stage])
        cases.append({
            "id": n, "ref": f"SE-2026-{n:06d}", "process": "pflege", "process_version": version,
            "stage": stage, "version": 1, "employer_id": f"employer-{region}".lower(), "region": region,
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


FLOOR = f"""
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
rows = 0
for row in connection.execute(\"\"\"{FLOOR_SQL}\"\"\", ("{AS_OF.isoformat()}",)):
    rows += 1
print(rows)
"""


def floor(db: Path) -> tuple[float, float, int]:
    """The query by hand in this process: wall, CPU, rows."""
    connection = sqlite3.connect(db)
    started, cpu = time.perf_counter(), time.process_time()
    found = sum(1 for _ in connection.execute(FLOOR_SQL, (AS_OF.isoformat(),)))
    took = time.perf_counter() - started, time.process_time() - cpu
    connection.close()
    return took[0], took[1], found


def dry_in_process(home: Path) -> tuple[float, float, int]:
    """The check itself, dry run, in this process: wall, CPU, findings."""
    ctx = Context.from_settings(settings(home))
    try:
        started, cpu = time.perf_counter(), time.process_time()
        found = sum(1 for _ in each_due(ctx, as_of=AS_OF, dry_run=True))
        return time.perf_counter() - started, time.process_time() - cpu, found
    finally:
        ctx.db.dispose()


def settings(home: Path) -> Settings:
    return Settings(home=home, notify_config=home / "routes.yaml", _env_file=None)  # type: ignore[call-arg]


def queued(db: Path) -> tuple[int, int, int]:
    """Rows in the outbox, how many of them found a route, and their distinct dedup keys."""
    connection = sqlite3.connect(db)
    rows, routed, keys = connection.execute(
        "SELECT count(*), count(route), count(DISTINCT dedup_key) FROM outbox").fetchone()
    connection.close()
    return rows, routed, keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--home", type=Path, default=None,
                        help="measure a copy of this scale database (benchmarks/scale.py) instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        started = time.perf_counter()
        if args.home is not None:
            shutil.copytree(args.home, home)
            made = f"a copy of {args.home}"
        else:
            home.mkdir()
            (home / "routes.yaml").write_text(ROUTES, encoding="utf-8")
            ctx = Context.from_settings(settings(home), check_schema=False)
            schema.upgrade(ctx.db.engine)
            build(ctx, args.cases)
            ctx.db.dispose()
            made = f"built by bulk insert, {ROUTES.count('tag:')} routes"
        built = time.perf_counter() - started
        before = queued(home / "lotse.db")[0]
        with sqlite3.connect(home / "lotse.db") as connection:
            cases = connection.execute("SELECT count(*) FROM cases").fetchone()[0]
        floor_s, floor_cpu, floor_rows = floor(home / "lotse.db")
        in_s, in_cpu, found = dry_in_process(home)
        floor_child = child.floor(FLOOR, home)
        day = ("check", "--as-of", AS_OF.isoformat())
        runs = {
            "dry run (--dry-run)": child.lotse(home, *day, "--dry-run"),
            "dry run --json": child.lotse(home, *day, "--dry-run", "--json"),
        }
        out = Path(tmp) / "out.txt"
        runs["real run, queues the reminders"] = child.lotse(home, *day, stdout=out)
        real_line = out.read_text(encoding="utf-8").strip().splitlines()[-1]
        runs["the same day again"] = child.lotse(home, *day, stdout=out)
        again = out.read_text(encoding="utf-8").strip().splitlines()[-1]
        rows, routed, keys = queued(home / "lotse.db")

    print(f"check-deadlines, {cases:,} cases, {floor_rows:,} due on {AS_OF} (SQLite, {made}; "
          f"ready in {built:.1f} s):")
    print(f"  floor, the query by hand in SQL, here: {floor_s:7.2f} s wall {floor_cpu:7.2f} s CPU  "
          f"({floor_rows:,} rows)")
    ratio = in_s / floor_s
    print(f"  the check, dry run, here (each_due):   {in_s:7.2f} s wall {in_cpu:7.2f} s CPU  "
          f"{ratio:5.2f}x wall, {in_cpu / floor_cpu:5.2f}x CPU  (goal: {GOAL_RATIO:.0f}x) "
          f"{'ok' if ratio <= GOAL_RATIO else 'MISSED'}")
    print("  in a fresh process each (starting Python and importing included):")
    print(f"    {'floor, the query by hand in SQL:':35} {floor_child.line()}")
    for name, run in runs.items():
        memory = "ok" if run.peak_mb <= GOAL_MB else "MISSED"
        print(f"    {name + ':':35} {run.line()}  {run.ratio(floor_child)}  (goal {GOAL_MB} MB: {memory})")
    print(f"    real run said: {real_line}")
    new = rows - before
    right = found == floor_rows and new == keys - before and again.endswith(" 0 reminders queued")
    print(f"  finds the {floor_rows:,} due, queues {new:,} reminders ({routed:,} with a route), each once "
          f"(distinct keys), nothing the second time: {'ok' if right else 'WRONG'}")
    memory_met = all(run.peak_mb <= GOAL_MB for run in runs.values())
    return 0 if right and memory_met and ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())

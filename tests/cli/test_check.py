"""`lotse check` through the real command line, on a SQLite file prepared in the test."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from lotse.states.records import OutboxRecord
from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.conftest import Clock, run_lotse

KEYS = {"ref", "deadline", "due", "level", "role", "basis", "overdue_days", "reminded"}


def arrived(ctx: Context, clock: Clock) -> str:
    """A case that arrived on 2026-04-01: its address registration is due on 2026-04-15."""
    clock.now = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)
    ref = casework.open_case(ctx, given_name="Maria", family_name="Santos", nationality="PHL",
                             employer="klinik-nord")
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(ctx, ref, "apply_visa", by="klinik-nord")
    clock.now = dt.datetime(2026, 4, 1, 8, tzinfo=dt.UTC)
    casework.tick(ctx, ref, ["visa_granted", "housing_confirmed"], by="koord")
    casework.advance(ctx, ref, "arrive", by="klinik-nord",
                     facts={"arrival_date": "2026-04-01", "visa_valid_until": "2026-09-30"})
    return ref


def outbox(ctx: Context) -> int:
    with ctx.db.reading() as session:
        return session.scalar(select(func.count()).select_from(OutboxRecord)) or 0


def test_check_json_lists_what_is_overdue_and_queues_each_reminder_once(
    alliance: Context, clock: Clock, home: Path,
) -> None:
    ref = arrived(alliance, clock)
    before = outbox(alliance)

    first = run_lotse(home, "check", "--as-of", "2026-04-16", "--json")
    queued = outbox(alliance)
    second = run_lotse(home, "check", "--as-of", "2026-04-16", "--json")

    assert first.returncode == 0, first.stderr
    rows = json.loads(first.stdout)
    assert all(set(r) == KEYS for r in rows)
    address = next(r for r in rows if r["deadline"] == "address_registration")
    assert address == {
        "ref": ref, "deadline": "address_registration", "due": "2026-04-15", "level": 1,
        "role": "employer", "basis": address["basis"], "overdue_days": 1, "reminded": True,
    }
    assert "§ 17" in address["basis"]
    assert queued - before == len(rows) >= 2  # address registration and landlord confirmation
    assert second.returncode == 0 and outbox(alliance) == queued
    assert [r["reminded"] for r in json.loads(second.stdout)] == [False] * len(rows)
    assert "Santos" not in first.stdout


def test_a_dry_run_queues_nothing(alliance: Context, clock: Clock, home: Path) -> None:
    arrived(alliance, clock)
    before = outbox(alliance)

    result = run_lotse(home, "check", "--as-of", "2026-04-16", "--dry-run", "--json")

    assert result.returncode == 0, result.stderr
    assert [r["reminded"] for r in json.loads(result.stdout)] == [True, True]
    assert outbox(alliance) == before


def test_check_prints_a_table_and_what_it_queued(alliance: Context, clock: Clock, home: Path) -> None:
    ref = arrived(alliance, clock)

    result = run_lotse(home, "check", "--as-of", "2026-04-23", "--dry-run")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["REF", "DEADLINE", "DUE", "OVERDUE_DAYS"]
    assert any(line.startswith(ref) and "address_registration" in line and "coordinator" in line
               for line in lines)
    assert lines[-1] == "2 due or overdue on 2026-04-23; 2 reminders would be queued (dry run)"


def test_nothing_due_is_an_empty_list(alliance: Context, clock: Clock, home: Path) -> None:
    arrived(alliance, clock)
    result = run_lotse(home, "check", "--as-of", "2026-04-02", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == []


def test_a_bad_date_is_one_error_line_and_exit_2(alliance: Context, clock: Clock, home: Path) -> None:
    arrived(alliance, clock)
    before = outbox(alliance)

    result = run_lotse(home, "check", "--as-of", "2026-13-01")

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: --as-of '2026-13-01' is not a date between 1900-01-01 and 2199-12-31 "
        "(YYYY-MM-DD or DD.MM.YYYY)"
    ]
    assert outbox(alliance) == before


def test_case_show_json_lists_the_open_deadlines(alliance: Context, clock: Clock, home: Path) -> None:
    ref = arrived(alliance, clock)
    run_lotse(home, "check", "--as-of", "2026-04-16")

    result = run_lotse(home, "case", "show", ref, "--json")

    assert result.returncode == 0, result.stderr
    shown = {d["deadline"]: d for d in json.loads(result.stdout)["deadlines"]}
    assert set(shown) == {"arrival_limit", "address_registration", "landlord_confirmation",
                          "residence_permit_application", "tax_id"}
    assert (shown["address_registration"]["due"], shown["address_registration"]["level"]) == ("2026-04-15", 1)
    assert shown["arrival_limit"]["level"] == 0


def test_the_check_command_does_not_import_prefect(ctx: Context, home: Path) -> None:
    code = (
        "import sys\n"
        "from flows.cli import app\n"
        "try:\n"
        "    app(['check', '--as-of', '2026-04-16', '--dry-run', '--json'], standalone_mode=False)\n"
        "finally:\n"
        "    print('prefect' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"LOTSE_HOME": str(home), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "False"


def test_case_show_lists_the_open_deadlines_for_people(alliance: Context, clock: Clock, home: Path) -> None:
    ref = arrived(alliance, clock)

    result = run_lotse(home, "case", "show", ref)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    shown = lines[lines.index("Deadlines:") + 1:lines.index("History:")]
    assert any(line.split()[:2] == ["2026-04-15", "address_registration"] and "§ 17" in line
               for line in shown)
    assert len(shown) == 5

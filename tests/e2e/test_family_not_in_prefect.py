"""A family member never reaches Prefect: after `lotse family add` and a reminder of its Kita
place with `lotse up` running (each publishes the case's overview artifact), the raw bytes of
the Prefect server's SQLite database and its write-ahead log hold neither the member's name nor
its birth year, while the overview there shows the need by relation and number."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from lotse.states.durations import add_months
from tests.conftest import run_lotse
from tests.e2e.conftest import Up, start

pytestmark = pytest.mark.prefect

CHILD, SPOUSE = "Farahnaz", "Jamshid"
TODAY = dt.date.today()
ARRIVES = dt.date(TODAY.year + 1, TODAY.month, 1)
BORN = ARRIVES.year - 3
KITA_DUE = add_months(ARRIVES, -3)
EMPLOYER, COORDINATOR = "pflegeheim-lindenhof", "koordination"
# The birth year as it would be written where it leaked: a value of its own, never a part of a
# timestamp or an id (which hold every year's digits by chance).
SECRETS = [CHILD.encode(), SPOUSE.encode(), b'"birth_year"', f'"{BORN}"'.encode(), f": {BORN}".encode(),
           f"born {BORN}".encode(), f"geboren {BORN}".encode(), f"({BORN})".encode()]


def lotse(up: Up, *args: str) -> Any:
    return run_lotse(up.home, *args, env={"PREFECT_API_URL": up.api})


def leaks(prefect_home: Path) -> dict[str, list[bytes]]:
    found = {}
    for name in ("prefect.db", "prefect.db-wal"):
        path = prefect_home / name
        if path.exists():
            data = path.read_bytes().lower()
            found[name] = [s for s in SECRETS if s.lower() in data or s.decode().encode("utf-16-le") in data]
    return found


def test_no_family_members_name_or_birth_year_is_in_the_prefect_database(tmp_path: Path) -> None:
    up = start(tmp_path, demo=True)
    prefect_home = Path(up.env["PREFECT_HOME"])
    try:
        opened = lotse(up, "case", "add", "--given-name", "Soraya", "--family-name", "Karimi",
                       "--nationality", "PHL", "--employer", EMPLOYER, "--by", COORDINATOR)
        assert opened.returncode == 0, opened.stderr
        ref = opened.stdout.strip()
        for args in (["--relation", "child", "--given-name", CHILD, "--birth-year", str(BORN),
                      "--arrives", ARRIVES.isoformat()],
                     ["--relation", "spouse", "--given-name", SPOUSE, "--birth-year", str(BORN - 30)]):
            added = lotse(up, "family", "add", ref, *args, "--by", COORDINATOR)
            assert added.returncode == 0 and added.stderr == "", added.stderr
        checked = lotse(up, "check", "--as-of", KITA_DUE.isoformat())
        assert checked.returncode == 0 and "family_child1_kita_place" in checked.stdout, checked.stderr

        shown = run_lotse(up.home, "case", "show", ref).stdout
        assert CHILD in shown and str(BORN) in shown  # in Lotse's own database: a leak would be found
        while_running = leaks(prefect_home)
        held = b"".join(path.read_bytes() for path in sorted(prefect_home.glob("prefect.db*")))
    finally:
        stopped = up.stop()
    assert stopped == 0, up.text()
    with sqlite3.connect(prefect_home / "prefect.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    after_checkpoint = leaks(prefect_home)

    assert all(found == [] for found in while_running.values()), while_running
    assert all(found == [] for found in after_checkpoint.values()), after_checkpoint
    # The scan reads what Prefect holds: the overview of the case is there, with the need in it.
    assert ref.lower().encode() in held.lower()
    assert b"Kita-Platz (Kind 1)" in held or "Kita-Platz (Kind 1)".encode("utf-16-le") in held

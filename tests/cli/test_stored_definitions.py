"""Stored definitions through the command line: a version's file bumped, deleted or edited in place
under running cases, and every command still works for them on the copy stored with their first
case; an in-place edit is said in one `warning:` line (a failing line in `lotse doctor`), a
comment is not an edit, and `lotse init` stores the versions a database from before uses."""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from lotse.config.settings import Settings
from tests.cli.backends import ok
from tests.cli.conftest import Lotse, Outcome
from tests.conftest import run_lotse
from tests.postgres import fresh_database
from tests.states.test_process_definitions import VALID
from tests.versions import PFLEGE_V1

Tables = Callable[[], dict[str, list[tuple[Any, ...]]]]

# The small pathway of tests/states/test_process_definitions.py, opened from the command line (a
# nationality fact), with a stage limit and a deadline on a date fact.
MINI: dict[str, Any] = copy.deepcopy(VALID)
MINI["facts"]["nationality"] = {"type": "country", "set_by": ["employer"], "personal": True}
MINI["stages"]["start"]["limit"] = "2 weeks"
MINI["stages"]["start"]["limit_basis"] = "practice of the alliance"
MINI["deadlines"] = {
    "flat_search": {"title": "Find a flat", "item": "flat", "due": "10 days after arrival_date",
                    "role": "housing", "basis": "practice of the alliance"},
}


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """The alliance's process folder: its own copy of pflege (replacing the shipped one) and mini."""
    folder = tmp_path / "own"
    folder.mkdir()
    shutil.copy(PFLEGE_V1, folder / "pflege.yaml")
    (folder / "mini.yaml").write_text(yaml.safe_dump(MINI, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def settings(home: Path, own: Path) -> Settings:
    return Settings(home=home, process_dir=own, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def cli(alliance: Any, lotse: Lotse, own: Path, monkeypatch: pytest.MonkeyPatch) -> Lotse:
    """`lotse` on the alliance's database, with its process folder (LOTSE_PROCESS_DIR)."""
    monkeypatch.setenv("LOTSE_PROCESS_DIR", str(own))
    return lotse


def warnings(outcome: Outcome) -> list[str]:
    """The `warning:` lines; fails on any other line on stderr."""
    lines = outcome.err.strip().splitlines()
    assert all(line.startswith("warning: ") for line in lines), outcome.err
    return lines


def edit(path: Path, old: str, new: str, *, word: bool = True) -> None:
    text = path.read_text(encoding="utf-8")
    changed = re.sub(rf"\b{re.escape(old)}\b" if word else re.escape(old), new, text)
    assert changed != text, f"{old!r} not in {path}"
    path.write_text(changed, encoding="utf-8")


def open_case(cli: Lotse, *args: str) -> str:
    opened = ok(cli("case", "add", "--given-name", "Maricel", "--family-name", "Dalisay",
                    "--nationality", "PHL", "--employer", "klinik-nord", *args, "--json"))
    return str(opened.json()["ref"])


def in_visa(cli: Lotse) -> str:
    """A pflege case in its visa stage (limit: 10 weeks)."""
    ref = open_case(cli)
    ok(cli("case", "done", ref, "employment_contract", "recognition_documents", "--by", "koord"))
    ok(cli("case", "advance", ref, "apply_visa", "--by", "klinik-nord"))
    return ref


def shown(cli: Lotse, ref: str) -> dict[str, Any]:
    data: dict[str, Any] = ok(cli("case", "show", ref, "--json")).json()
    return data


def due(cli: Lotse, ref: str, deadline: str) -> dt.date:
    return dt.date.fromisoformat(
        next(d["due"] for d in shown(cli, ref)["deadlines"] if d["deadline"] == deadline))


def checked(cli: Lotse, day: dt.date) -> list[tuple[str, str, str]]:
    rows = ok(cli("check", "--as-of", day.isoformat(), "--dry-run", "--json")).json()
    return [(r["ref"], r["deadline"], r["due"]) for r in rows]


def listed(cli: Lotse) -> dict[tuple[str, int], tuple[int, str]]:
    """`lotse process list`: (name, version) -> (open cases, which copy is in force)."""
    return {(r["name"], r["version"]): (r["open"], r["in force"])
            for r in ok(cli("process", "list", "--json")).json()}


def stored_rows(home: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(home / "lotse.db") as connection:
        return connection.execute(
            "SELECT name, version, content FROM process_definitions ORDER BY name, version").fetchall()


def forget_stored(home: Path) -> None:
    """A database from before stored definitions: cases, but no stored copies."""
    with sqlite3.connect(home / "lotse.db") as connection:
        connection.execute("DELETE FROM process_definitions")


# -- stored on first use ---------------------------------------------------------------------------


def test_the_first_case_on_a_version_stores_its_file_text_once(cli: Lotse, own: Path, home: Path) -> None:
    assert stored_rows(home) == []

    open_case(cli)
    first = stored_rows(home)
    open_case(cli)
    open_case(cli, "--process", "mini")

    assert first == [("pflege", 1, (own / "pflege.yaml").read_text(encoding="utf-8"))]
    assert stored_rows(home) == [("mini", 1, (own / "mini.yaml").read_text(encoding="utf-8")), *first]


def test_a_cohort_import_stores_the_versions_its_cases_open_on(cli: Lotse, own: Path, home: Path,
                                                                tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("given_name,family_name,nationality,employer,process\n"
                      "Joanna,Villareal,PHL,klinik-nord,mini\nAnjali,Menon,IND,klinik-nord,mini\n",
                      encoding="utf-8")

    enrolled = ok(cli("enrol", str(cohort)))

    assert "2 case(s) enrolled" in enrolled.out
    assert stored_rows(home) == [("mini", 1, (own / "mini.yaml").read_text(encoding="utf-8"))]


# -- the natural edit: version 1 -> 2 under running cases -------------------------------------------


def test_cases_on_version_1_keep_working_when_the_file_says_version_2(cli: Lotse, own: Path) -> None:
    old = in_visa(cli)
    visa_due = due(cli, old, "visa_limit")
    pflege = own / "pflege.yaml"
    edit(pflege, "version: 1", "version: 2", word=False)
    edit(pflege, "limit: 10 weeks", "limit: 8 weeks", word=False)  # what v2 changes

    new = open_case(cli)

    assert (shown(cli, old)["process_version"], shown(cli, old)["stage"]) == (1, "visa")
    assert (shown(cli, new)["process_version"], shown(cli, new)["stage"]) == (2, "recruited")
    assert due(cli, old, "visa_limit") == visa_due  # 10 weeks, as v1 says
    assert (old, "visa_limit", visa_due.isoformat()) in checked(cli, visa_due + dt.timedelta(days=1))
    assert listed(cli)[("pflege", 1)] == (1, "stored copy (no file)")
    assert listed(cli)[("pflege", 2)] == (1, "file (new cases)")
    report = ok(cli("report", "--json")).json()
    assert [r for r in report["by_stage"] if r["process"] == "pflege"] == [
        {"process": "pflege", "version": 1, "stage": "visa", "open": 1},
        {"process": "pflege", "version": 2, "stage": "recruited", "open": 1},
    ]
    assert "pflege   1        visa" in ok(cli("report")).out
    v1 = ok(cli("process", "show", "pflege", "--version", "1", "--json")).json()
    v2 = ok(cli("process", "show", "pflege", "--json")).json()
    assert (v1["version"], v1["stages"]["visa"]["limit"]) == (1, {"amount": 10, "unit": "weeks"})
    assert (v2["version"], v2["stages"]["visa"]["limit"]) == (2, {"amount": 8, "unit": "weeks"})
    assert v1["source"].endswith("pflege.yaml (stored copy)")

    # an event of v1, and its messages
    before = {m["id"] for m in ok(cli("outbox", "--case", old, "--json")).json()}
    ok(cli("case", "done", old, "visa_granted", "housing_confirmed", "--by", "koord"))
    moved = cli("case", "advance", old, "arrive", "--by", "klinik-nord",
                "--set", "arrival_date=2026-04-01", "--set", "visa_valid_until=2026-09-30")

    assert ok(moved).err == ""
    assert (shown(cli, old)["process_version"], shown(cli, old)["stage"]) == (1, "arrival")
    queued = [m for m in ok(cli("outbox", "--case", old, "--json")).json() if m["id"] not in before]
    assert sorted(m["to"] for m in queued) == [
        "abh-nord", "beratung", "klinik-nord", "wohnbau-nord"], queued


def test_the_bump_works_in_a_real_process_too(cli: Lotse, own: Path, home: Path) -> None:
    ref = in_visa(cli)
    edit(own / "pflege.yaml", "version: 1", "version: 2", word=False)
    env = {"LOTSE_PROCESS_DIR": str(own)}

    for args in (["case", "show", ref], ["report"], ["process", "list"], ["check", "--dry-run"]):
        result = run_lotse(home, *args, env=env)
        assert (result.returncode, result.stderr) == (0, ""), (args, result.stderr)
    assert "stored copy (no file)" in run_lotse(home, "process", "list", env=env).stdout


# -- an alliance's own file deleted -----------------------------------------------------------------


def test_cases_keep_running_when_their_file_is_deleted_and_new_ones_are_refused(
    cli: Lotse, own: Path, tables: Tables,
) -> None:
    ref = open_case(cli, "--process", "mini")
    limit = due(cli, ref, "start_limit")
    (own / "mini.yaml").unlink()

    assert shown(cli, ref)["stage"] == "start"
    assert (ref, "start_limit", limit.isoformat()) in checked(cli, limit + dt.timedelta(days=1))
    assert {"process": "mini", "version": 1, "stage": "start", "open": 1} in ok(
        cli("report", "--json")).json()["by_stage"]
    assert listed(cli)[("mini", 1)] == (1, "stored copy (no file)")
    definition = ok(cli("process", "show", "mini", "--json")).json()  # the newest stored copy
    assert (definition["version"], definition["source"]) == (1, f"{own / 'mini.yaml'} (stored copy)")
    record = ok(cli("privacy", "record", "--format", "json")).json()
    assert "mini v1" in [p["process"] for p in record["processes"]]  # its personal data is still held
    before = tables()
    refused = cli("case", "add", "--given-name", "Ana", "--family-name", "Reyes", "--nationality", "PHL",
                  "--employer", "klinik-nord", "--process", "mini")
    assert refused.code == 1 and "unknown process 'mini'" in refused.error
    assert tables() == before

    # the case list filters by a process and a stage only the stored copy has
    assert [c["ref"] for c in ok(cli("case", "list", "--process", "mini", "--json")).json()] == [ref]
    assert [c["ref"] for c in ok(cli("case", "list", "--stage", "start", "--json")).json()] == [ref]

    ok(cli("case", "done", ref, "flat", "--by", "koord"))
    finished = cli("case", "advance", ref, "finish", "--by", "klinik-nord",
                   "--set", "arrival_date=2026-04-01", "--set", "language_level=B1")
    assert ok(finished).err == ""
    assert shown(cli, ref)["stage"] == "done"
    assert ("mini", 1) not in listed(cli)  # no open case, no file: nothing to list


# -- edited in place --------------------------------------------------------------------------------


def rename_start(own: Path) -> None:
    edit(own / "mini.yaml", "start", "begin")


def longer_limit(own: Path) -> None:
    edit(own / "mini.yaml", "limit: 2 weeks", "limit: 4 weeks", word=False)


def later_deadline(own: Path) -> None:
    edit(own / "mini.yaml", "due: 10 days after arrival_date", "due: 20 days after arrival_date", word=False)


def deadline_dropped(own: Path) -> None:
    path = own / "mini.yaml"
    path.write_text(yaml.safe_dump({**MINI, "deadlines": {}}, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("change", [rename_start, longer_limit, later_deadline, deadline_dropped],
                         ids=["stage renamed", "limit changed", "deadline changed", "deadline dropped"])
def test_an_edit_in_place_is_one_warning_everywhere_and_the_stored_copy_stays_in_force(
    cli: Lotse, own: Path, change: Callable[[Path], None],
) -> None:
    ref = open_case(cli, "--process", "mini")
    ok(cli("case", "set", ref, "arrival_date=2026-04-01", "--by", "klinik-nord"))  # flat_search: 04-11
    limit = due(cli, ref, "start_limit")
    change(own)
    said = (f"warning: {own / 'mini.yaml'}: mini v1 was changed in place, but 1 case(s) use it: they "
            "keep the copy stored when it was first used. Give the change a new version (version: 2), "
            "then move the cases with `lotse process migrate mini --to 2`")

    outcomes = {
        "case show": cli("case", "show", ref, "--json"),
        "check": cli("check", "--as-of", (limit + dt.timedelta(days=1)).isoformat(), "--dry-run", "--json"),
        "report": cli("report", "--json"),
        "process list": cli("process", "list", "--json"),
        "init": cli("init"),
    }
    for command, outcome in outcomes.items():
        assert warnings(ok(outcome)) == [said], command

    case = outcomes["case show"].json()
    assert case["stage"] == "start"
    assert [d["due"] for d in case["deadlines"] if d["deadline"] == "start_limit"] == [limit.isoformat()]
    assert sorted((r["ref"], r["deadline"], r["due"]) for r in outcomes["check"].json()) == [
        (ref, "flat_search", "2026-04-11"), (ref, "start_limit", limit.isoformat())]
    by_stage = outcomes["report"].json()["by_stage"]
    assert {"process": "mini", "version": 1, "stage": "start", "open": 1} in by_stage
    assert {(r["name"], r["version"]): r["in force"] for r in outcomes["process list"].json()}[
        ("mini", 1)] == "stored copy (file edited)"
    doctor = cli("doctor")
    assert doctor.code == 1
    assert f"fail  processes: {said.removeprefix('warning: ')}" in doctor.out.splitlines()

    newer = open_case(cli, "--process", "mini")  # a new case on v1 opens on the stored copy too
    assert shown(cli, newer)["stage"] == "start"
    assert [d["title"] for d in shown(cli, newer)["deadlines"]] == ["Start: 2 Wochen"]

    ok(cli("case", "done", ref, "flat", "--by", "koord"))
    finished = cli("case", "advance", ref, "finish", "--by", "klinik-nord",
                   "--set", "arrival_date=2026-04-01", "--set", "language_level=B1")
    assert warnings(ok(finished)) == [said.replace("1 case(s)", "2 case(s)")]
    assert shown(cli, ref)["stage"] == "done"


def test_an_edit_in_place_of_pflege_under_a_case_in_the_renamed_stage(cli: Lotse, own: Path) -> None:
    ref = in_visa(cli)
    edit(own / "pflege.yaml", "visa", "visum")

    shows = cli("case", "show", ref)
    listed_in_visa = cli("case", "list", "--stage", "visa", "--json")
    advanced = cli("case", "advance", ref, "withdraw", "--by", "klinik-nord", "--set",
                   "withdraw_reason=changed her mind")

    assert len(warnings(ok(shows))) == 1 and "pflege v1 was changed in place" in shows.err
    assert "process pflege v1, stage visa (Visumverfahren)" in shows.out
    assert "withdraw" in shows.out
    assert len(warnings(ok(listed_in_visa))) == 1 and [c["ref"] for c in listed_in_visa.json()] == [ref]
    assert len(warnings(ok(advanced))) == 1
    assert shown(cli, ref)["stage"] == "withdrawn"


def test_comments_and_layout_are_not_an_edit(cli: Lotse, own: Path) -> None:
    ref = open_case(cli, "--process", "mini")
    path = own / "mini.yaml"
    path.write_text("# reworded by the alliance\n"
                    + yaml.safe_dump(MINI, sort_keys=True, default_flow_style=True, width=60)
                    + "\n# the end\n", encoding="utf-8")

    assert ok(cli("case", "show", ref)).err == ""
    assert ok(cli("init")).err == ""
    assert listed(cli)[("mini", 1)] == (1, "file (new cases)")
    doctor = cli("doctor")
    assert next(line for line in doctor.out.splitlines() if "processes:" in line).startswith("ok ")


# -- a database from before stored definitions ----------------------------------------------------


def test_init_stores_the_versions_cases_use_from_their_files(cli: Lotse, own: Path, home: Path) -> None:
    open_case(cli, "--process", "mini")
    in_visa(cli)
    forget_stored(home)

    done = ok(cli("init"))

    assert "stored definitions: mini v1, pflege v1 (used by cases, stored from their files)" in done.out
    assert done.err == ""
    assert [(n, v) for n, v, _ in stored_rows(home)] == [("mini", 1), ("pflege", 1)]
    assert ok(cli("init")).out.count("stored definitions") == 0  # stored once


def test_init_stores_nothing_when_the_file_lacks_the_stage_cases_stand_in(
    cli: Lotse, own: Path, home: Path,
) -> None:
    open_case(cli, "--process", "mini")
    forget_stored(home)
    rename_start(own)
    said = ("warning: 1 case(s) of mini v1 stand in stage(s) start, which its file no longer has: "
            "restore the version as it was, give the change a new version, and run `lotse init`")

    done = ok(cli("init"))

    assert warnings(done) == [said]
    assert "stored definitions" not in done.out
    assert stored_rows(home) == []
    doctor = cli("doctor")
    assert doctor.code == 1 and f"fail  processes: {said.removeprefix('warning: ')}" in doctor.out


def test_init_and_doctor_name_cases_on_a_version_nothing_defines(cli: Lotse, own: Path, home: Path) -> None:
    open_case(cli, "--process", "mini")
    forget_stored(home)
    (own / "mini.yaml").unlink()
    said = ("1 case(s) run on mini v1, which no process file and no stored copy defines: put its file "
            "back into the process folder and run `lotse init`")

    done = ok(cli("init"))
    doctor = cli("doctor")

    assert warnings(done) == [f"warning: {said}"]
    assert stored_rows(home) == []
    assert doctor.code == 1 and f"fail  processes: {said}" in doctor.out.splitlines()


# -- the same on PostgreSQL -------------------------------------------------------------------------


def test_stored_copies_on_postgresql(lotse: Lotse, own: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_database() as url:
        monkeypatch.setenv("LOTSE_PROCESS_DIR", str(own))
        monkeypatch.setenv("LOTSE_DATABASE_URL", url)
        ok(lotse("init"))
        ok(lotse("actor", "add", "klinik-nord", "--name", "Klinik Nord", "--role", "employer",
                 "--region", "SE-Nord"))
        mini, pflege = open_case(lotse, "--process", "mini"), open_case(lotse)
        (own / "mini.yaml").unlink()
        edit(own / "pflege.yaml", "recruited", "angeworben")

        shows = [lotse("case", "show", ref, "--json") for ref in (mini, pflege)]
        listing = lotse("process", "list", "--json")
        doctor = lotse("doctor")

    said = f"warning: {own / 'pflege.yaml'}: pflege v1 was changed in place, but 1 case(s) use it"
    assert [(o.json()["process"], o.json()["stage"]) for o in map(ok, shows)] == [
        ("mini", "start"), ("pflege", "recruited")]
    assert all(len(warnings(o)) == 1 and o.err.startswith(said) for o in [*shows, listing])
    in_force = {(r["name"], r["version"]): (r["open"], r["in force"]) for r in listing.json()}
    assert in_force[("mini", 1)] == (1, "stored copy (no file)")
    assert in_force[("pflege", 1)] == (1, "stored copy (file edited)")
    assert doctor.code == 1 and "fail  processes: " in doctor.out

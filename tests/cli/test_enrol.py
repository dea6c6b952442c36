"""`lotse enrol` and `lotse report` through the real command line: bad input is one `error:` line
naming every bad line, exit 2, and nothing changed; good input enrols, and the same file twice
enrols no one twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lotse.states.durations import Duration
from lotse.states.moments import local_date
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.conftest import LOTSE, run_lotse
from tests.postgres import fresh_database

HEADER = "given_name,family_name,nationality,employer,arrival_date"
GOOD = ["Joanna,Villareal,PHL,klinik-nord,2026-05-01", "Anjali,Menon,IND,klinik-nord,"]
Tables = Callable[[], dict[str, list[tuple[Any, ...]]]]


def write(tmp_path: Path, *lines: str, name: str = "cohort.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_enrol_opens_the_cases_and_says_how_many(alliance: Context, lotse: Lotse, tmp_path: Path) -> None:
    done = lotse("enrol", write(tmp_path, HEADER, *GOOD))

    assert done.code == 0, done.err
    assert "cohort.csv: 2 case(s) enrolled, 0 enrolled before, 0 bad row(s) skipped, of 2 row(s)" in done.out
    # the command line opens cases on the real clock, numbered by the alliance's year
    year = local_date(dt.datetime.now(dt.UTC), alliance.settings.timezone).year
    assert f"new cases: SE-{year}-0001, SE-{year}-0002" in done.out
    listed = lotse("case", "list", "--json").json()
    assert [c["ref"] for c in listed] == [f"SE-{year}-0001", f"SE-{year}-0002"]


def test_enrolling_the_same_file_again_changes_nothing(
    alliance: Context, lotse: Lotse, tables: Tables, tmp_path: Path
) -> None:
    path = write(tmp_path, HEADER, *GOOD)
    lotse("enrol", path)
    before = tables()

    again = lotse("enrol", path, "--json")

    assert again.code == 0
    assert (again.json()["enrolled"], again.json()["already_enrolled"]) == (0, 2)
    assert tables() == before


@pytest.mark.parametrize(
    ("lines", "name", "expected"),
    [
        ((HEADER, *GOOD, "Priya,Nair,IND,klinik-nord,2026-13-01", "Lina,Gharbi,TUN,nobody,",
          "Rania,Haddad,JOR,klinik-nord,", "Joanna,Villareal,PHL,klinik-nord,2026-05-01"), "cohort.csv",
         "error: cohort.csv: 3 problem(s), nothing imported: line 4: arrival_date: not a date "
         "between 1900-01-01 and 2199-12-31 (YYYY-MM-DD or DD.MM.YYYY); "
         "line 5: employer: no actor with this id; see `lotse actor list`; "
         "line 7: same person as line 2 (duplicate row)"),
        (("given_name,family_name,employer", "Priya,Nair,klinik-nord"), "cohort.csv",
         "error: cohort.csv: 1 problem(s), nothing imported: line 1: missing column(s) nationality"),
        (("given_name,family_name,nationality,employer,process", "Priya,Nair,IND,klinik-nord,altenpflege"),
         "cohort.csv", "error: cohort.csv: 1 problem(s), nothing imported: line 2: process: no such process"),
        (("",), "cohort.csv",
         "error: cohort.csv: 1 problem(s), nothing imported: cohort.csv: the file is empty"),
        ((HEADER, *GOOD), "cohort.ods",
         "error: cohort.ods: 1 problem(s), nothing imported: cohort.ods: not a CSV or XLSX file"),
    ],
)
def test_bad_input_is_one_error_line_with_every_problem_exit_2_and_nothing_changed(
    alliance: Context, lotse: Lotse, tables: Tables, tmp_path: Path, lines: tuple[str, ...], name: str,
    expected: str,
) -> None:
    before = tables()

    refused = lotse("enrol", write(tmp_path, *lines, name=name))

    assert refused.code == 2
    assert refused.error.startswith(expected)
    assert tables() == before


def test_a_missing_file_is_bad_input(alliance: Context, lotse: Lotse, tmp_path: Path) -> None:
    refused = lotse("enrol", str(tmp_path / "nowhere.csv"))

    assert (refused.code, refused.error) == (
        2, "error: nowhere.csv: 1 problem(s), nothing imported: nowhere.csv: no such file")


def test_skip_invalid_enrols_the_good_rows_and_warns_about_each_skipped_line(
    alliance: Context, lotse: Lotse, tmp_path: Path
) -> None:
    done = lotse("enrol", write(tmp_path, HEADER, *GOOD, "Priya,Nair,IND,nobody,"), "--skip-invalid")

    assert done.code == 0
    assert done.err.strip() == (
        "warning: skipped line 4: employer: no actor with this id; see `lotse actor list`")
    assert "2 case(s) enrolled, 0 enrolled before, 1 bad row(s) skipped, of 3 row(s)" in done.out


def test_enrol_json_lists_references_and_problems_but_no_names(
    alliance: Context, lotse: Lotse, tmp_path: Path
) -> None:
    refused = lotse("enrol", write(tmp_path, HEADER, *GOOD, "Priya,Nair,IND,nobody,"), "--json")

    assert refused.code == 2
    assert refused.json()["problems"] == [
        {"line": 4, "where": "line 4", "reason": "employer: no actor with this id; see `lotse actor list`"}]
    assert "Priya" not in refused.out and "Joanna" not in refused.out


def test_report_shows_counts_stalled_cases_and_transitions(
    alliance: Context, lotse: Lotse, tmp_path: Path
) -> None:
    lotse("enrol", write(tmp_path, HEADER, *GOOD))
    # The command line opens cases on the real clock, on the alliance's local day: read that day
    # back rather than guess it (near midnight, UTC and Berlin name different days).
    first = lotse("report", "--json", "--as-of", "2199-12-31").json()["stuck"][0]
    today = dt.date.fromisoformat(first["since"])
    as_of = (Duration.parse("6 months").after(today) + dt.timedelta(days=9)).isoformat()

    shown = lotse("report", "--as-of", as_of)
    data = lotse("report", "--json", "--as-of", as_of).json()

    assert shown.code == 0
    assert f"2 open case(s), as of {as_of}" in shown.out
    assert f"{first['ref']}  pflege   recruited  {today.isoformat()}  6 months  9" in shown.out
    assert data["by_employer"] == [{"employer": "klinik-nord", "open": 2}]
    assert "Joanna" not in shown.out


@pytest.mark.parametrize("command", ["report", "check"])
def test_report_and_check_read_a_day_alike_and_refuse_a_bad_one_alike(
    alliance: Context, lotse: Lotse, command: str
) -> None:
    refused = lotse(command, "--as-of", "soon")
    read = lotse(command, "--as-of", " 2026-03-05 ")  # pasted with spaces around it

    assert (refused.code, refused.error) == (
        2, "error: --as-of 'soon' is not a date between 1900-01-01 and 2199-12-31 (YYYY-MM-DD or DD.MM.YYYY)")
    assert read.code == 0 and "on 2026-03-05" in read.out.replace("as of", "on")


@pytest.mark.parametrize("command", [["report"], ["enrol", "cohort.csv"]])
def test_a_prefect_api_url_that_does_not_answer_is_refused_before_anything_runs(
    alliance: Context, lotse: Lotse, tables: Tables, tmp_path: Path, command: list[str]
) -> None:
    write(tmp_path, HEADER, *GOOD)
    before = tables()

    refused = lotse(*command[:1], *[str(tmp_path / c) for c in command[1:]],
                    env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})

    assert (refused.code, refused.error) == (
        1, "error: PREFECT_API_URL http://127.0.0.1:9/api does not answer; start `lotse up`, or unset it "
           "to run without Prefect")
    assert tables() == before


def test_an_agency_may_not_enrol_a_person_from_a_who_safeguards_list_country(
    alliance: Context, lotse: Lotse, tables: Tables, tmp_path: Path
) -> None:
    before = tables()

    refused = lotse("enrol", write(tmp_path, HEADER, GOOD[0], "Kwame,Mensah,GHA,klinik-nord,"),
                    "--by", "vermittlung")

    assert refused.code == 2
    assert refused.error.endswith(
        "line 3: nationality: § 38 BeschV: a private agency may not place from this country "
        "(WHO safeguards list); the employer opens it")
    assert "Ghana" not in refused.err and "GHA" not in refused.err
    assert tables() == before
    assert lotse("enrol", write(tmp_path, HEADER, GOOD[0], "Kwame,Mensah,GHA,klinik-nord,")).code == 0


def test_a_region_that_is_not_a_plain_name_is_a_problem_without_its_value(
    alliance: Context, lotse: Lotse, tables: Tables, tmp_path: Path
) -> None:
    before = tables()

    refused = lotse("enrol", write(tmp_path, f"{HEADER},region", f"{GOOD[0]},SE;actor=koord",
                                   f"{GOOD[1]},SE-Nord"))

    assert refused.code == 2
    assert refused.error.endswith(
        "line 2: region: use letters, digits, '-' or '_', at most 64 characters (e.g. SE-Nord)")
    assert "actor=koord" not in refused.err
    assert tables() == before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_same_file_imported_twice_at_once_enrols_everyone_once(
    tmp_path: Path, home: Path, database: str
) -> None:
    with contextlib.ExitStack() as stack:
        env = {}
        if database == "postgresql":
            env["LOTSE_DATABASE_URL"] = stack.enter_context(fresh_database())
        assert run_lotse(home, "init", env=env).returncode == 0
        assert run_lotse(home, "actor", "add", "klinik-nord", "--name", "Klinik Nord", "--role",
                         "employer", "--region", "SE-Nord", env=env).returncode == 0
        # Enough rows that both imports check theirs before either writes.
        path = write(tmp_path, HEADER, *(f"Person{n},Family{n},PHL,klinik-nord," for n in range(400)))

        both = [_start_lotse(home, "enrol", path, "--json", env=env) for _ in range(2)]
        outcomes = [(*p.communicate(timeout=120), p.returncode) for p in both]
        listed = run_lotse(home, "case", "list", "--json", env=env)

    assert [code for _, _, code in outcomes] == [0, 0], [err for _, err, _ in outcomes]
    assert not any("Traceback" in err for _, err, _ in outcomes)
    counts = sorted((json.loads(out)["enrolled"], json.loads(out)["already_enrolled"])
                    for out, _, _ in outcomes)
    assert counts == [(0, 400), (400, 0)]
    assert len(json.loads(listed.stdout)) == 400


def _start_lotse(home: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    environment.update({"LOTSE_HOME": str(home), **env})
    return subprocess.Popen([*LOTSE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment)

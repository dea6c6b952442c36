"""`lotse cost add`, `cost list` and `cost report` through the real command line, on SQLite and
PostgreSQL: a case's cost and a cohort's (by a file of references or a month) split per case or
per employer, to the cent; amounts exact (integer cents underneath, no float, no warning); the
report's figures on a hand-computed set; bad input one `error:` line with nothing written; an
employer only for its own cases and paying itself; the person never pays; erasure keeps the
costs, the person's export shows them."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lotse.config.settings import Settings
from lotse.states.process import load_file
from lotse.tasks import cost_report
from tests.cli.backends import ok
from tests.cli.conftest import Lotse, Outcome
from tests.postgres import fresh_database
from tests.requirements import meeting_texts, path_to
from tests.tables import dump
from tests.versions import PFLEGE_V1, write_pflege_v1

Tables = Callable[[], dict[str, list[tuple[Any, ...]]]]

PROGRAMMES = """\
programmes:
  land-sprache:
    title: {de: Landesprogramm Sprachförderung, en: State language programme}
    rules: Kursgebühren berufsbezogener Deutschkurse, ab 2025.
    source: Förderrichtlinie vom 2024-11-01
    categories: [language_course]
    from: 2025-01-01
  kreis-fonds:
    title: Willkommensfonds des Kreises
    rules: Integrationsbegleitung und Kautionen.
    source: Kreistagsbeschluss 2024/17
"""


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """The alliance's folder: the frozen pflege v1 (the shipped file moves on) and its programmes."""
    folder = tmp_path / "own"
    write_pflege_v1(folder)
    (tmp_path / "programmes.yaml").write_text(PROGRAMMES, encoding="utf-8")
    return folder


@pytest.fixture
def settings(home: Path, own: Path) -> Settings:
    return Settings(home=home, process_dir=own, _env_file=None)  # type: ignore[call-arg]


def use_own(lotse: Lotse, own: Path, monkeypatch: pytest.MonkeyPatch) -> Lotse:
    monkeypatch.setenv("LOTSE_PROCESS_DIR", str(own))
    monkeypatch.setenv("LOTSE_PROGRAMMES_FILE", str(own.parent / "programmes.yaml"))
    ok(lotse("actor", "add", "heim-sued", "--name", "Heim Süd", "--role", "employer", "--region", "SE-Sued"))
    return lotse


@pytest.fixture
def cli(alliance: Any, lotse: Lotse, own: Path, monkeypatch: pytest.MonkeyPatch) -> Lotse:
    """`lotse` on the alliance's SQLite database (koord, klinik-nord, ... and employer heim-sued)."""
    return use_own(lotse, own, monkeypatch)


@pytest.fixture
def on_postgres(lotse: Lotse, own: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Lotse, str]]:
    """`lotse` on a fresh PostgreSQL database set up by `lotse init`, with the same actors."""
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_database())
        monkeypatch.setenv("LOTSE_DATABASE_URL", url)
        monkeypatch.setenv("LOTSE_PROCESS_DIR", str(own))
        ok(lotse("init"))
        for actor, role, region in [("koord", "coordinator", None), ("klinik-nord", "employer", "SE-Nord"),
                                    ("vermittlung", "agency", "SE-Nord")]:
            ok(lotse("actor", "add", actor, "--name", actor.title(), "--role", role,
                     *(["--region", region] if region else [])))
        yield use_own(lotse, own, monkeypatch), url


def open_case(cli: Lotse, employer: str = "klinik-nord") -> str:
    opened = ok(cli("case", "add", "--given-name", "Maricel", "--family-name", "Dalisay",
                    "--nationality", "PHL", "--employer", employer, "--json"))
    return str(opened.json()["ref"])


def bring_to(cli: Lotse, ref: str, stage: str) -> None:
    """Meet every requirement on the shortest way to `stage`, as the coordinator."""
    v1 = load_file(PFLEGE_V1)
    for transition in path_to(v1, stage):
        if transition.requires.items:
            ok(cli("case", "done", ref, *transition.requires.items, "--by", "koord"))
        texts = meeting_texts(v1, transition)
        sets = [a for name, value in texts.items() for a in ("--set", f"{name}={value}")]
        ok(cli("case", "advance", ref, transition.event, "--by", "koord", *sets))


def add(cli: Lotse, *args: str, env: dict[str, str] | None = None) -> Outcome:
    return cli("cost", "add", *args, env=env)


def add_ok(cli: Lotse, *args: str) -> dict[str, Any]:
    return dict(ok(add(cli, *args, "--json")).json())


def cohort_file(tmp_path: Path, *refs: str, name: str = "kohorte.csv") -> str:
    path = tmp_path / name
    path.write_text("ref\n" + "\n".join(refs) + "\n", encoding="utf-8")
    return str(path)


def shares(recorded: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["ref"], s["employer"], s["amount"]) for s in recorded["shares"]]


def this_month() -> str:
    return dt.datetime.now(ZoneInfo("Europe/Berlin")).strftime("%Y-%m")


# -- a case's cost, a cohort's cost ---------------------------------------------------------------


def test_a_cases_cost_is_recorded_whole_with_a_history_row_and_listed(cli: Lotse) -> None:
    ref = open_case(cli)

    recorded = add_ok(cli, ref, "--category", "recognition_fees", "--amount", "1234,5", "--payer",
                      "klinik-nord", "--date", "2025-03-14", "--by", "klinik-nord")

    assert recorded["amount"] == "1234.50" and recorded["payer_kind"] == "employer"
    assert shares(recorded) == [(ref, "klinik-nord", "1234.50")]
    assert recorded["cohort"] is None and recorded["split"] is None
    last = ok(cli("case", "show", ref, "--json")).json()["history"][-1]
    assert (last["action"], last["actor"], last["from"], last["to"]) == ("cost", "klinik-nord", "recruited",
                                                                        "recruited")
    [row] = ok(cli("cost", "list", "--case", ref, "--json")).json()
    assert (row["id"], row["date"], row["category"], row["amount"], row["share"], row["case"]) == (
        recorded["id"], "2025-03-14", "recognition_fees", "1234.50", "1234.50", ref)
    text = ok(cli("cost", "list")).out
    assert "recognition_fees" in text and "1234.50" in text and ref in text


def test_a_cohort_cost_per_case_gives_the_first_reference_the_left_over_cent(
    cli: Lotse, tmp_path: Path,
) -> None:
    a1, a2 = open_case(cli), open_case(cli)
    b1 = open_case(cli, "heim-sued")

    recorded = add_ok(cli, "--cohort", cohort_file(tmp_path, b1, a2, a1), "--category", "travel",
                      "--amount", "100.00", "--payer", "koord", "--date", "2025-04-01", "--by", "koord")

    assert shares(recorded) == [(a1, "klinik-nord", "33.34"), (a2, "klinik-nord", "33.33"),
                                (b1, "heim-sued", "33.33")]
    assert sum(Decimal(s["amount"]) for s in recorded["shares"]) == Decimal("100.00")
    assert recorded["split"] == "per_case" and recorded["payer_kind"] == "alliance"
    assert recorded["cohort"].startswith("list-") and "kohorte" not in recorded["cohort"]
    for ref in (a1, a2, b1):  # a history row on every case the cost touches
        assert ok(cli("case", "show", ref, "--json")).json()["history"][-1]["action"] == "cost"
    again = add_ok(cli, "--cohort", cohort_file(tmp_path, a1, a2, b1, name="other-name.txt"), "--category",
                   "travel", "--amount", "1", "--payer", "koord", "--date", "2025-04-01", "--by", "koord")
    assert again["cohort"] == recorded["cohort"]  # the same cases, the same tag, whatever the file's name


def test_a_cohort_cost_per_employer_is_equal_per_employer_then_per_case(cli: Lotse, tmp_path: Path) -> None:
    a1, a2, a3 = open_case(cli), open_case(cli), open_case(cli)
    b1 = open_case(cli, "heim-sued")

    recorded = add_ok(cli, "--cohort", cohort_file(tmp_path, a1, a2, a3, b1), "--split", "per_employer",
                      "--category", "travel", "--amount", "100.00", "--payer", "koord",
                      "--date", "2025-04-01", "--by", "koord")

    # heim-sued < klinik-nord: each employer 50.00; klinik-nord's 50.00 over three cases: 16.67, 16.67, 16.66
    assert shares(recorded) == [(a1, "klinik-nord", "16.67"), (a2, "klinik-nord", "16.67"),
                                (a3, "klinik-nord", "16.66"), (b1, "heim-sued", "50.00")]
    report = ok(cli("cost", "report", "--json")).json()
    by_employer = {r["employer"]: r["total"] for r in report["by_employer"]}
    assert by_employer == {"heim-sued": "50.00", "klinik-nord": "50.00"}
    [row] = ok(cli("cost", "list", "--employer", "klinik-nord", "--json")).json()
    assert (row["amount"], row["share"], row["split"], row["cases"]) == ("100.00", "50.00", "per_employer",
                                                                        sorted([a1, a2, a3, b1]))


def test_a_month_is_the_cohort_of_the_cases_opened_in_it(cli: Lotse, tables: Tables) -> None:
    refs = sorted([open_case(cli), open_case(cli, "heim-sued")])
    month = this_month()

    recorded = add_ok(cli, "--cohort", month, "--category", "travel", "--amount", "0.03", "--payer", "koord",
                      "--date", "2025-04-01", "--by", "koord")

    assert recorded["cohort"] == month
    assert shares(recorded) == [(refs[0], "klinik-nord", "0.02"), (refs[1], "heim-sued", "0.01")]
    before = tables()
    empty = add(cli, "--cohort", "2001-01", "--category", "travel", "--amount", "5", "--payer", "koord",
                "--date", "2025-04-01", "--by", "koord")
    assert empty.code == 2 and "no case was opened in that month" in empty.error
    assert tables() == before


def test_the_same_cost_twice_is_refused_unless_again(cli: Lotse, tables: Tables) -> None:
    ref = open_case(cli)
    args = [ref, "--category", "travel", "--amount", "250", "--payer", "koord", "--by", "koord"]
    first = add_ok(cli, *args, "--date", "2025-05-01")
    before = tables()

    twice = add(cli, *args, "--date", "01.05.2025")

    assert twice.code == 1 and twice.error == (
        f"error: cost {first['id']} records the same already (day, category, amount, payer); nothing was "
        "written. If it is a second cost alike, add --again")
    assert tables() == before
    assert add_ok(cli, *args, "--date", "2025-05-01", "--again")["id"] == first["id"] + 1
    assert add_ok(cli, *args, "--date", "2025-05-02")["id"] == first["id"] + 2  # another day: another cost


def test_a_cost_recorded_by_mistake_is_voided_listed_and_counted_nowhere(cli: Lotse, tables: Tables) -> None:
    ref, other = open_case(cli, "heim-sued"), open_case(cli)
    wrong = add_ok(cli, ref, "--category", "visa_fees", "--amount", "750", "--payer", "heim-sued",
                   "--date", "2025-05-01", "--by", "heim-sued")
    right = add_ok(cli, ref, "--category", "visa_fees", "--amount", "75", "--payer", "heim-sued",
                   "--date", "2025-05-01", "--by", "heim-sued")
    by_coordinator = add_ok(cli, ref, "--category", "travel", "--amount", "20", "--payer", "koord",
                            "--date", "2025-05-01", "--by", "koord")
    before = tables()

    refused = [cli("cost", "void", str(by_coordinator["id"]), "--by", "heim-sued"),
               cli("cost", "void", "999", "--by", "koord"),
               cli("cost", "void", "0", "--by", "koord")]
    assert [o.code for o in refused] == [1, 1, 2]
    assert "it was recorded by koord" in refused[0].error and "unknown cost 999" in refused[1].error
    assert tables() == before
    voided = ok(cli("cost", "void", str(wrong["id"]), "--by", "heim-sued", "--note", "750 statt 75",
                    "--json"))

    assert voided.json()["cases"] == [ref]
    again = cli("cost", "void", str(wrong["id"]), "--by", "koord")
    assert again.code == 1 and f"cost {wrong['id']} was voided already" in again.error
    report = ok(cli("cost", "report", "--json")).json()
    assert (report["total"], report["costs"]) == ("95.00", 2)
    listed = {r["id"]: r for r in ok(cli("cost", "list", "--case", ref, "--json")).json()}
    assert listed[wrong["id"]]["voided_by"] == "heim-sued" and listed[right["id"]]["voided_at"] is None
    assert "(750.00) voided" in ok(cli("cost", "list")).out
    last = ok(cli("case", "show", ref, "--json")).json()["history"][-1]
    assert (last["action"], last["note"]) == ("cost_voided", "750 statt 75")
    assert other not in str(voided.json())
    exported = json.loads(ok(cli("person", "export", ref, "--by", "koord")).out)
    assert [c["amount"] for c in exported["costs"]] == ["75.00", "20.00"]


# -- amounts are exact ----------------------------------------------------------------------------


def test_amounts_are_exact_decimals_stored_as_whole_cents_without_a_warning(cli: Lotse, home: Path) -> None:
    ref = open_case(cli)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for amount in ("0.10", "0.20"):
            add_ok(cli, ref, "--category", "other", "--amount", amount, "--payer", "koord",
                   "--date", "2025-05-01", "--by", "koord")
        report = ok(cli("cost", "report", "--json")).json()

    assert report["total"] == "0.30" and report["by_case"] == [
        {"ref": ref, "employer": "klinik-nord", "outcome": "open", "total": "0.30"}]
    assert not [w for w in caught if "Decimal" in str(w.message) or "float" in str(w.message)]
    raw = sqlite3.connect(home / "lotse.db")
    try:
        stored = raw.execute("SELECT amount_cents, typeof(amount_cents) FROM costs ORDER BY id").fetchall()
        shared = raw.execute("SELECT SUM(amount_cents) FROM cost_shares").fetchone()[0]
    finally:
        raw.close()
    assert stored == [(10, "integer"), (20, "integer")] and shared == 30


def test_the_cost_per_case_is_rounded_half_up_to_the_cent() -> None:
    assert cost_report.per_case(Decimal("100.00"), 3) == "33.33"
    assert cost_report.per_case(Decimal("0.05"), 2) == "0.03"
    assert cost_report.per_case(Decimal("200.00"), 3) == "66.67"
    assert cost_report.per_case(Decimal("5.00"), 0) is None


# -- bad input writes nothing -----------------------------------------------------------------------


BAD = [
    (["--amount", "0"], "not positive"),
    (["--amount", "0.00"], "not positive"),
    (["--amount", "-5"], "not an amount in euros"),
    (["--amount", "1.234"], "at most two decimal places"),
    (["--amount", "1e3"], "not an amount in euros"),
    (["--amount", "NaN"], "not an amount in euros"),
    (["--amount", "1.000,00"], "not an amount in euros"),
    (["--amount", "12345678901"], "not an amount in euros"),
    (["--category", "catering"], "unknown --category 'catering'; categories: recruitment_fee, travel"),
    (["--programme", "bundesprogramm"], "unknown --programme 'bundesprogramm'; programmes: land-sprache"),
    (["--payer", "nobody"], "unknown --payer 'nobody'"),
    (["--date", "2025-13-01"], "--date '2025-13-01' is not"),
    (["--date", "2099-01-01"], "is in the future"),
    (["--date", "1999-12-31"], "before 2000-01-01"),
    (["--split", "per_case"], "--split is for a cohort's cost"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[" ".join(c) for c, _ in BAD])
def test_bad_input_is_one_error_line_and_writes_nothing(
    cli: Lotse, tables: Tables, change: list[str], message: str,
) -> None:
    ref = open_case(cli)
    given = {"--category": "travel", "--amount": "10", "--payer": "koord", "--date": "2025-05-01",
             "--by": "koord"}
    given.update(dict(zip(change[::2], change[1::2], strict=True)))
    before = tables()

    outcome = add(cli, ref, *[word for pair in given.items() for word in pair])

    assert outcome.code == 2 and message in outcome.error, outcome.err
    assert tables() == before


def test_a_cohort_given_wrongly_is_bad_input_and_writes_nothing(
    cli: Lotse, tables: Tables, tmp_path: Path,
) -> None:
    ref = open_case(cli)
    common = ["--category", "travel", "--amount", "10", "--payer", "koord", "--date", "2025-05-01",
              "--by", "koord"]
    before = tables()
    cases = [
        (add(cli, *common), 2, "give a case reference or --cohort"),
        (add(cli, ref, "--cohort", "2025-05", *common), 2, "give a case reference or --cohort"),
        (add(cli, "--cohort", "Sommerkohorte", *common), 2, "neither a file of case references nor a month"),
        (add(cli, "--cohort", str(tmp_path / "fehlt.csv"), *common), 2, "--cohort fehlt.csv: no such file"),
        (add(cli, "--cohort", cohort_file(tmp_path, ref, ref), *common), 2, "line 3 repeats"),
        (add(cli, "--cohort", cohort_file(tmp_path, ref, "Maricel Dalisay"), *common), 2,
         "line 3 is not a case reference"),
        (add(cli, "--cohort", cohort_file(tmp_path, ref, "SE-2026-9999"), *common), 1,
         "unknown case 'SE-2026-9999'"),
        (add(cli, "--cohort", cohort_file(tmp_path), *common), 2, "holds no case reference"),
        (add(cli, "--cohort", cohort_file(tmp_path, ref), "--split", "per_head", *common), 2,
         "unknown --split"),
        (add(cli, "SE-2026-9999", *common), 1, "unknown case 'SE-2026-9999'"),
        (add(cli, ref, *common[:-1], "niemand"), 1, "unknown actor 'niemand'"),
    ]
    for outcome, code, message in cases:
        assert (outcome.code, message in outcome.error) == (code, True), outcome.err
        assert "Maricel" not in outcome.err
    assert tables() == before


def test_a_bad_programmes_file_names_the_file_and_the_key(cli: Lotse, tmp_path: Path) -> None:
    ref = open_case(cli)
    bad = tmp_path / "foerder.yaml"
    bad.write_text("programmes:\n  land-sprache:\n    rules: Kurse\n    source: Erlass\n", encoding="utf-8")
    common = [ref, "--category", "travel", "--amount", "10", "--payer", "koord", "--date", "2025-05-01",
              "--by", "koord"]

    outcome = add(cli, *common, env={"LOTSE_PROGRAMMES_FILE": str(bad)})
    assert outcome.code == 2 and outcome.error.startswith(f"error: {bad}: programmes.land-sprache.title:")
    bad.write_text("programmes:\n  x:\n    title: X\n    rules: R\n    source: S\n    categories: [food]\n")
    outcome = add(cli, *common, env={"LOTSE_PROGRAMMES_FILE": str(bad)})
    assert outcome.code == 2 and "programmes.x.categories: unknown category 'food'" in outcome.error
    missing = add(cli, *common, env={"LOTSE_PROGRAMMES_FILE": str(tmp_path / "nicht-da.yaml")})
    assert missing.code == 2 and "nicht-da.yaml: no such file (LOTSE_PROGRAMMES_FILE)" in missing.error
    report = cli("cost", "report", env={"LOTSE_PROGRAMMES_FILE": str(bad)})
    assert report.code == 2 and str(bad) in report.error


def test_the_doctor_checks_the_programmes_file(cli: Lotse, own: Path, tmp_path: Path) -> None:
    good = [c for c in cli("doctor", "--json").json() if c["name"] == "programmes"]
    bad = tmp_path / "foerder.yaml"
    bad.write_text("programmes:\n  Land Sprache:\n    title: X\n", encoding="utf-8")

    broken = cli("doctor", "--json", env={"LOTSE_PROGRAMMES_FILE": str(bad)})

    assert [(c["status"], c["detail"]) for c in good] == [
        ("ok", f"2 funding programme(s) in {own.parent / 'programmes.yaml'}")]
    [check] = [c for c in broken.json() if c["name"] == "programmes"]
    assert broken.code == 1 and check["status"] == "fail"
    assert check["detail"].startswith(f"{bad}: programmes.Land Sprache: an id is lower case letters")


def test_the_shipped_examples_are_marked_and_warned_about(
    alliance: Any, lotse: Lotse, own: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTSE_PROCESS_DIR", str(own))  # no LOTSE_PROGRAMMES_FILE: the shipped examples
    ref = open_case(lotse)

    outcome = ok(lotse("cost", "add", ref, "--category", "language_course", "--amount", "480", "--payer",
                       "koord", "--programme", "sprachfoerderung-land", "--date", "2025-05-01",
                       "--by", "koord"))

    assert "warning: programme 'sprachfoerderung-land' is an example shipped with Lotse" in outcome.err
    [row] = ok(lotse("cost", "report", "--json")).json()["by_programme"]
    assert row["example"] is True and "(Beispiel)" in row["title"]


# -- who may record, who may pay --------------------------------------------------------------------


def test_an_employer_records_costs_of_its_own_cases_that_it_pays_itself(
    cli: Lotse, tables: Tables, tmp_path: Path,
) -> None:
    own_case, other = open_case(cli, "heim-sued"), open_case(cli)
    common = ["--category", "visa_fees", "--amount", "75", "--date", "2025-05-01", "--by", "heim-sued"]
    before = tables()

    foreign = add(cli, other, "--payer", "heim-sued", *common)
    paid_by_other = add(cli, own_case, "--payer", "klinik-nord", *common)
    by_alliance = add(cli, own_case, "--payer", "koord", *common)
    mixed = add(cli, "--cohort", cohort_file(tmp_path, own_case, other), "--payer", "heim-sued", *common)
    agency = add(cli, own_case, "--payer", "koord", *common[:-1], "vermittlung")

    assert foreign.code == 1 and foreign.error == (
        f"error: actor 'heim-sued' may not act on {other}: the case is of employer klinik-nord, and an "
        "employer acts on its own cases only")
    assert paid_by_other.code == by_alliance.code == 1
    assert "records the costs it pays itself" in paid_by_other.error
    assert mixed.code == 1 and f"may not act on {other}" in mixed.error
    assert agency.code == 1 and "may not record costs" in agency.error
    assert tables() == before
    recorded = add_ok(cli, own_case, "--payer", "heim-sued", *common)
    assert shares(recorded) == [(own_case, "heim-sued", "75.00")]


@pytest.mark.parametrize("payer", ["person", "Worker", "self", "case-ref"])
def test_the_person_never_pays_recruiting_costs(cli: Lotse, tables: Tables, payer: str) -> None:
    ref = open_case(cli)
    before = tables()

    outcome = add(cli, ref, "--category", "recruitment_fee", "--amount", "2500", "--payer",
                  ref if payer == "case-ref" else payer, "--date", "2025-05-01", "--by", "koord")

    assert outcome.code == 1 and "the worker pays no recruitment costs" in outcome.error
    assert "Faire Anwerbung Pflege Deutschland" in outcome.error
    assert tables() == before


def test_only_an_employer_the_alliance_or_a_programme_pays(cli: Lotse, tables: Tables) -> None:
    ref = open_case(cli)
    before = tables()

    agency = add(cli, ref, "--category", "recruitment_fee", "--amount", "2500", "--payer", "vermittlung",
                 "--date", "2025-05-01", "--by", "koord")

    assert agency.code == 1 and "--payer 'vermittlung' (agency) does not pay recruiting costs" in agency.error
    assert tables() == before


def test_a_programme_funds_only_its_categories_and_days(cli: Lotse, tables: Tables) -> None:
    ref = open_case(cli)
    before = tables()

    wrong_category = add(cli, ref, "--category", "travel", "--amount", "10", "--payer", "land-sprache",
                         "--date", "2025-05-01", "--by", "koord")
    too_early = add(cli, ref, "--category", "language_course", "--amount", "10", "--payer", "koord",
                    "--programme", "land-sprache", "--date", "2024-12-31", "--by", "koord")
    two_programmes = add(cli, ref, "--category", "language_course", "--amount", "10", "--payer",
                         "land-sprache", "--programme", "kreis-fonds", "--date", "2025-05-01",
                         "--by", "koord")

    assert wrong_category.code == 1 and wrong_category.error == (
        "error: programme 'land-sprache' funds language_course only, not travel (its rules: Förderrichtlinie "
        "vom 2024-11-01)")
    assert too_early.code == 1 and "funds costs from 2025-01-01 on, not 2024-12-31" in too_early.error
    assert two_programmes.code == 2
    assert "a programme that pays is the programme charged" in two_programmes.error
    assert tables() == before
    funded = add_ok(cli, ref, "--category", "language_course", "--amount", "10", "--payer", "land-sprache",
                    "--date", "2025-05-01", "--by", "koord")
    assert (funded["payer_kind"], funded["programme"]) == ("programme", "land-sprache")
    assert "warning" not in cli("cost", "list").err  # the alliance's own programmes: no example


# -- the report on a known set ----------------------------------------------------------------------


def known_set(cli: Lotse, tmp_path: Path) -> dict[str, str]:
    """Three cases: A1 of klinik-nord integrated, A2 of klinik-nord open, B1 of heim-sued
    withdrawn, and five costs (see `expected`), plus a sixth dated after the others."""
    a1, a2 = open_case(cli), open_case(cli)
    b1 = open_case(cli, "heim-sued")
    common = ["--date", "2025-03-01", "--by", "koord"]
    add_ok(cli, a1, "--category", "recruitment_fee", "--amount", "3000", "--payer", "klinik-nord", *common)
    add_ok(cli, b1, "--category", "visa_fees", "--amount", "75.00", "--payer", "heim-sued", *common)
    add_ok(cli, "--cohort", cohort_file(tmp_path, a1, a2, b1), "--split", "per_employer", "--category",
           "travel", "--amount", "900", "--payer", "koord", *common)
    add_ok(cli, a2, "--category", "language_course", "--amount", "1200", "--payer", "land-sprache", *common)
    add_ok(cli, "--cohort", cohort_file(tmp_path, b1, a1, name="zwei.csv"), "--category",
           "integration_support", "--amount", "100", "--payer", "koord", "--programme", "kreis-fonds",
           *common)
    add_ok(cli, a2, "--category", "other", "--amount", "9.99", "--payer", "koord", "--date", "2025-06-01",
           "--by", "koord")
    bring_to(cli, a1, "integrated")
    bring_to(cli, b1, "withdrawn")
    return {"A1": a1, "A2": a2, "B1": b1}


def expected(refs: dict[str, str]) -> dict[str, Any]:
    """The report as of 2025-05-31, by hand (every case was still open then: they close today).
    Travel 900 per employer is 450 each (A1 225, A2 225; B1 450); integration support 100 per
    case is 50 each (A1, B1). A1 3000 + 225 + 50 = 3275; A2 225 + 1200 = 1425; B1 75 + 450 + 50
    = 575. Savings: travel (2 - 1) * 900, integration support (2 - 1) * 100. The 9.99 of June
    comes later."""
    nothing = {"cases": 0, "total": "0.00", "per_case": None}
    return {
        "as_of": "2025-05-31", "currency": "EUR", "total": "5275.00", "costs": 5, "cases": 3,
        "by_employer": [
            {"employer": "heim-sued", "total": "575.00",
             "by_category": {"travel": "450.00", "visa_fees": "75.00", "integration_support": "50.00"},
             "funded": "50.00", "paid_itself": "75.00", "saving": "500.00"},
            {"employer": "klinik-nord", "total": "4700.00",
             "by_category": {"recruitment_fee": "3000.00", "travel": "450.00", "language_course": "1200.00",
                             "integration_support": "50.00"},
             "funded": "1250.00", "paid_itself": "3000.00", "saving": "500.00"},
        ],
        "by_category": [
            {"category": "recruitment_fee", "title": "Vermittlungsgebühr", "total": "3000.00"},
            {"category": "travel", "title": "Reisekosten", "total": "900.00"},
            {"category": "visa_fees", "title": "Visagebühren", "total": "75.00"},
            {"category": "language_course", "title": "Sprachkurs", "total": "1200.00"},
            {"category": "integration_support", "title": "Integrationsbegleitung", "total": "100.00"},
        ],
        "by_programme": [
            {"programme": "kreis-fonds", "title": "Willkommensfonds des Kreises", "example": False,
             "total": "100.00"},
            {"programme": "land-sprache", "title": "Landesprogramm Sprachförderung", "example": False,
             "total": "1200.00"},
            {"programme": None, "title": None, "example": False, "total": "3975.00"},
        ],
        "by_payer": [
            {"payer": "heim-sued", "kind": "employer", "total": "75.00"},
            {"payer": "klinik-nord", "kind": "employer", "total": "3000.00"},
            {"payer": "koord", "kind": "alliance", "total": "1000.00"},
            {"payer": "land-sprache", "kind": "programme", "total": "1200.00"},
        ],
        "saving": {"total": "1000.00", "costs": [
            {"cost": 3, "date": "2025-03-01", "category": "travel", "split": "per_employer",
             "amount": "900.00", "employers": 2, "saving": "900.00"},
            {"cost": 5, "date": "2025-03-01", "category": "integration_support",
             "split": "per_case", "amount": "100.00", "employers": 2, "saving": "100.00"},
        ]},
        "by_case": sorted([
            {"ref": refs["A1"], "employer": "klinik-nord", "outcome": "open", "total": "3275.00"},
            {"ref": refs["A2"], "employer": "klinik-nord", "outcome": "open", "total": "1425.00"},
            {"ref": refs["B1"], "employer": "heim-sued", "outcome": "open", "total": "575.00"},
        ], key=lambda c: c["ref"]),
        "outcomes": {
            "integrated": nothing, "withdrawn": nothing,
            "open": {"cases": 3, "total": "5275.00", "per_case": "1758.33"},  # 5275 / 3 = 1758.333...
            "integrated_with_withdrawn": nothing,
            "cases_without_costs": {"integrated": 0, "withdrawn": 0, "open": 0},
        },
    }


def check_report(report: dict[str, Any], refs: dict[str, str]) -> None:
    """The report as of 2025-05-31 as `expected`; each cohort's tag is a digest of its cases."""
    for cost in report["saving"]["costs"]:
        assert cost.pop("cohort").startswith("list-")
    assert report == expected(refs)


def check_today(report: dict[str, Any], refs: dict[str, str]) -> None:
    """Judged today, A1 is integrated and B1 withdrawn; A2 is open with the June 9.99 besides."""
    assert (report["total"], report["costs"]) == ("5284.99", 6)
    assert report["outcomes"] == {
        "integrated": {"cases": 1, "total": "3275.00", "per_case": "3275.00"},
        "withdrawn": {"cases": 1, "total": "575.00", "per_case": "575.00"},
        "open": {"cases": 1, "total": "1434.99", "per_case": "1434.99"},
        # what the withdrawn case cost, carried by the integrated one: (3275 + 575) / 1
        "integrated_with_withdrawn": {"cases": 1, "total": "3850.00", "per_case": "3850.00"},
        "cases_without_costs": {"integrated": 0, "withdrawn": 0, "open": 0},
    }
    outcome = {c["ref"]: c["outcome"] for c in report["by_case"]}
    assert outcome == {refs["A1"]: "integrated", refs["A2"]: "open", refs["B1"]: "withdrawn"}


def test_the_report_on_a_known_set(cli: Lotse, tmp_path: Path) -> None:
    refs = known_set(cli, tmp_path)
    open_case(cli)  # opened today without a cost: counted apart today, not yet as of 2025

    then = ok(cli("cost", "report", "--as-of", "2025-05-31", "--json")).json()
    today = ok(cli("cost", "report", "--json")).json()
    text = ok(cli("cost", "report")).out

    check_report(then, refs)
    assert today["outcomes"].pop("cases_without_costs") == {"integrated": 0, "withdrawn": 0, "open": 1}
    check_today(today | {"outcomes": {**today["outcomes"], "cases_without_costs": {
        "integrated": 0, "withdrawn": 0, "open": 0}}}, refs)
    assert "5284.99 EUR in 6 cost(s) for 3 case(s)" in text and "Saved by sharing: 1000.00 EUR" in text
    assert "Maricel" not in text and "Dalisay" not in text


def test_the_cost_table_has_a_row_per_employer_and_one_for_all(cli: Lotse, tmp_path: Path) -> None:
    refs = known_set(cli, tmp_path)
    report = ok(cli("cost", "report", "--as-of", "2025-05-31", "--json")).json()

    rows = cost_report.cost_table(report)

    assert rows[-1] == {"employer": "(all)", "recruitment_fee": "3000.00", "travel": "900.00",
                        "visa_fees": "75.00", "language_course": "1200.00", "integration_support": "100.00",
                        "total": "5275.00", "funded": "1300.00", "saving": "1000.00"}
    assert rows[0] == {"employer": "heim-sued", "recruitment_fee": "0.00", "travel": "450.00",
                       "visa_fees": "75.00", "language_course": "0.00", "integration_support": "50.00",
                       "total": "575.00", "funded": "50.00", "saving": "500.00"}
    assert not any(ref in str(rows) for ref in refs.values())


# -- the person's rights ---------------------------------------------------------------------------


def test_erasure_keeps_the_costs_and_the_export_shows_them(cli: Lotse, tmp_path: Path) -> None:
    refs = known_set(cli, tmp_path)
    before = ok(cli("cost", "report", "--json")).json()

    exported = json.loads(ok(cli("person", "export", refs["B1"], "--by", "koord")).out)
    page = ok(cli("person", "export", refs["B1"], "--by", "koord", "--format", "html")).out
    ok(cli("person", "erase", refs["B1"], "--reason", "Antrag nach Art. 17 DSGVO", "--by", "koord"))

    assert [(c["category"], c["share"], c["payer"]) for c in exported["costs"]] == [
        ("visa_fees", "75.00", "heim-sued"), ("travel", "450.00", "koord"),
        ("integration_support", "50.00", "koord")]
    assert "<h2>Kosten / Costs</h2>" in page and "<td>450.00</td>\n<td>900.00</td><td>koord</td>" in page
    after = ok(cli("cost", "report", "--json")).json()
    assert after == before
    listed = ok(cli("cost", "list", "--case", refs["B1"], "--json")).json()
    [visa] = [r for r in listed if r["category"] == "visa_fees"]
    assert visa["amount"] == "75.00"
    late = add_ok(cli, refs["B1"], "--category", "other", "--amount", "12.00", "--payer", "heim-sued",
                  "--date", "2025-08-01", "--by", "koord")  # a closed case takes a late invoice
    assert shares(late) == [(refs["B1"], "heim-sued", "12.00")]


def test_the_privacy_record_names_the_costs_beside_the_names(cli: Lotse) -> None:
    record = ok(cli("privacy", "record", "--format", "json")).json()

    for process in record["processes"]:
        fields = [f["field"] for f in process["personal_data"]]
        assert "cost_shares.amount" in fields and "given_name" in fields


def test_titles_follow_the_locale(cli: Lotse) -> None:
    ref = open_case(cli)
    add_ok(cli, ref, "--category", "language_course", "--amount", "10", "--payer", "land-sprache",
           "--date", "2025-05-01", "--by", "koord")

    report = ok(cli("cost", "report", "--json", env={"LOTSE_LOCALE": "en"})).json()

    assert report["by_category"] == [
        {"category": "language_course", "title": "Language course", "total": "10.00"}]
    assert report["by_programme"][0]["title"] == "State language programme"


# -- PostgreSQL ------------------------------------------------------------------------------------


def test_on_postgresql_splits_exact_amounts_the_report_and_refusals(
    on_postgres: tuple[Lotse, str], tmp_path: Path,
) -> None:
    cli, url = on_postgres
    refs = known_set(cli, tmp_path)

    check_report(ok(cli("cost", "report", "--as-of", "2025-05-31", "--json")).json(), refs)
    check_today(ok(cli("cost", "report", "--json")).json(), refs)
    ref = refs["A2"]
    for amount in ("0.10", "0.20"):
        add_ok(cli, ref, "--category", "other", "--amount", amount, "--payer", "koord",
               "--date", "2025-07-01", "--by", "koord")
    split = add_ok(cli, "--cohort", cohort_file(tmp_path, *refs.values(), name="drei.csv"), "--category",
                   "travel", "--amount", "100.00", "--payer", "koord", "--date", "2025-07-01",
                   "--by", "koord")
    assert [s["amount"] for s in split["shares"]] == ["33.34", "33.33", "33.33"]
    rows = ok(cli("cost", "list", "--case", ref, "--json")).json()
    july = [Decimal(r["share"]) for r in rows if r["date"] == "2025-07-01" and r["category"] == "other"]
    assert sum(july) == Decimal("0.30")
    before = dump(url)
    refused = [
        add(cli, ref, "--category", "travel", "--amount", "1.005", "--payer", "koord", "--date", "2025-07-01",
            "--by", "koord"),
        add(cli, ref, "--category", "travel", "--amount", "10", "--payer", ref, "--date", "2025-07-01",
            "--by", "koord"),
        add(cli, ref, "--category", "travel", "--amount", "10", "--payer", "heim-sued",
            "--date", "2025-07-01", "--by", "heim-sued"),
    ]
    assert [o.code for o in refused] == [2, 1, 1] and all(o.error for o in refused)
    assert dump(url) == before
    total = Decimal(ok(cli("cost", "report", "--json")).json()["total"])
    ok(cli("cost", "void", str(split["id"]), "--by", "koord"))
    assert Decimal(ok(cli("cost", "report", "--json")).json()["total"]) == total - Decimal("100.00")

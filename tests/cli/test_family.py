"""`lotse family` through the real command line: recording a family member opens its needs as
checklist items with deadlines and tells their owners; a child's Kita place reminder climbs its
ladder with `lotse check` and closes when ticked; no message holds a member's name or birth year;
bad input and refusals write nothing; an employer records family only on its own cases; the same
on PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from lotse.states.durations import add_months
from lotse.tasks import directory
from lotse.tasks.context import Context
from tests.cli.backends import ok
from tests.cli.conftest import Lotse, Outcome
from tests.postgres import fresh_database
from tests.tables import dump

Tables = Callable[[], dict[str, list[tuple[Any, ...]]]]
CHILD, SPOUSE = "Leyla", "Ramon"
TODAY = dt.date.today()
# A child who comes a year from now, two years old then: a Kita place, due 3 months before.
ARRIVES = dt.date(TODAY.year + 1, TODAY.month, 1)
BORN = ARRIVES.year - 2
KITA_DUE = add_months(ARRIVES, -3)
KITA = "family_child1_kita_place"


@pytest.fixture
def family_offices(alliance: Context) -> Context:
    """The alliance with a youth office, a school office, a job centre and a second care home."""
    for actor_id, name, roles in [("jugendamt", "Jugendamt Kreis", ["childcare"]),
                                  ("schulamt", "Schulamt Kreis", ["school"]),
                                  ("jobcenter", "Agentur für Arbeit", ["job_centre"]),
                                  ("heim-sued", "Pflegeheim Süd", ["employer"])]:
        directory.add_actor(alliance, actor_id, name=name, roles=roles, region="SE-Nord",
                            email=f"{actor_id}@example.org")
    return alliance


def add_child(lotse: Lotse, ref: str, *more: str, by: str = "koord") -> Outcome:
    return lotse("family", "add", ref, "--relation", "child", "--given-name", CHILD,
                 "--birth-year", str(BORN), "--arrives", ARRIVES.isoformat(), "--by", by, *more)


def outbox_rows(url: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(
                text("SELECT recipient, subject, body, dedup_key FROM outbox ORDER BY id"))]
    finally:
        engine.dispose()


def sqlite(ctx: Context) -> str:
    return ctx.db.engine.url.render_as_string(hide_password=False)


# -- recording and reading -------------------------------------------------------------------------


def test_family_add_opens_each_need_as_an_item_with_its_owner_and_due_date(
    family_offices: Context, lotse: Lotse, case_ref: str,
) -> None:
    child = ok(add_child(lotse, case_ref, "--json")).json()
    spouse = ok(lotse("family", "add", case_ref, "--relation", "spouse", "--given-name", SPOUSE,
                      "--by", "klinik-nord", "--json")).json()

    assert child["label"] == "Kind 1" and child["relation"] == "child"
    assert [(n["item"], n["owner"], n["due"]) for n in child["needs"]] == [
        (KITA, "childcare", KITA_DUE.isoformat()),
        ("family_child1_reunification_visa", "foreigners_office", KITA_DUE.isoformat()),
    ]
    assert child["needs"][0]["title"] == "Kita-Platz (Kind 1)"
    # a partner here already: both needs are due counted from the day recorded (no arrival date yet)
    assert [(n["item"], n["owner"]) for n in spouse["needs"]] == [
        ("family_spouse_language_course", "counsellor"), ("family_spouse_job_search", "job_centre")]
    assert all(dt.date.fromisoformat(n["due"]) > TODAY for n in spouse["needs"])


def test_family_list_and_case_show_give_the_members_with_names_and_needs(
    family_offices: Context, lotse: Lotse, case_ref: str,
) -> None:
    ok(add_child(lotse, case_ref))
    ok(lotse("family", "add", case_ref, "--relation", "spouse", "--given-name", SPOUSE, "--by", "beratung"))

    listed = ok(lotse("family", "list", case_ref, "--json")).json()
    shown = ok(lotse("case", "show", case_ref, "--json")).json()
    text_list = ok(lotse("family", "list", case_ref)).out
    text_show = ok(lotse("case", "show", case_ref)).out

    assert listed["family"] == shown["family"]
    child, spouse = shown["family"]
    assert {k: child[k] for k in ("relation", "given_name", "birth_year", "arrives")} == {
        "relation": "child", "given_name": CHILD, "birth_year": BORN, "arrives": ARRIVES.isoformat()}
    assert {k: spouse[k] for k in ("relation", "given_name", "birth_year", "arrives")} == {
        "relation": "spouse", "given_name": SPOUSE, "birth_year": None, "arrives": None}
    assert child["needs"][0] == {"item": KITA, "title": "Kita-Platz (Kind 1)", "owner": "childcare",
                                 "done": False, "due": KITA_DUE.isoformat()}
    assert {d["deadline"] for d in shown["deadlines"]} >= {KITA, "family_spouse_job_search"}
    assert [h["action"] for h in shown["history"]][-2:] == ["family_add", "family_add"]
    assert f"Kind 1: {CHILD} (child, born {BORN}, arrives {ARRIVES.isoformat()})" in text_list
    assert "Family:" in text_show and f"[ ] {KITA} (childcare, due {KITA_DUE.isoformat()})" in text_show


def test_the_history_row_names_no_member(family_offices: Context, lotse: Lotse, case_ref: str) -> None:
    ok(add_child(lotse, case_ref))

    history = dump(sqlite(family_offices))["history"]

    assert CHILD not in str(history) and str(BORN) not in str(history[-1])
    assert "'relation': 'child', 'number': 1" in str(history[-1])


def test_a_school_child_gets_a_school_place_and_a_toddler_a_kita_place_and_a_baby_neither(
    family_offices: Context, lotse: Lotse, case_ref: str,
) -> None:
    def needs(year: int) -> list[str]:
        added = ok(lotse("family", "add", case_ref, "--relation", "child", "--given-name", "K",
                         "--birth-year", str(year), "--by", "koord", "--json")).json()
        return [n["item"].split("_", 2)[2] for n in added["needs"]]

    assert needs(TODAY.year - 8) == ["school_place"]
    assert needs(TODAY.year - 3) == ["kita_place"]
    assert needs(TODAY.year) == []  # under one: no legal claim yet
    assert needs(TODAY.year - 18) == []


def test_the_kita_places_lead_time_is_the_setting_lotse_childcare_lead_months(
    family_offices: Context, lotse: Lotse, case_ref: str,
) -> None:
    added = lotse("family", "add", case_ref, "--relation", "child", "--given-name", CHILD, "--birth-year",
                  str(BORN), "--arrives", ARRIVES.isoformat(), "--by", "koord", "--json",
                  env={"LOTSE_CHILDCARE_LEAD_MONTHS": "5"})

    needs = {n["item"]: n["due"] for n in ok(added).json()["needs"]}
    assert needs[KITA] == max(add_months(ARRIVES, -5), TODAY).isoformat()
    assert needs["family_child1_reunification_visa"] == KITA_DUE.isoformat()  # its own 3 months


# -- messages and reminders ------------------------------------------------------------------------


def test_the_owners_of_the_new_needs_are_told_by_relation_and_number_only(
    family_offices: Context, lotse: Lotse, case_ref: str,
) -> None:
    before = len(outbox_rows(sqlite(family_offices)))
    ok(add_child(lotse, case_ref))
    ok(lotse("family", "add", case_ref, "--relation", "spouse", "--given-name", SPOUSE,
             "--birth-year", str(TODAY.year - 30), "--by", "koord"))

    rows = outbox_rows(sqlite(family_offices))[before:]

    assert sorted(r["recipient"] for r in rows) == [
        "abh-nord", "beratung", "jobcenter", "jugendamt"]
    kita = next(r for r in rows if r["recipient"] == "jugendamt")
    assert "Kind 1" in kita["subject"] and "Kita-Platz (Kind 1)" in kita["body"]
    assert KITA_DUE.strftime("%d.%m.%Y") in kita["body"]
    assert "Visum" not in kita["body"]  # the youth office is told only of what it owns
    spouse = next(r for r in rows if r["recipient"] == "jobcenter")
    assert "Partner/in" in spouse["subject"]
    for row in rows:
        message = row["subject"] + row["body"]
        assert CHILD not in message and SPOUSE not in message
        assert str(BORN) not in message and str(TODAY.year - 30) not in message
        assert "Dalisay" not in message  # the case's family name is never in a message


def test_the_kita_reminder_climbs_its_ladder_and_closes_when_ticked(
    family_offices: Context, lotse: Lotse, case_ref: str,
) -> None:
    ok(add_child(lotse, case_ref))
    url = sqlite(family_offices)
    before = len(outbox_rows(url))

    early = ok(lotse("check", "--as-of", (KITA_DUE - dt.timedelta(days=1)).isoformat(), "--json")).json()
    first = ok(lotse("check", "--as-of", KITA_DUE.isoformat(), "--json")).json()
    level_1 = outbox_rows(url)[before:]
    second = ok(lotse("check", "--as-of", (KITA_DUE + dt.timedelta(days=14)).isoformat(), "--json")).json()
    level_2 = outbox_rows(url)[before + len(level_1):]

    assert KITA not in {f["deadline"] for f in early}
    kita = next(f for f in first if f["deadline"] == KITA)
    assert (kita["level"], kita["role"], kita["reminded"]) == (1, "childcare", True)
    assert [r["recipient"] for r in level_1 if KITA in r["dedup_key"]] == ["jugendamt"]
    up = next(f for f in second if f["deadline"] == KITA)
    assert (up["level"], up["role"], up["reminded"]) == (2, "coordinator", True)
    assert [r["recipient"] for r in level_2 if KITA in r["dedup_key"]] == ["koord"]
    reminder = next(r for r in level_1 if KITA in r["dedup_key"])
    assert "Kita-Platz (Kind 1)" in reminder["subject"] and "§ 24" in reminder["body"]
    for row in level_1 + level_2:
        assert CHILD not in row["subject"] + row["body"] and str(BORN) not in row["subject"] + row["body"]

    ok(lotse("case", "done", case_ref, KITA, "--by", "jugendamt"))
    after = ok(lotse("check", "--as-of", (KITA_DUE + dt.timedelta(days=60)).isoformat(), "--json")).json()
    shown = ok(lotse("case", "show", case_ref, "--json")).json()

    assert KITA not in {f["deadline"] for f in after}
    assert KITA not in {d["deadline"] for d in shown["deadlines"]}
    assert shown["family"][0]["needs"][0]["done"] is True
    closed = [row for row in dump(url)["deadlines"] if row[2] == KITA]
    assert len(closed) == 1 and closed[0][-1] == "done"


def test_only_the_owner_or_the_coordinator_ticks_a_need_and_only_one_the_case_has(
    family_offices: Context, lotse: Lotse, case_ref: str, tables: Tables,
) -> None:
    ok(add_child(lotse, case_ref))
    before = tables()

    stranger = lotse("case", "done", case_ref, KITA, "--by", "schulamt")
    missing = lotse("case", "done", case_ref, "family_child2_kita_place", "--by", "koord")

    assert stranger.code == 1 and "childcare" in stranger.error
    assert missing.code == 1 and "family_child2_kita_place" in missing.error
    assert tables() == before
    ok(lotse("case", "done", case_ref, KITA, "--by", "koord"))


# -- bad input, refusals, scope ----------------------------------------------------------------------


@pytest.mark.parametrize(("args", "says"), [
    (["--relation", "cousin", "--given-name", "A"], "unknown relation 'cousin'"),
    (["--relation", "child", "--given-name", "A", "--birth-year", str(TODAY.year + 1)], "--birth-year"),
    (["--relation", "child", "--given-name", "A", "--birth-year", "1899"], "--birth-year 1899"),
    (["--relation", "child", "--given-name", "A"], "a child needs --birth-year"),
    (["--relation", "spouse", "--given-name", "A", "--arrives", "soon"], "--arrives 'soon' is not a date"),
    (["--relation", "spouse", "--given-name", "A", "--arrives", "2027-02-30"], "--arrives"),
    (["--relation", "spouse", "--given-name", "  "], "given name"),
])
def test_bad_input_is_one_error_line_exit_2_and_nothing_written(
    family_offices: Context, lotse: Lotse, case_ref: str, tables: Tables, args: list[str], says: str,
) -> None:
    before = tables()

    result = lotse("family", "add", case_ref, *args, "--by", "koord")

    assert result.code == 2 and says in result.error
    assert tables() == before


def test_a_second_spouse_a_closed_case_and_an_unknown_case_are_refused_and_nothing_written(
    family_offices: Context, lotse: Lotse, case_ref: str, tables: Tables,
) -> None:
    ok(lotse("family", "add", case_ref, "--relation", "spouse", "--given-name", SPOUSE, "--by", "koord"))
    before = tables()

    second = lotse("family", "add", case_ref, "--relation", "spouse", "--given-name", "X", "--by", "koord")
    unknown = add_child(lotse, "SE-1999-0001")

    assert second.code == 1 and "spouse or partner already" in second.error
    assert unknown.code == 1 and "unknown case" in unknown.error
    assert tables() == before
    # the same child twice (the command run again) is refused; a sibling is recorded
    ok(add_child(lotse, case_ref))
    before = tables()
    again = add_child(lotse, case_ref)
    assert again.code == 1 and again.error == (
        f"error: {case_ref} has Kind 1 recorded already with this given name and birth year; nothing was "
        f"written. See `lotse family list {case_ref}`")
    assert tables() == before
    ok(lotse("family", "add", case_ref, "--relation", "child", "--given-name", "Tala", "--birth-year", "2021",
             "--by", "koord"))
    with family_offices.db.writing() as session:
        session.execute(text("UPDATE cases SET stage = 'withdrawn' WHERE ref = :ref"), {"ref": case_ref})
    before = tables()
    closed = add_child(lotse, case_ref)
    assert closed.code == 1 and "is closed" in closed.error
    assert tables() == before


def test_an_employer_records_family_only_on_its_own_cases_and_other_roles_not_at_all(
    family_offices: Context, lotse: Lotse, case_ref: str, tables: Tables,
) -> None:
    before = tables()

    other_home = add_child(lotse, case_ref, by="heim-sued")
    housing = add_child(lotse, case_ref, by="wohnbau-nord")

    assert other_home.code == 1 and "heim-sued" in other_home.error
    assert housing.code == 1 and "add a family member" in housing.error
    assert tables() == before
    ok(add_child(lotse, case_ref, by="klinik-nord"))
    ok(lotse("family", "add", case_ref, "--relation", "spouse", "--given-name", SPOUSE, "--by", "beratung"))


# -- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture
def on_postgres(lotse: Lotse, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Lotse, str]]:
    """`lotse` on a fresh PostgreSQL database set up by `lotse init`, with the offices it needs."""
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_database())
        monkeypatch.setenv("LOTSE_DATABASE_URL", url)
        ok(lotse("init"))
        for actor, role in [("koord", "coordinator"), ("klinik-nord", "employer"),
                            ("jugendamt", "childcare"), ("abh-nord", "foreigners_office"),
                            ("heim-sued", "employer")]:
            ok(lotse("actor", "add", actor, "--name", actor.title(), "--role", role, "--region", "SE-Nord",
                     "--email", f"{actor}@example.org"))
        yield lotse, url


def test_family_add_list_show_the_ladder_and_refusals_on_postgresql(on_postgres: tuple[Lotse, str]) -> None:
    cli, url = on_postgres
    ref = ok(cli("case", "add", "--given-name", "Maricel", "--family-name", "Dalisay", "--nationality", "PHL",
                 "--employer", "klinik-nord", "--json")).json()["ref"]

    added = ok(add_child(cli, ref, "--json")).json()
    listed = ok(cli("family", "list", ref, "--json")).json()
    before = dump(url)
    refused = add_child(cli, ref, by="heim-sued")
    bad = cli("family", "add", ref, "--relation", "child", "--given-name", "A", "--by", "koord")

    assert added["needs"][0]["item"] == KITA
    assert listed["family"][0]["given_name"] == CHILD and listed["family"][0]["birth_year"] == BORN
    assert refused.code == 1 and bad.code == 2 and dump(url) == before

    ok(cli("check", "--as-of", KITA_DUE.isoformat()))
    second = ok(cli("check", "--as-of", (KITA_DUE + dt.timedelta(days=14)).isoformat(), "--json")).json()
    assert next(f for f in second if f["deadline"] == KITA)["role"] == "coordinator"
    reminders = [r for r in outbox_rows(url) if KITA in r["dedup_key"]]
    assert [r["recipient"] for r in reminders] == ["jugendamt", "koord"]
    assert all(CHILD not in r["body"] and str(BORN) not in r["body"] for r in outbox_rows(url))

    ok(cli("case", "done", ref, KITA, "--by", "jugendamt"))
    shown = ok(cli("case", "show", ref, "--json")).json()
    assert shown["family"][0]["needs"][0]["done"] is True
    assert KITA not in {d["deadline"] for d in shown["deadlines"]}

"""Why people leave, and no poaching (issue 13, part 3), through the real command line on SQLite
and on PostgreSQL: `withdraw` needs a category (refused without one, writing nothing), a change of
employer inside the no-poaching period is the coordinator's, with a note, outside it the new
employer's too; both employers are told through the outbox, the old one loses the case; and the
attrition report's figures on a known cohort, computed by hand, with the category and never the
free note."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lotse.states.durations import add_months
from tests.cli import backends
from tests.cli.conftest import Lotse, Outcome

NOTE = "Frau Dalisay pflegt ihre Mutter in Süd"  # a note: personal free text
REASON = "Heimweh nach Cebu"  # the free withdraw_reason: personal
ACTORS = [
    ("koord", "Koordinierungsstelle", "coordinator", None),
    ("klinik-nord", "Klinik Nord", "employer", "SE-Nord"),
    ("klinik-sued", "Klinik Süd", "employer", "SE-Sued"),
    ("wohnbau-nord", "Wohnbau Nord", "housing", "SE-Nord"),
]


class Alliance(backends.Alliance):
    """`lotse` on a database set up by `lotse init` and the actors above."""

    def case(self, employer: str = "klinik-nord", given: str = "Maricel", process: str = "pflege") -> str:
        opened = self.ok("case", "add", "--given-name", given, "--family-name", "Dalisay", "--nationality",
                         "PHL", "--employer", employer, "--process", process, "--json")
        return str(opened.json()["ref"])

    def to_visa(self, ref: str) -> None:
        self.ok("case", "done", ref, "employment_contract", "recognition_documents", "--by", "koord")
        self.ok("case", "advance", ref, "apply_visa", "--by", "koord")

    def withdraw(self, ref: str, category: str, by: str = "koord") -> None:
        self.ok("case", "advance", ref, "withdraw", "--by", by, "--set", f"withdraw_category={category}",
                "--set", f"withdraw_reason={REASON}", "--note", NOTE)

    def arrived(self, ref: str, day: dt.date, by: str = "koord") -> None:
        self.ok("case", "set", ref, f"arrival_date={day.isoformat()}", "--by", by)

    def outbox(self, ref: str) -> list[Any]:
        return self.rows("SELECT o.recipient, o.subject, o.body FROM outbox o "
                         "JOIN cases c ON c.id = o.case_id "
                         "WHERE c.ref = :ref ORDER BY o.id", ref=ref)


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request: pytest.FixtureRequest, lotse: Lotse, home: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Alliance]:
    with backends.alliance_on(Alliance, request.param, lotse, home, monkeypatch, ACTORS) as alliance:
        yield alliance


def today() -> dt.date:
    """The command line's today: it runs on the real clock (the period counts from arrival_date)."""
    return dt.date.today()


def refused(outcome: Outcome, code: int, *parts: str) -> None:
    assert outcome.code == code, (outcome.code, outcome.err)
    for part in parts:
        assert part in outcome.error, outcome.error


# -- the withdrawal's category --------------------------------------------------------------------------


def test_withdraw_without_a_category_is_refused_and_writes_nothing_and_with_one_it_is_done(
    cli: Alliance,
) -> None:
    ref = cli.case()
    before = cli.tables()

    without = cli("case", "advance", ref, "withdraw", "--by", "klinik-nord",
                  "--set", f"withdraw_reason={REASON}")
    wrong = cli("case", "advance", ref, "withdraw", "--by", "klinik-nord", "--set", "withdraw_category=bored")

    refused(without, 1, f"{ref}: 'withdraw' needs fact 'withdraw_category' (not set)")
    assert REASON not in without.err
    refused(wrong, 2, "withdraw_category", "homesickness, family, housing, recognition_failed, health, "
            "moved_away, changed_employer, other")
    assert cli.tables() == before
    done = cli.ok("case", "advance", ref, "withdraw", "--by", "klinik-nord",
                  "--set", "withdraw_category=housing")
    assert "withdrawn" in done.out
    shown = cli.ok("case", "show", ref, "--json").json()
    assert shown["stage"] == "withdrawn" and shown["facts"]["withdraw_category"] == "housing"
    assert "withdraw_reason" not in shown["facts"]  # the free note is optional


# -- a change of employer and the no-poaching period ----------------------------------------------------


def test_inside_the_period_the_new_employer_is_refused_and_the_coordinator_moves_the_case_with_a_note(
    cli: Alliance,
) -> None:
    ref = cli.case()
    arrival = today() - dt.timedelta(days=30)
    cli.arrived(ref, arrival)
    ends = add_months(arrival, 24).isoformat()
    before = cli.tables()

    poached = cli("case", "change-employer", ref, "--to", "klinik-sued", "--by", "klinik-sued", "--note", "x")
    no_note = cli("case", "change-employer", ref, "--to", "klinik-sued", "--by", "koord")
    blank = cli("case", "change-employer", ref, "--to", "klinik-sued", "--by", "koord", "--note", "  ")

    refused(poached, 1, f"{ref} is inside the no-poaching period (until {ends}): only the coordinator")
    refused(no_note, 1, "the coordinator moves it with --note saying why")
    refused(blank, 1, "--note")
    assert cli.tables() == before

    moved = cli.ok("case", "change-employer", ref, "--to", "klinik-sued", "--by", "koord", "--note", NOTE,
                   "--json").json()

    assert {k: moved[k] for k in ("ref", "from", "to", "inside_period", "period_ends", "action")} == {
        "ref": ref, "from": "klinik-nord", "to": "klinik-sued", "inside_period": True, "period_ends": ends,
        "action": "change_employer"}
    assert NOTE not in json.dumps(moved)
    shown = cli.ok("case", "show", ref, "--json").json()
    assert (shown["employer"], shown["stage"], shown["region"]) == ("klinik-sued", "recruited", "SE-Nord")
    last = shown["history"][-1]
    assert (last["action"], last["actor"], last["via"], last["note"]) == (
        "change_employer", "koord", "cli", NOTE)
    assert last["proof"].startswith("os:")
    assert last["employer"] == {"from": "klinik-nord", "to": "klinik-sued", "inside_period": True,
                                "period_ends": ends}
    text_view = cli.ok("case", "show", ref).out
    assert "change_employer" in text_view and "[employer klinik-nord -> klinik-sued, inside the no-poaching" \
        in text_view
    # both employers are told, one message each, without the note
    messages = cli.outbox(ref)
    assert sorted(m.recipient for m in messages) == ["klinik-nord", "klinik-sued"]
    for message in messages:
        assert message.subject == f"{ref} (Maricel): Arbeitgeberwechsel von Klinik Nord zu Klinik Süd"
        assert "innerhalb der Frist des Abwerbeverzichts" in message.body and NOTE not in message.body
        assert "Dalisay" not in message.subject + message.body
    body = {m.recipient: m.body for m in messages}
    assert "Sie sind nicht mehr Arbeitgeber des Falls" in body["klinik-nord"]
    assert "Sie sind ab jetzt Arbeitgeber des Falls" in body["klinik-sued"]


def test_the_old_employer_loses_the_case_and_the_new_one_acts_on_it(cli: Alliance) -> None:
    ref = cli.case()
    cli.ok("case", "change-employer", ref, "--to", "klinik-sued", "--by", "koord", "--note", NOTE)
    before = cli.tables()

    lost = cli("case", "done", ref, "employment_contract", "--by", "klinik-nord")

    refused(lost, 1, f"actor 'klinik-nord' may not act on {ref}: the case is of employer klinik-sued")
    assert cli.tables() == before
    cli.ok("case", "done", ref, "employment_contract", "--by", "klinik-sued")
    cli.ok("case", "done", ref, "recognition_documents", "--by", "koord")
    cli.ok("case", "advance", ref, "apply_visa", "--by", "klinik-sued")
    # the stage's messages go to the new employer as the case's employer, not to the old one
    told = [m.recipient for m in cli.outbox(ref)][2:]
    assert "klinik-sued" in told and "klinik-nord" not in told


def test_before_the_arrival_the_period_has_not_started_and_only_the_coordinator_moves_the_case(
    cli: Alliance,
) -> None:
    ref = cli.case()
    cli.arrived(ref, today() + dt.timedelta(days=40))  # arrives in the future: not arrived yet
    before = cli.tables()

    poached = cli("case", "change-employer", ref, "--to", "klinik-sued", "--by", "klinik-sued")

    refused(poached, 1, f"{ref} is before the arrival (the no-poaching period has not started)")
    assert cli.tables() == before
    moved = cli.ok("case", "change-employer", ref, "--to", "klinik-sued", "--by", "koord", "--note", NOTE,
                   "--json").json()
    assert (moved["inside_period"], moved["period_ends"]) == (True, None)


def test_outside_the_period_the_new_employer_moves_the_case_itself_without_a_note(cli: Alliance) -> None:
    ref, other = cli.case(), cli.case(given="Joanna")
    for case in (ref, other):
        cli.arrived(case, add_months(today(), -25))  # the 24 months ended a month ago
    longer = {"LOTSE_NO_POACHING_MONTHS": "36"}
    before = cli.tables()

    under_36 = cli("case", "change-employer", ref, "--to", "klinik-sued", "--by", "klinik-sued", env=longer)
    by_old = cli("case", "change-employer", other, "--to", "klinik-sued", "--by", "klinik-nord")
    by_housing = cli("case", "change-employer", other, "--to", "klinik-sued", "--by", "wohnbau-nord")

    refused(under_36, 1, "inside the no-poaching period (until "
            f"{add_months(add_months(today(), -25), 36).isoformat()})")
    refused(by_old, 1, "outside the no-poaching period the new employer itself or the coordinator does")
    refused(by_housing, 1, "actor 'wohnbau-nord' may not move")
    assert cli.tables() == before

    moved = cli.ok("case", "change-employer", ref, "--to", "klinik-sued", "--by", "klinik-sued")

    assert moved.out == (f"{ref}: employer klinik-nord -> klinik-sued (outside the no-poaching period); "
                         "2 message(s) queued\n")
    assert sorted(m.recipient for m in cli.outbox(ref)) == ["klinik-nord", "klinik-sued"]
    assert all("Abwerbeverzicht" not in m.body for m in cli.outbox(ref))
    assert cli.ok("case", "show", ref, "--json").json()["employer"] == "klinik-sued"
    by_coordinator = cli.ok("case", "change-employer", other, "--to", "klinik-sued", "--by", "koord",
                            "--json")
    assert by_coordinator.json()["inside_period"] is False


@pytest.mark.parametrize(("words", "code", "message"), [
    (["--to", "nobody"], 1, "unknown actor 'nobody'"),
    (["--to", "koord"], 2, "--to koord: it is not an employer (roles: coordinator)"),
    (["--to", "wohnbau-nord"], 2, "--to wohnbau-nord: it is not an employer (roles: housing)"),
    (["--to", "klinik-nord"], 2, "--to klinik-nord: the case's employer is klinik-nord already"),
    (["--to", "klinik-sued", "--by", "nobody"], 1, "unknown actor 'nobody'"),
    (["--to", "klinik-sued", "--note", "n" * 2001], 2, "the note"),
])
def test_a_bad_target_or_author_is_one_error_line_and_writes_nothing(
    cli: Alliance, words: list[str], code: int, message: str,
) -> None:
    ref = cli.case()
    by = [] if "--by" in words else ["--by", "koord"]
    before = cli.tables()

    outcome = cli("case", "change-employer", ref, *words, *by, "--note", "agreed") if "--note" not in words \
        else cli("case", "change-employer", ref, *words, *by)

    refused(outcome, code, message)
    assert cli.tables() == before


def test_a_closed_or_unknown_case_is_refused(cli: Alliance) -> None:
    ref = cli.case()
    cli.withdraw(ref, "health")
    before = cli.tables()

    closed = cli("case", "change-employer", ref, "--to", "klinik-sued", "--by", "koord", "--note", "x")
    unknown = cli("case", "change-employer", "SE-1999-0001", "--to", "klinik-sued", "--by", "koord")

    refused(closed, 1, f"{ref} is closed (stage 'withdrawn'); nothing was written")
    refused(unknown, 1, "unknown case 'SE-1999-0001'")
    assert cli.tables() == before


# -- the attrition report -------------------------------------------------------------------------------


def cohort(cli: Alliance) -> dict[str, str]:
    """Six pflege cases and one chancen case, with the figures worked out by hand in the test:

    | case | employer (region)        | stages entered   | withdrawn from | category     |
    |------|--------------------------|------------------|----------------|--------------|
    | N1   | klinik-nord (SE-Nord)    | recruited        | recruited      | homesickness |
    | N2   | klinik-nord (SE-Nord)    | recruited, visa  | visa           | housing      |
    | N3   | -> klinik-sued (SE-Nord) | recruited, visa  | (open)         |              |
    | S1   | klinik-sued (SE-Sued)    | recruited        | recruited      | family       |
    | S2   | -> klinik-nord (SE-Sued) | recruited        | (open)         |              |
    | S3   | klinik-sued (SE-Sued)    | recruited, visa  | visa           | housing      |
    | C1   | klinik-nord (SE-Nord)    | chancen recruited| recruited      | recognition_failed |

    S2 moves to klinik-nord inside the period (the coordinator, with a note), N3 to klinik-sued
    outside it (klinik-sued itself); the region stays the case's own."""
    refs = {name: cli.case("klinik-nord" if name[0] in "NC" else "klinik-sued", given=f"Person {name}",
                           process="chancen" if name == "C1" else "pflege")
            for name in ("N1", "N2", "N3", "S1", "S2", "S3", "C1")}
    for name in ("N2", "N3", "S3"):
        cli.to_visa(refs[name])
    cli.withdraw(refs["N1"], "homesickness")
    cli.withdraw(refs["N2"], "housing", by="klinik-nord")
    cli.withdraw(refs["S1"], "family", by="klinik-sued")
    cli.withdraw(refs["S3"], "housing")
    cli.withdraw(refs["C1"], "recognition_failed", by="klinik-nord")
    cli.ok("case", "change-employer", refs["S2"], "--to", "klinik-nord", "--by", "koord", "--note", NOTE)
    cli.arrived(refs["N3"], add_months(today(), -30), by="klinik-nord")
    cli.ok("case", "change-employer", refs["N3"], "--to", "klinik-sued", "--by", "klinik-sued")
    return refs


def test_the_attrition_report_on_a_known_cohort(cli: Alliance) -> None:
    cohort(cli)

    report = cli.ok("report", "--attrition", "--json").json()

    def row(process: str, version: int, stage: str, **more: Any) -> dict[str, Any]:
        return {"process": process, "version": version, "stage": stage, **more}

    third, two_thirds, sixth = 0.3333, 0.6667, 0.1667
    assert report["as_of"] == today().isoformat() and report["withdrawn"] == 5
    assert report["by_stage"] == [
        row("chancen", 2, "recruited", entered=1, withdrawn=1, share=1.0),
        row("pflege", 2, "recruited", entered=6, withdrawn=2, share=third),
        row("pflege", 2, "visa", entered=3, withdrawn=2, share=two_thirds),
    ]
    assert report["by_category"] == [
        row("chancen", 2, "recruited", category="recognition_failed", entered=1, withdrawn=1, share=1.0),
        row("pflege", 2, "recruited", category="family", entered=6, withdrawn=1, share=sixth),
        row("pflege", 2, "recruited", category="homesickness", entered=6, withdrawn=1, share=sixth),
        row("pflege", 2, "visa", category="housing", entered=3, withdrawn=2, share=two_thirds),
    ]
    # per employer: the case's employer now (N3 and S2 moved); the share of that employer's cases
    assert report["by_employer"] == [
        row("chancen", 2, "recruited", employer="klinik-nord", entered=1, withdrawn=1, share=1.0),
        row("pflege", 2, "recruited", employer="klinik-nord", entered=3, withdrawn=1, share=third),
        row("pflege", 2, "recruited", employer="klinik-sued", entered=3, withdrawn=1, share=third),
        row("pflege", 2, "visa", employer="klinik-nord", entered=1, withdrawn=1, share=1.0),
        row("pflege", 2, "visa", employer="klinik-sued", entered=2, withdrawn=1, share=0.5),
    ]
    assert report["by_region"] == [
        row("chancen", 2, "recruited", region="SE-Nord", entered=1, withdrawn=1, share=1.0),
        row("pflege", 2, "recruited", region="SE-Nord", entered=3, withdrawn=1, share=third),
        row("pflege", 2, "recruited", region="SE-Sued", entered=3, withdrawn=1, share=third),
        row("pflege", 2, "visa", region="SE-Nord", entered=2, withdrawn=1, share=0.5),
        row("pflege", 2, "visa", region="SE-Sued", entered=1, withdrawn=1, share=1.0),
    ]
    assert report["categories"] == [
        {"category": "housing", "withdrawn": 2, "share": 0.4},
        {"category": "family", "withdrawn": 1, "share": 0.2},
        {"category": "homesickness", "withdrawn": 1, "share": 0.2},
        {"category": "recognition_failed", "withdrawn": 1, "share": 0.2},
    ]
    assert report["employer_changes"] == {
        "total": 2, "inside_period": 1, "outside_period": 1,
        "by_employers": [
            {"from": "klinik-nord", "to": "klinik-sued", "inside_period": False, "changes": 1},
            {"from": "klinik-sued", "to": "klinik-nord", "inside_period": True, "changes": 1},
        ]}


def test_the_attrition_report_shows_categories_never_a_note_a_reason_or_a_name(cli: Alliance) -> None:
    refs = cohort(cli)

    shown = cli.ok("report", "--attrition")
    as_json = cli.ok("report", "--attrition", "--json")
    yesterday = cli.ok("report", "--attrition", "--json", "--as-of",
                       (today() - dt.timedelta(days=1)).isoformat()).json()

    for output in (shown.out, as_json.out):
        for secret in (NOTE, REASON, "Dalisay", "Person", *refs.values()):
            assert secret not in output, secret
    assert "housing" in shown.out and "homesickness" in shown.out
    assert "pflege   2        visa       3        2          66.7 %" in shown.out
    assert ("Changes of employer inside the alliance: 2 (1 inside the no-poaching period, 1 outside it)"
            in shown.out)
    # nothing had happened by the end of yesterday
    assert (yesterday["withdrawn"], yesterday["by_stage"],
            yesterday["employer_changes"]["total"]) == (0, [], 0)

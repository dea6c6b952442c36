"""Language course groups and exam results through the real command line, on SQLite and on
PostgreSQL: a group's capacity is enforced (a command over it writes nothing), the school's
message names the group, a passed B2 exam raises `language_level` and unblocks `settle` (a failed
or lower one never lowers it), the report's figures on a known cohort, a group that ended below
its target is reported once, bad input is one `error:` line and writes nothing, and a school acts
only on the cases in its scope or its own groups."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lotse.config.settings import Settings
from lotse.states.process import Catalog, Process
from tests.cli import backends
from tests.cli.conftest import Lotse, Outcome
from tests.requirements import meeting_texts, path_to

Tables = Callable[[], dict[str, list[tuple[Any, ...]]]]
GIVEN = "Maricel"
FAMILY = "Dalisay"
ACTORS = [
    ("koord", "Koordinierungsstelle", "coordinator", None),
    ("klinik-nord", "Klinik Nord", "employer", "SE-Nord"),
    ("klinik-sued", "Klinik Süd", "employer", "SE-Sued"),
    ("sprachschule", "Sprachschule Wort", "language_school", "SE-Nord"),
    ("sprachschule-sued", "Sprachschule Süd", "language_school", "SE-Sued"),
    ("anerkennung", "Anerkennungsstelle", "recognition_office", None),
    ("wohnbau-nord", "Wohnbau Nord", "housing", "SE-Nord"),
]


class Alliance(backends.Alliance):
    """`lotse` on a database set up by `lotse init`, the actors above, and its rows."""

    def case(self, employer: str = "klinik-nord", given: str = GIVEN) -> str:
        opened = self.ok("case", "add", "--given-name", given, "--family-name", FAMILY,
                         "--nationality", "PHL", "--employer", employer, "--json")
        return str(opened.json()["ref"])

    def group(self, course: str, *more: str, level: str = "B2", pace: str = "fast", start: str = "2026-01-05",
              end: str = "2026-05-31", school: str = "sprachschule") -> None:
        self.ok("course", "add", course, "--school", school, "--level", level, "--pace", pace,
                "--start", start, "--end", end, *more, "--by", "koord")

    def exam(self, ref: str, level: str, day: str, passed: bool = True, by: str = "sprachschule") -> Outcome:
        return self.ok("exam", ref, "--level", level, "--exam", "telc Deutsch B1-B2 Pflege", "--date", day,
                       "--passed" if passed else "--failed", "--by", by)

    def show(self, ref: str) -> dict[str, Any]:
        shown: dict[str, Any] = self.ok("case", "show", ref, "--json").json()
        return shown


@pytest.fixture(params=["sqlite", "postgresql"])
def alliance(request: pytest.FixtureRequest, lotse: Lotse, home: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Alliance]:
    with backends.alliance_on(Alliance, request.param, lotse, home, monkeypatch, ACTORS) as cli:
        yield cli


def pflege() -> Process:
    return Catalog.load(Settings(_env_file=None).process_dirs).get("pflege")  # type: ignore[call-arg]


def setting(process: Process, transition: Any) -> list[str]:
    """`--set KEY=VALUE` words that meet the transition's fact conditions."""
    texts = meeting_texts(process, transition)
    return [word for name, value in texts.items() for word in ("--set", f"{name}={value}")]


def bring_to(cli: Alliance, ref: str, stage: str) -> None:
    """Meet every requirement on the shortest way to `stage`, as the coordinator."""
    process = pflege()
    for transition in path_to(process, stage):
        if transition.requires.items:
            cli.ok("case", "done", ref, *transition.requires.items, "--by", "koord")
        cli.ok("case", "advance", ref, transition.event, "--by", "koord", *setting(process, transition))


# -- capacity and the school's message ------------------------------------------------------------


def test_an_assignment_over_the_capacity_is_refused_whole_and_writes_nothing(alliance: Alliance) -> None:
    cli = alliance
    cli.group("b2-schnell-1", "--capacity", "2")
    first, second, third = cli.case(), cli.case(), cli.case()
    assert cli.ok("course", "assign", "b2-schnell-1", first, "--by", "koord").out.strip() == (
        f"b2-schnell-1: assigned {first} (1 participant(s); 1 place(s) free)")
    before = cli.tables()

    refused = cli("course", "assign", "b2-schnell-1", second, third, "--by", "koord")

    assert refused.code == 1
    assert refused.error == ("error: course group 'b2-schnell-1' has 1 free place(s) of 2, and 2 case(s) "
                             "were named; nothing was assigned")
    assert cli.tables() == before
    (listed,) = cli.ok("course", "list", "--json").json()
    assert (listed["participants"], listed["capacity"], listed["free"]) == (1, 2, 1)
    cli.ok("course", "assign", "b2-schnell-1", second, "--by", "koord")
    (listed,) = cli.ok("course", "list", "--json").json()
    assert (listed["participants"], listed["free"]) == (2, 0)


def test_a_case_taken_out_of_a_group_frees_its_place_and_the_school_is_told(alliance: Alliance) -> None:
    cli = alliance
    cli.group("b2-schnell-1", "--capacity", "1")
    first, second = cli.case(given="Maricel"), cli.case(given="Joanna")
    cli.ok("course", "assign", "b2-schnell-1", first, "--by", "koord")
    before = cli.tables()
    assert cli("course", "assign", "b2-schnell-1", second, "--by", "koord").code == 1
    refused = cli("course", "assign", "b2-schnell-1", second, "--undo", "--by", "koord")
    assert refused.code == 1 and refused.error == (
        f"error: {second} is not in course group 'b2-schnell-1'; nothing was changed")
    assert cli.tables() == before

    out = cli.ok("course", "assign", "b2-schnell-1", first, "--undo", "--by", "koord")

    assert out.out.strip() == f"b2-schnell-1: took out {first} (0 participant(s); 1 place(s) free)"
    assert [h["action"] for h in cli.show(first)["history"]][-2:] == ["course_assign", "course_unassign"]
    assert cli.show(first)["courses"] == []
    ((subject,),) = cli.rows("SELECT subject FROM outbox WHERE subject LIKE '%nicht mehr%'")
    assert subject == f"{first} (Maricel): nicht mehr in Kursgruppe b2-schnell-1"
    cli.ok("course", "assign", "b2-schnell-1", second, "--by", "sprachschule")  # the place is free again
    cli.ok("course", "assign", "b2-schnell-1", second, "--undo", "--by", "sprachschule")
    assert len(cli.rows("SELECT id FROM outbox")) == 3  # the school is not told what it did itself


def test_the_school_is_told_the_group_and_each_case_in_the_same_transaction(alliance: Alliance) -> None:
    cli = alliance
    cli.group("b2-schnell-1", "--capacity", "12", "--place", "Raum 3, Hafenstraße 1")
    refs = [cli.case(given="Maricel"), cli.case(given="Joanna")]

    cli.ok("course", "assign", "b2-schnell-1", *refs, "--by", "koord")

    messages = cli.rows("SELECT o.recipient, o.subject, o.body, c.ref FROM outbox o JOIN cases c "
                        "ON c.id = o.case_id ORDER BY c.ref")
    assert [(m.recipient, m.ref) for m in messages] == [("sprachschule", refs[0]), ("sprachschule", refs[1])]
    for message, name in zip(messages, ["Maricel", "Joanna"], strict=True):
        assert message.subject == f"{message.ref} ({name}): Kursgruppe b2-schnell-1 (B2, schnell)"
        for line in ["- Kursgruppe: b2-schnell-1", "- Zielniveau: B2", "- Tempo: schnell",
                     "- Beginn: 05.01.2026", "- Ende: 31.05.2026", "- Ort: Raum 3, Hafenstraße 1"]:
            assert line in message.body.splitlines()
        assert FAMILY not in message.subject + message.body
    history = cli.rows("SELECT h.action, h.actor_id, h.via, h.proof, h.detail, c.ref FROM history h "
                       "JOIN cases c ON c.id = h.case_id WHERE h.action = 'course_assign' ORDER BY c.ref")
    assert [(h.ref, h.actor_id, h.via) for h in history] == [(r, "koord", "cli") for r in refs]
    assert all(h.proof.startswith("os:") for h in history)
    assert all(h.detail in ({"course": "b2-schnell-1"}, '{"course": "b2-schnell-1"}') for h in history)
    # the messages are the case's: the person's own export and `case show` find them
    shown = cli.show(refs[0])
    assert [m["to"] for m in shown["messages"]] == ["sprachschule"]
    assert [(c["id"], c["level"], c["pace"], c["place"]) for c in shown["courses"]] == [
        ("b2-schnell-1", "B2", "fast", "Raum 3, Hafenstraße 1")]


def test_the_message_is_english_with_lotse_locale_en(alliance: Alliance) -> None:
    cli = alliance
    cli.group("b1-slow", "--place", "Room 2", level="B1", pace="slow")
    ref = cli.case()

    cli.ok("course", "assign", "b1-slow", ref, "--by", "sprachschule", env={"LOTSE_LOCALE": "en"})

    ((subject, body),) = cli.rows("SELECT subject, body FROM outbox")
    assert subject == f"{ref} ({GIVEN}): course group b1-slow (B1, slow)"
    assert "- Start: 2026-01-05" in body and "- Place: Room 2" in body


def test_a_case_is_in_one_group_at_a_time(alliance: Alliance) -> None:
    cli = alliance
    cli.group("b1-schnell", level="B1", start="2026-01-05", end="2026-03-31")
    cli.group("b2-schnell", level="B2", start="2026-03-15", end="2026-06-30")
    cli.group("b2-spaeter", level="B2", start="2026-04-01", end="2026-08-31")
    ref = cli.case()
    cli.ok("course", "assign", "b1-schnell", ref, "--by", "koord")
    before = cli.tables()

    overlapping = cli("course", "assign", "b2-schnell", ref, "--by", "koord")
    again = cli("course", "assign", "b1-schnell", ref, "--by", "koord")

    assert overlapping.code == 1
    assert "is in course group 'b1-schnell' (2026-01-05 to 2026-03-31)" in overlapping.error
    assert again.code == 1 and "is in course group 'b1-schnell' already" in again.error
    assert cli.tables() == before
    cli.ok("course", "assign", "b2-spaeter", ref, "--by", "koord")  # one after the other


# -- exams and the language level --------------------------------------------------------------


def test_a_passed_b2_exam_raises_the_level_and_unblocks_settle(alliance: Alliance) -> None:
    cli = alliance
    ref = cli.case()
    bring_to(cli, ref, "recognition")
    settle = next(t for t in pflege().transitions if t.event == "settle")
    if settle.requires.items:
        cli.ok("case", "done", ref, *settle.requires.items, "--by", "koord")
    others = {k: v for k, v in meeting_texts(pflege(), settle).items() if k != "language_level"}
    if others:
        cli.ok("case", "set", ref, *[f"{k}={v}" for k, v in others.items()], "--by", "koord")
    assert cli.show(ref)["facts"]["language_level"] == "B1"
    refused = cli("case", "advance", ref, "settle", "--by", "wohnbau-nord")
    assert refused.code == 1 and "language_level >= B2" in refused.error

    recorded = cli.exam(ref, "B2", "2026-06-15")

    assert recorded.out.strip() == f"{ref}: exam B2 passed on 2026-06-15 recorded; language_level B1 -> B2"
    shown = cli.show(ref)
    assert shown["facts"]["language_level"] == "B2"
    exam_row, set_row = shown["history"][-2:]
    assert (exam_row["action"], set_row["action"]) == ("exam", "set")
    assert {exam_row["actor"], set_row["actor"]} == {"sprachschule"}
    assert exam_row["proof"].startswith("os:") and set_row["proof"] == exam_row["proof"]
    ((level, passed, exam, taken_on, by),) = cli.rows(
        "SELECT level, passed, exam, taken_on, recorded_by FROM exam_results")
    assert (level, bool(passed), exam, str(taken_on), by) == (
        "B2", True, "telc Deutsch B1-B2 Pflege", "2026-06-15", "sprachschule")
    cli.ok("case", "advance", ref, "settle", "--by", "wohnbau-nord")
    assert cli.show(ref)["stage"] == "housed"


def test_a_failed_exam_or_a_lower_pass_never_lowers_the_level(alliance: Alliance) -> None:
    cli = alliance
    ref = cli.case()
    assert cli.exam(ref, "B2", "2026-05-04").out.strip().endswith("language_level not set -> B2")

    failed = cli.exam(ref, "C1", "2026-06-01", passed=False)
    lower = cli.exam(ref, "B1", "2026-06-02")
    same = cli.exam(ref, "B2", "2026-06-03", by="koord")

    assert failed.out.strip() == f"{ref}: exam C1 failed on 2026-06-01 recorded; language_level stays B2"
    assert lower.out.strip().endswith("language_level stays B2")
    assert same.out.strip().endswith("language_level stays B2")
    shown = cli.show(ref)
    assert shown["facts"]["language_level"] == "B2"
    assert [(e["level"], e["passed"], e["date"]) for e in shown["exams"]] == [
        ("B2", True, "2026-05-04"), ("C1", False, "2026-06-01"), ("B1", True, "2026-06-02"),
        ("B2", True, "2026-06-03")]
    text = cli.ok("case", "show", ref).out
    assert "  2026-06-01  C1 failed: telc Deutsch B1-B2 Pflege (sprachschule)" in text
    exported = cli.ok("person", "export", ref, "--by", "koord").json()  # the person's own data (Art. 15)
    assert len(exported["exams"]) == 4
    actions = [h["action"] for h in shown["history"] if h["action"] in ("exam", "set")]
    assert actions == ["set", "exam", "set", "exam", "exam", "exam"]  # nationality, then one raise only
    assert len(cli.rows("SELECT id FROM exam_results")) == 4


# -- the report and the ended group -------------------------------------------------------------


def cohort(cli: Alliance) -> dict[str, str]:
    """Two fast groups and a slow one, with exams whose weeks are counted by hand in the tests."""
    cli.group("b2-schnell", level="B2", pace="fast", start="2026-01-05", end="2026-05-31")
    cli.group("b1-schnell", level="B1", pace="fast", start="2026-03-02", end="2026-04-30")
    cli.group("b2-langsam", level="B2", pace="slow", start="2026-02-02", end="2026-09-30")
    refs = {name: cli.case(given=name) for name in "ABCDEF"}
    cli.ok("course", "assign", "b2-schnell", refs["A"], refs["B"], refs["C"], "--by", "koord")
    cli.ok("course", "assign", "b1-schnell", refs["F"], "--by", "sprachschule")
    cli.ok("course", "assign", "b2-langsam", refs["D"], refs["E"], "--by", "koord")
    cli.exam(refs["A"], "B1", "2026-02-02")  # 28 days after the start: 4 weeks
    cli.exam(refs["A"], "B2", "2026-04-06")  # 91 days: 13 weeks
    cli.exam(refs["B"], "B1", "2026-02-16")  # 42 days: 6 weeks
    cli.exam(refs["B"], "B2", "2026-04-06", passed=False)
    cli.exam(refs["B"], "B2", "2026-05-04")  # 119 days: 17 weeks
    cli.exam(refs["C"], "B1", "2026-02-02", passed=False)
    cli.exam(refs["C"], "B1", "2026-03-02")  # 56 days: 8 weeks; never B2
    cli.exam(refs["F"], "B1", "2026-03-30")  # 28 days after its group's start: 4 weeks
    cli.exam(refs["D"], "B1", "2026-01-20")  # before its group started: brought along, not counted
    cli.exam(refs["D"], "B2", "2026-06-01")  # 119 days after 2026-02-02: 17 weeks
    cli.exam(refs["E"], "B1", "2026-05-04")  # 91 days: 13 weeks; never B2
    return refs


def test_the_report_per_group_and_per_pace_on_a_known_cohort(alliance: Alliance) -> None:
    cli = alliance
    refs = cohort(cli)

    data = cli.ok("course", "report", "--as-of", "2026-06-01", "--json").json()

    groups = {g["id"]: g for g in data["groups"]}
    figures = ("participants", "reached", "passed_b1", "median_weeks_to_b1", "passed_b2",
               "median_weeks_to_b2")
    assert {k: groups["b2-schnell"][k] for k in figures} == {
        "participants": 3, "reached": 2, "passed_b1": 3, "median_weeks_to_b1": 6.0,  # 28, 42, 56 days
        "passed_b2": 2, "median_weeks_to_b2": 15.0}  # 91, 119 days: 105
    assert groups["b2-schnell"]["below_target"] == [refs["C"]]  # ended 2026-05-31
    assert {k: groups["b1-schnell"][k] for k in figures} == {
        "participants": 1, "reached": 1, "passed_b1": 1, "median_weeks_to_b1": 4.0,
        "passed_b2": 0, "median_weeks_to_b2": None}
    assert {k: groups["b2-langsam"][k] for k in figures} == {
        "participants": 2, "reached": 1, "passed_b1": 1, "median_weeks_to_b1": 13.0,  # E only: D had B1
        "passed_b2": 1, "median_weeks_to_b2": 17.0}
    assert groups["b2-langsam"]["below_target"] == []  # still running
    assert data["paces"] == [
        {"pace": "fast", "groups": 2, "participants": 4, "reached": 3, "passed_b1": 4,
         "median_weeks_to_b1": 5.0, "passed_b2": 2, "median_weeks_to_b2": 15.0},  # 28, 28, 42, 56: 35 days
        {"pace": "slow", "groups": 1, "participants": 2, "reached": 1, "passed_b1": 1,
         "median_weeks_to_b1": 13.0, "passed_b2": 1, "median_weeks_to_b2": 17.0},
    ]
    earlier = cli.ok("course", "report", "--as-of", "2026-04-01", "--json").json()
    early = {g["id"]: g for g in earlier["groups"]}["b2-schnell"]
    assert (early["reached"], early["passed_b2"], early["below_target"]) == (0, 0, [])  # exams after it wait
    shown = cli.ok("course", "report", "--as-of", "2026-10-01")
    assert refs["E"] in shown.out and GIVEN not in shown.out and FAMILY not in shown.out
    for name in "ABCDEF":
        assert f"({name})" not in shown.out


def test_a_group_that_ended_below_its_target_is_reported_to_the_coordinator_once(alliance: Alliance) -> None:
    cli = alliance
    refs = cohort(cli)
    queued = "SELECT recipient, subject, body, case_id FROM outbox WHERE dedup_key LIKE 'course-ended:%'"

    before_end = cli.ok("check", "--as-of", "2026-05-30")
    dry = cli.ok("check", "--as-of", "2026-05-31", "--dry-run")

    assert "course group" not in before_end.out
    assert "course group b2-schnell ended 2026-05-31 with 1 case(s) below B2" in dry.out
    assert cli.rows(queued) == []

    on_the_day = cli.ok("check", "--as-of", "2026-05-31")

    assert f"course group b2-schnell ended 2026-05-31 with 1 case(s) below B2 ({refs['C']})" in on_the_day.out
    ((recipient, subject, body, case_id),) = cli.rows(queued)
    assert (recipient, case_id) == ("koord", None)
    assert subject == "Kursgruppe b2-schnell beendet: 1 unter B2"
    assert f"- {refs['C']}" in body.splitlines()
    assert refs["A"] not in body and refs["B"] not in body
    assert GIVEN not in body and FAMILY not in body
    after = cli.tables()

    again = cli.ok("check", "--as-of", "2026-06-01")

    assert "course group" not in again.out
    assert cli.tables() == after
    late = cli.ok("check", "--as-of", "2026-10-01")  # the slow group ends: E below B2, D reached it
    assert f"course group b2-langsam ended 2026-09-30 with 1 case(s) below B2 ({refs['E']})" in late.out
    assert len(cli.rows(queued)) == 2


# -- refusals ---------------------------------------------------------------------------------


def exam(ref: str, *, level: str = "B1", name: str = "telc", day: str = "2026-03-01",
         outcome: str = "--passed", by: str = "sprachschule") -> list[str]:
    passed = [outcome] if outcome else []
    return ["exam", ref, "--level", level, "--exam", name, "--date", day, *passed, "--by", by]


def course(course_id: str = "k2", *, school: str = "sprachschule", pace: str = "fast",
           start: str = "2026-01-05", end: str = "2026-05-31", by: str = "koord",
           more: tuple[str, ...] = ()) -> list[str]:
    return ["course", "add", course_id, "--school", school, "--level", "B2", "--pace", pace, "--start", start,
            "--end", end, *more, "--by", by]


BAD = [
    # (command, exit code, what the error says)
    (exam("{ref}", level="B7"), 2, "--level must be a CEFR level: A1, A2, B1, B2, C1, C2"),
    (exam("{ref}", day="morgen"), 2, "--date is not a date between 1900-01-01 and 2199-12-31"),
    (exam("{ref}", day="2199-01-01"), 2, "--date 2199-01-01 is in the future"),
    (exam("{ref}", name=" "), 2, "--exam is empty"),
    (exam("{ref}", outcome=""), 2, "Missing option '--passed"),
    (exam("SE-2026-9999"), 1, "unknown case 'SE-2026-9999'"),
    (exam("{closed}", by="koord"), 1, "is closed"),
    (exam("{ref}", by="klinik-nord"), 1,
     "may not record an exam result: it needs one of the roles language_school, coordinator"),
    (course("B2 Kurs"), 2, "course id 'B2 Kurs': use lower case letters"),
    (course(start="2026-05-31"), 2, "--end (2026-05-31) must be after --start"),
    (course(pace="quick"), 2, "--pace must be one of fast, standard, slow"),
    (course(more=("--capacity", "0")), 2, "--capacity must be between 1"),
    (course(more=("--place", "Raum 3\nZeile 2")), 2, "--place holds a line break"),
    (exam("{ref}", name="telc\tB1"), 2, "--exam holds a line break or another control character"),
    (course(school="klinik-nord"), 1, "actor 'klinik-nord' is not a language school"),
    (course(by="sprachschule"), 1, "may not add a course group"),
    (course("k1"), 1, "course group 'k1' exists already"),
    (["course", "assign", "k1", "{ref}", "{ref}", "--by", "koord"], 2, "is named twice"),
    (["course", "assign", "k9", "{ref}", "--by", "koord"], 1, "unknown course group 'k9'"),
    (["course", "assign", "k1", "{ref}", "{closed}", "--by", "koord"], 1, "is closed"),
    (["course", "assign", "k1", "{ref}", "--by", "sprachschule-sued"], 1,
     "may not assign cases to course group 'k1': only the coordinator or the group's school (sprachschule)"),
    (["course", "report", "--as-of", "gestern"], 2, "--as-of 'gestern' is not a date"),
]


def test_bad_input_and_refusals_are_one_error_line_and_write_nothing(alliance: Alliance) -> None:
    cli = alliance
    cli.group("k1")
    ref, closed = cli.case(), cli.case()
    withdraw = next(t for t in pflege().transitions if t.event == "withdraw")
    cli.ok("case", "advance", closed, "withdraw", "--by", "koord", *setting(pflege(), withdraw))
    before = cli.tables()
    for command, code, says in BAD:
        outcome = cli(*[word.format(ref=ref, closed=closed) for word in command])
        assert (outcome.code, says in outcome.error) == (code, True), (command, outcome.err)
        assert outcome.out == ""
    assert cli.tables() == before


def test_a_school_acts_only_on_the_cases_in_its_scope_or_its_groups(alliance: Alliance) -> None:
    cli = alliance
    cli.group("sued-b2", school="sprachschule-sued")
    north = cli.case()
    before = cli.tables()

    exam = cli("exam", north, "--level", "B1", "--exam", "telc", "--date", "2026-03-01", "--passed",
               "--by", "sprachschule-sued")
    assign = cli("course", "assign", "sued-b2", north, "--by", "sprachschule-sued")

    for refused in (exam, assign):
        assert refused.code == 1
        assert refused.error == (f"error: actor 'sprachschule-sued' may not act on {north}: the case is "
                                 "of region SE-Nord and employer klinik-nord, and sprachschule-sued is not "
                                 "named on it")
    assert cli.tables() == before
    cli.ok("course", "assign", "sued-b2", north, "--by", "koord")  # the coordinator places it there
    cli.exam(north, "B1", "2026-03-01", by="sprachschule-sued")  # now the school's own participant
    assert cli.show(north)["facts"]["language_level"] == "B1"


def test_a_school_of_the_county_acts_on_the_cases_of_the_regions_below_it(alliance: Alliance) -> None:
    cli = alliance
    cli.ok("actor", "add", "sprachschule-kreis", "--name", "Kreisvolkshochschule", "--role",
           "language_school",
           "--region", "SE")
    cli.group("kreis-b1", level="B1", school="sprachschule-kreis")
    north = cli.case()  # SE-Nord lies in the county SE (config/regions.yaml)

    cli.ok("course", "assign", "kreis-b1", north, "--by", "sprachschule-kreis")
    cli.exam(north, "B1", "2026-03-01", by="sprachschule-kreis")

    assert cli.show(north)["facts"]["language_level"] == "B1"


# -- a school leaving the directory ---------------------------------------------------------------

def test_a_school_leaving_hands_over_its_running_groups_and_its_ended_ones_take_no_one(
    alliance: Alliance,
) -> None:
    """A school taken out of the directory would still be told of every case assigned to its
    groups: the groups that have not ended go to the school that takes over, or it stays."""
    cli = alliance
    cli.group("b2-laufend", end="2099-06-30")  # running, whatever the day the test runs
    cli.group("a2-vorbei", level="A2", end="2026-05-31")
    ref = cli.case()
    cli.ok("course", "assign", "b2-laufend", ref, "--by", "koord")
    before = cli.tables()

    refused = cli("actor", "remove", "sprachschule", "--by", "koord")
    lacking = cli("actor", "remove", "sprachschule", "--hand-over-to", "wohnbau-nord", "--by", "koord")

    assert refused.code == 1 and "1 running or coming course group(s)" in refused.error, refused.error
    assert "--hand-over-to OTHER" in refused.error
    assert lacking.code == 1 and "it lacks the role(s) language_school" in lacking.error, lacking.error
    # nor may it stop being a school while it runs the group
    stop = cli("actor", "edit", "sprachschule", "--add-role", "counsellor",
               "--remove-role", "language_school", "--by", "koord")
    assert stop.code == 1 and "runs 1 course group(s) that have not ended" in stop.error, stop.error
    assert cli.tables() == before

    removed = cli.ok("actor", "remove", "sprachschule", "--hand-over-to", "sprachschule-sued",
                     "--by", "koord", "--json").json()

    assert removed["groups"] == ["b2-laufend"]
    schools = {g["id"]: g["school"] for g in cli.ok("course", "list", "--json").json()}
    assert schools == {"b2-laufend": "sprachschule-sued", "a2-vorbei": "sprachschule"}  # history stays
    log = cli.ok("actor", "changes", "sprachschule", "--json").json()
    assert log[-2]["changes"]["course_groups"] == [[], ["b2-laufend"]]
    # the new school acts on its participant; nobody is assigned to the group of the school that left
    cli.exam(ref, "B1", "2026-03-01", by="sprachschule-sued")
    other = cli.case()
    before = cli.tables()
    gone = cli("course", "assign", "a2-vorbei", other, "--by", "koord")
    assert gone.code == 1 and gone.error == (
        "error: course group 'a2-vorbei' belongs to sprachschule, which was taken out of the directory; "
        "nothing was assigned. Add a group of another school (`lotse course add`)")
    assert cli.tables() == before

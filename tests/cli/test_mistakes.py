"""Every kind of user mistake: one `error:` line on stderr, exit 1 (refused) or 2 (bad input or
usage), no traceback, and not one row written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Lotse

ADD = ["case", "add", "--given-name", "Ramon", "--family-name", "Bautista", "--nationality", "PHL",
       "--employer", "klinik-nord"]
R = "{ref}"

MISTAKES: list[tuple[str, list[str], int, str]] = [
    # refused by the rules or the data: exit 1
    ("unknown ref", ["case", "show", "SE-2026-0999"], 1, "unknown case 'SE-2026-0999'"),
    ("unknown ref to advance", ["case", "advance", "SE-1999-0001", "apply_visa", "--by", "koord"], 1,
     "unknown case"),
    ("unknown ref to set", ["case", "set", "XX-1", "language_level=B2", "--by", "koord"], 1, "unknown case"),
    ("unknown actor", ["case", "advance", R, "withdraw", "--by", "nobody", "--set", "withdraw_reason=x"], 1,
     "unknown actor 'nobody'"),
    ("unknown actor ticking", ["case", "done", R, "employment_contract", "--by", "nobody"], 1,
     "unknown actor"),
    ("unknown event", ["case", "advance", R, "teleport", "--by", "koord"], 1,
     "event 'teleport' is not allowed in stage 'recruited'; allowed now: apply_visa, withdraw"),
    ("event not allowed now", ["case", "advance", R, "settle", "--by", "koord"], 1,
     "'settle' is not allowed in stage 'recruited'"),
    ("missing requirements", ["case", "advance", R, "apply_visa", "--by", "klinik-nord"], 1,
     "needs checklist item 'employment_contract' (owner employer); "
     "checklist item 'recognition_documents' (owner agency)"),
    ("missing requirements with facts given", ["case", "advance", R, "apply_visa", "--by", "klinik-nord",
     "--set", "accelerated_procedure=true"], 1, "needs checklist item"),
    ("actor without the role to fire", ["case", "advance", R, "apply_visa", "--by", "sprachschule"], 1,
     "actor 'sprachschule' may not fire 'apply_visa': it needs one of the roles employer, agency"),
    ("actor without the role to tick", ["case", "done", R, "housing_confirmed", "--by", "klinik-nord"], 1,
     "may not tick 'housing_confirmed': it needs one of the roles housing"),
    ("actor without the role to untick", ["case", "done", R, "housing_confirmed", "--undo", "--by",
     "klinik-nord"], 1, "may not untick"),
    ("actor without the role to set", ["case", "set", R, "language_level=B2", "--by", "klinik-nord"], 1,
     "may not set fact 'language_level'"),
    ("unknown checklist item", ["case", "done", R, "unicorn", "--by", "koord"], 1,
     "no checklist item 'unicorn'"),
    ("unknown process to open", [*ADD, "--process", "zirkus"], 1, "unknown process 'zirkus'"),
    ("unknown process to list", ["case", "list", "--process", "zirkus"], 1, "unknown process 'zirkus'"),
    ("unknown process to show", ["process", "show", "zirkus"], 1, "unknown process 'zirkus'; known: chancen"),
    ("unknown stage to list", ["case", "list", "--stage", "moon"], 1, "unknown stage 'moon'"),
    ("unknown employer", ["case", "add", "--given-name", "A", "--family-name", "B", "--nationality", "PHL",
     "--employer", "nobody"], 1, "unknown actor 'nobody'"),
    ("employer that is no employer", ["case", "add", "--given-name", "A", "--family-name", "B",
     "--nationality", "PHL", "--employer", "wohnbau-nord"], 1, "is not an employer"),
    ("case opened by a role that may not", [*ADD, "--by", "beratung"], 1, "may not open cases"),
    ("actor added twice", ["actor", "add", "koord", "--name", "K", "--role", "coordinator"], 1,
     "exists already"),
    # bad input or usage: exit 2
    ("wrong fact type", ["case", "set", R, "visa_valid_until=next week", "--by", "koord"], 2,
     "visa_valid_until: not a date between 1900-01-01 and 2199-12-31 (YYYY-MM-DD or DD.MM.YYYY)"),
    ("wrong cefr level", ["case", "set", R, "language_level=B3", "--by", "sprachschule"], 2,
     "language_level: not a CEFR level A1, A2, B1, B2, C1 or C2"),
    ("wrong fact type with an event", ["case", "advance", R, "withdraw", "--by", "koord",
     "--set", "withdraw_reason="], 2, "withdraw_reason: not non-empty text"),
    ("wrong enum value", ["case", "set", R, "recognition_path=shortcut", "--by", "koord"], 2,
     "one of full, adaptation_course, knowledge_exam"),
    ("wrong fact type to open", [*ADD, "--set", "arrival_date=soon"], 2, "not a date between"),
    ("wrong nationality", ["case", "add", "--given-name", "A", "--family-name", "B", "--nationality",
     "Atlantis", "--employer", "klinik-nord"], 2, "nationality: not an ISO 3166 alpha-3 code like PHL"),
    ("a region that would add a routing field", [*ADD, "--region", "SE;actor=koordination"], 2,
     "region 'SE;actor=koordination': use letters, digits, '-' or '_', at most 64 characters"),
    ("an actor's region that would add a routing field", ["actor", "add", "neu", "--name", "N", "--role",
     "housing", "--region", "SE-Nord,actor=koord"], 2, "region 'SE-Nord,actor=koord': use letters"),
    ("unknown fact", ["case", "set", R, "shoe_size=40", "--by", "koord"], 2, "has no fact 'shoe_size'"),
    ("unknown fact with an event", ["case", "advance", R, "withdraw", "--by", "koord",
     "--set", "mood=sad"], 2, "has no fact 'mood'"),
    ("bad KEY=VALUE", ["case", "set", R, "language_level", "--by", "koord"], 2,
     "'language_level' is not KEY=VALUE"),
    ("bad KEY=VALUE without a key", ["case", "set", R, "=B2", "--by", "koord"], 2, "is not KEY=VALUE"),
    ("bad KEY=VALUE with an event", ["case", "advance", R, "withdraw", "--by", "koord", "--set", "moved"], 2,
     "'moved' is not KEY=VALUE"),
    ("bad KEY=VALUE to open", [*ADD, "--set", "accelerated"], 2, "is not KEY=VALUE"),
    ("a fact given twice", ["case", "set", R, "arrival_date=2026-05-01", "arrival_date=2026-05-02",
     "--by", "koord"], 2, "'arrival_date' is given twice"),
    ("empty name", ["case", "add", "--given-name", " ", "--family-name", "B", "--nationality", "PHL",
     "--employer", "klinik-nord"], 2, "needs a given name"),
    ("unknown role", ["actor", "add", "x", "--name", "X", "--role", "landlord"], 2,
     "unknown role 'landlord'"),
    ("bad actor id", ["actor", "add", "Klinik Süd", "--name", "X", "--role", "employer"], 2, "actor id"),
    ("bad e-mail", ["actor", "add", "x", "--name", "X", "--role", "employer", "--email", "nope"], 2,
     "not an e-mail address"),
    ("missing event", ["case", "advance", R, "--by", "koord"], 2, "Missing argument 'event'"),
    ("missing --by", ["case", "done", R, "employment_contract"], 2, "Missing option '--by'"),
    ("missing assignments", ["case", "set", R, "--by", "koord"], 2, "Missing argument"),
    ("missing options to open", ["case", "add", "--given-name", "A"], 2, "Missing option '--family-name'"),
    ("unknown option", ["case", "list", "--colour", "red"], 2, "No such option: --colour"),
    ("unknown command", ["case", "delete", R], 2, "No such command 'delete'"),
    ("unknown top command", ["fly"], 2, "No such command 'fly'"),
    ("extra argument", ["case", "show", R, "extra"], 2, "unexpected extra argument"),
    ("two output formats", ["process", "show", "pflege", "--json", "--mermaid"], 2,
     "choose one of --json and --mermaid"),
    ("no command", [], 2, "missing a command; see `lotse --help`"),
    ("no case command", ["case"], 2, "missing a command; see `lotse case --help`"),
]


@pytest.mark.parametrize(("what", "args", "code", "message"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_mistake_is_one_error_line_with_its_exit_code_and_writes_nothing(
    lotse: Lotse, case_ref: str, tables: Callable[[], dict[str, Any]],
    what: str, args: list[str], code: int, message: str,
) -> None:
    before = tables()
    outcome = lotse(*[a.replace(R, case_ref) for a in args])
    assert outcome.code == code, (outcome.code, outcome.err)
    assert message in outcome.error
    assert tables() == before


def test_a_closed_case_refuses_every_change(lotse: Lotse, case_ref: str, tables: Callable[[], Any]) -> None:
    assert lotse("case", "advance", case_ref, "withdraw", "--by", "klinik-nord",
                 "--set", "withdraw_category=moved_away", "--set", "withdraw_reason=x").code == 0
    before = tables()
    for args, text in [
        (["case", "set", case_ref, "withdraw_reason=y", "--by", "koord"], "is closed"),
        (["case", "done", case_ref, "employment_contract", "--by", "koord"], "is closed"),
        (["case", "advance", case_ref, "withdraw", "--by", "koord"], "none (the stage is final)"),
    ]:
        outcome = lotse(*args)
        assert outcome.code == 1 and text in outcome.error
    assert tables() == before


def test_every_command_on_a_database_not_initialised_says_to_run_init(lotse: Lotse, home: Path) -> None:
    for args in (["case", "list"], ["case", "show", "SE-2026-0001"], ["actor", "list"],
                 ["actor", "add", "x", "--name", "X", "--role", "employer"], ADD,
                 ["case", "advance", "SE-2026-0001", "arrive", "--by", "x"]):
        outcome = lotse(*args)
        assert outcome.code == 1 and "run `lotse init`" in outcome.error, args
    assert not (home / "lotse.db").exists()
    assert lotse("process", "list").code == 0  # definitions need no database


def test_bad_settings_are_bad_input_not_a_traceback(lotse: Lotse, home: Path) -> None:
    cases = [
        ({"LOTSE_LOCALE": "fr"}, "setting LOTSE_LOCALE"),
        ({"LOTSE_DATABASE_URL": "not a url"}, "LOTSE_DATABASE_URL"),
        ({"LOTSE_DATABASE_URL": "nosuchdb://x/y"}, "LOTSE_DATABASE_URL"),
        ({"LOTSE_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1/x"}, "async driver"),
    ]
    for env, text in cases:
        outcome = lotse("case", "list", env=env)
        assert outcome.code == 2 and text in outcome.error, (env, outcome.err)
    outcome = lotse("process", "list", env={"LOTSE_PROCESS_DIR": str(home / "nowhere")})
    assert outcome.code == 2 and "process folder does not exist" in outcome.error


def test_an_unreachable_database_server_is_one_error_line(lotse: Lotse) -> None:
    outcome = lotse("case", "list", env={"LOTSE_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/x"})
    assert outcome.code == 1 and "cannot open the database" in outcome.error


def test_init_without_a_reachable_database_is_one_error_line(lotse: Lotse, tmp_path: Path) -> None:
    unreachable = lotse("init", env={"LOTSE_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/x"})
    assert unreachable.code == 1 and "cannot open the database" in unreachable.error
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    no_folder = lotse("init", env={"LOTSE_HOME": str(blocked / "home")})
    assert no_folder.code == 1 and "cannot create the folder" in no_folder.error

"""The directory through the command line, on SQLite and PostgreSQL: `lotse actor edit` changes
an actor's profile and roles and logs who did it; `lotse actor remove` is refused while the actor
owns open cases or items, writing nothing, and `--hand-over-to` moves them in one go, with a
history row per case."""

from __future__ import annotations

import getpass

import pytest

from tests.cli.backends import Db, add_actors, close, db, ok, open_case, to_visa
from tests.cli.conftest import Lotse

__all__ = ["db"]

USER = f"os:{getpass.getuser()}"


@pytest.fixture
def cli(db: Db, lotse: Lotse) -> Lotse:
    add_actors(lotse, ("koord", "coordinator", None), ("klinik-nord", "employer", "SE-Nord"),
               ("klinik-sued", "employer", "SE-Sued"), ("wohnbau-nord", "housing", "SE-Nord"),
               ("vermittlung", "agency", "SE-Nord"), ("beratung", "counsellor", None))
    return lotse


def actor(cli: Lotse, actor_id: str) -> dict[str, object]:
    [found] = [a for a in ok(cli("actor", "list", "--json")).json() if a["id"] == actor_id]
    return dict(found)


def test_an_edit_changes_the_profile_and_the_log_says_who_changed_what(cli: Lotse) -> None:
    edited = ok(cli("actor", "edit", "wohnbau-nord", "--name", "Wohnbau Nord eG",
                    "--region", "SE-Seestadt", "--serves", "SE-Moorbek",
                    "--service", "housing=Möblierte Wohnungen, 2 Zimmer",
                    "--language", "de", "--language", "PL", "--contact", "+49 4551 1234-0",
                    "--website", "https://wohnbau-nord.example", "--add-role", "counsellor",
                    "--by", "koord", "--json"))

    assert set(edited.json()) == {"name", "region", "serves", "services", "languages", "contact", "website",
                                  "roles"}
    assert actor(cli, "wohnbau-nord") == {
        "id": "wohnbau-nord", "name": "Wohnbau Nord eG", "roles": ["counsellor", "housing"],
        "region": "SE-Seestadt", "email": "wohnbau-nord@example.org", "serves": ["SE-Moorbek"],
        "services": {"housing": "Möblierte Wohnungen, 2 Zimmer"}, "languages": ["de", "pl"],
        "contact": "+49 4551 1234-0", "website": "https://wohnbau-nord.example",
    }
    log = ok(cli("actor", "changes", "wohnbau-nord", "--json")).json()
    assert [(c["action"], c["by"], c["via"], c["proof"]) for c in log] == [
        ("add", None, "cli", USER), ("edit", "koord", "cli", USER)]
    assert log[1]["changes"]["region"] == ["SE-Nord", "SE-Seestadt"]
    assert log[1]["changes"]["roles"] == [["housing"], ["counsellor", "housing"]]
    assert log[1]["changes"]["serves"] == [[], ["SE-Moorbek"]]

    # '-' empties a field; a role removed takes its service with it; the same values again change nothing
    ok(cli("actor", "edit", "wohnbau-nord", "--contact", "-", "--remove-role", "housing", "--add-role",
           "agency", "--by", "koord"))
    after = actor(cli, "wohnbau-nord")
    assert (after["contact"], after["services"], after["roles"]) == (None, {}, ["agency", "counsellor"])
    again = ok(cli("actor", "edit", "wohnbau-nord", "--name", "Wohnbau Nord eG", "--by", "koord"))
    assert again.out.strip() == "wohnbau-nord: nothing changed"
    assert len(ok(cli("actor", "changes", "wohnbau-nord", "--json")).json()) == 3


@pytest.mark.parametrize(("args", "code", "error"), [
    (["--region", "SE-Mitte"], 2, "error: unknown region 'SE-Mitte'; known regions ("),
    (["--serves", "Atlantis"], 2, "error: unknown region 'Atlantis'; known regions ("),
    (["--contact", "Frau Müller privat"], 2,
     "error: --contact: give a function mailbox or a switchboard number"),
    (["--website", "javascript:alert(1)"], 2, "error: --website 'javascript:alert(1)': give a web address"),
    (["--language", "Deutsch"], 2, "error: --language 'deutsch': give a language code like de, en, tl"),
    (["--service", "employer=Wohnungen"], 2,
     "error: --service employer=...: the actor has no role 'employer'"),
    (["--remove-role", "housing"], 2, "error: actor 'wohnbau-nord' needs at least one role"),
    ([], 2, "error: nothing to change: give --name"),
    (["--add-role", "wizard"], 2, "error: unknown role 'wizard'; roles of the processes: "),
    (["--name", "X", "--by", "klinik-nord"], 1, "error: actor 'klinik-nord' may not edit the directory: it "
                                                  "needs one of the roles coordinator"),
])
def test_a_bad_or_unauthorised_edit_is_one_error_line_and_writes_nothing(
    cli: Lotse, db: Db, args: list[str], code: int, error: str,
) -> None:
    before = db.rows()

    outcome = cli("actor", "edit", "wohnbau-nord", *args, *([] if "--by" in args else ["--by", "koord"]))

    assert outcome.code == code
    assert outcome.error.startswith(error), outcome.error
    if "known regions" in error:
        assert "SE, SE-Nord, SE-Seestadt, SE-Moorbek, SE-Sued" in outcome.error
    assert db.rows() == before


def test_removing_an_employer_of_open_cases_is_refused_naming_them_and_the_hand_over(
    cli: Lotse, db: Db,
) -> None:
    open_case(cli, "klinik-nord")
    closed = open_case(cli, "klinik-nord")
    close(cli, closed)
    before = db.rows()

    outcome = cli("actor", "remove", "klinik-nord", "--by", "koord")

    assert outcome.code == 1
    assert outcome.error == (
        "error: actor 'klinik-nord' owns 1 open case(s) as employer and is the only one asked for 0 open "
        "item(s) of 0 case(s); hand them over: "
        "`lotse actor remove klinik-nord --hand-over-to OTHER --by koord`")
    assert db.rows() == before
    # nor may an organisation remove an actor, or an employer of open cases stop being an employer
    assert cli("actor", "remove", "klinik-nord", "--by", "vermittlung").code == 1
    stop = cli("actor", "edit", "klinik-nord", "--add-role", "agency", "--remove-role", "employer",
               "--by", "koord")
    assert stop.code == 1 and "employs 1 open case(s)" in stop.error
    assert db.rows() == before


def test_the_hand_over_moves_the_open_cases_with_a_history_row_each_and_removes_the_actor(
    cli: Lotse, db: Db,
) -> None:
    first, second = open_case(cli, "klinik-nord"), open_case(cli, "klinik-nord")
    closed = open_case(cli, "klinik-nord")
    close(cli, closed)
    refused = cli("actor", "remove", "klinik-nord", "--hand-over-to", "vermittlung", "--by", "koord")
    assert refused.code == 1 and "vermittlung: it is not an employer" in refused.error

    removed = ok(cli("actor", "remove", "klinik-nord", "--hand-over-to", "klinik-sued", "--by", "koord",
                     "--note", "Träger gewechselt", "--json")).json()

    assert removed["cases"] == sorted([first, second]) and removed["to"] == "klinik-sued"
    assert removed["told"] == 2  # one message per case to the new employer
    # what was queued for the removed employer and not sent goes nowhere now
    to_old = [row for row in ok(cli("outbox", "--json")).json() if row["to"] == "klinik-nord"]
    assert to_old and {row["status"] for row in to_old} == {"cancelled"}
    assert removed["cancelled"] == len(to_old)
    for ref in (first, second):
        shown = ok(cli("case", "show", ref, "--json")).json()
        assert shown["employer"] == "klinik-sued"
        last = shown["history"][-1]
        assert (last["action"], last["actor"], last["via"]) == ("hand-over", "koord", "cli")
        assert last["proof"] == USER
    assert ok(cli("case", "show", closed, "--json")).json()["employer"] == "klinik-nord"  # closed: as it was
    assert "klinik-nord" not in [a["id"] for a in ok(cli("actor", "list", "--json")).json()]
    log = ok(cli("actor", "changes", "klinik-nord", "--json")).json()
    assert [c["action"] for c in log] == ["add", "hand-over", "remove"]
    assert log[-1]["changes"]["roles"] == [["employer"], []] and log[-1]["by"] == "koord"
    # the removed actor acts no more, and its id is not given out again
    gone = cli("case", "done", first, "employment_contract", "--by", "klinik-nord")
    assert gone.code == 1 and gone.error == "error: unknown actor 'klinik-nord'; see `lotse actor list`"
    again = cli("actor", "add", "klinik-nord", "--name", "Neu", "--role", "employer")
    assert again.code == 1 and "exists already (removed" in again.error


def test_the_only_housing_company_asked_for_open_items_hands_them_over_with_its_region(
    cli: Lotse, db: Db,
) -> None:
    ref = open_case(cli, "klinik-nord")
    to_visa(cli, ref)  # the visa stage asks housing: housing_confirmed
    before = db.rows()
    refused = cli("actor", "remove", "wohnbau-nord", "--by", "koord")
    assert refused.code == 1 and "is the only one asked for 1 open item(s) of 1 case(s)" in refused.error
    lacking = cli("actor", "remove", "wohnbau-nord", "--hand-over-to", "beratung", "--by", "koord")
    assert lacking.code == 1 and "it lacks the role(s) housing" in lacking.error
    # nor may it stop being a housing company while nobody else would be asked
    stop = cli("actor", "edit", "wohnbau-nord", "--add-role", "counsellor", "--remove-role", "housing",
               "--by", "koord")
    moved = cli("actor", "edit", "wohnbau-nord", "--region", "SE-Sued", "--by", "koord")  # nor move away
    for refused in (stop, moved):
        assert refused.code == 1 and refused.error.startswith(
            "error: after this edit nobody would be asked for 1 open item(s) that only 'wohnbau-nord' is "
            "asked for now (housing in SE-Nord); nothing was changed."), refused.error
    assert db.rows() == before
    add_actors(cli, ("wohnbau-sued", "housing", "SE-Sued"))

    ok(cli("actor", "remove", "wohnbau-nord", "--hand-over-to", "wohnbau-sued", "--by", "koord"))

    assert actor(cli, "wohnbau-sued")["serves"] == ["SE-Nord"]  # now asked for the north's cases
    last = ok(cli("case", "show", ref, "--json")).json()["history"][-1]
    assert last["action"] == "hand-over"
    ok(cli("case", "done", ref, "housing_confirmed", "--by", "wohnbau-sued"))  # in scope now
    # the next message to housing of a north case reaches the new company
    ok(cli("case", "done", ref, "visa_granted", "--by", "koord"))
    ok(cli("case", "advance", ref, "arrive", "--by", "koord", "--set", "arrival_date=2026-04-01",
           "--set", "visa_valid_until=2027-04-01"))
    told = db.recipients(ref)
    assert "wohnbau-sued" in told and "wohnbau-nord" not in told[-4:]

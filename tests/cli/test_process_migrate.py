"""`lotse process migrate` through the real command line (tests/versions.py: pflege v2 renames the
stage `visa`, the item `tax_id` and the fact `visa_valid_until`, and drops the item
`family_support`): a dry run lists per case what would change and writes nothing; applying moves
each case whole, visible in `case show`, `process list`, `report` and `check`; running it again
changes nothing; a case that cannot be moved is named and makes the exit code 1; bad input is one
`error:` line and writes nothing; messages only with --notify; no personal data in any output; and
the same on PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lotse.config.settings import Settings
from lotse.states.process import load_file
from tests.cli.backends import ok
from tests.cli.conftest import Lotse, Outcome
from tests.conftest import LOTSE
from tests.postgres import fresh_database
from tests.requirements import meeting_texts, path_to
from tests.tables import dump
from tests.versions import (
    BACKWARD,
    FORWARD,
    PFLEGE_V1,
    write_mapping,
    write_pflege_v1,
    write_pflege_v2,
)

Tables = Callable[[], dict[str, list[tuple[Any, ...]]]]

GIVEN, FAMILY, NATION = "Maricel", "Dalisay", "PHL"
VISA_UNTIL = "2026-09-30"


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """The alliance's process folder: its own copy of pflege v1, replacing the shipped one."""
    folder = tmp_path / "own"
    write_pflege_v1(folder)
    return folder


@pytest.fixture
def settings(home: Path, own: Path) -> Settings:
    return Settings(home=home, process_dir=own, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def cli(alliance: Any, lotse: Lotse, own: Path, monkeypatch: pytest.MonkeyPatch) -> Lotse:
    """`lotse` on the alliance's database, with its process folder (LOTSE_PROCESS_DIR)."""
    monkeypatch.setenv("LOTSE_PROCESS_DIR", str(own))
    return lotse


def open_case(cli: Lotse, *args: str) -> str:
    opened = ok(cli("case", "add", "--given-name", GIVEN, "--family-name", FAMILY, "--nationality", NATION,
                    "--employer", "klinik-nord", *args, "--json"))
    return str(opened.json()["ref"])


def bring_to(cli: Lotse, ref: str, stage: str) -> list[str]:
    """Meet every requirement on the shortest way to `stage`, as the coordinator; the fact values
    typed on the way."""
    v1 = load_file(PFLEGE_V1)
    typed = []
    for transition in path_to(v1, stage):
        if transition.requires.items:
            ok(cli("case", "done", ref, *transition.requires.items, "--by", "koord"))
        texts = meeting_texts(v1, transition)
        typed += texts.values()
        sets = [a for name, value in texts.items() for a in ("--set", f"{name}={value}")]
        ok(cli("case", "advance", ref, transition.event, "--by", "koord", *sets))
    return typed


def open_cases(cli: Lotse) -> tuple[dict[str, str], list[str]]:
    """On pflege v1: a case just recruited; one in `visa` with its date; one housed with `tax_id`
    and the dropped `family_support` done; one withdrawn. Then the alliance adds pflege v2. Also
    every personal value typed."""
    refs = {name: open_case(cli) for name in ("recruited", "visa", "housed", "withdrawn")}
    values = [GIVEN, FAMILY, NATION, VISA_UNTIL]
    values += bring_to(cli, refs["visa"], "visa")
    ok(cli("case", "set", refs["visa"], f"visa_valid_until={VISA_UNTIL}", "--by", "klinik-nord"))
    values += bring_to(cli, refs["housed"], "housed")
    ok(cli("case", "done", refs["housed"], "tax_id", "family_support", "--by", "koord"))
    ok(cli("case", "advance", refs["withdrawn"], "withdraw", "--by", "klinik-nord",
           "--set", "withdraw_reason=went home to Cebu"))
    values += ["went home to Cebu", "Cebu"]
    return refs, sorted(set(values))


@pytest.fixture
def opened(cli: Lotse, own: Path) -> tuple[dict[str, str], list[str]]:
    """The cases of `open_cases` and the personal values typed for them; pflege v2 added."""
    found = open_cases(cli)
    write_pflege_v2(own)
    return found


@pytest.fixture
def cases(opened: tuple[dict[str, str], list[str]]) -> dict[str, str]:
    return opened[0]


@pytest.fixture
def few(cli: Lotse, own: Path) -> dict[str, str]:
    """Fewer cases, for what is refused before any case is looked at: one recruited, one in `visa`."""
    refs = {"recruited": open_case(cli), "visa": open_case(cli)}
    bring_to(cli, refs["visa"], "visa")
    write_pflege_v2(own)
    return refs


@pytest.fixture
def mapping(tmp_path: Path) -> str:
    return str(write_mapping(tmp_path / "pflege-1-2.yaml", FORWARD))


def migrate(cli: Lotse, *args: str, by: str = "koord", to: str = "2") -> Outcome:
    return cli("process", "migrate", "pflege", "--to", to, "--by", by, *args)


def shown(cli: Lotse, ref: str) -> dict[str, Any]:
    data: dict[str, Any] = ok(cli("case", "show", ref, "--json")).json()
    return data


def where(cli: Lotse, ref: str) -> tuple[int, str]:
    case = shown(cli, ref)
    return case["process_version"], case["stage"]


def blocks(out: str) -> dict[str, list[str]]:
    """The text output per case: its ref -> its lines (the first without the ref)."""
    found: dict[str, list[str]] = {}
    for line in out.splitlines()[:-1]:
        if line.startswith("  "):
            found[list(found)[-1]].append(line.strip())
        else:
            ref, _, rest = line.partition("  ")
            found[ref] = [rest]
    return found


# -- dry run ----------------------------------------------------------------------------------------


def test_a_dry_run_with_the_mapping_lists_per_case_what_changes_and_writes_nothing(
    cli: Lotse, cases: dict[str, str], mapping: str, tables: Tables,
) -> None:
    before = tables()

    dry = ok(migrate(cli, "--map", mapping, "--dry-run"))

    assert tables() == before
    assert dry.err == ""
    per_case = blocks(dry.out)
    assert list(per_case) == [cases["recruited"], cases["visa"], cases["housed"]]  # not the withdrawn one
    assert per_case[cases["visa"]] == [
        "pflege v1 -> pflege v2, visa -> visum: would migrate",
        "items: kept 2 (employment_contract, recognition_documents), dropped 0, new 0",
        "facts: kept 2 (nationality, visa_valid_until->visum_valid_until), dropped 0",
        "deadlines: closed 1 (visa_limit), opened 1 (visum_limit)",
    ]
    housed = per_case[cases["housed"]]
    assert housed[0] == "pflege v1 -> pflege v2, housed -> housed: would migrate"
    assert "tax_id->steuer_id" in housed[1] and "dropped 1 (family_support), new 0" in housed[1]
    assert housed[3] == "deadlines: closed 0, opened 0"
    assert per_case[cases["recruited"]][0] == "pflege v1 -> pflege v2, recruited -> recruited: would migrate"
    assert dry.out.splitlines()[-1] == (
        "3 case(s) would be moved to pflege v2, 0 cannot be, 0 on it already (dry run: nothing written)")


def test_a_dry_run_without_a_mapping_names_the_cases_that_cannot_be_moved_and_why(
    cli: Lotse, cases: dict[str, str], tables: Tables,
) -> None:
    before = tables()

    dry = ok(migrate(cli, "--dry-run"))

    assert tables() == before
    per_case = blocks(dry.out)
    assert per_case[cases["recruited"]][0] == "pflege v1 -> pflege v2, recruited -> recruited: would migrate"
    visa = per_case[cases["visa"]]
    assert len(visa) == 1
    assert visa[0].startswith(
        "cannot be moved: stage 'visa' has no target in pflege v2; map it under stages:")
    assert "fact 'visa_valid_until' has no target in pflege v2" in visa[0]
    assert "done item 'family_support' has no target in pflege v2" in per_case[cases["housed"]][0]
    assert dry.out.splitlines()[-1] == (
        "1 case(s) would be moved to pflege v2, 2 cannot be, 0 on it already (dry run: nothing written)")


def test_a_dry_run_as_json_gives_every_case_with_its_plan_and_status(
    cli: Lotse, cases: dict[str, str], mapping: str, tables: Tables,
) -> None:
    before = tables()

    data = ok(migrate(cli, "--dry-run", "--json")).json()
    mapped = ok(migrate(cli, "--dry-run", "--json", "--map", mapping, "--case", cases["visa"])).json()

    assert tables() == before
    assert {k: data[k] for k in ("to", "dry_run", "migrated", "would_migrate", "already", "cannot")} == {
        "to": "pflege v2", "dry_run": True, "migrated": 0, "would_migrate": 1, "already": 0, "cannot": 2}
    statuses = {c["ref"]: c["status"] for c in data["cases"]}
    assert statuses == {cases["recruited"]: "would migrate", cases["visa"]: "cannot",
                        cases["housed"]: "cannot"}
    visa = next(c for c in data["cases"] if c["ref"] == cases["visa"])
    assert visa["stage"] == {"from": "visa", "to": None}
    assert "stage 'visa' has no target in pflege v2; map it under stages:" in visa["problems"]
    assert mapped["would_migrate"] == 1 and [c["ref"] for c in mapped["cases"]] == [cases["visa"]]
    assert mapped["cases"][0] == {
        "ref": cases["visa"], "from": "pflege v1", "to": "pflege v2",
        "stage": {"from": "visa", "to": "visum"},
        "items": {"kept": {"employment_contract": "employment_contract",
                           "recognition_documents": "recognition_documents"}, "dropped": [], "new": []},
        "facts": {"kept": {"nationality": "nationality", "visa_valid_until": "visum_valid_until"},
                  "dropped": []},
        "deadlines": {"closed": ["visa_limit"], "opened": ["visum_limit"]},
        "problems": [], "status": "would migrate",
    }


# -- applying ---------------------------------------------------------------------------------------


def test_applying_moves_the_cases_as_case_show_process_list_report_and_check_see_it(
    cli: Lotse, cases: dict[str, str], mapping: str,
) -> None:
    visa_due = next(d["due"] for d in shown(cli, cases["visa"])["deadlines"] if d["deadline"] == "visa_limit")

    first = ok(migrate(cli, "--map", mapping, "--case", cases["visa"], "--note", "Prozess 2027"))

    assert first.out.splitlines() == [
        f"{cases['visa']}  pflege v1 -> pflege v2, visa -> visum: migrated",
        "  items: kept 2 (employment_contract, recognition_documents), dropped 0, new 0",
        "  facts: kept 2 (nationality, visa_valid_until->visum_valid_until), dropped 0",
        "  deadlines: closed 1 (visa_limit), opened 1 (visum_limit)",
        "1 case(s) moved to pflege v2, 0 cannot be, 0 on it already",
    ]
    visa = shown(cli, cases["visa"])
    assert (visa["process_version"], visa["stage"]) == (2, "visum")
    assert visa["facts"]["visum_valid_until"] == VISA_UNTIL and "visa_valid_until" not in visa["facts"]
    last = visa["history"][-1]
    assert (last["action"], last["from"], last["to"], last["actor"], last["via"]) == (
        "migrate", "visa", "visum", "koord", "cli")
    assert last["note"] == "pflege v1 -> pflege v2: Prozess 2027"
    assert [(d["deadline"], d["due"]) for d in visa["deadlines"]] == [("visum_limit", visa_due)]  # entry kept
    listed = {(r["name"], r["version"]): r["open"] for r in ok(cli("process", "list", "--json")).json()}
    assert (listed[("pflege", 1)], listed[("pflege", 2)]) == (2, 1)
    by_stage = [r for r in ok(cli("report", "--json")).json()["by_stage"] if r["process"] == "pflege"]
    assert by_stage == [
        {"process": "pflege", "version": 1, "stage": "recruited", "open": 1},
        {"process": "pflege", "version": 1, "stage": "housed", "open": 1},
        {"process": "pflege", "version": 2, "stage": "visum", "open": 1},
    ]
    late = (dt.date.fromisoformat(visa_due) + dt.timedelta(days=1)).isoformat()
    checked = ok(cli("check", "--as-of", late, "--dry-run", "--json")).json()
    assert [(r["ref"], r["deadline"]) for r in checked if r["ref"] == cases["visa"]] == [
        (cases["visa"], "visum_limit")]

    rest = ok(migrate(cli, "--map", mapping))

    assert rest.out.splitlines()[-1] == "2 case(s) moved to pflege v2, 0 cannot be, 0 on it already"
    assert where(cli, cases["recruited"]) == (2, "recruited") and where(cli, cases["housed"]) == (2, "housed")
    housed = shown(cli, cases["housed"])
    done = {i["id"] for i in housed["checklist"] if i["done"]}
    assert "steuer_id" in done and not done & {"tax_id", "family_support"}
    assert housed["history"][-1]["note"] == "pflege v1 -> pflege v2"
    assert where(cli, cases["withdrawn"]) == (1, "withdrawn")  # a closed case keeps its version
    listed = {(r["name"], r["version"]): r["open"] for r in ok(cli("process", "list", "--json")).json()}
    assert (listed[("pflege", 1)], listed[("pflege", 2)]) == (0, 3)
    assert "pflege   2        visum" in ok(cli("report")).out


def test_running_it_again_changes_nothing(
    cli: Lotse, cases: dict[str, str], mapping: str, tables: Tables,
) -> None:
    ok(migrate(cli, "--map", mapping))
    before = tables()

    again = migrate(cli, "--map", mapping)
    named = migrate(cli, "--map", mapping, "--case", cases["visa"], "--case", cases["housed"])
    as_json = migrate(cli, "--map", mapping, "--json")

    assert tables() == before
    assert ok(again).out == "0 case(s) moved to pflege v2, 0 cannot be, 0 on it already\n"
    assert ok(named).out.splitlines() == [
        f"{cases['visa']}  already on it", f"{cases['housed']}  already on it",
        "0 case(s) moved to pflege v2, 0 cannot be, 2 on it already"]
    assert ok(as_json).json() == {"to": "pflege v2", "dry_run": False, "migrated": 0, "would_migrate": 0,
                                  "already": 0, "cannot": 0, "cases": []}


def test_a_closed_case_named_by_case_keeps_its_version(
    cli: Lotse, cases: dict[str, str], mapping: str, tables: Tables,
) -> None:
    before = tables()

    named = migrate(cli, "--map", mapping, "--case", cases["withdrawn"])

    assert named.code == 1
    assert named.out.splitlines() == [
        f"{cases['withdrawn']}  cannot be moved: the case is closed (stage 'withdrawn'); a closed case keeps "
        "its version", "0 case(s) moved to pflege v2, 1 cannot be, 0 on it already"]
    assert tables() == before


def test_back_and_forth_keeps_every_fact_and_item(
    cli: Lotse, cases: dict[str, str], mapping: str, tmp_path: Path,
) -> None:
    back = str(write_mapping(tmp_path / "pflege-2-1.yaml", BACKWARD))

    def held(ref: str) -> tuple[Any, ...]:
        case = shown(cli, ref)
        return (case["process_version"], case["stage"], case["facts"],
                sorted(i["id"] for i in case["checklist"] if i["done"]),
                [(d["deadline"], d["due"]) for d in case["deadlines"]])

    before = {ref: held(ref) for ref in (cases["recruited"], cases["visa"])}
    ok(migrate(cli, "--map", mapping, "--case", cases["recruited"], "--case", cases["visa"]))

    returned = ok(migrate(cli, "--map", back, "--from", "2", to="1"))

    assert returned.out.splitlines()[-1] == "2 case(s) moved to pflege v1, 0 cannot be, 0 on it already"
    assert {ref: held(ref) for ref in before} == before
    assert [h["action"] for h in shown(cli, cases["visa"])["history"][-2:]] == ["migrate", "migrate"]
    assert shown(cli, cases["visa"])["history"][-1]["note"] == "pflege v2 -> pflege v1"


def test_two_migrations_at_once_move_each_case_once(
    cli: Lotse, cases: dict[str, str], mapping: str, home: Path, own: Path,
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    environment.update({"LOTSE_HOME": str(home), "LOTSE_PROCESS_DIR": str(own)})
    both = [subprocess.Popen([*LOTSE, "process", "migrate", "pflege", "--to", "2", "--map", mapping, "--by",
                              "koord", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=environment) for _ in range(2)]
    outcomes = [(*p.communicate(timeout=120), p.returncode) for p in both]

    assert [code for _, _, code in outcomes] == [0, 0], [err for _, err, _ in outcomes]
    assert [err for _, err, _ in outcomes] == ["", ""]
    seen = [c for out, _, _ in outcomes for c in json.loads(out)["cases"]]
    assert {c["status"] for c in seen} <= {"migrated", "already"}  # the later run finds them moved
    moved = [c["ref"] for c in seen if c["status"] == "migrated"]
    assert sorted(moved) == sorted([cases["recruited"], cases["visa"], cases["housed"]])
    for ref in moved:
        assert [h["action"] for h in shown(cli, ref)["history"]].count("migrate") == 1
    assert where(cli, cases["visa"]) == (2, "visum")


def test_a_case_that_cannot_be_moved_exits_1_and_the_others_are_moved(
    cli: Lotse, cases: dict[str, str],
) -> None:
    applied = migrate(cli)

    assert applied.code == 1
    per_case = blocks(applied.out)
    assert per_case[cases["recruited"]][0] == "pflege v1 -> pflege v2, recruited -> recruited: migrated"
    assert per_case[cases["visa"]][0].startswith("cannot be moved: stage 'visa' has no target in pflege v2")
    assert per_case[cases["housed"]][0].startswith("cannot be moved: done item 'family_support'")
    assert applied.out.splitlines()[-1] == "1 case(s) moved to pflege v2, 2 cannot be, 0 on it already"
    assert where(cli, cases["recruited"]) == (2, "recruited")
    assert where(cli, cases["visa"]) == (1, "visa") and where(cli, cases["housed"]) == (1, "housed")
    assert "migrate" not in [h["action"] for h in shown(cli, cases["visa"])["history"]]


def test_a_stage_that_is_final_in_the_new_version_cannot_be_moved_into(
    cli: Lotse, own: Path, tables: Tables,
) -> None:
    arrived = open_case(cli)
    bring_to(cli, arrived, "arrival")
    v2 = write_pflege_v2(own)
    data = yaml.safe_load(v2.read_text(encoding="utf-8"))
    data["final"].append("arrival")  # v2 ends on arrival: the same id, now a closed stage
    gone = {i["id"] for i in data["stages"]["arrival"]["checklist"]}
    data["stages"]["arrival"] = {"title": data["stages"]["arrival"]["title"], "responsible": "coordinator"}
    data["deadlines"] = {k: d for k, d in data["deadlines"].items() if d.get("item") not in gone}
    data["transitions"] = [t for t in data["transitions"] if t["from"] != "arrival"]
    data["transitions"].append(
        {"event": "learn", "from": "visum", "to": "language_course", "roles": ["employer"]})
    v2.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = tables()

    dry = ok(migrate(cli, "--dry-run", "--case", arrived))
    applied = migrate(cli, "--case", arrived)

    assert dry.out.splitlines()[0].startswith(
        f"{arrived}  cannot be moved: stage 'arrival' is final in pflege v2; a migration does "
        "not close a case: map it under stages: to a running stage")
    assert applied.code == 1 and applied.out.splitlines()[0] == dry.out.splitlines()[0]
    assert tables() == before


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (None, "cannot be read (No such file or directory)"),
        ("stages: [visa\n", "not a YAML mapping file"),
        ("- visa\n- visum\n", "must be a mapping with stages, items, facts, events, drop"),
        ("stage: {visa: visum}\n", "stage: "),
        ("stages: {visa: [visum]}\n", "stages.visa: "),
        ("stages: {visum: visa}\n", "stages.visum: pflege v1 has no stage 'visum'"),
        ("stages: {visa: visa}\n", "stages.visa: pflege v2 has no stage 'visa'"),
        ("items: {tax_id: steuer}\n", "items.tax_id: pflege v2 has no item 'steuer'"),
        ("drop: {items: [steuer_id]}\n", "drop.items.0: pflege v1 has no item 'steuer_id'"),
        ("facts: {visa_valid_until: nationality}\n", "facts.visa_valid_until: a date in pflege v1, but "
         "'nationality' is a country in pflege v2"),
        ("stages: {visa: withdrawn}\n", "stages.visa: 'withdrawn' is a final stage of pflege v2; a migration "
         "does not close a case: map it to a running stage"),
    ],
    ids=["missing", "not YAML", "a list", "unknown key", "not a string", "key unknown in v1",
         "target unknown in v2", "item target unknown", "dropped unknown", "fact of another type",
         "into a final stage"],
)
def test_a_bad_mapping_is_one_error_line_naming_the_key_exit_2_and_nothing_written(
    cli: Lotse, few: dict[str, str], tmp_path: Path, tables: Tables, text: str | None, said: str,
) -> None:
    path = tmp_path / "mapping.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    before = tables()

    refused = migrate(cli, "--map", str(path))
    dry = migrate(cli, "--map", str(path), "--dry-run", "--json")

    assert (refused.code, dry.code) == (2, 2)
    assert refused.error.startswith(f"error: {path}: ") and said in refused.error
    assert dry.error == refused.error
    assert refused.out == dry.out == ""
    assert tables() == before


def test_an_unknown_key_in_the_mapping_is_named_with_the_keys_it_may_have(
    cli: Lotse, few: dict[str, str], tmp_path: Path,
) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("stage: {visa: visum}\n", encoding="utf-8")
    nested = tmp_path / "nested.yaml"
    nested.write_text("drop: {item: [family_support]}\n", encoding="utf-8")

    refused = migrate(cli, "--map", str(path))
    in_drop = migrate(cli, "--map", str(nested))

    assert refused.error == (f"error: {path}: stage: unknown key; a mapping has stages, items, facts, events "
                             "and drop")
    assert in_drop.error == f"error: {nested}: drop.item: unknown key; drop has items, facts and events"


def test_the_mapping_is_checked_against_the_version_named_by_from_when_no_case_is_left_on_it(
    cli: Lotse, few: dict[str, str], mapping: str, tmp_path: Path, tables: Tables,
) -> None:
    ok(migrate(cli, "--map", mapping))
    wrong = write_mapping(tmp_path / "wrong.yaml", {"stages": {"visum": "visa"}})
    before = tables()

    unchecked = migrate(cli, "--map", str(wrong))
    checked = migrate(cli, "--map", str(wrong), "--from", "1")

    assert ok(unchecked).out == "0 case(s) moved to pflege v2, 0 cannot be, 0 on it already\n"
    assert checked.code == 2
    assert checked.error == f"error: {wrong}: stages.visum: pflege v1 has no stage 'visum'"
    assert tables() == before


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--to", "9"], 1, "pflege has no version 9 (--to); its versions: 1, 2"),
        (["--to", "2", "--from", "3"], 1, "pflege has no version 3 (--from); its versions: 1, 2"),
        (["--to", "2", "--by", "klinik-nord"], 1,
         "actor 'klinik-nord' may not migrate cases to another process version: it needs one of the roles "
         "coordinator"),
        (["--to", "2", "--by", "nobody"], 1, "unknown actor 'nobody'"),
        (["--to", "2", "--case", "SE-2026-9999"], 1, "unknown case 'SE-2026-9999'"),
    ],
    ids=["unknown --to", "unknown --from", "an employer", "unknown actor", "unknown case"],
)
def test_a_wrong_version_actor_or_case_is_one_error_line_and_nothing_written(
    cli: Lotse, few: dict[str, str], mapping: str, tables: Tables, args: list[str], code: int, said: str,
) -> None:
    before = tables()
    by = [] if "--by" in args else ["--by", "koord"]

    refused = cli("process", "migrate", "pflege", "--map", mapping, *by, *args)

    assert refused.code == code
    assert said in refused.error
    assert tables() == before


def test_an_unknown_process_is_one_error_line(cli: Lotse, few: dict[str, str], tables: Tables) -> None:
    before = tables()

    refused = cli("process", "migrate", "altenpflege", "--to", "2", "--by", "koord")

    assert refused.code == 1
    assert refused.error.startswith("error: unknown process 'altenpflege v2'; known: ")
    assert tables() == before


def test_a_case_of_another_process_is_refused_and_nothing_written(
    cli: Lotse, few: dict[str, str], mapping: str, tables: Tables,
) -> None:
    other = open_case(cli, "--process", "chancen", "--region", "SE-West", "--set", "residence_title=104c",
                      "--by", "koord")
    before = tables()

    refused = migrate(cli, "--map", mapping, "--case", few["visa"], "--case", other)

    assert refused.code == 2
    assert refused.error == f"error: {other} is a case of chancen, not of pflege"
    assert tables() == before
    assert where(cli, few["visa"]) == (1, "visa")


# -- messages ---------------------------------------------------------------------------------------


def queued(cli: Lotse, ref: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(cli("outbox", "--case", ref, "--json")).json()
    return rows


def test_messages_go_out_only_with_notify_to_the_new_stages_responsible_and_the_coordinator(
    cli: Lotse, cases: dict[str, str], mapping: str,
) -> None:
    quiet_before = queued(cli, cases["recruited"])
    told_before = {m["id"] for m in queued(cli, cases["visa"])}

    ok(migrate(cli, "--map", mapping, "--case", cases["recruited"]))
    ok(migrate(cli, "--map", mapping, "--case", cases["visa"], "--notify"))

    assert queued(cli, cases["recruited"]) == quiet_before
    new = [m for m in queued(cli, cases["visa"]) if m["id"] not in told_before]
    assert sorted(m["to"] for m in new) == ["klinik-nord", "koord"]  # visum: employer; the coordinator
    assert all(m["status"] == "pending" for m in new)


# -- no personal data -------------------------------------------------------------------------------


def test_no_output_holds_a_name_a_nationality_or_a_fact_value(
    cli: Lotse, opened: tuple[dict[str, str], list[str]], mapping: str,
) -> None:
    personal = opened[1]
    outcomes = [
        migrate(cli, "--dry-run"), migrate(cli, "--dry-run", "--json"),
        migrate(cli, "--dry-run", "--map", mapping), migrate(cli, "--dry-run", "--map", mapping, "--json"),
        migrate(cli),  # exit 1: the cases that cannot be moved, with their reasons
        migrate(cli, "--map", mapping, "--json"), migrate(cli, "--map", mapping),
    ]

    assert [o.code for o in outcomes] == [0, 0, 0, 0, 1, 0, 0]
    for outcome in outcomes:
        for value in personal:
            assert value not in outcome.out + outcome.err, (value, outcome.out)
    assert "visum_valid_until" in outcomes[5].out  # the ids are there, the values are not


# -- PostgreSQL -------------------------------------------------------------------------------------


@pytest.fixture
def on_postgres(lotse: Lotse, own: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Lotse, str]]:
    """`lotse` on a fresh PostgreSQL database set up by `lotse init`, with the alliance's folder."""
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_database())
        monkeypatch.setenv("LOTSE_DATABASE_URL", url)
        monkeypatch.setenv("LOTSE_PROCESS_DIR", str(own))
        ok(lotse("init"))
        for actor, role, region in [("koord", "coordinator", []), ("klinik-nord", "employer", ["SE-Nord"])]:
            ok(lotse("actor", "add", actor, "--name", actor.title(), "--role", role,
                     *(["--region", *region] if region else [])))
        yield lotse, url


def test_dry_run_apply_and_again_on_postgresql(
    on_postgres: tuple[Lotse, str], own: Path, tmp_path: Path,
) -> None:
    cli, url = on_postgres
    cases, _ = open_cases(cli)
    write_pflege_v2(own)
    mapping = str(write_mapping(tmp_path / "pflege-1-2.yaml", FORWARD))
    before = dump(url)

    dry = ok(migrate(cli, "--map", mapping, "--dry-run"))

    assert dump(url) == before
    assert dry.out.splitlines()[-1] == (
        "3 case(s) would be moved to pflege v2, 0 cannot be, 0 on it already (dry run: nothing written)")

    applied = ok(migrate(cli, "--map", mapping, "--note", "Prozess 2027"))

    assert applied.out.splitlines()[-1] == "3 case(s) moved to pflege v2, 0 cannot be, 0 on it already"
    assert where(cli, cases["visa"]) == (2, "visum") and where(cli, cases["housed"]) == (2, "housed")
    assert shown(cli, cases["visa"])["history"][-1]["action"] == "migrate"
    after = dump(url)

    again = ok(migrate(cli, "--map", mapping))

    assert again.out == "0 case(s) moved to pflege v2, 0 cannot be, 0 on it already\n"
    assert dump(url) == after

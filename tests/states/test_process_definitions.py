"""Process definitions are data validated at load: each kind of mistake names the file, the key
path and the problem; an alliance adds its own definitions from LOTSE_PROCESS_DIR."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from lotse.config.settings import PACKAGED_PROCESS_DIR, Settings
from lotse.states.errors import DefinitionError, NotFound
from lotse.states.process import Catalog, load_file
from tests.conftest import run_lotse

VALID: dict[str, Any] = {
    "name": "mini",
    "version": 1,
    "title": "A small pathway",
    "initial": "start",
    "final": ["done", "withdrawn"],
    "roles": ["coordinator", "employer", "housing"],
    "facts": {
        "arrival_date": {"type": "date", "set_by": ["employer"]},
        "language_level": {"type": "cefr", "set_by": ["employer"]},
        "withdraw_reason": {"type": "str", "set_by": ["employer"]},
    },
    "stages": {
        "start": {"title": "Start", "responsible": "employer",
                  "checklist": [{"id": "flat", "title": "Flat found", "owner": "housing"}]},
        "done": {"title": "Done"},
        "withdrawn": {"title": "Withdrawn"},
    },
    "transitions": [
        {"event": "finish", "from": "start", "to": "done", "roles": ["employer"],
         "requires": {"items": ["flat"], "facts": ["arrival_date", "language_level >= B1"]}},
        {"event": "withdraw", "from": "*", "to": "withdrawn", "roles": ["employer"],
         "requires": {"facts": ["withdraw_reason"]}},
    ],
}


def write(folder: Path, data: Any, name: str = "mini.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def broken(tmp_path: Path, change: Any) -> DefinitionError:
    data = copy.deepcopy(VALID)
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(DefinitionError) as failure:
        load_file(path)
    assert failure.value.file == str(path)
    assert str(failure.value).startswith(f"{path}: ")
    return failure.value


def test_the_valid_example_loads(tmp_path: Path) -> None:
    process = load_file(write(tmp_path, VALID))
    assert process.key == "mini v1" and process.source.endswith("mini.yaml")


def test_malformed_yaml_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "name: mini\nstages: [start\nversion: 1\n")
    with pytest.raises(DefinitionError) as failure:
        load_file(path)
    assert failure.value.file == str(path)
    assert failure.value.path.startswith("line ") and "column" in failure.value.path
    assert "malformed YAML" in failure.value.problem


def test_python_objects_in_yaml_are_refused_not_constructed(tmp_path: Path) -> None:
    path = write(tmp_path, "name: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(DefinitionError, match="malformed YAML"):
        load_file(path)
    assert not Path("pwned").exists()


def test_a_definition_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="must be a mapping"):
        load_file(write(tmp_path, "- just\n- a list\n"))


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d.pop("initial"))
    assert error.path == "initial" and "required" in error.problem.lower()


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["stages"]["start"].update(colour="red"))
    assert error.path == "stages.start.colour"


def test_an_unknown_stage_is_named_with_its_key_path(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["transitions"][0].update(to="finished"))
    assert error.path == "transitions.0.to"
    assert "unknown stage 'finished'" in error.problem and "start, done, withdrawn" in error.problem


def test_an_unknown_source_stage_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["transitions"][0].update({"from": ["start", "middle"]}))
    assert error.path == "transitions.0.from.1" and "unknown stage 'middle'" in error.problem


def test_an_unknown_initial_stage_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d.update(initial="begin"))
    assert error.path == "initial" and "unknown stage 'begin'" in error.problem


def test_an_unknown_role_of_an_event_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["transitions"][0].update(roles=["employer", "landlord"]))
    assert error.path == "transitions.0.roles.1" and "unknown role 'landlord'" in error.problem


def test_an_unknown_owner_of_a_checklist_item_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["stages"]["start"]["checklist"][0].update(owner="landlord"))
    assert error.path == "stages.start.checklist.0.owner" and "unknown role 'landlord'" in error.problem


def test_an_unknown_role_that_may_set_a_fact_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["facts"]["arrival_date"].update(set_by=["airline"]))
    assert error.path == "facts.arrival_date.set_by.0" and "unknown role 'airline'" in error.problem


def test_roles_without_the_coordinator_are_refused(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["roles"].remove("coordinator"))
    assert error.path == "roles" and "coordinator" in error.problem


def test_a_duplicate_event_from_the_same_stage_is_named(tmp_path: Path) -> None:
    twin = {"event": "finish", "from": "start", "to": "withdrawn", "roles": ["employer"]}
    error = broken(tmp_path, lambda d: d["transitions"].append(twin))
    assert error.path == "transitions.2.event"
    assert "duplicate event 'finish' from stage 'start'" in error.problem


def test_a_duplicate_event_through_the_any_stage_wildcard_is_named(tmp_path: Path) -> None:
    twin = {"event": "withdraw", "from": "start", "to": "done", "roles": ["employer"]}
    error = broken(tmp_path, lambda d: d["transitions"].append(twin))
    assert error.path == "transitions.2.event" and "duplicate event 'withdraw'" in error.problem


def test_the_same_event_from_different_stages_is_fine(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    data["stages"]["middle"] = {"title": "Middle"}
    data["transitions"] += [
        {"event": "pause", "from": "start", "to": "middle"},
        {"event": "finish", "from": "middle", "to": "done"},
    ]
    assert load_file(write(tmp_path, data)).transition("finish", "middle") is not None


def test_an_unknown_fact_type_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["facts"]["arrival_date"].update(type="datetime"))
    assert error.path == "facts.arrival_date.type"
    assert "'date'" in error.problem and "'cefr'" in error.problem  # says which types exist


def test_an_enum_fact_without_values_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["facts"].update(path={"type": "enum"}))
    assert error.path == "facts.path.values"


def test_a_requirement_naming_an_unknown_checklist_item_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["transitions"][0]["requires"].update(items=["flat", "car"]))
    assert error.path == "transitions.0.requires.items.1"
    assert "unknown checklist item 'car'" in error.problem


def test_a_requirement_naming_an_unknown_fact_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["transitions"][0]["requires"].update(facts=["shoe_size >= 40"]))
    assert error.path == "transitions.0.requires.facts.0" and "unknown fact 'shoe_size'" in error.problem


def test_a_comparison_with_a_value_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["transitions"][0]["requires"].update(facts=["language_level >= B5"]))
    assert error.path == "transitions.0.requires.facts.0"
    assert "language_level: not a CEFR level A1, A2, B1, B2, C1 or C2" in error.problem


def test_an_ordering_on_text_is_refused(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["transitions"][1]["requires"].update(facts=["withdraw_reason > a"]))
    assert error.path == "transitions.1.requires.facts.0" and "ordered fact" in error.problem


def test_a_requirement_that_is_python_is_refused(tmp_path: Path) -> None:
    code = "__import__('os').system('true')"
    error = broken(tmp_path, lambda d: d["transitions"][0]["requires"].update(facts=[code]))
    assert error.path == "transitions.0.requires.facts.0" and "comparison" in error.problem


def test_a_stage_that_cannot_be_reached_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["stages"].update(limbo={"title": "Limbo"}))
    assert error.path == "stages.limbo" and "cannot be reached from 'start'" in error.problem


def test_an_event_leaving_a_final_stage_is_refused(tmp_path: Path) -> None:
    back = {"event": "reopen", "from": "done", "to": "start"}
    error = broken(tmp_path, lambda d: d["transitions"].append(back))
    assert error.path == "transitions.2.from.0" and "final" in error.problem


def test_a_bad_time_limit_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["stages"]["start"].update(limit="soon"))
    assert error.path == "stages.start.limit" and "14 days" in error.problem


LONG = "x" * 65  # one more than the id columns hold


def _add_deadline(data: dict[str, Any], key: str) -> None:
    data["deadlines"] = {key: {"title": "T", "role": "employer", "basis": "B",
                               "due": "1 days after stage_entry"}}


def _add_stage_with_limit(data: dict[str, Any], name: str) -> None:  # its limit's id: `{name}_limit`
    data["stages"][name] = {"title": "Long", "limit": "2 weeks"}
    data["transitions"].append({"event": "detour", "from": "start", "to": name})


@pytest.mark.parametrize(("change", "path"), [
    (lambda d: d["facts"].update({LONG: {"type": "str"}}), f"facts.{LONG}"),
    (lambda d: d["stages"]["start"]["checklist"][0].update(id=LONG), "stages.start.checklist.0.id"),
    (lambda d: d["transitions"][0].update(event=LONG), "transitions.0.event"),
    (lambda d: _add_deadline(d, LONG), f"deadlines.{LONG}"),
    (lambda d: d["roles"].append(LONG), f"roles.{LONG}"),
    (lambda d: _add_stage_with_limit(d, "y" * 60), f"stages.{'y' * 60}.limit"),
])
def test_an_id_longer_than_its_column_is_refused_at_load(tmp_path: Path, change: Any, path: str) -> None:
    error = broken(tmp_path, change)
    assert error.path == path and ("64" in error.problem or "63" in error.problem)


def test_ids_of_64_characters_load(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    _add_deadline(data, "d" * 64)
    data["facts"]["f" * 64] = {"type": "str"}
    load_file(write(tmp_path, data))


def test_the_same_name_and_version_in_two_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, VALID, "a.yaml")
    write(tmp_path, VALID, "b.yaml")
    with pytest.raises(DefinitionError) as failure:
        Catalog.load([tmp_path])
    assert failure.value.path == "version" and "a.yaml" in str(failure.value)
    assert failure.value.file.endswith("b.yaml")


def test_an_alliance_adds_its_own_definition_from_lotse_process_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "alliance"
    write(own, VALID)
    monkeypatch.setenv("LOTSE_PROCESS_DIR", str(own))
    catalog = Catalog.load(Settings().process_dirs)
    assert catalog.names() == ["chancen", "erzieher", "mini", "pflege"]
    assert catalog.get("mini").source == str(own / "mini.yaml")
    assert catalog.get("pflege").source.startswith(str(PACKAGED_PROCESS_DIR))


def test_a_newer_version_in_the_alliance_folder_becomes_the_default(tmp_path: Path) -> None:
    write(tmp_path, VALID, "mini1.yaml")
    write(tmp_path, {**VALID, "version": 2, "title": "Second"}, "mini2.yaml")
    catalog = Catalog.load([tmp_path])
    assert catalog.get("mini").version == 2
    assert catalog.get("mini", 1).title == "A small pathway"
    with pytest.raises(NotFound, match="mini v3"):
        catalog.get("mini", 3)


def test_a_missing_process_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="does not exist"):
        Catalog.load([tmp_path / "nowhere"])


def test_the_command_line_lists_the_alliances_own_definition(tmp_path: Path) -> None:
    own = tmp_path / "alliance"
    write(own, VALID)
    result = run_lotse(tmp_path / "home", "process", "list", env={"LOTSE_PROCESS_DIR": str(own)})
    assert result.returncode == 0, result.stderr
    assert "mini" in result.stdout and "pflege" in result.stdout


def test_a_bad_definition_in_the_alliance_folder_stops_the_command_line_with_exit_2(tmp_path: Path) -> None:
    own = tmp_path / "alliance"
    bad = copy.deepcopy(VALID)
    bad["transitions"][0]["to"] = "finished"
    path = write(own, bad)
    home = tmp_path / "home"
    for args in (["process", "list"], ["process", "show", "pflege"], ["init"]):
        result = run_lotse(home, *args, env={"LOTSE_PROCESS_DIR": str(own)})
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        assert str(path) in lines[0] and "transitions.0.to" in lines[0] and "finished" in lines[0]
        assert "Traceback" not in result.stderr
    assert not (home / "lotse.db").exists()


def test_an_event_dated_by_a_fact_that_is_not_a_date_is_named(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["transitions"][0].update(dated_by="language_level"))
    assert error.path == "transitions.0.dated_by" and "not a date" in error.problem
    error = broken(tmp_path, lambda d: d["transitions"][0].update(dated_by="landing_day"))
    assert error.path == "transitions.0.dated_by" and "unknown fact 'landing_day'" in error.problem


# -- what an adversarial definition tries: duplicate keys, odd names, huge numbers, huge files ------


def test_a_duplicate_key_is_refused_naming_both_lines(tmp_path: Path) -> None:
    text = yaml.safe_dump(VALID, sort_keys=False) + "name: other\n"
    path = write(tmp_path, text)
    first = 1 + text.splitlines().index("name: mini")
    with pytest.raises(DefinitionError) as failure:
        load_file(path)
    last = len(text.splitlines())
    assert failure.value.path == f"line {last}"
    assert f"duplicate key 'name', first on line {first}" in failure.value.problem


def test_a_duplicate_key_deep_inside_a_stage_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(VALID, sort_keys=False).replace(
        "    title: Start\n", "    title: Start\n    title: Anfang\n", 1)
    with pytest.raises(DefinitionError, match="duplicate key 'title'"):
        load_file(write(tmp_path, text))


def test_yaml_merge_keys_are_not_taken_for_duplicates(tmp_path: Path) -> None:
    text = yaml.safe_dump(VALID, sort_keys=False).replace(
        "  done:\n    title: Done\n", "  done: &plain\n    title: Done\n").replace(
        "  withdrawn:\n    title: Withdrawn\n", "  withdrawn:\n    <<: *plain\n    title: Withdrawn\n")
    assert "<<: *plain" in text
    assert load_file(write(tmp_path, text)).stages["withdrawn"].title == "Withdrawn"


def _rename_stage(data: dict[str, Any], name: str) -> None:
    data["stages"][name] = data["stages"].pop("done")
    data["final"][0] = name
    data["transitions"][0]["to"] = name


@pytest.mark.parametrize("name", ["", "<b>done</b>", "Done", "1st", "done-now", "erledigt ✓", "a\nb"])
@pytest.mark.parametrize(("kind", "change"), [
    ("stages", _rename_stage),
    ("roles", lambda d, name: d["roles"].append(name)),
])
def test_a_stage_or_role_name_outside_the_grammar_is_refused(
    tmp_path: Path, kind: str, change: Any, name: str
) -> None:
    error = broken(tmp_path, lambda d: change(d, name))
    assert error.path == f"{kind}.{name}"
    assert "lower case letters, digits and _, at most 64 characters" in error.problem


@pytest.mark.parametrize(("change", "path"), [
    (lambda d: d["facts"].update({"<i>x</i>": {"type": "str"}}), "facts.<i>x</i>"),
    (lambda d: d["facts"].update({"": {"type": "str"}}), "facts."),
    (lambda d: d["stages"]["start"]["checklist"][0].update(id="Flat"), "stages.start.checklist.0.id"),
    (lambda d: d["stages"]["start"]["checklist"][0].update(id=""), "stages.start.checklist.0.id"),
    (lambda d: d["transitions"][0].update(event="<script>"), "transitions.0.event"),
    (lambda d: d["transitions"][0].update(event=""), "transitions.0.event"),
])
def test_an_item_fact_or_event_id_outside_the_grammar_is_refused(
    tmp_path: Path, change: Any, path: str
) -> None:
    error = broken(tmp_path, change)
    assert error.path == path and "lower case letters, digits and _, at most 64 characters" in error.problem


def test_ids_at_the_edges_of_the_grammar_load(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    _rename_stage(data, "s" + "_9" * 31 + "x")  # 64 characters
    data["roles"].append("r2_d2")
    assert len(load_file(write(tmp_path, data)).final[0]) == 64


@pytest.mark.parametrize(
    "limit", ["999999999 years", "11 years", "121 months", "3654 days", "1" * 5000 + " days"]
)
def test_a_limit_longer_than_ten_years_is_refused(tmp_path: Path, limit: str) -> None:
    error = broken(tmp_path, lambda d: d["stages"]["start"].update(limit=limit))
    assert error.path == "stages.start.limit" and "at most 10 years" in error.problem
    assert len(str(error)) < 300


def test_a_limit_given_as_a_mapping_is_bounded_too(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["stages"]["start"].update(limit={"amount": 10**20, "unit": "years"}))
    assert error.path.startswith("stages.start.limit") and "10 years" in error.problem


def test_a_limit_of_ten_years_loads(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    data["stages"]["start"]["limit"] = "10 years"
    assert str(load_file(write(tmp_path, data)).stages["start"].limit) == "10 years"


@pytest.mark.parametrize("version", [0, -1, 2**31, 10**20])
def test_a_version_out_of_range_is_refused(tmp_path: Path, version: int) -> None:
    error = broken(tmp_path, lambda d: d.update(version=version))
    assert error.path == "version"


def test_the_highest_version_loads(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, {**VALID, "version": 2**31 - 1})).version == 2**31 - 1


def test_a_definition_over_one_megabyte_is_refused_before_parsing(tmp_path: Path) -> None:
    # Valid YAML that would parse: the size alone refuses it, and quickly.
    text = yaml.safe_dump(VALID, sort_keys=False) + "#" + "x" * 1_000_000 + "\n"
    with pytest.raises(DefinitionError) as failure:
        load_file(write(tmp_path, text))
    assert failure.value.path == "" and "larger than 1 MB" in failure.value.problem


def test_the_command_line_refuses_a_duplicate_key_with_one_line(tmp_path: Path) -> None:
    own = tmp_path / "alliance"
    path = write(own, yaml.safe_dump(VALID, sort_keys=False) + "version: 2\n")
    home = tmp_path / "home"
    result = run_lotse(home, "process", "list", env={"LOTSE_PROCESS_DIR": str(own)})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: line ")
    assert "duplicate key 'version', first on line" in lines[0] and "Traceback" not in result.stderr
    assert not (home / "lotse.db").exists()


def test_the_shipped_definitions_load() -> None:
    catalog = Catalog.load([PACKAGED_PROCESS_DIR])
    assert catalog.names() == ["chancen", "erzieher", "pflege"]
    occupations = {name: catalog.get(name).occupation for name in catalog.names()}
    assert occupations == {"chancen": "health", "erzieher": "education", "pflege": "health"}


def test_every_shipped_definition_gives_titles_and_a_basis_in_each_language() -> None:
    for path in sorted(PACKAGED_PROCESS_DIR.glob("*.yaml")):
        process = load_file(path)
        assert process.retention is not None, path
        assert all(process.fact(name).title for name in process.facts), path
        for key, deadline in process.deadlines.items():
            for text in (deadline.title, deadline.basis):
                assert isinstance(text.given, dict) and set(text.given) == {"de", "en"}, (path, key)


def test_the_childcare_pathway_reaches_the_language_course_with_or_without_a_visa() -> None:
    erzieher = load_file(PACKAGED_PROCESS_DIR / "erzieher.yaml")
    assert [(t.event, t.to) for t in erzieher.transitions_from("recruited")] == [
        ("apply_visa", "visa"), ("already_here", "language_course"), ("withdraw", "withdrawn")]
    decision = erzieher.deadlines["recognition_decision"]
    assert str(decision.due) == "3 months after documents_complete_date"
    assert decision.role == "recognition_office"
    assert "Landesrecht Schleswig-Holstein (state law)" in decision.basis.in_("en")
    assert erzieher.fact("nationality").personal


def test_yaml_aliases_that_multiply_a_small_file_are_refused_quickly(tmp_path: Path) -> None:
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = yaml.safe_dump(VALID, sort_keys=False).replace("roles:\n", "roles: *l8\nunused:\n", 1)
    path = write(tmp_path, "\n".join(levels) + "\n" + text)  # 10^9 values from a 1 kB file
    assert path.stat().st_size < 5_000

    with pytest.raises(DefinitionError) as failure:
        load_file(path)
    assert "more than 100,000 values" in failure.value.problem


def test_every_span_of_a_deadline_is_bounded_too(tmp_path: Path) -> None:
    def due(d: dict[str, Any]) -> None:
        _add_deadline(d, "far")
        d["deadlines"]["far"]["due"] = "99999 days after stage_entry"

    def ladder(d: dict[str, Any]) -> None:
        _add_deadline(d, "far")
        d["deadlines"]["far"]["ladder"] = [{"after": "0 days"}, {"after": "200 months"}]

    assert broken(tmp_path, due).path == "deadlines.far.due"
    error = broken(tmp_path, ladder)
    assert error.path.startswith("deadlines.far.ladder.1") and "at most 10 years" in error.problem

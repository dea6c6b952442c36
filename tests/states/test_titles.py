"""Titles per language: a definition gives a title as plain text or as {de: ..., en: ...}; a bad
mapping is refused at load with file, key path and problem; durations and roles read as words."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import pytest

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.states.deadlines import rule
from lotse.states.durations import Duration
from lotse.states.process import Catalog, load_file
from lotse.states.titles import LOCALES, Title, role_title, role_titles
from tests.states.test_process_definitions import VALID, broken, write


def with_titles(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    change(data)
    return data


def test_a_plain_title_stays_valid_and_reads_the_same_in_every_language(tmp_path: Path) -> None:
    process = load_file(write(tmp_path, VALID))
    assert process.stages["start"].title == "Start"
    assert process.stages["start"].title.in_("en") == "Start"
    assert process.title.in_("de") == "A small pathway"


def test_a_title_per_language_reads_german_by_default_and_english_in_english(tmp_path: Path) -> None:
    data = with_titles(lambda d: d["stages"]["start"].update(title={"de": "Anfang", "en": "Beginning"}))
    title = load_file(write(tmp_path, data)).stages["start"].title
    assert str(title) == "Anfang" and f"{title}" == "Anfang" and title == "Anfang"
    assert title.in_("de") == "Anfang" and title.in_("en") == "Beginning"


def test_a_title_given_only_in_english_is_shown_in_german_too() -> None:
    assert Title({"en": "Beginning"}).in_("de") == "Beginning"


@pytest.mark.parametrize(("change", "path"), [
    (lambda d: d.update(title={"de": "Weg", "fr": "Chemin"}), "title"),
    (lambda d: d["stages"]["start"].update(title={"de": "Start", "en": ""}), "stages.start.title"),
    (lambda d: d["stages"]["start"]["checklist"][0].update(title={"de": " "}),
     "stages.start.checklist.0.title"),
    (lambda d: d["facts"]["arrival_date"].update(title={}), "facts.arrival_date.title"),
    (lambda d: d["transitions"][0].update(title={"en": 7}), "transitions.0.title"),
])
def test_a_bad_title_mapping_is_refused_at_load_naming_file_key_path_and_problem(
    tmp_path: Path, change: Any, path: str,
) -> None:
    error = broken(tmp_path, change)
    assert error.path == path
    assert any(word in error.problem for word in ("unknown language 'fr'", "empty", "at least one", "text"))


def test_a_deadline_title_with_an_unknown_language_is_refused_at_load(tmp_path: Path) -> None:
    deadline = {"title": {"de": "Frist", "es": "Plazo"}, "role": "employer", "basis": "B",
                "due": "1 days after stage_entry"}
    error = broken(tmp_path, lambda d: d.update(deadlines={"soon": deadline}))
    assert error.path == "deadlines.soon.title" and "unknown language 'es'" in error.problem


def test_a_title_keeps_its_languages_through_copies_and_json() -> None:
    title = Title({"de": "Ankunft", "en": "Arrival"})
    assert pickle.loads(pickle.dumps(title)).in_("en") == "Arrival"
    assert copy.deepcopy(title).in_("en") == "Arrival"
    assert title != Title({"de": "Ankunft", "en": "Arrived"})


def test_the_json_of_a_definition_gives_titles_as_they_were_written(tmp_path: Path) -> None:
    data = with_titles(lambda d: d["stages"]["start"].update(title={"de": "Anfang", "en": "Beginning"}))
    dumped = load_file(write(tmp_path, data)).model_dump(mode="json", by_alias=True)
    assert dumped["stages"]["start"]["title"] == {"de": "Anfang", "en": "Beginning"}
    assert dumped["stages"]["done"]["title"] == "Done"


def test_every_title_of_the_shipped_definitions_is_given_in_german_and_english() -> None:
    for process in Catalog.load([PACKAGED_PROCESS_DIR]).latest():
        titles: dict[str, Any] = {"title": process.title}
        for name, stage in process.stages.items():
            titles[f"stages.{name}"] = stage.title
            titles.update({f"stages.{name}.{i.id}": i.title for i in stage.checklist})
            if stage.limit_basis:
                titles[f"stages.{name}.limit_basis"] = stage.limit_basis
        titles.update({f"facts.{n}": f.title for n, f in process.facts.items()})
        titles.update({f"transitions.{t.event}": t.title for t in process.transitions})
        for key, d in process.deadlines.items():
            titles.update({f"deadlines.{key}": d.title, f"deadlines.{key}.basis": d.basis})
        missing = [f"{process.name}: {where}" for where, t in titles.items() if set(t.given) != set(LOCALES)]
        assert not missing, missing


def test_a_stage_limit_reads_in_the_language_of_its_reader() -> None:
    pflege = Catalog.load([PACKAGED_PROCESS_DIR]).get("pflege")
    limit = rule(pflege, "visa_limit")
    assert limit is not None
    assert limit.title.in_("de") == "Visumverfahren: 10 Wochen"
    assert limit.title.in_("en") == "Visa procedure: 10 weeks"


@pytest.mark.parametrize(("text", "de", "en"), [
    ("10 weeks", "10 Wochen", "10 weeks"), ("1 month", "1 Monat", "1 month"),
    ("3 months", "3 Monate", "3 months"), ("14 days", "14 Tage", "14 days"),
    ("1 day", "1 Tag", "1 day"), ("1 year", "1 Jahr", "1 year"), ("2 years", "2 Jahre", "2 years"),
])
def test_a_duration_is_written_in_the_readers_language(text: str, de: str, en: str) -> None:
    assert Duration.parse(text).in_("de") == de and Duration.parse(text).in_("en") == en


def test_every_role_of_the_shipped_definitions_has_a_title_in_german_and_english() -> None:
    roles = {r for p in Catalog.load([PACKAGED_PROCESS_DIR]).latest() for r in p.roles}
    assert roles <= set(role_titles())
    assert all(set(role_titles()[r].given) == set(LOCALES) for r in roles)
    assert role_title("housing") == "Wohnungsunternehmen" and role_title("housing", "en") == "housing company"
    assert role_title("landlord", "en") == "landlord"  # unknown: its id

"""The childcare pathway `erzieher` through the real command line (issue 12): recruited abroad from
recruited to integrated, or already here (no visa, no arrival); the state's recognition deadline 3
months after complete documents; B2 before the recognition ends; and § 38 BeschV (the WHO
safeguards list) only on health and care occupations, for `lotse case add` and `lotse enrol` alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.tasks.context import Context
from tests.cli.backends import ok
from tests.cli.conftest import Lotse

Tables = Callable[[], dict[str, list[tuple[Any, ...]]]]
SECTION_38 = "under § 38 BeschV only the Federal Employment Agency may recruit or place from there"


@pytest.fixture
def kita(alliance: Context, lotse: Lotse) -> str:
    """A daycare provider (Kita-Träger) of the alliance, an employer in SE-Nord."""
    added = lotse("actor", "add", "kita-nord", "--name", "Kita-Träger Nord", "--role", "employer",
                  "--region", "SE-Nord", "--email", "kita-nord@example.org")
    assert added.code == 0, added.err
    return "kita-nord"


def open_erzieher(lotse: Lotse, kita: str, nationality: str = "NGA", by: str = "vermittlung") -> str:
    opened = ok(lotse("case", "add", "--given-name", "Chiamaka", "--family-name", "Okafor",
                      "--nationality", nationality, "--employer", kita, "--process", "erzieher",
                      "--by", by, "--json"))
    return str(opened.json()["ref"])


def due(lotse: Lotse, ref: str, day: str, deadline: str) -> list[dict[str, Any]]:
    rows = ok(lotse("check", "--as-of", day, "--dry-run", "--json")).json()
    return [r for r in rows if r["ref"] == ref and r["deadline"] == deadline]


def moves(shown: dict[str, Any]) -> list[tuple[str, str]]:
    """The events of a case's history that changed its stage, and the stage each led to."""
    return [(h["action"], h["to"]) for h in shown["history"] if h["from"] != h["to"]]


def test_the_shipped_erzieher_pathway_is_an_education_occupation(lotse: Lotse) -> None:
    shown = ok(lotse("process", "show", "erzieher", "--json")).json()

    assert (shown["name"], shown["occupation"]) == ("erzieher", "education")
    assert list(shown["stages"]) == ["recruited", "visa", "arrival", "language_course", "recognition",
                                     "housed", "integrated", "withdrawn"]
    assert ok(lotse("process", "show", "pflege", "--json")).json()["occupation"] == "health"
    assert "erzieher" in ok(lotse("process", "list")).out


def test_a_childcare_worker_recruited_abroad_goes_from_recruited_to_integrated(
    kita: str, lotse: Lotse, tables: Tables
) -> None:
    ref = open_erzieher(lotse, kita)  # an agency, from Nigeria: § 38 BeschV does not bind childcare
    ok(lotse("case", "done", ref, "employment_contract", "--by", kita))
    ok(lotse("case", "done", ref, "recognition_documents", "--by", "vermittlung"))
    ok(lotse("case", "set", ref, "documents_complete_date=2027-01-15", "--by", "anerkennung"))

    # the state's authority decides within 3 months of complete documents (Schleswig-Holstein)
    assert due(lotse, ref, "2027-04-14", "recognition_decision") == []
    [decision] = due(lotse, ref, "2027-04-15", "recognition_decision")
    assert decision["due"] == "2027-04-15" and decision["role"] == "recognition_office"
    assert "Landesrecht Schleswig-Holstein" in decision["basis"]
    shown = ok(lotse("case", "show", ref, "--json")).json()
    assert [d["due"] for d in shown["deadlines"] if d["deadline"] == "recognition_decision"] == ["2027-04-15"]

    ok(lotse("case", "advance", ref, "apply_visa", "--by", kita))
    ok(lotse("case", "done", ref, "advance_approval", "--by", "abh-nord"))
    ok(lotse("case", "done", ref, "embassy_appointment", "--by", "vermittlung"))
    ok(lotse("case", "done", ref, "visa_granted", "--by", kita))
    ok(lotse("case", "done", ref, "housing_confirmed", "--by", "wohnbau-nord"))
    ok(lotse("case", "advance", ref, "arrive", "--by", kita, "--set", "arrival_date=2027-02-01",
             "--set", "visa_valid_until=2027-05-01"))
    ok(lotse("case", "done", ref, "address_registered", "--by", kita))
    ok(lotse("case", "done", ref, "residence_permit_applied", "--by", "abh-nord"))
    ok(lotse("case", "advance", ref, "start_language_course", "--by", kita))
    ok(lotse("case", "set", ref, "language_level=B1", "--by", "sprachschule"))
    ok(lotse("case", "advance", ref, "start_recognition", "--by", kita))
    ok(lotse("case", "done", ref, "documents_submitted", "--by", kita))
    ok(lotse("case", "done", ref, "recognition_granted", "--by", "anerkennung"))
    ok(lotse("case", "set", ref, "recognition_path=full", "--by", "anerkennung"))
    assert due(lotse, ref, "2027-04-15", "recognition_decision") == []  # decided: closed

    before = tables()
    refused = lotse("case", "advance", ref, "settle", "--by", kita)
    assert refused.code == 1
    assert "language_level >= B2" in refused.error
    assert tables() == before  # nothing written

    ok(lotse("case", "set", ref, "language_level=B2", "--by", "sprachschule"))
    ok(lotse("case", "advance", ref, "settle", "--by", kita))
    ok(lotse("case", "done", ref, "permanent_housing", "--by", "wohnbau-nord"))
    ok(lotse("case", "advance", ref, "complete", "--by", "beratung"))

    shown = ok(lotse("case", "show", ref, "--json")).json()
    assert (shown["process"], shown["stage"]) == ("erzieher", "integrated")
    assert moves(shown) == [
        ("apply_visa", "visa"), ("arrive", "arrival"), ("start_language_course", "language_course"),
        ("start_recognition", "recognition"), ("settle", "housed"), ("complete", "integrated")]


def test_a_childcare_worker_already_here_skips_visa_and_arrival(kita: str, lotse: Lotse) -> None:
    ref = open_erzieher(lotse, kita, nationality="SYR", by=kita)
    ok(lotse("case", "done", ref, "employment_contract", "--by", kita))
    ok(lotse("case", "set", ref, "residence_permit_valid_until=2028-06-30", "--by", "abh-nord"))

    missing = lotse("case", "advance", ref, "already_here", "--by", kita)
    assert missing.code == 1 and "work_permit_checked" in missing.error

    ok(lotse("case", "done", ref, "work_permit_checked", "--by", "abh-nord"))
    ok(lotse("case", "advance", ref, "already_here", "--by", kita))

    shown = ok(lotse("case", "show", ref, "--json")).json()
    assert shown["stage"] == "language_course"
    assert "start_recognition" in [e["event"] for e in shown["allowed_events"]]
    assert moves(shown) == [("already_here", "language_course")]


def test_an_agency_may_place_a_childcare_worker_but_no_nurse_from_a_listed_country(
    kita: str, lotse: Lotse, tables: Tables
) -> None:
    assert open_erzieher(lotse, kita, nationality="NGA", by="vermittlung")  # Nigeria is on the list
    before = tables()

    refused = lotse("case", "add", "--given-name", "Chiamaka", "--family-name", "Okafor",
                    "--nationality", "NGA", "--employer", "klinik-nord", "--process", "pflege",
                    "--by", "vermittlung")

    assert refused.code == 1
    assert refused.error.startswith("error: Nigeria is on the WHO Health Workforce Support")
    assert SECTION_38 in refused.error
    assert tables() == before


def test_a_definition_that_names_no_occupation_is_bound_by_section_38(
    kita: str, lotse: Lotse, tables: Tables, tmp_path: Path
) -> None:
    own = tmp_path / "alliance"
    own.mkdir()
    text = (PACKAGED_PROCESS_DIR / "erzieher.yaml").read_text(encoding="utf-8")
    text = text.replace("name: erzieher\n", "name: kita\n").replace("occupation: education\n", "")
    assert "\noccupation:" not in text
    (own / "kita.yaml").write_text(text, encoding="utf-8")
    env = {"LOTSE_PROCESS_DIR": str(own)}
    before = tables()

    refused = lotse("case", "add", "--given-name", "Chiamaka", "--family-name", "Okafor",
                    "--nationality", "NGA", "--employer", kita, "--process", "kita",
                    "--by", "vermittlung", env=env)

    assert refused.code == 1 and SECTION_38 in refused.error
    assert tables() == before
    assert lotse("process", "show", "kita", "--json", env=env).json()["occupation"] == "health"


def test_enrol_applies_section_38_to_the_nurses_of_a_file_only(
    kita: str, lotse: Lotse, tables: Tables, tmp_path: Path
) -> None:
    header = "given_name,family_name,nationality,employer,process"
    childcare = "Chiamaka,Okafor,NGA,kita-nord,erzieher"
    path = tmp_path / "cohort.csv"
    path.write_text("\n".join([header, childcare, "Ngozi,Eze,NGA,klinik-nord,pflege"]) + "\n",
                    encoding="utf-8")
    before = tables()

    refused = lotse("enrol", str(path), "--by", "vermittlung")

    assert refused.code == 2
    assert refused.error.endswith(
        "line 3: nationality: § 38 BeschV: a private agency may not place from this country "
        "(WHO safeguards list); the employer opens it")
    assert "line 2" not in refused.error
    assert tables() == before

    path.write_text(f"{header}\n{childcare}\n", encoding="utf-8")
    done = ok(lotse("enrol", str(path), "--by", "vermittlung", "--json"))
    assert done.json()["enrolled"] == 1

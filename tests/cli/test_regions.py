"""Regions within the county through the command line, on SQLite and PostgreSQL, with a three-level
hierarchy (county K -> target regions K-Nord, K-Sued -> towns): a message for a role reaches the
town's organisation, else the target region's, else the county's; scope reaches down the hierarchy
and to the regions an actor serves; `case list --region` includes the regions below; the report
counts by any level; an unknown region is one error line naming the known ones, and nothing is
written."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotse.config.settings import Settings
from lotse.notifications import routes
from tests.cli.backends import Db, add_actors, db, ok, open_case, to_visa
from tests.cli.conftest import Lotse

__all__ = ["db"]

HIERARCHY = """
regions:
  - code: K
    title: {de: Kreis, en: County}
    regions:
      - code: K-Nord
        title: {de: Zielregion Nord, en: North}
        regions:
          - {code: K-Adorf, title: {de: Adorf, en: Adorf}}
          - {code: K-Bdorf, title: {de: Bdorf, en: Bdorf}}
      - code: K-Sued
        title: {de: Zielregion Süd, en: South}
        regions:
          - {code: K-Cdorf, title: {de: Cdorf, en: Cdorf}}
"""
KNOWN = "K, K-Nord, K-Adorf, K-Bdorf, K-Sued, K-Cdorf"


@pytest.fixture
def county(db: Db, lotse: Lotse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lotse:
    path = tmp_path / "regions.yaml"
    path.write_text(HIERARCHY, encoding="utf-8")
    monkeypatch.setenv("LOTSE_REGIONS_FILE", str(path))
    add_actors(lotse, ("koord", "coordinator", None), ("klinik", "employer", "K-Nord"),
               ("wohnbau-adorf", "housing", "K-Adorf"), ("wohnbau-nord", "housing", "K-Nord"),
               ("wohnbau-kreis", "housing", "K"), ("beratung-kreis", "counsellor", "K"),
               ("beratung-adorf", "counsellor", "K-Adorf"), ("beratung-bdorf", "counsellor", "K-Bdorf"),
               ("abh", "foreigners_office", None))
    return lotse


def arrive(cli: Lotse, region: str) -> str:
    """A case of `region` that has arrived: `arrive` tells housing, counsellor, foreigners' office."""
    ref = open_case(cli, "klinik", "--region", region)
    to_visa(cli, ref)
    ok(cli("case", "done", ref, "visa_granted", "housing_confirmed", "--by", "koord"))
    ok(cli("case", "advance", ref, "arrive", "--by", "koord", "--set", "arrival_date=2026-04-01",
           "--set", "visa_valid_until=2027-04-01"))
    return ref


def housing_told(db: Db, ref: str) -> set[str]:
    return {r for r in db.recipients(ref) if r.startswith("wohnbau")}


def test_a_message_reaches_the_towns_housing_company_else_the_regions_else_the_countys(
    county: Lotse, db: Db,
) -> None:
    in_adorf, in_bdorf, in_cdorf = (arrive(county, region) for region in ("K-Adorf", "K-Bdorf", "K-Cdorf"))

    assert housing_told(db, in_adorf) == {"wohnbau-adorf"}  # the town's own
    assert housing_told(db, in_bdorf) == {"wohnbau-nord"}  # no company in Bdorf: its target region's
    assert housing_told(db, in_cdorf) == {"wohnbau-kreis"}  # none in Cdorf nor in K-Sued: the county's
    # the counsellor of Bdorf is told of Bdorf's case only; the county's where no town has one
    assert "beratung-bdorf" in db.recipients(in_bdorf) and "beratung-bdorf" not in db.recipients(in_adorf)
    assert "beratung-kreis" in db.recipients(in_cdorf) and "beratung-kreis" not in db.recipients(in_adorf)
    # a region an actor serves besides its own counts as its own: Adorf's company now serves Cdorf too
    ok(county("actor", "edit", "wohnbau-adorf", "--serves", "K-Cdorf", "--by", "koord"))
    assert housing_told(db, arrive(county, "K-Cdorf")) == {"wohnbau-adorf"}


def test_a_role_without_an_actor_takes_the_towns_route_else_the_countys_never_another_regions(
    county: Lotse, db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "routes.yaml"
    config.write_text("""
version: 1
urls:
  - json://127.0.0.1:9/housing-adorf:
      tag: housing, K-Adorf
  - json://127.0.0.1:9/housing-county:
      tag: housing, K
  - json://127.0.0.1:9/housing-south:
      tag: housing, K-Sued
""", encoding="utf-8")
    monkeypatch.setenv("LOTSE_NOTIFY_CONFIG", str(config))
    monkeypatch.setenv("LOTSE_NOTIFY_ON_ADVANCE", "false")
    settings = Settings(notify_config=config, _env_file=None)  # type: ignore[call-arg]
    label = {t.key: t.label.rsplit("/", 1)[-1] for t in routes.load(settings).targets}
    for company in ("wohnbau-adorf", "wohnbau-nord", "wohnbau-kreis"):  # no case yet: nothing to hand over
        ok(county("actor", "remove", company, "--by", "koord"))

    in_adorf, in_bdorf, in_cdorf = (arrive(county, region) for region in ("K-Adorf", "K-Bdorf", "K-Cdorf"))

    def housing(ref: str) -> list[tuple[str, str | None]]:
        return [(who, label.get(route or "")) for who, route in db.outbox(ref) if who.startswith("housing@")]

    assert housing(in_adorf) == [("housing@K-Adorf", "housing-adorf")]
    assert housing(in_bdorf) == [("housing@K-Bdorf", "housing-county")]  # up the hierarchy, not the south's
    assert housing(in_cdorf) == [("housing@K-Cdorf", "housing-south")]  # its target region's route


def test_scope_reaches_down_the_hierarchy_and_to_the_regions_served_never_to_another_town(
    county: Lotse, db: Db,
) -> None:
    in_adorf = open_case(county, "klinik", "--region", "K-Adorf")

    # a county-level counsellor is entitled to a town's case; another town's counsellor is not
    assert ok(county("person", "export", in_adorf, "--by", "beratung-kreis")).out
    before = db.rows()
    refused = county("person", "export", in_adorf, "--by", "beratung-bdorf")
    assert refused.code == 1
    assert refused.error == (f"error: actor 'beratung-bdorf' may not act on {in_adorf}: the case is of "
                             "region K-Adorf and employer klinik, and beratung-bdorf is not named on it")
    assert db.rows() == before
    add_actors(county, ("vermittlung-bdorf", "agency", "K-Bdorf"), ("vermittlung-kreis", "agency", "K"))
    assert county("case", "done", in_adorf, "recognition_documents", "--by", "vermittlung-bdorf").code == 1
    ok(county("case", "done", in_adorf, "recognition_documents", "--by", "vermittlung-kreis"))
    # a region served besides its own: Bdorf's agency serving Adorf acts there too
    ok(county("actor", "edit", "vermittlung-bdorf", "--serves", "K-Adorf", "--by", "koord"))
    ok(county("case", "done", in_adorf, "recognition_documents", "--undo", "--by", "vermittlung-bdorf"))


def test_case_list_of_a_region_includes_the_regions_below_it(county: Lotse, db: Db) -> None:
    refs = {region: open_case(county, "klinik", "--region", region)
            for region in ("K", "K-Nord", "K-Adorf", "K-Bdorf", "K-Sued", "K-Cdorf")}

    def listed(region: str) -> set[str]:
        return {r["ref"] for r in ok(county("case", "list", "--region", region, "--json")).json()}

    assert listed("K-Nord") == {refs["K-Nord"], refs["K-Adorf"], refs["K-Bdorf"]}
    assert listed("K-Adorf") == {refs["K-Adorf"]}
    assert listed("K") == set(refs.values())
    assert all(ref.startswith("K-2026-") for ref in refs.values())  # the county's letters, at any level


def test_the_report_counts_open_cases_by_any_level_of_the_hierarchy(county: Lotse, db: Db) -> None:
    for region in ("K-Adorf", "K-Adorf", "K-Bdorf", "K-Nord", "K-Cdorf"):
        open_case(county, "klinik", "--region", region)

    def by_region(*args: str) -> dict[str, int]:
        data = ok(county("report", "--json", *args)).json()
        return {row["region"]: row["open"] for row in data["by_region"]}

    assert by_region() == {"K-Adorf": 2, "K-Bdorf": 1, "K-Nord": 1, "K-Cdorf": 1}
    assert by_region("--region-level", "town") == {"K-Adorf": 2, "K-Bdorf": 1, "K-Nord": 1, "K-Cdorf": 1}
    assert by_region("--region-level", "region") == {"K-Nord": 4, "K-Sued": 1}
    assert by_region("--region-level", "county") == {"K": 5}
    assert by_region("--region-level", "0") == {"K": 5}
    wrong = county("report", "--region-level", "village")
    assert wrong.code == 2 and wrong.error.startswith("error: unknown region level 'village': use county")


@pytest.mark.parametrize("command", [
    ["case", "add", "--given-name", "A", "--family-name", "B", "--nationality", "PHL", "--employer", "klinik",
     "--region", "K-Zdorf"],
    ["actor", "add", "wohnbau-z", "--name", "Wohnbau Z", "--role", "housing", "--region", "K-Zdorf"],
    ["actor", "edit", "klinik", "--region", "K-Zdorf", "--by", "koord"],
    ["actor", "edit", "klinik", "--serves", "K-Zdorf", "--by", "koord"],
    ["case", "list", "--region", "K-Zdorf"],
])
def test_an_unknown_region_is_one_error_line_naming_the_known_ones_and_writes_nothing(
    county: Lotse, db: Db, command: list[str],
) -> None:
    before = db.rows()

    outcome = county(*command)

    assert outcome.code == 2
    assert outcome.error.startswith("error: unknown region 'K-Zdorf'; known regions (")
    assert outcome.error.endswith(f"): {KNOWN}")
    assert db.rows() == before


def test_an_enrolment_row_of_an_unknown_region_names_the_known_ones_and_imports_nothing(
    county: Lotse, db: Db, tmp_path: Path,
) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("given_name,family_name,nationality,employer,region\nA,B,PHL,klinik,K-Zdorf\n",
                    encoding="utf-8")
    before = db.rows()

    outcome = county("enrol", str(path), "--by", "koord")

    assert outcome.code == 2
    assert f"line 2: region: not a region of the hierarchy; known: {KNOWN}" in outcome.error
    assert db.rows() == before


def test_a_broken_hierarchy_file_stops_every_command_with_one_line_naming_the_file_and_the_key(
    alliance: object, lotse: Lotse, tmp_path: Path,
) -> None:
    path = tmp_path / "regions.yaml"
    path.write_text("regions:\n  - code: K\n    title: {de: Kreis}\n    regions:\n      - code: K Nord\n",
                    encoding="utf-8")

    outcome = lotse("case", "list", env={"LOTSE_REGIONS_FILE": str(path)})

    assert outcome.code == 2
    assert outcome.error == f"error: {path}: regions[0].regions[0].code: use letters, digits, '-' or '_', " \
                            "at most 64 characters (e.g. SE-Nord)"

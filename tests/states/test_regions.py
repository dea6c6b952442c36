"""The region hierarchy (states/regions.py): the pure rules, and a file that is not a hierarchy
is one error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotse.config.settings import PACKAGED_REGIONS_FILE
from lotse.states import regions
from lotse.states.errors import BadInput, DefinitionError

THREE_LEVELS = """
regions:
  - code: K
    title: {de: Kreis, en: County}
    regions:
      - code: K-Nord
        title: {de: Nord, en: North}
        regions:
          - {code: K-Adorf, title: Adorf}
          - {code: K-Bdorf, title: Bdorf}
      - {code: K-Sued, title: {de: Süd, en: South}}
"""


@pytest.fixture
def county() -> regions.Regions:
    return regions.parse(THREE_LEVELS, "regions.yaml")


def test_the_chain_goes_up_nearest_first_and_below_reaches_every_level_down(county: regions.Regions) -> None:
    assert county.chain("K-Adorf") == ["K-Adorf", "K-Nord", "K"]
    assert county.below("K-Nord") == {"K-Nord", "K-Adorf", "K-Bdorf"}
    assert county.below("K") == set(county.codes)
    assert county.below("K-Adorf") == {"K-Adorf"}
    assert county.covers("K", "K-Bdorf") and not county.covers("K-Adorf", "K-Bdorf")


def test_a_region_is_counted_under_its_ancestor_at_a_level(county: regions.Regions) -> None:
    assert [county.at_level("K-Adorf", n) for n in (0, 1, 2, 3)] == ["K", "K-Nord", "K-Adorf", "K-Adorf"]
    assert county.at_level("K-Sued", 2) == "K-Sued"  # no deeper level: itself
    assert county.root("K-Bdorf") == "K" and county.deepest == 2
    assert [regions.level(t) for t in ("county", "region", "town", "2")] == [0, 1, 2, 2]
    with pytest.raises(BadInput, match="unknown region level 'dorf'"):
        regions.level("dorf")


def test_titles_in_both_languages_and_an_unknown_region_names_the_known_ones(county: regions.Regions) -> None:
    assert (county.title("K-Sued", "de"), county.title("K-Sued", "en"), county.title("K-Adorf", "en")) == (
        "Süd", "South", "Adorf")
    with pytest.raises(BadInput) as unknown:
        county.check("K-Zdorf")
    assert str(unknown.value) == ("unknown region 'K-Zdorf'; known regions (regions.yaml): "
                                  "K, K-Nord, K-Adorf, K-Bdorf, K-Sued")


def test_the_shipped_hierarchy_is_the_demo_county_with_target_regions_and_towns() -> None:
    shipped = regions.load(PACKAGED_REGIONS_FILE)
    assert shipped.chain("SE-Seestadt") == ["SE-Seestadt", "SE-Nord", "SE"]
    assert {"SE-Nord", "SE-Sued"} <= shipped.below("SE")


@pytest.mark.parametrize(("text", "where"), [
    ("regions: [", "regions.yaml: line 1, column 11: malformed YAML"),
    ("- code: K", "regions.yaml: must be a mapping with a list `regions`"),
    ("regions: []", "regions.yaml: regions: names no region"),
    ("regions: [{code: K, title: K}]\nextra: 1", "regions.yaml: extra: unknown key"),
    ("regions: [{title: Kreis}]", "regions.yaml: regions[0].code: use letters, digits"),
    ("regions: [{code: 'K;x=1', title: Kreis}]", "regions.yaml: regions[0].code: use letters, digits"),
    ("regions: [{code: K}]", "regions.yaml: regions[0].title: give a title"),
    ("regions: [{code: K, title: K, regions: [{code: K, title: K}]}]",
     "regions.yaml: regions[0].regions[0].code: 'K' is named twice"),
    ("regions: [{code: K, title: K, regions: {code: A}}]",
     "regions.yaml: regions[0].regions: must be a list"),
    ("regions: [{code: K, title: K, towns: []}]", "regions.yaml: regions[0].towns: unknown key"),
])
def test_a_file_that_is_not_a_hierarchy_is_one_error_naming_the_file_and_the_key(
    text: str, where: str,
) -> None:
    with pytest.raises(DefinitionError) as problem:
        regions.parse(text, "regions.yaml")
    assert str(problem.value).startswith(where), str(problem.value)


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"cannot be read: .*; see LOTSE_REGIONS_FILE"):
        regions.load(tmp_path / "nowhere.yaml")

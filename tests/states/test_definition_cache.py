"""Definitions and the region hierarchy checked once per content (states/definition_cache.py): an
unchanged file is not parsed again, any change is checked again (a broken edit still fails), a
cache file someone else could have written is not trusted, and a home where nothing can be
written only means checking every time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lotse.config.settings import PACKAGED_PROCESS_DIR, PACKAGED_REGIONS_FILE
from lotse.states import definition_yaml, process, regions
from lotse.states.errors import DefinitionError
from lotse.states.process import Catalog, digest


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the shipped definitions, and a home whose `cache` folder is not there yet."""
    shipped = tmp_path / "processes"
    shutil.copytree(PACKAGED_PROCESS_DIR, shipped)
    home = tmp_path / "home"
    home.mkdir()
    return shipped, home / "cache"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files parsed as YAML, in order."""
    parsed: list[str] = []
    real = definition_yaml.parse

    def counting(text: str, file: str) -> object:
        parsed.append(Path(file).name)
        return real(text, file)

    monkeypatch.setattr(definition_yaml, "parse", counting)
    return parsed


def test_unchanged_files_are_not_parsed_again_and_give_the_same_definitions(
    folders: tuple[Path, Path], parses: list[str],
) -> None:
    shipped, cache = folders
    first = Catalog.load([shipped], cache=cache)
    assert sorted(parses) == sorted(p.name for p in shipped.glob("*.yaml"))
    assert len(list(cache.glob("processes-*.pickle"))) == 1
    assert oct(next(cache.glob("processes-*.pickle")).stat().st_mode & 0o777) == "0o600"

    parses.clear()
    again = Catalog.load([shipped], cache=cache)
    assert parses == []
    fresh = Catalog.load([shipped])  # no cache: parsed and checked as ever
    for cached, checked in zip(again.versions(), fresh.versions(), strict=True):
        assert cached == checked and cached.text == checked.text and cached.source == checked.source
        assert digest(cached) == digest(checked) == digest(first.get(cached.name, cached.version))


def test_an_edited_file_is_checked_again_and_a_broken_edit_fails_as_without_a_cache(
    folders: tuple[Path, Path], parses: list[str],
) -> None:
    shipped, cache = folders
    Catalog.load([shipped], cache=cache)
    pflege = shipped / "pflege.yaml"
    pflege.write_text(pflege.read_text().replace("\nversion:", "\n# a comment\nversion:", 1))
    parses.clear()
    Catalog.load([shipped], cache=cache)
    assert sorted(parses) == sorted(p.name for p in shipped.glob("*.yaml"))  # checked again, all
    assert len(list(cache.glob("processes-*.pickle"))) == 1  # the older entry is gone

    pflege.write_text(pflege.read_text().replace("\nversion:", "\nversion: 1\nversion:", 1))
    with pytest.raises(DefinitionError, match="duplicate key 'version'"):
        Catalog.load([shipped], cache=cache)
    with pytest.raises(DefinitionError, match="duplicate key 'version'"):
        Catalog.load([shipped], cache=cache)  # a failed check is never kept


def test_a_file_added_or_removed_is_seen(folders: tuple[Path, Path]) -> None:
    shipped, cache = folders
    assert "chancen" in Catalog.load([shipped], cache=cache).names()
    (shipped / "chancen.yaml").unlink()
    assert "chancen" not in Catalog.load([shipped], cache=cache).names()


def test_a_cache_file_others_may_write_is_not_trusted(
    folders: tuple[Path, Path], parses: list[str],
) -> None:
    shipped, cache = folders
    Catalog.load([shipped], cache=cache)
    kept = next(cache.glob("processes-*.pickle"))
    kept.chmod(0o666)
    parses.clear()
    Catalog.load([shipped], cache=cache)
    assert parses  # checked again, not loaded from a file anybody could have replaced
    assert next(cache.glob("processes-*.pickle")).stat().st_mode & 0o777 == 0o600  # written anew


def test_a_damaged_cache_file_means_checking_again(folders: tuple[Path, Path], parses: list[str]) -> None:
    shipped, cache = folders
    Catalog.load([shipped], cache=cache)
    next(cache.glob("processes-*.pickle")).write_bytes(b"not a pickle")
    parses.clear()
    assert "pflege" in Catalog.load([shipped], cache=cache).names()
    assert parses


def test_a_cache_that_cannot_be_written_only_means_checking_every_time(
    folders: tuple[Path, Path], parses: list[str],
) -> None:
    shipped, cache = folders
    cache.write_text("a file where the cache folder would be")  # as a full disk: every write fails
    Catalog.load([shipped], cache=cache)
    Catalog.load([shipped], cache=cache)
    assert len(parses) == 2 * len(list(shipped.glob("*.yaml")))


def test_no_home_yet_creates_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "not-yet" / "cache"
    Catalog.load([PACKAGED_PROCESS_DIR], cache=cache)
    assert not cache.parent.exists()


def test_another_version_of_the_checking_code_checks_again(
    folders: tuple[Path, Path], parses: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    shipped, cache = folders
    Catalog.load([shipped], cache=cache)
    changed = tmp_path / "timers.py"
    changed.write_text("# another Lotse's timers\n")
    monkeypatch.setattr(process, "CHECKED_BY", [*process.CHECKED_BY, changed])
    parses.clear()
    Catalog.load([shipped], cache=cache)
    assert parses


def test_the_hierarchy_is_checked_once_per_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    file = tmp_path / "regions.yaml"
    shutil.copy(PACKAGED_REGIONS_FILE, file)
    parsed: list[str] = []
    real = regions.parse
    monkeypatch.setattr(regions, "parse", lambda text, name: parsed.append(name) or real(text, name))
    first = regions.load(file, cache=cache)
    regions._cache.clear()  # as in a new process
    regions._seen.clear()
    assert regions.load(file, cache=cache) == first and parsed == [str(file)]

    file.write_text(file.read_text() + "\n")
    regions._cache.clear()
    regions._seen.clear()
    assert regions.load(file, cache=cache) == first and len(parsed) == 2


def test_a_command_started_cold_with_checked_definitions_imports_no_yaml(tmp_path: Path) -> None:
    """What the cache is for (issue 15): a read-only command's context is made without PyYAML."""
    home = tmp_path / "home"
    home.mkdir()
    code = ("import sys; from lotse.config.settings import Settings; from lotse.tasks.context import "
            "Context; Context.from_settings(Settings(), check_schema=False); print('yaml' in sys.modules)")
    env = {**os.environ, "LOTSE_HOME": str(home)}
    env.pop("LOTSE_PROCESS_DIR", None)
    env.pop("LOTSE_REGIONS_FILE", None)
    run = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
           for _ in range(2)]
    assert [r.stdout.strip() for r in run] == ["True", "False"]
    assert {p.name.split("-")[0] for p in (home / "cache").iterdir()} == {"processes", "regions"}

"""Lotse's files are private: `lotse init` makes the home 0700, the database 0600 and a secret key
file 0600 from the start (whatever the umask), keeps the key when run again, and `lotse doctor`
says when the key is missing or a file is open to others, and what to run."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from lotse.config.settings import Settings
from lotse.tasks import secret_key
from tests.cli.conftest import Lotse
from tests.cli.test_doctor import failing, lines

KEY = "k" * 40


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away: what Lotse makes private, it makes so itself."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def test_init_makes_the_home_the_database_and_the_key_private_and_keeps_the_key(
    lotse: Lotse, home: Path, open_umask: None,
) -> None:
    first = lotse("init")
    assert first.code == 0, first.err
    key = home / "secret.key"
    assert f"secret key: {key.resolve()} written (mode 0600)" in first.out.splitlines()
    assert mode(home) == 0o700
    assert mode(home / "lotse.db") == 0o600
    for journal in home.glob("lotse.db-*"):  # SQLite gives them the database's mode
        assert mode(journal) == 0o600, journal
    assert mode(key) == 0o600
    written = key.read_text()
    assert len(written.strip()) >= 64 and written.endswith("\n")
    assert Settings(home=home, _env_file=None).signing_key() == written.strip().encode()  # type: ignore[call-arg]

    again = lotse("init")

    assert again.code == 0, again.err
    assert f"secret key: {key.resolve()} kept" in again.out.splitlines()
    assert key.read_text() == written


def test_init_writes_no_key_file_when_lotse_secret_key_is_set(lotse: Lotse, home: Path) -> None:
    made = lotse("init", env={"LOTSE_SECRET_KEY": KEY})
    assert made.code == 0, made.err
    assert "secret key: LOTSE_SECRET_KEY is set; no key file written" in made.out.splitlines()
    assert not (home / "secret.key").exists()


def test_init_warns_of_a_key_file_that_holds_no_usable_key_and_leaves_it(lotse: Lotse, home: Path) -> None:
    home.mkdir(mode=0o700)
    (home / "secret.key").write_text("short\n")
    made = lotse("init")
    assert made.code == 0
    assert made.err.startswith("warning: secret key: ") and "holds no usable key" in made.err
    assert (home / "secret.key").read_text() == "short\n"


def test_an_existing_home_keeps_its_mode_and_the_doctor_says_how_to_close_it(
    lotse: Lotse, home: Path, open_umask: None,
) -> None:
    home.mkdir(mode=0o755)
    assert lotse("init").code == 0
    assert mode(home) == 0o755  # someone else's folder, maybe: Lotse changes no mode it did not make
    (home / "secret.key").chmod(0o644)

    outcome = lotse("doctor", env={"LOTSE_PUBLIC_URL": "https://lotse.allianz.example"})

    assert outcome.code == 0, outcome.out
    found = lines(outcome)["secret key"]
    assert found.startswith(f"warn {(home / 'secret.key').resolve()}, but ")
    assert f"{home.resolve()} is open to group/others (mode 0755): run `chmod 700 {home.resolve()}`" in found
    assert (f"{(home / 'secret.key').resolve()} is open to group/others (mode 0644): run "
            f"`chmod 600 {(home / 'secret.key').resolve()}`") in found
    assert "lotse.db" not in found
    (home / "lotse.db").chmod(0o640)
    assert f"run `chmod 600 {(home / 'lotse.db').resolve()}`" in lines(lotse("doctor"))["secret key"]


def test_the_doctor_is_green_on_a_fresh_init_and_never_shows_the_key(lotse: Lotse, home: Path) -> None:
    assert lotse("init").code == 0
    outcome = lotse("doctor", env={"LOTSE_PUBLIC_URL": "https://lotse.allianz.example"})
    found = lines(outcome)
    assert found["secret key"] == (f"ok {(home / 'secret.key').resolve()}; home, key and database are "
                                   "private")
    assert found["public url"] == "ok links in messages point to https://lotse.allianz.example"
    key = (home / "secret.key").read_text().strip()
    assert key not in outcome.out + lotse("doctor", "--json").out


def test_without_a_key_the_doctor_fails_saying_to_run_init_or_set_the_variable(
    lotse: Lotse, home: Path,
) -> None:
    assert lotse("init").code == 0
    (home / "secret.key").unlink()

    outcome = lotse("doctor")

    assert outcome.code == 1
    assert failing(outcome) == {"secret key": (
        f"fail no key to sign answer and sign-in links: run `lotse init` (it writes "
        f"{(home / 'secret.key').resolve()}, mode 0600) or set LOTSE_SECRET_KEY")}
    assert lines(lotse("doctor", env={"LOTSE_SECRET_KEY": KEY}))["secret key"].startswith(
        "ok LOTSE_SECRET_KEY is set")


def test_without_a_public_url_the_doctor_warns_that_links_reach_this_machine_only(lotse: Lotse) -> None:
    assert lotse("init").code == 0
    assert lines(lotse("doctor"))["public url"] == (
        "warn LOTSE_PUBLIC_URL is not set: links in messages point to http://127.0.0.1:4210, reachable on "
        "this machine only; set it to the address the desk is reached at")


def test_a_key_file_is_created_readable_by_its_owner_only_even_under_an_open_umask(
    tmp_path: Path, open_umask: None,
) -> None:
    settings = Settings(home=tmp_path / "fresh", _env_file=None)  # type: ignore[call-arg]
    assert secret_key.ensure(settings) == (f"{settings.secret_key_file} written (mode 0600)", None)
    assert mode(settings.home) == 0o700 and mode(settings.secret_key_file) == 0o600
    assert secret_key.too_open(secret_key.private_paths(settings, None)) == []

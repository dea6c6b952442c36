"""Every command, fed words a careless or hostile caller might type, answers with exactly one
`error:` line and never a traceback: text that is not UTF-8 (a Latin-1 terminal's `Müller`), a
path of 10,000 characters, a port out of range. Real subprocesses on a real demo database."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import typer.main

from lotse.flows.cli import app
from tests.conftest import LOTSE, run_lotse

LATIN_1 = b"M\xfcller".decode("utf-8", "surrogateescape")  # what Python makes of Latin-1 bytes
TOO_LONG = "a" * 10_000
WORDS = {"not UTF-8": LATIN_1, "a path too long": TOO_LONG, "a number out of range": "70000"}


def commands() -> Iterator[tuple[list[str], list[tuple[str | None, bool]]]]:
    """Each command's words, and its parameters: (option name or None for an argument, is a flag)."""

    def walk(command: object, path: list[str]) -> Iterator[tuple[list[str], list[tuple[str | None, bool]]]]:
        subcommands = getattr(command, "commands", None)
        if subcommands is not None:
            for name, sub in subcommands.items():
                yield from walk(sub, [*path, name])
            return
        params = []
        for param in getattr(command, "params", []):
            option = max(param.opts, key=len) if param.param_type_name == "option" else None
            params.append((option, bool(getattr(param, "is_flag", False))))
        yield path, params

    yield from walk(typer.main.get_command(app), [])


def fed(path: list[str], params: list[tuple[str | None, bool]], word: str) -> list[str]:
    """The command with `word` for every value it takes (flags left out: `up --demo` would run)."""
    args = list(path)
    for option, is_flag in params:
        if is_flag:
            continue
        args += [option, word] if option else [word]
    return args


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fuzz") / "home"
    made = run_lotse(home, "init", "--demo")
    assert made.returncode == 0, made.stderr
    return home


def run(home: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    environment["LOTSE_HOME"] = str(home)
    # In the home's folder: a command taking a plain word for a file (backup 70000) writes there.
    return subprocess.run([*LOTSE, *args], capture_output=True, text=True, env=environment,
                          cwd=home.parent, timeout=120, errors="replace")


def test_every_command_fed_bad_words_answers_with_one_error_line_and_no_traceback(demo_home: Path) -> None:
    cases = [(kind, fed(path, params, word)) for path, params in commands() if any(not f for _, f in params)
             for kind, word in WORDS.items()]
    cases += [("a port below 1", ["up", "--port", "-1"]), ("a port below 1", ["up", "--desk-port", "0"]),
              ("a port below 1", ["desk", "--port", "-1"])]
    assert len(cases) > 60

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda case: run(demo_home, case[1]), cases))

    wrong = []
    for (kind, args), result in zip(cases, results, strict=True):
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        shown = " ".join(a if len(a) < 20 else a[:8] + "..." for a in args)
        if "Traceback" in result.stderr or (result.returncode != 0 and len(errors) != 1):
            wrong.append(f"{kind}: lotse {shown} -> exit {result.returncode}: {result.stderr[-300:]}")
        elif result.returncode == 0 and kind != "a number out of range":
            wrong.append(f"{kind}: lotse {shown} was accepted")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("args", "expected"), [
    (["case", "add", "--given-name", "Anjali", "--family-name", LATIN_1, "--nationality", "IND",
      "--employer", "klinik-seeblick"],
     "error: the value of --family-name is not UTF-8 text; set the terminal to UTF-8 "
     "(e.g. LANG=de_DE.UTF-8) and type it again"),
    (["case", "add", f"--family-name={LATIN_1}"], "error: the option --family-name is not UTF-8 text"),
    (["enrol", TOO_LONG], "error: a path of 10,000 characters is too long for the file system; "
                          "give a shorter one"),
    (["up", "--port", "70000"], "error: Invalid value for '--port'"),
    (["up", "--desk-port", "-1"], "error: Invalid value for '--desk-port'"),
])
def test_each_bad_word_is_named_in_one_line_with_exit_2_and_nothing_written(
    demo_home: Path, args: list[str], expected: str
) -> None:
    before = written(demo_home)

    result = run(demo_home, args)

    assert result.returncode == 2
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1, result.stderr
    assert "ller" not in result.stderr and TOO_LONG not in result.stderr
    assert written(demo_home) == before


def written(home: Path) -> tuple[int, list[str]]:
    return (home / "lotse.db").stat().st_mtime_ns, sorted(p.name for p in home.iterdir())

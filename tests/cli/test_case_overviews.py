"""With PREFECT_API_URL set, every change the command line makes posts the case's overview to it
after the commit; a Prefect that does not answer changes nothing about the change: it is made, the
command exits 0, and one warning line says the next pipeline-report publishes the overview."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lotse.tasks import case_views, overviews
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.tasks.test_overviews import FakePrefect, closed_port


@pytest.fixture
def prefect() -> Iterator[FakePrefect]:
    fake = FakePrefect()
    yield fake
    fake.stop()


def test_every_change_of_the_command_line_posts_the_cases_overview(
    alliance: Context, lotse: Lotse, prefect: FakePrefect,
) -> None:
    env = {"PREFECT_API_URL": prefect.api.url}
    ref = lotse("case", "add", "--given-name", "Maricel", "--family-name", "Dalisay", "--nationality", "PHL",
                "--employer", "klinik-nord", env=env).out.strip()
    changes = [
        ("case", "done", ref, "employment_contract", "recognition_documents", "--by", "koord"),
        ("case", "set", ref, "approval_requested_date=2026-03-02", "--by", "klinik-nord"),
        # A note keeps the change out of Prefect's parameters: it is made here, and posted here.
        ("case", "advance", ref, "apply_visa", "--by", "klinik-nord", "--note", "Termin steht"),
        ("check", "--as-of", "2026-03-16"),  # the consent of the labour agency is due: reminded
    ]
    for change in changes:
        done = lotse(*change, env=env)
        assert done.code == 0 and "overview" not in done.err, (change, done.err)

    assert [body["key"] for body in prefect.bodies] == [f"case-{ref.lower()}"] * 5
    last = prefect.bodies[-1]["data"]
    assert "- **Stufe:** Visumverfahren" in last
    assert "| Zustimmung der Bundesagentur für Arbeit | 16.03.2026 | 1 von 2 |" in last
    assert "Maricel" not in json.dumps(prefect.bodies) and "Termin steht" not in json.dumps(prefect.bodies)
    assert overviews.stale(alliance) == []


def test_with_prefect_down_the_change_is_made_with_one_warning_line_and_exit_0(
    alliance: Context, lotse: Lotse, case_ref: str,
) -> None:
    api = f"http://127.0.0.1:{closed_port()}/api"

    done = lotse("case", "done", case_ref, "employment_contract", "--by", "klinik-nord",
                 env={"PREFECT_API_URL": api})

    assert done.code == 0
    assert done.out == f"{case_ref}: ticked employment_contract\n"
    assert done.err.splitlines() == [
        f"warning: the case overview of {case_ref} was not published (Prefect at {api} did not answer: "
        "ConnectError); the change stands, and the next pipeline-report publishes it"]
    assert "employment_contract" in case_views.views(alliance, refs=[case_ref])[0].case.done
    assert len(overviews.stale(alliance)) == 1


def test_a_change_without_prefect_api_url_imports_neither_httpx_nor_prefect(
    alliance: Context, home: Path, case_ref: str,
) -> None:
    code = (
        "import sys\n"
        "from lotse.flows.cli import main\n"
        f"sys.argv = ['lotse', 'case', 'done', '{case_ref}', 'employment_contract', '--by', 'klinik-nord']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as stop:\n"
        "    print(stop.code, 'httpx' in sys.modules, 'prefect' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"LOTSE_HOME": str(home), "PATH": "/usr/bin:/bin"})

    assert result.stderr.strip().splitlines()[-1] == "0 False False", result.stderr

"""`lotse doctor` through the real command line: green on the demo alliance with a route for every
notified role, and one clear `fail` line for each broken part, without writing anything."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.states import schema
from lotse.states.process import COORDINATOR, Catalog
from tests.cli.conftest import Lotse, Outcome
from tests.notifications.conftest import free_port

CHECKS = ["database", "processes", "routes", "outbox", "prefect", "secret key", "public url", "programmes"]


def notified_roles() -> list[str]:
    """The roles a message may go to in the shipped processes: those a transition notifies, the
    owners of family members' needs (the Kita place, ...), and the coordinator."""
    catalog = Catalog.load([PACKAGED_PROCESS_DIR])
    notified = {role for p in catalog.latest() for t in p.transitions for role in t.notify}
    needs = {need.owner for p in catalog.latest() for need in p.family_needs.values()}
    return sorted(notified | needs | {COORDINATOR})


def route_file(folder: Path, roles: list[str]) -> Path:
    """An Apprise file with one route per role (never used to send: the doctor only reads it)."""
    lines = ["version: 1", "urls:"]
    for role in roles:
        lines += [f'  - "json://127.0.0.1:9/{role}":', f"      tag: {role}"]
    path = folder / "routes.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lines(outcome: Outcome) -> dict[str, str]:
    """The doctor's lines by check name: `status  name: detail` -> {name: 'status detail'}."""
    found = {}
    for line in outcome.out.splitlines():
        status, rest = line.split(maxsplit=1)
        name, detail = rest.split(": ", 1)
        found[name] = f"{status} {detail}"
    return found


def failing(outcome: Outcome) -> dict[str, str]:
    return {name: text for name, text in lines(outcome).items() if text.startswith("fail ")}


def demo(lotse: Lotse, tmp_path: Path) -> dict[str, str]:
    """The demo alliance, and the environment that routes every notified role."""
    made = lotse("init", "--demo")
    assert made.code == 0, made.err
    return {"LOTSE_NOTIFY_CONFIG": str(route_file(tmp_path, notified_roles()))}


def test_doctor_is_green_on_the_demo_with_a_route_for_every_notified_role(
    lotse: Lotse, tmp_path: Path, home: Path
) -> None:
    env = demo(lotse, tmp_path)
    outcome = lotse("doctor", env=env)
    assert outcome.code == 0, outcome.out + outcome.err
    found = lines(outcome)
    assert list(found) == CHECKS
    assert found["database"] == f"ok sqlite:///{home / 'lotse.db'} schema {schema.head()} (current)"
    assert found["processes"].startswith("ok chancen v2, erzieher v2, pflege v2")
    assert found["routes"].startswith("ok ") and "every notified role has one" in found["routes"]
    # the demo's backdated messages are history: nothing waits to be sent
    assert found["outbox"].startswith("ok 0 pending, 0 failed, 0 dead; ")
    assert found["outbox"].endswith(" of the demo alliance are kept as history, never sent")
    assert found["prefect"].startswith("ok not used")
    assert outcome.err == ""


def test_doctor_is_green_on_the_demo_as_make_demo_leaves_it_warning_that_no_routes_are_set(
    lotse: Lotse,
) -> None:
    assert lotse("init", "--demo").code == 0

    outcome = lotse("doctor")

    assert outcome.code == 0, outcome.out + outcome.err
    found = lines(outcome)
    assert found["routes"].startswith("warn LOTSE_NOTIFY_CONFIG is not set")
    assert not failing(outcome)


def test_doctor_json_lists_every_check_with_its_status_and_detail(lotse: Lotse, tmp_path: Path) -> None:
    env = demo(lotse, tmp_path)
    checks = lotse("doctor", "--json", env=env).json()
    assert [c["name"] for c in checks] == CHECKS
    assert {c["status"] for c in checks} <= {"ok", "warn"}
    assert all(isinstance(c["detail"], str) and "\n" not in c["detail"] for c in checks)
    outbox = next(c for c in checks if c["name"] == "outbox")["data"]
    assert outbox["demo"] > 0 and outbox["pending"] == outbox["dead"] == 0


def test_doctor_names_no_person_of_the_alliance(lotse: Lotse, tmp_path: Path, home: Path) -> None:
    env = demo(lotse, tmp_path)
    with sqlite3.connect(home / "lotse.db") as connection:
        names = {n for row in connection.execute("SELECT given_name, family_name FROM cases") for n in row}
    assert names
    shown = lotse("doctor", env=env).out + lotse("doctor", "--json", env=env).out
    assert not [name for name in names if name in shown]


def test_doctor_changes_no_row_and_leaves_no_file_behind(
    lotse: Lotse, tmp_path: Path, home: Path, tables: Callable[[], dict[str, list[tuple[Any, ...]]]]
) -> None:
    env = demo(lotse, tmp_path)
    before, files = tables(), ours(home)
    assert lotse("doctor", env=env).code == 0
    assert lotse("doctor", env={**env, "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"}).code == 1
    assert tables() == before
    assert ours(home) == files


def ours(home: Path) -> list[str]:
    """The files in the home, less SQLite's write-ahead log and its index: SQLite makes and
    removes those itself as connections come and go, whoever reads."""
    return sorted(name for name in os.listdir(home) if not name.endswith(("-wal", "-shm")))


def test_without_a_database_the_doctor_fails_on_it_and_creates_nothing(lotse: Lotse, home: Path) -> None:
    outcome = lotse("doctor")
    assert outcome.code == 1
    missing = f"fail no Lotse database at {home / 'lotse.db'}; run `lotse init`"
    assert failing(outcome)["database"] == missing
    assert list(failing(outcome)) == ["database", "secret key"]  # `lotse init` writes the key too
    assert lines(outcome)["outbox"] == "warn not checked: needs the database"
    assert not home.exists()


def test_a_file_that_lotse_init_did_not_make_is_no_lotse_database(lotse: Lotse, home: Path) -> None:
    home.mkdir()
    with sqlite3.connect(home / "lotse.db") as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    outcome = lotse("doctor")
    assert outcome.code == 1
    assert failing(outcome)["database"] == (
        f"fail sqlite:///{home / 'lotse.db'} has no Lotse schema; run `lotse init`")
    assert list(failing(outcome)) == ["database", "secret key"]


def test_a_database_at_an_older_schema_fails_and_says_to_back_up_and_run_init(
    lotse: Lotse, tmp_path: Path, home: Path
) -> None:
    env = demo(lotse, tmp_path)
    older = f"{int(schema.head()) - 1:04d}"
    with sqlite3.connect(home / "lotse.db") as connection:  # as `alembic stamp` would
        connection.execute("UPDATE alembic_version SET version_num = ?", (older,))
    outcome = lotse("doctor", env=env)
    assert outcome.code == 1
    detail = failing(outcome)["database"]
    assert f"schema {older}, this Lotse needs {schema.head()}" in detail
    assert "`lotse backup FILE`" in detail and "`lotse init`" in detail
    assert set(failing(outcome)) == {"database"}


def test_a_database_server_that_does_not_answer_is_a_fail_line_not_a_traceback(lotse: Lotse) -> None:
    url = f"postgresql+psycopg://lotse:s3cret-pw@127.0.0.1:{free_port()}/lotse"
    outcome = lotse("doctor", env={"LOTSE_DATABASE_URL": url})
    assert outcome.code == 1 and outcome.err == ""
    detail = failing(outcome)["database"]
    assert detail.startswith(f"fail cannot open {url.replace('s3cret-pw', '***')}: connection failed")
    assert "start the database server or fix LOTSE_DATABASE_URL" in detail
    assert "s3cret-pw" not in outcome.out


def test_a_broken_definition_file_is_one_fail_line_naming_file_and_problem(
    lotse: Lotse, tmp_path: Path
) -> None:
    env = demo(lotse, tmp_path)
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "pflege_nord.yaml").write_text("name: pflege_nord\nversion: 1\nstages: [\n", encoding="utf-8")
    outcome = lotse("doctor", env={**env, "LOTSE_PROCESS_DIR": str(folder)})
    assert outcome.code == 1
    assert list(failing(outcome)) == ["processes"]
    detail = failing(outcome)["processes"]
    assert str(folder / "pflege_nord.yaml") in detail and "malformed YAML" in detail


def test_a_missing_process_folder_is_a_fail_line(lotse: Lotse, tmp_path: Path) -> None:
    env = demo(lotse, tmp_path)
    outcome = lotse("doctor", env={**env, "LOTSE_PROCESS_DIR": str(tmp_path / "nowhere")})
    assert outcome.code == 1
    assert "process folder does not exist" in failing(outcome)["processes"]


def test_cases_on_a_definition_that_is_no_longer_loaded_fail_the_processes_line(
    lotse: Lotse, tmp_path: Path, home: Path
) -> None:
    env = demo(lotse, tmp_path)
    with sqlite3.connect(home / "lotse.db") as connection:
        connection.execute("UPDATE cases SET process_version = 9 WHERE id IN "
                           "(SELECT id FROM cases WHERE process = 'pflege' ORDER BY id LIMIT 2)")
    outcome = lotse("doctor", env=env)
    assert outcome.code == 1
    assert failing(outcome) == {"processes": "fail 2 case(s) run on pflege v9, which no process file and no "
                                             "stored copy defines: put its file back into the process "
                                             "folder and run `lotse init`"}


def test_a_notified_role_without_a_route_fails_naming_the_role(lotse: Lotse, tmp_path: Path) -> None:
    demo(lotse, tmp_path)
    roles = [r for r in notified_roles() if r != "housing"]
    outcome = lotse("doctor", env={"LOTSE_NOTIFY_CONFIG": str(route_file(tmp_path, roles))})
    assert outcome.code == 1
    assert list(failing(outcome)) == ["routes"]
    assert "no route for" in failing(outcome)["routes"] and "'housing'" in failing(outcome)["routes"]


def test_the_owner_of_a_family_need_without_a_route_fails_naming_the_role(
    lotse: Lotse, tmp_path: Path,
) -> None:
    """A Kita place is asked of `childcare`, which no transition notifies: without a route its
    messages would wait and die unseen until a coordinator is told they are dead."""
    demo(lotse, tmp_path)
    roles = [r for r in notified_roles() if r != "childcare"]
    outcome = lotse("doctor", env={"LOTSE_NOTIFY_CONFIG": str(route_file(tmp_path, roles))})
    assert outcome.code == 1
    assert list(failing(outcome)) == ["routes"]
    assert "'childcare'" in failing(outcome)["routes"]


def test_prefect_api_url_pointing_to_nothing_fails_the_prefect_line(lotse: Lotse, tmp_path: Path) -> None:
    env = demo(lotse, tmp_path)
    api = f"http://127.0.0.1:{free_port()}/api"
    outcome = lotse("doctor", env={**env, "PREFECT_API_URL": api})
    assert outcome.code == 1
    assert list(failing(outcome)) == ["prefect"]
    assert failing(outcome)["prefect"].startswith(f"fail {api} (PREFECT_API_URL): no answer")


def test_a_running_lotse_up_is_asked_on_its_port(lotse: Lotse, tmp_path: Path, home: Path) -> None:
    env = demo(lotse, tmp_path)
    (home / "up.lock").write_text(f"{os.getpid()}\n")  # this process stands in for `lotse up`
    port = free_port()
    outcome = lotse("doctor", env={**env, "LOTSE_PREFECT_PORT": str(port)})
    assert outcome.code == 1
    detail = failing(outcome)["prefect"]
    assert detail.startswith(f"fail http://127.0.0.1:{port}/api (lotse up, pid {os.getpid()}): no answer")
    assert "LOTSE_PREFECT_PORT" in detail


def test_the_lock_of_a_lotse_up_that_is_gone_means_prefect_is_not_used(
    lotse: Lotse, tmp_path: Path, home: Path
) -> None:
    env = demo(lotse, tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (home / "up.lock").write_text(f"{gone}\n")
    outcome = lotse("doctor", env=env)
    assert outcome.code == 0, outcome.out
    assert lines(outcome)["prefect"].startswith("ok not used")


def test_a_dead_outbox_row_fails_the_outbox_line(lotse: Lotse, tmp_path: Path, home: Path) -> None:
    env = demo(lotse, tmp_path)
    with sqlite3.connect(home / "lotse.db") as connection:
        connection.execute("UPDATE outbox SET status = 'dead' WHERE id = (SELECT min(id) FROM outbox)")
        connection.execute("UPDATE outbox SET status = 'failed' WHERE id = (SELECT max(id) FROM outbox)")
    outcome = lotse("doctor", env=env)
    assert outcome.code == 1
    assert list(failing(outcome)) == ["outbox"]
    assert ", 1 failed, 1 dead: delivery gave up on 1" in failing(outcome)["outbox"]
    assert "lotse outbox --status dead" in failing(outcome)["outbox"]


def test_a_bad_setting_is_one_error_line_and_exit_2(lotse: Lotse) -> None:
    outcome = lotse("doctor", env={"LOTSE_TIMEZONE": "Mars/Olympus"})
    assert outcome.code == 2
    assert outcome.error.startswith("error: setting LOTSE_TIMEZONE")
    assert outcome.out == ""


def test_a_bad_database_url_is_one_error_line_and_exit_2(lotse: Lotse) -> None:
    outcome = lotse("doctor", env={"LOTSE_DATABASE_URL": "not a url"})
    assert outcome.code == 2
    assert outcome.error.startswith("error: LOTSE_DATABASE_URL")


def test_the_doctor_does_not_import_prefect_when_prefect_is_not_configured(
    lotse: Lotse, tmp_path: Path, home: Path
) -> None:
    env = demo(lotse, tmp_path)
    code = (
        "import sys\n"
        "from lotse.flows.cli import app\n"
        "try:\n"
        "    app(['doctor'], standalone_mode=False)\n"
        "finally:\n"
        "    print('prefect' in sys.modules, 'httpx' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"LOTSE_HOME": str(home), "PATH": "/usr/bin:/bin", **env})
    assert result.returncode == 0, result.stderr
    assert "ok    database:" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "False False"  # nor its HTTP client: it stays fast

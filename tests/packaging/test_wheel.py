"""Lotse installs under one `lotse` namespace: from the built wheel into a fresh virtual
environment, and as the editable install of development, nothing named `config`, `states`,
`tasks`, `flows` or `notifications` lands at the top of site-packages."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
GENERIC = {"config", "states", "tasks", "flows", "notifications"}
PROBE = ("import importlib.util, lotse.states.store, lotse.flows.cli; "
         "print(lotse.states.store.__file__); "
         "print(sorted(n for n in {names} if importlib.util.find_spec(n)))")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new virtual environment with the built wheel installed; the dependencies come from the
    development environment's site-packages (a path entry: its .pth files, the editable finder
    among them, are not run)."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         str(ROOT), "-w", str(tmp / "dist")],
        cwd=tmp, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp / "dist").glob("lotse-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True).strip())
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    yield venv


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def test_the_wheel_puts_only_lotse_at_the_top_of_site_packages(fresh: Path) -> None:
    top = {p.name for p in site_packages(fresh).iterdir()}

    assert "lotse" in top
    assert not GENERIC & top
    packaged = {p.relative_to(site_packages(fresh) / "lotse").as_posix()
                for p in (site_packages(fresh) / "lotse").rglob("*") if p.suffix in (".yaml", ".j2", ".mako")}
    assert {"config/processes/pflege.yaml", "config/who_ssl_2023.yaml",
            "notifications/templates/de/stage_changed/default.j2",
            "states/migrations/script.py.mako"} <= packaged


def test_the_installed_wheel_imports_as_lotse_and_runs_the_command_line(fresh: Path, tmp_path: Path) -> None:
    python = fresh / "bin" / "python"
    probe = subprocess.run([python, "-c", PROBE.format(names=sorted(GENERIC))], cwd=tmp_path,
                           capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    where, generic = probe.stdout.splitlines()
    assert Path(where).is_relative_to(site_packages(fresh))
    assert generic == "[]"

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_"))}
    env["LOTSE_HOME"] = str(tmp_path / "home")
    made = subprocess.run([fresh / "bin" / "lotse", "init", "--demo"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert "schema" in made.stdout and "pflege" in made.stdout
    listed = subprocess.run([fresh / "bin" / "lotse", "outbox", "--json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.strip().startswith("["), listed.stderr


def test_the_editable_install_imports_lotse_from_the_repository_and_nothing_generic(tmp_path: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", PROBE.format(names=sorted(GENERIC))], cwd=tmp_path,
                           capture_output=True, text=True)

    assert probe.returncode == 0, probe.stderr
    where, generic = probe.stdout.splitlines()
    assert Path(where) == ROOT / "states" / "store.py"
    assert generic == "[]"

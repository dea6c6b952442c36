"""The `enrol-cohort` flow: a coordinator enrols a list of new recruits (CSV or XLSX) in one run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from lotse.states.errors import BadInput
from lotse.tasks.prefect_tasks import enrol_rows, publish_overviews


def _run_name() -> str:
    return f"enrol {Path(str(flow_run.parameters.get('file', ''))).name}"


@flow(name="enrol-cohort", flow_run_name=_run_name)
def enrol_cohort(file: str, skip_invalid: bool = False, by: str | None = None) -> dict[str, Any]:
    """Enrol every person of `file` (a path on the machine running Lotse): all rows are checked
    first; with a bad row nothing is imported, unless `skip_invalid` leaves the bad rows out.
    Importing the same file again enrols no one twice. `by`: the actor enrolling (default: each
    row's employer). The new cases' overviews (`case-<ref>`) are published after the import.
    """
    result = enrol_rows(str(Path(file).expanduser().resolve()), skip_invalid, by)
    if result["refs"]:
        publish_overviews(result["refs"])
    if result["problems"] and not result["skipped"]:
        shown = "; ".join(
            f"line {p['line']}: {p['reason']}" if p["line"] else p["reason"] for p in result["problems"][:20]
        )
        raise BadInput(f"{result['file']}: {len(result['problems'])} problem(s), nothing imported: {shown}")
    return result

"""The `enrol-cohort` flow: a coordinator enrols a list of new recruits (CSV or XLSX) in one run."""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from lotse.config.settings import Settings
from lotse.states.errors import BadInput
from lotse.tasks import inbox
from lotse.tasks.prefect_tasks import enrol_rows, publish_overviews

# A neutral name, nothing else: the server refuses a path or a file name that may name a person.
InboxName = Annotated[str, Field(pattern=inbox.NAME_PATTERN, max_length=70)]


@flow(name="enrol-cohort", flow_run_name="enrol {file}")
def enrol_cohort(file: InboxName, skip_invalid: bool = False, by: str | None = None) -> dict[str, Any]:
    """Enrol every person of `file`, a cohort file in the inbox: `lotse enrol FILE` puts it there
    under the hash of its content, the name this form offers. All rows are checked first; with a
    bad row nothing is imported, unless `skip_invalid` leaves the bad rows out. Importing the same
    file again enrols no one twice. `by`: the actor enrolling (default: each row's employer). The
    new cases' overviews (`case-<ref>`) are published after the import.
    """
    result = enrol_rows(str(inbox.find(Settings().home, file)), skip_invalid, by)
    if result["refs"]:
        publish_overviews(result["refs"])
    if result["problems"] and not result["skipped"]:
        shown = "; ".join(
            f"line {p['line']}: {p['reason']}" if p["line"] else p["reason"] for p in result["problems"][:20]
        )
        count = result["problem_count"]  # the list holds the first 1,000 only
        raise BadInput(f"{result['file']}: {count} problem(s), nothing imported: {shown}")
    return result

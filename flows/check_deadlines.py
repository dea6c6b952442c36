"""The `check-deadlines` flow: every morning, what is due or overdue, reminded once per level."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact

from lotse.tasks.prefect_tasks import publish_overviews, remind_due_deadlines

COLUMNS = ("ref", "deadline", "due", "overdue_days", "level", "role", "basis", "reminded")


@flow(name="check-deadlines")
def check_deadlines(as_of: dt.date | None = None) -> dict[str, Any]:
    """Check the open deadlines on `as_of` (default: today in Europe/Berlin), queue the reminders
    now due (delivered by the delivery flow), and publish the table artifact `deadlines-due`:
    case refs, deadline ids, due dates, levels, roles and basis; never a person's name. The
    overviews of the cases reminded show the new levels."""
    result = remind_due_deadlines(as_of)
    if reminded_cases := sorted({found["ref"] for found in result["found"] if found["reminded"]}):
        publish_overviews(reminded_cases)
    rows = [{column: found[column] for column in COLUMNS} for found in result["found"]]
    reminded = sum(row["reminded"] for row in rows)
    create_table_artifact(
        rows or [dict.fromkeys(COLUMNS, "")], key="deadlines-due",
        description=f"{len(rows)} deadline(s) due or overdue on {result['as_of']}; "
                    f"{reminded} reminder(s) queued",
    )
    return result

"""The `deliver-notifications` flow: every few minutes, send what the outbox holds and is due."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact

from lotse.tasks.prefect_tasks import deliver_outbox


@flow(name="deliver-notifications")
def deliver_notifications(retry_failed_now: bool = False) -> dict[str, Any]:
    """Send every due message of the outbox through its route (e-mail, Teams, Matrix, ...).

    Failed messages are retried with a growing pause; `retry_failed_now` tries them at once (the
    mail server was just fixed). Messages that could not be sent are listed in the table artifact
    `undelivered-messages` by row id, recipient and error: never a subject, body or name.
    """
    report = deliver_outbox(retry_failed_now)
    if report["problems"]:
        create_table_artifact(
            report["problems"], key="undelivered-messages",
            description=f"{len(report['problems'])} message(s) not delivered; see `lotse outbox`",
        )
    return report

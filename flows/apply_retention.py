"""The `apply-retention` flow: monthly (LOTSE_SCHEDULE_RETENTION), closed cases past their
process's retention are erased (Art. 5(1)(e), 17 GDPR). Prefect sees references and counts only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from lotse.config.settings import Settings
from lotse.tasks import apply_retention as retention
from lotse.tasks.context import Context


@task(name="erase-past-retention", cache_policy=NO_CACHE, persist_result=False)
def erase_past_retention(as_of: dt.date | None, dry_run: bool) -> dict[str, Any]:
    """Erase (or with `dry_run` list) the closed cases past their retention on `as_of`."""
    result = retention.apply(Context.from_settings(Settings()), as_of=as_of, dry_run=dry_run, via="schedule")
    get_run_logger().info("%s case(s) past their retention on %s, %s erased",
                          len(result["due"]), result["as_of"], len(result["erased"]))
    return result


@flow(name="apply-retention")
def apply_retention(as_of: dt.date | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Erase the names, personal facts and texts of every closed case kept longer than its
    process's `retention` on `as_of` (default: today in LOTSE_TIMEZONE); the table artifact
    `retention` lists their references.

    Args:
        as_of: The day to apply the retention on; empty: today in LOTSE_TIMEZONE.
        dry_run: Only list the cases due; erase nothing.
    """
    result = erase_past_retention(as_of, dry_run)
    rows = [{"ref": ref, "erased": ref in result["erased"]} for ref in result["due"]]
    create_table_artifact(
        rows or [{"ref": "", "erased": ""}], key="retention",
        description=f"{len(result['due'])} case(s) past their retention on {result['as_of']}; "
                    f"{len(result['erased'])} erased",
    )
    return result

"""`lotse deploy --pool`: Lotse's deployments registered to a Prefect work pool, for workers."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import settings


def deploy(
    pool: str = typer.Option(..., "--pool", help="The work pool the workers poll; made if missing."),
    pool_type: str = typer.Option(
        "process", "--pool-type", help="Type of the work pool made when none of that name exists."
    ),
) -> None:
    """Register the deployments of `lotse up` (same names, run forms, schedules) to a Prefect work
    pool on the server at PREFECT_API_URL; `prefect worker start --pool NAME` then runs them."""
    from lotse.flows.work_pool import deploy as register  # Prefect only where it is used

    register(settings(), pool=pool, pool_type=pool_type, say=typer.echo)

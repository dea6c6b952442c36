"""`lotse up`: the Prefect server, the deployments and their schedules, served until Ctrl-C."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import settings


def up(
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535,
        help="Port of the local Prefect server; default LOTSE_PREFECT_PORT (4200).",
    ),
    no_server: bool = typer.Option(
        False, "--no-server", help="Start no server: use PREFECT_API_URL, or the one already on --port."
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Also fire the demo's ready events as advance-case flow runs."
    ),
    desk_port: int | None = typer.Option(
        None, "--desk-port", min=1, max=65535,
        help="Port of the desk beside Prefect; default LOTSE_DESK_PORT (4210).",
    ),
    no_desk: bool = typer.Option(
        False, "--no-desk", help="Start no desk (e.g. where `lotse desk` runs behind a proxy)."
    ),
    host: str | None = typer.Option(
        None, "--host", help="Address the local Prefect server binds to; default LOTSE_PREFECT_HOST "
                             "(127.0.0.1). Beyond loopback only with PREFECT_SERVER_API_AUTH_STRING set.",
    ),
) -> None:
    """Run Lotse in Prefect: start a local server (unless PREFECT_API_URL is set), register one
    deployment per flow with its schedule, and serve them until Ctrl-C or SIGTERM; the desk
    (answer links, coordinators) runs beside it."""
    from lotse.flows.up import up as run  # Prefect only where it is used

    run(settings(), port=port, no_server=no_server, demo=demo, desk_port=desk_port, no_desk=no_desk,
        host=host, say=typer.echo)

"""`lotse desk`: the desk alone, for production behind a reverse proxy."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import settings


def desk(
    host: str | None = typer.Option(
        None, "--host", help="Address to listen on; default LOTSE_DESK_HOST (127.0.0.1)."
    ),
    port: int | None = typer.Option(None, "--port", help="Port; default LOTSE_DESK_PORT (4210)."),
) -> None:
    """Serve the desk (the pages answer links open, the coordinators' sign-in) until Ctrl-C or
    SIGTERM. Put it behind a reverse proxy that ends TLS, and set LOTSE_PUBLIC_URL to the address
    the proxy serves it under: the links in messages point there."""
    from lotse.desk.server import serve  # FastAPI and uvicorn only where they are used

    current = settings()
    serve(current, host or current.desk_host, port or current.desk_port, say=typer.echo)

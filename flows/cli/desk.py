"""`lotse desk`: the desk alone, for production behind a reverse proxy."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import context, settings


def desk(
    host: str | None = typer.Option(
        None, "--host", help="Address to listen on; default LOTSE_DESK_HOST (127.0.0.1)."
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Port; default LOTSE_DESK_PORT (4210)."
    ),
) -> None:
    """Serve the desk (the pages answer links open, the coordinators' sign-in) until Ctrl-C or
    SIGTERM. Put it behind a reverse proxy that ends TLS, and set LOTSE_PUBLIC_URL to the address
    the proxy serves it under: the links in messages point there."""
    from lotse.desk.server import serve  # FastAPI and uvicorn only where they are used

    current = settings()
    serve(current, host or current.desk_host, port or current.desk_port, say=typer.echo)


def sign_in(actor_id: str = typer.Argument(..., metavar="ACTOR_ID")) -> None:
    """Print a one-time sign-in link to the desk for a coordinator (valid LOTSE_SIGN_IN_MINUTES):
    for the first sign-in, or a coordinator whose messages do not arrive. Your operating-system
    account is recorded as the one who issued it."""
    from lotse.states.errors import NotReady
    from lotse.tasks import sign_in as sign_ins

    ctx = context()
    key = ctx.settings.signing_key()
    if key is None:
        raise NotReady(f"no secret key: run `lotse init` (it writes {ctx.settings.secret_key_file}) "
                       "or set LOTSE_SECRET_KEY")
    typer.echo(sign_ins.issue(ctx, key, actor_id))

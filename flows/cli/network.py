"""`lotse network`: the map of the alliance (tasks/network.py, docs/directory.md)."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import context
from lotse.states.errors import BadInput
from lotse.tasks import network as network_map


def network(
    form: str = typer.Option("mermaid", "--format", metavar="mermaid|md|json",
                             help="mermaid (a flowchart), md (tables per role) or json."),
) -> None:
    """The map of the alliance: its organisations by role and region, the stages each role acts
    in, and each organisation's open cases. No case and no person is named in it."""
    if form not in network_map.FORMATS:
        raise BadInput(f"unknown --format '{form}'; use one of {', '.join(network_map.FORMATS)}")
    ctx = context()
    typer.echo(network_map.render(network_map.network(ctx), form, ctx.settings.locale), nl=False)

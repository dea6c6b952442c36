"""`lotse privacy record`: the record of processing activities (Art. 30 GDPR)."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import context, emit_json
from lotse.states.errors import BadInput

app = typer.Typer(help="Privacy: the record of processing activities.", no_args_is_help=True)


@app.command("record")
def privacy_record(
    format_: str = typer.Option("md", "--format", help="md (for the data protection officer) or json."),
) -> None:
    """The record of processing activities (Art. 30 GDPR) from the definitions and settings: personal
    data and their purpose, recipients, retention, processors (by scheme and host only)."""
    from lotse.tasks import privacy_record as art30

    if format_ not in art30.FORMATS:
        raise BadInput(f"--format '{format_}': one of {', '.join(art30.FORMATS)}")
    data = art30.record(context())
    if format_ == "json":
        emit_json(data)
    else:
        typer.echo(art30.markdown(data), nl=False)

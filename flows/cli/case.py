"""`lotse case`: open, list, show and change cases."""

from __future__ import annotations

import os

import typer

from lotse.flows.cli.employer_change import change_employer
from lotse.flows.cli.output import context, emit_json, stream_json, stream_table, warn
from lotse.tasks import case_listing

# The writing commands import the casework where they run: a `case list` or `case show` started
# cold would otherwise spend most of its time importing what it never calls.

app = typer.Typer(help="Cases: one per person.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")
app.command("change-employer")(change_employer)  # docs/attrition.md


@app.command()
def add(
    given_name: str = typer.Option(..., "--given-name"),
    family_name: str = typer.Option(..., "--family-name"),
    nationality: str = typer.Option(..., "--nationality", help="ISO 3166 alpha-3, e.g. PHL."),
    employer: str = typer.Option(..., "--employer", metavar="ACTOR_ID"),
    process: str | None = typer.Option(None, "--process", help="Default: LOTSE_DEFAULT_PROCESS."),
    region: str | None = typer.Option(None, "--region", help="Default: the employer's region."),
    assignments: list[str] = typer.Option([], "--set", metavar="KEY=VALUE"),
    by: str | None = typer.Option(None, "--by", metavar="ACTOR_ID", help="Default: the employer."),
    as_json: bool = JSON,
) -> None:
    """Open a case for a person."""
    from lotse.tasks import casework, overviews

    ctx = context()
    ref = casework.open_case(
        ctx, given_name=given_name, family_name=family_name, nationality=nationality,
        employer=employer, process=process, region=region,
        facts=casework.parse_assignments(assignments), by=by,
    )
    overviews.after_change(ctx, [ref], warn)
    if as_json:
        emit_json({"ref": ref})
    else:
        typer.echo(ref)


@app.command("list")
def list_(
    stage: str | None = typer.Option(None, "--stage"),
    process: str | None = typer.Option(None, "--process"),
    region: str | None = typer.Option(None, "--region",
                                      help="Cases of this region and of the regions below it."),
    limit: int | None = typer.Option(None, "--limit", metavar="N", min=1, help="At most N cases."),
    after: str | None = typer.Option(None, "--after", metavar="REF",
                                     help="The cases after this one (by case id): the next page."),
    as_json: bool = JSON,
) -> None:
    """List cases, optionally of one stage, process or region (with the regions below it), by
    case id, printed as they are read; page with --limit and --after (the last REF shown)."""
    rows = case_listing.each_case(context(), stage=stage, process=process, region=region, after=after,
                               limit=limit)
    if as_json:
        stream_json(rows)
    else:
        stream_table(rows, ["ref", "process", "stage", "employer", "region", "stage_entered_at"])


@app.command()
def show(ref: str, as_json: bool = JSON) -> None:
    """Show one case: stage, facts, checklist, what it lacks to move on, history."""
    from lotse.flows.cli.case_sections import family_lines, language_lines
    from lotse.tasks import case_file

    data = case_file.case_file(context(), ref)
    if as_json:
        emit_json(data)
        return
    lines = [
        f"{data['ref']}  {data['given_name']} {data['family_name']}",
        f"process {data['process']} v{data['process_version']}, stage {data['stage']} "
        f"({data['stage_title']}) since {data['stage_entered_at']}, version {data['version']}",
        f"employer {data['employer']}, region {data['region']}",
        "",
        "Facts:",
        *[f"  {k} = {v}" for k, v in data["facts"].items()],
        "Checklist:",
        *[f"  [{'x' if i['done'] else ' '}] {i['id']} ({i['owner']}, {i['stage']}): {i['title']}"
          for i in data["checklist"]],
        "Next:",
        *[f"  {e['event']} ({e['title']}) -> {e['to']}: " + ("ready" if not e["missing"] else
          "needs " + "; ".join(e["missing"])) for e in data["allowed_events"]],
        *(["Family:", *family_lines(data["family"])] if data.get("family") else []),
        *language_lines(data),
        "Deadlines:",
        *[f"  {d['due']}  {d['deadline']} ({d['title']}; {d['role']}, level {d['level']}): {d['basis']}"
          for d in data.get("deadlines", [])],
        "History:",
        *[f"  {h['at']}  {h['action']:<22} {h['from'] or '':>15} -> {h['to'] or '':<15} "
          f"{h['actor']} via {h['via']}" + (f" ({h['proof']})" if h.get("proof") else "")
          + (f"  [employer {h['employer']['from']} -> {h['employer']['to']}"
             + (", inside the no-poaching period]" if h["employer"].get("inside_period") else "]")
             if h.get("employer") else "")
          + (f"  ({h['note']})" if h["note"] else "")
          for h in data["history"]],
    ]
    typer.echo("\n".join(lines))


@app.command("set")
def set_(
    ref: str,
    assignments: list[str] = typer.Argument(..., metavar="KEY=VALUE..."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID"),
) -> None:
    """Set facts of a case."""
    from lotse.tasks import casework, overviews

    ctx = context()
    result = casework.set_facts(ctx, ref, casework.parse_assignments(assignments), by=by)
    overviews.after_change(ctx, [result["ref"]], warn)
    typer.echo(f"{result['ref']}: set {', '.join(a.partition('=')[0] for a in assignments)}")


@app.command()
def done(
    ref: str,
    items: list[str] = typer.Argument(..., metavar="ITEM..."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID"),
    undo: bool = typer.Option(False, "--undo", help="Untick the items instead."),
) -> None:
    """Tick checklist items of a case (or untick them with --undo)."""
    from lotse.tasks import casework, overviews

    ctx = context()
    result = casework.tick(ctx, ref, items, by=by, done=not undo)
    overviews.after_change(ctx, [result["ref"]], warn)
    typer.echo(f"{result['ref']}: {'unticked' if undo else 'ticked'} {', '.join(items)}")


@app.command()
def advance(
    ref: str,
    event: str,
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID"),
    assignments: list[str] = typer.Option([], "--set", metavar="KEY=VALUE"),
    note: str | None = typer.Option(None, "--note"),
    expected_version: int | None = typer.Option(
        None, "--expected-version", metavar="N", min=0, max=2**31 - 1,
        help="Only if the case still stands at version N (see `case show`); else a conflict, exit 1.",
    ),
    as_json: bool = JSON,
) -> None:
    """Fire an event on a case (as a Prefect flow run when PREFECT_API_URL is set)."""
    from lotse.tasks import casework, overviews

    facts = casework.parse_assignments(assignments)
    ctx = context()
    if ctx.settings.notify_config is not None:  # read the routes before the change locks the database
        from lotse.notifications import routes

        routes.load(ctx.settings)
    # Prefect keeps every flow parameter for ever: personal data, and a free-text note that may
    # hold some, never go there; such a change is made here, audited the same way.
    through_prefect = bool(os.environ.get("PREFECT_API_URL"))
    if through_prefect:  # a run refused for its input would keep that input in Prefect for ever
        from lotse.tasks import preflight

        preflight.check_advance(ctx, ref, event, by=by, facts=facts)
    private = casework.personal_facts(ctx, ref, list(facts)) if through_prefect else []
    if through_prefect and note:
        private.append("--note")
    if private:
        warn(f"{', '.join(private)} may hold personal data: the change is made here, not as a flow run")
        through_prefect = False
    if through_prefect:
        from lotse.flows.advance_case import advance_case  # Prefect only where it is used
        from lotse.flows.cli.prefect_console import flow_run_ahead

        flow_run_ahead()

        # the flow run delivers the messages itself, right after the change
        result = advance_case(case_ref=ref, event=event, actor=by, facts=facts, note=note,
                              expected_version=expected_version)
    else:
        from lotse.tasks import delivery

        result = casework.advance(ctx, ref, event, by=by, facts=facts, note=note,
                                  expected_version=expected_version)
        result["messages"] = delivery.deliver_after_change(ctx, result["ref"], warn)
        overviews.after_change(ctx, [result["ref"]], warn)  # a flow run publishes its own
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"{result['ref']}: {result['from']} -> {result['to']} ({event})")

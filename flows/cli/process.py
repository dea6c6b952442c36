"""`lotse process`: the process definitions (pathways) that are loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lotse.config.settings import Settings
from lotse.flows.cli.output import context, emit_json, settings, table
from lotse.states import definitions
from lotse.states.errors import NotReady
from lotse.states.process import Catalog, Process
from lotse.tasks.context import Context

app = typer.Typer(help="Process definitions (pathways).", no_args_is_help=True)


def _catalog() -> tuple[Catalog, Context | None, Settings]:
    """The definitions: the files, and where a database is set up, the stored copies in force
    (with the context to count cases by), and the settings read for them. Without a database the
    files alone are shown."""
    try:
        ctx = context()
    except NotReady:
        given = settings()
        return Catalog.load(given.process_dirs, cache=given.cache_dir), None, given
    return ctx.catalog, ctx, ctx.settings


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every process version: those the files offer to new cases, and those only stored
    in the database for the cases that still run on them, with their open cases."""
    catalog, ctx, given = _catalog()
    locale = given.locale
    counts = definitions.open_cases_per_version(catalog, ctx.db) if ctx is not None else {}
    offered = {p.key for p in catalog.latest()}
    rows = [
        {"name": p.name, "version": p.version, "title": p.title.in_(locale), "stages": len(p.stages),
         "events": len(p.events), "open": counts.get((p.name, p.version), 0),
         "in force": _in_force(catalog, p, offered), "source": p.source}
        for p in catalog.versions()
        if catalog.offered(p.name, p.version) is not None or counts.get((p.name, p.version))
    ]
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["name", "version", "title", "stages", "events", "open", "in force"])


def _in_force(catalog: Catalog, process: Process, offered: set[str]) -> str:
    """Which copy the cases of this version run on, and whether new cases open on it."""
    file = catalog.offered(process.name, process.version)
    if file is None:
        return "stored copy (no file)"
    if file is not process:
        return "stored copy (file edited)"
    return "file (new cases)" if process.key in offered else "file (older version)"


@app.command()
def show(
    name: str,
    version: int | None = typer.Option(None, "--version", help="A version cases run on; default: newest."),
    as_json: bool = typer.Option(False, "--json", help="Print the definition as JSON."),
    mermaid: bool = typer.Option(False, "--mermaid", help="Print a Mermaid state diagram."),
) -> None:
    """Show one process definition: stages, checklists, facts, events."""
    if as_json and mermaid:
        raise typer.BadParameter("choose one of --json and --mermaid")
    catalog, _, given = _catalog()
    kept = [p.version for p in catalog.versions() if p.name == name]
    if version is None and name not in catalog.names() and kept:
        version = max(kept)  # no file offers it any more: the newest stored copy its cases run on
    process = catalog.get(name, version)
    if as_json:
        emit_json(process.model_dump(mode="json", by_alias=True))
    elif mermaid:
        typer.echo(to_mermaid(process))
    else:
        _describe(process, given.locale)


@app.command()
def migrate(
    name: str,
    to: int = typer.Option(..., "--to", metavar="VERSION", help="The version to move the cases to."),
    from_: int | None = typer.Option(None, "--from", metavar="VERSION",
                                     help="Only the cases on this version; default: every older one."),
    map_file: Path | None = typer.Option(None, "--map", metavar="FILE",
                                         help="YAML: stages, items, facts, events (old: new) and drop."),
    cases: list[str] = typer.Option([], "--case", metavar="REF", help="Only this case (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    notify: bool = typer.Option(False, "--notify", help="Tell whom the new stage concerns."),
    note: str | None = typer.Option(None, "--note", help="Why, for the history of each case."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID", help="The coordinator who migrates."),
) -> None:
    """Move running cases to another version of their process: each in its own transaction, with
    a `migrate` row in its history; cases already there are left alone. Exit 1 if a case could
    not be moved (the reason is listed; the others are moved)."""
    from lotse.states.migration import Mapping, read_mapping
    from lotse.tasks import process_migration

    mapping = read_mapping(map_file) if map_file is not None else Mapping()
    result = process_migration.migrate(
        context(), name, to, by=by, from_version=from_, mapping=mapping, refs=cases, dry_run=dry_run,
        notify=notify, note=note, mapping_file=str(map_file or "the mapping"),
    )
    if as_json:
        emit_json(result.as_json())
    else:
        for ref, planned, status in result.cases:
            typer.echo(_migration_line(ref, planned, status))
        done = "would be moved" if dry_run else "moved"
        tail = " (dry run: nothing written)" if dry_run else ""
        typer.echo(f"{result.count('would migrate' if dry_run else 'migrated')} case(s) {done} to "
                   f"{result.target}, {result.count('cannot')} cannot be, {result.count('already')} "
                   f"on it already{tail}")
    if not dry_run and result.count("cannot"):
        raise typer.Exit(1)


def _migration_line(ref: str, planned: Any, status: str) -> str:
    """One case of a migration: where it goes, then what it keeps, drops and gains; ids only."""
    if planned is None:
        return f"{ref}  already on it"
    if planned.problems:
        return f"{ref}  cannot be moved: {'; '.join(planned.problems)}"

    def listed(label: str, ids: Any) -> str:
        shown = [f"{a}->{b}" if a != b else a for a, b in ids.items()] if isinstance(ids, dict) else ids
        return f"{label} {len(shown)}" + (f" ({', '.join(shown)})" if shown else "")

    return "\n".join([
        f"{ref}  {planned.source} -> {planned.target}, {planned.from_stage} -> {planned.to_stage}: {status}",
        f"  items: {listed('kept', planned.items_kept)}, {listed('dropped', planned.items_dropped)}, "
        f"{listed('new', planned.items_new)}",
        f"  facts: {listed('kept', planned.facts_kept)}, {listed('dropped', planned.facts_dropped)}",
        f"  deadlines: {listed('closed', planned.deadlines_closed)}, "
        f"{listed('opened', planned.deadlines_opened)}",
    ])


def to_mermaid(process: Process) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {process.initial}"]
    for t in process.transitions:
        for source in process.sources(t):
            lines.append(f"    {source} --> {t.to}: {t.event}")
    lines += [f"    {stage} --> [*]" for stage in process.final]
    return "\n".join(lines)


def _describe(process: Process, locale: str) -> None:
    """Ids as the command line takes them, titles in LOTSE_LOCALE."""
    out: list[Any] = [f"{process.name} v{process.version}: {process.title.in_(locale)}", "", "Stages:"]
    for name, stage in process.stages.items():
        mark = " (final)" if process.is_final(name) else ""
        limit = f", limit {stage.limit}" if stage.limit else ""
        out.append(f"  {name}{mark}: {stage.title.in_(locale)} [{stage.responsible or '-'}{limit}]")
        out += [f"    - {i.id}: {i.title.in_(locale)} (owner {i.owner})" for i in stage.checklist]
    out += ["", "Events:"]
    for t in process.transitions:
        needs = [*t.requires.items, *t.requires.facts]
        title = f" ({t.title.in_(locale)})" if t.title else ""
        out.append(
            f"  {t.event}{title}: {', '.join(t.source)} -> {t.to}  by {', '.join(t.roles) or 'coordinator'}"
            + (f"; needs {', '.join(needs)}" if needs else "")
        )
    out += ["", "Facts:"]
    out += [f"  {n}: {f.type}  set by {', '.join(f.set_by) or 'coordinator'}"
            + (f"  ({f.title.in_(locale)})" if f.title else "")
            for n, f in process.facts.items()]
    if process.deadlines:
        out += ["", "Deadlines:"]
        out += [f"  {key}: {d.title.in_(locale)} ({d.due}; {d.role})" for key, d in process.deadlines.items()]
    typer.echo("\n".join(out))

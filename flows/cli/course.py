"""`lotse course`: language course groups (add, list, assign cases, the report) and `lotse exam`,
an exam result. Cases are named by reference only; no person's name is printed."""

from __future__ import annotations

import typer

from lotse.flows.cli.output import as_of_day, context, emit_json, table, warn
from lotse.tasks import course_report, courses, exams, overviews

app = typer.Typer(help="Language course groups: add, list, assign cases, report.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")
LIST_COLUMNS = ["id", "school", "level", "pace", "start", "end", "place", "participants", "capacity", "free"]


@app.command()
def add(
    course_id: str = typer.Argument(..., metavar="ID"),
    school: str = typer.Option(..., "--school", metavar="ACTOR", help="A language school (actor id)."),
    level: str = typer.Option(..., "--level", help="The target level, A1..C2."),
    pace: str = typer.Option(..., "--pace", help="fast, standard or slow."),
    start: str = typer.Option(..., "--start", metavar="YYYY-MM-DD"),
    end: str = typer.Option(..., "--end", metavar="YYYY-MM-DD"),
    capacity: int | None = typer.Option(None, "--capacity", metavar="N", help="Places; default: no limit."),
    place: str | None = typer.Option(None, "--place", metavar="TEXT"),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID", help="The coordinator."),
    as_json: bool = JSON,
) -> None:
    """Add a language course group (the coordinator)."""
    added = courses.add_course(context(), course_id, school=school, level=level, pace=pace, start=start,
                               end=end, capacity=capacity, place=place, by=by)
    if as_json:
        emit_json(added)
    else:
        places = f", {added['capacity']} places" if added["capacity"] is not None else ""
        typer.echo(f"added course group {added['id']} ({added['school']}, {added['level']}, {added['pace']}, "
                   f"{added['start']} to {added['end']}{places})")


@app.command("list")
def list_(as_json: bool = JSON) -> None:
    """List the course groups: dates, level, pace, participants and free places."""
    rows = courses.list_courses(context())
    if as_json:
        emit_json(rows)
    else:
        table(rows, LIST_COLUMNS)


@app.command()
def assign(
    course_id: str = typer.Argument(..., metavar="COURSE"),
    refs: list[str] = typer.Argument(..., metavar="REF..."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID", help="The coordinator or the group's school."),
    undo: bool = typer.Option(False, "--undo", help="Take the cases out of the group instead."),
    as_json: bool = JSON,
) -> None:
    """Assign cases to a course group, all or nothing; the school is told. --undo takes them out."""
    ctx = context()
    if undo:
        result = courses.unassign(ctx, course_id, refs, by=by)
        changed, verb = result["unassigned"], "took out"
    else:
        result = courses.assign(ctx, course_id, refs, by=by)
        changed, verb = result["assigned"], "assigned"
    from lotse.tasks import delivery

    for ref in changed:
        delivery.deliver_after_change(ctx, ref, warn)
    overviews.after_change(ctx, changed, warn)
    if as_json:
        emit_json(result)
        return
    free = f"; {result['free']} place(s) free" if result["free"] is not None else ""
    typer.echo(f"{result['course']}: {verb} {', '.join(changed)} "
               f"({result['participants']} participant(s){free})")


@app.command()
def report(
    as_of: str | None = typer.Option(None, "--as-of", metavar="YYYY-MM-DD",
                                     help="The day to count by; default: today."),
    as_json: bool = JSON,
) -> None:
    """Per group and per pace: participants, how many reached the target, median weeks to B1 and B2."""
    day = as_of_day(as_of)
    data = course_report.report(context(), day)
    if as_json:
        emit_json(data)
        return
    typer.echo(f"Language course groups, as of {data['as_of']}:")
    rows = [{**g, "below_target": ",".join(g["below_target"])} for g in data["groups"]]
    table(rows, ["id", "school", "level", "pace", "start", "end", "participants", "reached",
                 "median_weeks_to_b1", "median_weeks_to_b2", "below_target"])
    typer.echo("\nPer pace:")
    table(data["paces"], ["pace", "groups", "participants", "reached", "median_weeks_to_b1",
                          "median_weeks_to_b2"])


def exam(
    ref: str = typer.Argument(..., metavar="REF"),
    level: str = typer.Option(..., "--level", help="The exam's level, A1..C2."),
    name: str = typer.Option(..., "--exam", metavar="TEXT", help="e.g. telc Deutsch B1-B2 Pflege."),
    taken_on: str = typer.Option(..., "--date", metavar="YYYY-MM-DD", help="The day it was taken."),
    passed: bool = typer.Option(..., "--passed/--failed", help="Passed or failed."),
    by: str = typer.Option(..., "--by", metavar="ACTOR_ID", help="The language school or the coordinator."),
    as_json: bool = JSON,
) -> None:
    """Record an exam result; a passed exam raises the case's language_level (never lowers it)."""
    ctx = context()
    result = exams.record_exam(ctx, ref, level=level, exam=name, taken_on=taken_on, passed=passed, by=by)
    overviews.after_change(ctx, [result["ref"]], warn)
    if as_json:
        emit_json(result)
        return
    outcome = "passed" if passed else "failed"
    levels = result["language_level"]
    if levels["after"] != levels["before"]:
        change = f"language_level {levels['before'] or 'not set'} -> {levels['after']}"
    else:
        change = f"language_level stays {levels['before'] or 'not set'}"
    typer.echo(f"{result['ref']}: exam {result['level']} {outcome} on {result['date']} recorded; {change}")

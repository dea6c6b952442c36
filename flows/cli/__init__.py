"""The `lotse` command line.

Exit codes: 0 done; 1 refused by the rules or the data; 2 bad input or usage. Every error is one
line on stderr starting with `error:`; a user's mistake never shows a traceback.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

try:  # newer Typer carries its own copy of click
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - Typer before it vendored click
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment]

from lotse.flows.cli import actor, arguments, case, course, notify, person, privacy, process
from lotse.flows.cli.backup import backup
from lotse.flows.cli.check import check
from lotse.flows.cli.cost import app as cost_app
from lotse.flows.cli.deploy import deploy
from lotse.flows.cli.desk import desk, sign_in
from lotse.flows.cli.doctor import doctor
from lotse.flows.cli.enrol import enrol
from lotse.flows.cli.family import app as family_app
from lotse.flows.cli.network import network
from lotse.flows.cli.output import context, settings_error, warn
from lotse.flows.cli.report import report
from lotse.flows.cli.retention import retention
from lotse.flows.cli.up import up
from lotse.states import database_failures
from lotse.states.errors import LotseError, NotReady
from lotse.tasks.context import Context

app = typer.Typer(
    name="lotse",
    help="Lotse: cases of international care workers, moved through their process.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(process.app, name="process")
app.add_typer(actor.app, name="actor")
app.add_typer(case.app, name="case")
app.add_typer(family_app, name="family")
app.add_typer(course.app, name="course")
app.add_typer(notify.app, name="notify")
app.add_typer(notify.outbox_app, name="outbox")
app.add_typer(person.app, name="person")
app.add_typer(privacy.app, name="privacy")
app.add_typer(cost_app, name="cost")
app.command("check")(check)
app.command("exam")(course.exam)
app.command("enrol")(enrol)
app.command("report")(report)
app.command("network")(network)
app.command("retention")(retention)
app.command("up")(up)
app.command("doctor")(doctor)
app.command("backup")(backup)
app.command("deploy")(deploy)
app.command("desk")(desk)
app.command("sign-in")(sign_in)


@app.command()
def init(demo: bool = typer.Option(False, "--demo", help="Add a fictional demo alliance.")) -> None:
    """Create or upgrade the database, and write the secret key that signs links (unless
    LOTSE_SECRET_KEY is set or the key file exists); safe to run twice."""
    from lotse.states import schema  # Alembic only where it is used

    ctx = context(check_schema=False)
    try:
        before, after = schema.upgrade(ctx.db.engine)
    except OperationalError as exc:  # no server, no database, no rights: say so in one line
        raise NotReady(f"cannot open the database {ctx.db.display_url}: {exc.orig}") from None
    state = "created" if before is None else ("upgraded" if before != after else "up to date")
    typer.echo(f"database {ctx.db.display_url}: {state} (schema {after})")
    from lotse.tasks import secret_key

    done, problem = secret_key.ensure(ctx.settings)
    typer.echo(f"secret key: {done}")
    if problem:
        warn(f"secret key: {problem}")
    typer.echo(f"processes: {', '.join(p.key for p in ctx.catalog.latest())}")
    _store_definitions(ctx)
    if demo:
        from lotse.tasks import demo as demo_data

        typer.echo(demo_data.create(ctx))
    from lotse.tasks import route_check  # no Apprise unless routes are configured

    routes, problems = route_check.route_report(ctx)
    typer.echo(f"notifications: {routes}")
    for problem in problems:
        warn(f"notifications: {problem}")


def _store_definitions(ctx: Context) -> None:
    """Put the stored copies in force, and store the versions cases use that a database from
    before stored definitions does not hold yet; say what was stored, edited or is missing."""
    from lotse.states import definitions

    for edited in definitions.bind(ctx.catalog, ctx.db):
        warn(str(edited))
    stored, unknown = definitions.adopt(ctx.catalog, ctx.db, ctx.clock())
    if stored:
        typer.echo(f"stored definitions: {', '.join(stored)} (used by cases, stored from their files)")
    for missing in unknown:
        warn(str(missing))


def main() -> None:
    """Entry point: run the command, turn every user error into one line and an exit code."""
    try:
        arguments.check_text(sys.argv[1:])
        code = app(standalone_mode=False)
    except LotseError as exc:
        _fail(str(exc), exc.exit_code)
    except DBAPIError as exc:  # busy, disk full, server gone, a value too wide: rolled back
        _fail(str(database_failures.explain(exc)), 1)
    except ValidationError as exc:  # settings read outside `output.settings()`: still one line
        _fail(str(settings_error(exc)), 2)
    except NoArgsIsHelpError as exc:  # `lotse case` alone: show what it offers, yet it did nothing
        typer.echo(exc.ctx.get_help())
        _fail(f"missing a command; see `{exc.ctx.command_path} --help`", exc.exit_code)
    except UsageError as exc:
        where = f"`{exc.ctx.command_path} --help`" if exc.ctx is not None else "`lotse --help`"
        _fail(f"{_one_line(exc.format_message())}; see {where}", exc.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except typer.TyperException as exc:
        _fail(_one_line(exc.format_message()), getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OSError as exc:  # a path too long, a folder not writable: the file system said no
        problem = arguments.path_problem(exc)
        _fail(str(problem), problem.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def _one_line(message: str) -> str:
    return " ".join(message.split()).rstrip(".")


def _fail(message: str, code: int) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)

"""The `lotse` command line.

Exit codes: 0 done; 1 refused by the rules or the data; 2 bad input or usage. Every error is one
line on stderr starting with `error:`; a user's mistake never shows a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

try:  # newer Typer carries its own copy of click
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - Typer before it vendored click
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment]

from lotse.flows.cli import arguments
from lotse.states import database_failures
from lotse.states.errors import LotseError, NotReady

if TYPE_CHECKING:
    from lotse.tasks.context import Context

HELP = "Lotse: cases of international care workers, moved through their process."

# Each command: the module under lotse.flows.cli that holds it, and its name there (a Typer app
# for a group). A run imports only the module of the command it was asked for: most of a cold
# start was importing every other command's tasks.
COMMANDS: dict[str, tuple[str, str]] = {
    "process": ("process", "app"),
    "actor": ("actor", "app"),
    "case": ("case", "app"),
    "family": ("family", "app"),
    "course": ("course", "app"),
    "notify": ("notify", "app"),
    "outbox": ("notify", "outbox_app"),
    "person": ("person", "app"),
    "privacy": ("privacy", "app"),
    "cost": ("cost", "app"),
    "check": ("check", "check"),
    "exam": ("course", "exam"),
    "enrol": ("enrol", "enrol"),
    "report": ("report", "report"),
    "network": ("network", "network"),
    "retention": ("retention", "retention"),
    "up": ("up", "up"),
    "doctor": ("doctor", "doctor"),
    "backup": ("backup", "backup"),
    "deploy": ("deploy", "deploy"),
    "desk": ("desk", "desk"),
    "sign-in": ("desk", "sign_in"),
}


def build(names: Iterable[str] | None = None) -> typer.Typer:
    """The `lotse` app with the named commands (all of them by default), in the order of COMMANDS."""
    wanted = set(COMMANDS if names is None else names)
    built = typer.Typer(name="lotse", help=HELP, no_args_is_help=True, pretty_exceptions_enable=False,
                        rich_markup_mode=None, add_completion=False)
    # A callback keeps `lotse` a group even with one command in it: Typer would otherwise run
    # that command for the bare `lotse`.
    built.callback()(_group)
    for name, (module, attribute) in COMMANDS.items():
        if name not in wanted:
            continue
        found = getattr(importlib.import_module(f"lotse.flows.cli.{module}"), attribute)
        if isinstance(found, typer.Typer):
            built.add_typer(found, name=name)
        else:
            built.command(name)(found)
    built.command("init")(init)
    return built


def _group() -> None:
    pass


def __getattr__(name: str) -> typer.Typer:  # `from lotse.flows.cli import app`: every command
    if name == "app":
        return build()
    raise AttributeError(name)


def init(demo: bool = typer.Option(False, "--demo", help="Add a fictional demo alliance.")) -> None:
    """Create or upgrade the database, and write the secret key that signs links (unless
    LOTSE_SECRET_KEY is set or the key file exists); safe to run twice."""
    from lotse.flows.cli.output import context, warn
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
    from lotse.flows.cli.output import warn
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
        asked = sys.argv[1] if len(sys.argv) > 1 else None
        only = [asked] if asked in COMMANDS else [] if asked == "init" else None
        code = build(only)(standalone_mode=False)
    except LotseError as exc:
        _fail(str(exc), exc.exit_code)
    except DBAPIError as exc:  # busy, disk full, server gone, a value too wide: rolled back
        _fail(str(database_failures.explain(exc)), 1)
    except ValidationError as exc:  # settings read outside `output.settings()`: still one line
        from lotse.flows.cli.output import settings_error

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

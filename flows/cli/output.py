"""What every command shares: its context from the settings, and printing (text or JSON)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, islice
from typing import Any

import typer
from pydantic import ValidationError

from lotse.config.settings import Settings
from lotse.states import facts as fact_kinds
from lotse.states.errors import BadInput
from lotse.tasks.context import Context


def settings() -> Settings:
    """The settings from the LOTSE_* variables; a bad value is bad input, not a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        raise settings_error(exc) from None


def settings_error(exc: ValidationError) -> BadInput:
    """A bad LOTSE_* value, named, in one line."""
    error = exc.errors()[0]
    name = "LOTSE_" + "_".join(str(part) for part in error["loc"]).upper()
    return BadInput(f"setting {name}: {error['msg'].removeprefix('Value error, ')}")


def context(*, check_schema: bool = True) -> Context:
    """The context of a command; a definition edited in place under running cases is said on
    stderr, in one line each, and the command goes on with the stored copy."""
    ctx = Context.from_settings(settings(), check_schema=check_schema)
    for edited in ctx.edited:
        warn(str(edited))
    return ctx


def as_of_day(text: str | None) -> dt.date | None:
    """The day of `--as-of YYYY-MM-DD` or `DD.MM.YYYY` (spaces around it ignored); None when not given."""
    if text is None:
        return None
    try:
        return fact_kinds.parse_date(text)
    except ValueError:
        raise BadInput(f"--as-of '{text}' is not {fact_kinds.expected('date')}") from None


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def stream_json(rows: Iterable[Mapping[str, Any]]) -> int:
    """Print a JSON list of objects as the rows come, the same document `emit_json` prints for
    the whole list, without holding the list; the number of rows printed."""
    out, count = sys.stdout, 0
    for row in rows:
        out.write(("[\n" if count == 0 else ",\n") + _json_row(row))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


def stream_table(rows: Iterable[Mapping[str, Any]], columns: list[str], sample: int = 1_000) -> int:
    """The plain text table of `table`, printed as the rows come: the column widths are those of
    the first `sample` rows (a longer cell after them widens its own line only), so a short list
    looks as `table` prints it and a long one never sits in memory; the number of rows printed."""
    it = iter(rows)
    first = [[_cell(row.get(c)) for c in columns] for row in islice(it, sample)]
    if not first:
        typer.echo("(none)")
        return 0
    widths = [max(len(c), *(len(r[i]) for r in first)) for i, c in enumerate(columns)]
    out, count = sys.stdout, 0
    out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    rest: Iterator[list[str]] = ([_cell(row.get(c)) for c in columns] for row in it)
    for cells in chain(first, rest):
        out.write("  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True)).rstrip() + "\n")
        count += 1
    return count


def table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain text table, for people; scripts use --json."""
    if not rows:
        typer.echo("(none)")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
_NESTED = json.JSONEncoder(ensure_ascii=False, default=str, indent=2)
# Without `indent` the encoder written in C does the work: a flat row's fields, each on its line
# through the separator, is what `indent=2` prints at a row's depth, several times faster.
_FLAT = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",\n    ", ": "))


def _json_row(row: Mapping[str, Any]) -> str:
    """One row of a list, as `emit_json` writes it."""
    if not any(isinstance(v, (list, dict, tuple)) and v for v in row.values()):
        text = _FLAT.encode(row)
        return "  {\n    " + text[1:-1] + "\n  }" if row else "  {}"
    fields = ",\n    ".join(f"{_JSON.encode(k)}: {_json_value(v)}" for k, v in row.items())
    return "  {\n    " + fields + "\n  }"


def _json_value(value: Any) -> str:
    """One value of a row, as `emit_json` writes it at the depth of a row's field."""
    if isinstance(value, (list, dict, tuple)) and value:
        return _NESTED.encode(value).replace("\n", "\n    ")
    return _JSON.encode(value)


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)

"""One line for a YAML file that cannot be parsed: the file, where in it, and YAML's words.

Definitions, the region hierarchy and the funding programmes are YAML files an alliance writes by
hand; each reports a syntax error the same way, as a `DefinitionError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lotse.states.errors import DefinitionError


@contextmanager
def reported_as(file: str) -> Iterator[None]:
    """A YAML error raised in the block becomes a `DefinitionError` naming `file` and the line."""
    import yaml  # here: a command whose files were checked before never parses YAML (issue 15)

    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DefinitionError(file, where, f"malformed YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise DefinitionError(file, "", f"cannot be read: {exc}") from None

"""The words of a command line that no option's type catches: text that is not UTF-8, and a path
the file system refuses.

A terminal set to Latin-1 hands `Müller` over as bytes that are not UTF-8; Python keeps them as
surrogates, which no database, file or message can take. Such a word is refused before the
command runs, naming its option, never repeating it (it is often a person's name).
"""

from __future__ import annotations

import errno

from lotse.states.errors import BadInput, LotseError, NotReady

_SHOWN = 80  # of a path in a message: enough to recognise it, short enough for one line


def check_text(args: list[str]) -> None:
    """Refuse the first word that is not UTF-8 text, naming its option or its position."""
    for position, word in enumerate(args, start=1):
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(
                f"{_where(args, position)} is not UTF-8 text; set the terminal to UTF-8 "
                "(e.g. LANG=de_DE.UTF-8) and type it again"
            ) from None


def path_problem(error: OSError) -> LotseError:
    """A path the file system refused, in one line: too long is bad input, the rest a refusal."""
    name = str(error.filename) if error.filename is not None else ""
    if error.errno == errno.ENAMETOOLONG:
        return BadInput(f"a path of {len(name):,} characters is too long for the file system; "
                        "give a shorter one")
    shown = name if len(name) <= _SHOWN else name[:_SHOWN] + "..."
    where = f": {shown}" if shown else ""
    return NotReady(f"{error.strerror or type(error).__name__}{where}")


def _where(args: list[str], position: int) -> str:
    word = args[position - 1]
    if word.startswith("-"):
        option = word.split("=", 1)[0]
        return f"the option {option.encode('utf-8', 'replace').decode()}"
    before = args[position - 2] if position > 1 else ""
    if before.startswith("--") and "=" not in before:
        return f"the value of {before}"
    return f"word {position} of the command"

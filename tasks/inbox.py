"""The inbox: cohort files as Prefect may see them, under a neutral name.

A file's name is often a person's (`Kohorte_Quraishi_Maerz.csv`), and Prefect keeps a run's
parameters, name, logs and artifacts for ever. So a file reaches a flow run only as a copy in
`LOTSE_HOME/inbox`, named by the SHA-256 of its content (`<64 hex digits>.csv`): the same file
twice is one copy, and the name says nothing about anyone. The folder is readable by its owner
only, like the database beside it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from lotse.states.errors import BadInput

SUFFIXES = (".csv", ".xlsx")
NAME_PATTERN = r"^[0-9a-f]{64}\.(csv|xlsx)$"
_CHUNK = 1 << 20


def folder(home: Path) -> Path:
    return home / "inbox"


def receive(home: Path, file: Path) -> Path:
    """Copy `file` into the inbox under its content's hash (once) and return the copy's path."""
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInput(f"{file.name}: not a CSV or XLSX file; save the list as .csv (UTF-8) or .xlsx")
    inbox = folder(home)
    inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    inbox.chmod(0o700)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=inbox, prefix=".receiving-")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as copy, file.open("rb") as source:
            while chunk := source.read(_CHUNK):  # a 50 MB list is streamed, never held whole
                digest.update(chunk)
                copy.write(chunk)
        target = inbox / f"{digest.hexdigest()}{suffix}"
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise BadInput(f"{file.name}: cannot be read or copied into the inbox ({exc.strerror})") from None
    return target


def find(home: Path, name: str) -> Path:
    """The inbox file of this neutral name; anything else (a path, another name) is refused."""
    path = folder(home) / name
    if not re.fullmatch(NAME_PATTERN, name) or not path.is_file():
        raise BadInput("no such file in the inbox; `lotse enrol FILE` puts a cohort file there, "
                       "under the hash of its content")
    return path


def names(home: Path) -> list[str]:
    """The inbox's files, newest first: the choices of the `enrol-cohort` form."""
    inbox = folder(home)
    found = [p for p in inbox.iterdir() if re.fullmatch(NAME_PATTERN, p.name)] if inbox.is_dir() else []
    return [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]

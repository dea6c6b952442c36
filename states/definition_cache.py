"""The process definitions and the region hierarchy as last checked, and the tables' Core
metadata (states/tables.py), kept on disk per content.

Checking a definition means parsing its YAML and validating it: about 30 ms of every command
started cold, most of what a read-only command does beyond importing its libraries (issue 15).
What comes out depends only on the files' bytes and on the code that checks them, so it is kept
in LOTSE_HOME/cache under a digest of both. A command whose files are unchanged loads the checked
result; a file edited, added, renamed or removed, or another Lotse or pydantic, checks again.
A file that fails its check is never kept: every command says what is wrong with it.

The result is kept as a pickle, which can run code when loaded, so it is trusted the way Python
trusts its own bytecode: only by the file system. It is written readable and writable by its
owner alone, and read only when it belongs to this user and nobody else may write it. Any other
file, and any error reading or writing one, only means checking again: the cache is never needed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pydantic
import sqlalchemy

T = TypeVar("T")


def checked(
    kind: str,
    files: Sequence[Sequence[tuple[str, bytes]]],
    check: Callable[[], T],
    folder: Path,
    code: Sequence[Path],
) -> T:
    """What `check()` returns for these files (layers of name and bytes), from `folder` when the
    same files were checked by the same `code` (the source files of the modules that parse and
    validate them, and whatever else they read)."""
    try:
        path = folder / f"{kind}-{_key(files, code)}.pickle"
    except OSError:
        return check()  # a module's source is not there to read (installed as bytecode only)
    found = _read(path)
    if found is not None:
        return found  # type: ignore[no-any-return]
    result = check()
    _write(path, kind, result)
    return result


def _key(files: Sequence[Sequence[tuple[str, bytes]]], code: Sequence[Path]) -> str:
    versions = (sys.version, pydantic.VERSION, sqlalchemy.__version__, pickle.HIGHEST_PROTOCOL)
    key = hashlib.sha256("\0".join(map(str, versions)).encode())
    for source in code:
        key.update(b"\0code\0" + source.read_bytes())
    for layer in files:
        key.update(b"\0layer")
        for name, raw in layer:
            key.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(raw).digest())
    return key.hexdigest()[:40]


def _read(path: Path) -> object | None:
    try:
        with path.open("rb") as stream:
            stat = os.fstat(stream.fileno())
            if stat.st_uid != os.getuid() or stat.st_mode & 0o022:
                return None  # somebody else's, or writable by others: not trusted
            return pickle.load(stream)
    except FileNotFoundError:
        return None
    except Exception:  # unreadable, or written by another version: check again
        return None


def _write(path: Path, kind: str, result: object) -> None:
    folder = path.parent
    if not folder.parent.is_dir():
        return  # no LOTSE_HOME yet (before `lotse init`): nothing is created for a cache
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{kind}-")  # mode 0600
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(result, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        for older in folder.glob(f"{kind}-*.pickle"):
            if older != path:
                older.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass  # a full disk or a read-only home: the next command checks again

"""The secret key that signs answer links and sign-in links, and the privacy of Lotse's files.

The key is LOTSE_SECRET_KEY, or else the file LOTSE_HOME/secret.key that `lotse init` writes once
(mode 0600, created so: never readable by others, not even for a moment). Whoever holds it can
make links that act for any organisation; a new key makes every link sent before it invalid.

Lotse's home is 0700 and its SQLite database 0600 (SQLite gives its -wal and -shm files the mode
of the database): they hold the names of people.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from lotse.config.settings import Settings

KEY_BYTES = 48  # token_urlsafe(48): 64 characters, 384 random bits
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def ensure(settings: Settings) -> tuple[str, str | None]:
    """Write a new key to LOTSE_HOME/secret.key unless LOTSE_SECRET_KEY is set or the file is
    there; an existing file is kept as it is. Returns what was done, and a problem to warn of."""
    if settings.secret_key is not None:
        return "LOTSE_SECRET_KEY is set; no key file written", None
    path = settings.secret_key_file
    settings.home.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        if settings.signing_key() is None:
            return f"{path} kept", (f"{path} holds no usable key (at least 32 characters): remove it and run "
                                    "`lotse init` again, or set LOTSE_SECRET_KEY")
        return f"{path} kept", None
    try:
        os.write(handle, (secrets.token_urlsafe(KEY_BYTES) + "\n").encode())
        os.fsync(handle)
    except OSError:
        os.close(handle)
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    os.close(handle)
    return f"{path} written (mode 0600)", None


@dataclass(frozen=True)
class TooOpen:
    """A file or folder of Lotse that group or others may use, and the command that fixes it."""

    path: Path
    mode: int

    @property
    def fix(self) -> str:
        return f"chmod {'700' if stat.S_ISDIR(self.mode) else '600'} {self.path}"

    def __str__(self) -> str:
        return f"{self.path} is open to group/others (mode {stat.S_IMODE(self.mode):04o}): run `{self.fix}`"


def too_open(paths: list[Path]) -> list[TooOpen]:
    """Those of these files and folders that exist and grant group or others any access."""
    found = []
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & 0o077:
            found.append(TooOpen(path, mode))
    return found


def private_paths(settings: Settings, sqlite_file: Path | None) -> list[Path]:
    """What must stay private: the home, the secret key file, the SQLite database and its -wal
    and -shm files."""
    paths = [settings.home.resolve(), settings.secret_key_file.resolve()]
    if sqlite_file is not None:
        paths += [sqlite_file, sqlite_file.with_name(sqlite_file.name + "-wal"),
                  sqlite_file.with_name(sqlite_file.name + "-shm")]
    return paths

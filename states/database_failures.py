"""What a database failure means for the user: one line saying what happened and what to do.

SQLite and PostgreSQL fail in their own words; the user needs to know which of a few things
happened: the database was busy, its disk is full, the server is gone or the connection was lost,
or a value did not fit. A failed command's transaction is rolled back, so nothing was written.

The database's own message is never repeated for a statement: it can quote the values of the
row (a PostgreSQL `DETAIL: Key (...)=(...)`, an invalid input "..."), which can be names. Only the
messages of a failed connection, which carry no row, are shown.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from lotse.states.errors import DatabaseFailure

NOTHING_WRITTEN = "nothing was written"
_BUSY = ("the database is busy: another command held it longer than the busy timeout "
         f"(LOTSE_BUSY_TIMEOUT_SECONDS); {NOTHING_WRITTEN}. Try again, or raise the timeout")
_FULL = (f"the disk holding the database is full; {NOTHING_WRITTEN}. "
         "Free some space (or ask the database's administrator), then try again")
_LOST = (f"the connection to the database server was lost; {NOTHING_WRITTEN}. "
         "Check that the server runs (`lotse doctor`), then try again")
_TOO_LONG = (f"a value is longer than the database keeps; {NOTHING_WRITTEN}. "
             "Shorten it (names up to 200 characters, ids up to 64)")
_OUT_OF_RANGE = f"a number is out of the range the database keeps; {NOTHING_WRITTEN}. Use a smaller one"
_CONFLICT = (f"the change collides with one written at the same time; {NOTHING_WRITTEN}. "
             "Look again (`lotse case show`) and retry")
_RETRY = f"the database broke off the command to let another one finish; {NOTHING_WRITTEN}. Try again"

# SQLite's result codes (`sqlite3.Error.sqlite_errorname`), by their family.
_SQLITE = {
    "SQLITE_BUSY": _BUSY,
    "SQLITE_LOCKED": _BUSY,
    "SQLITE_FULL": _FULL,
    "SQLITE_TOOBIG": _TOO_LONG,
    "SQLITE_CONSTRAINT": _CONFLICT,
    "SQLITE_IOERR": f"the database file could not be read or written (disk I/O error); {NOTHING_WRITTEN}. "
                    "Check the disk, then try again",
    "SQLITE_READONLY": f"the database file is read-only for this user; {NOTHING_WRITTEN}. "
                       "Run Lotse as the user who owns LOTSE_HOME",
    "SQLITE_CANTOPEN": f"the database file cannot be opened; {NOTHING_WRITTEN}. "
                       "Check LOTSE_HOME (or LOTSE_DATABASE_URL) and its rights",
    "SQLITE_CORRUPT": f"the database file is damaged; {NOTHING_WRITTEN}. Restore the last backup",
    "SQLITE_NOTADB": f"the file is not a Lotse database; {NOTHING_WRITTEN}. Check LOTSE_DATABASE_URL",
}

# PostgreSQL's SQLSTATEs: exact codes first, then their class (the first two characters).
_POSTGRES = {
    "22001": _TOO_LONG,
    "22003": _OUT_OF_RANGE,
    "40001": _RETRY,
    "40P01": _RETRY,
    "55P03": _BUSY,
    "57014": f"the database cancelled the command (a statement timeout?); {NOTHING_WRITTEN}. Try again",
    "53100": _FULL,
    "57P01": _LOST,
    "57P02": _LOST,
    "57P03": _LOST,
    "08": _LOST,
    "22": f"a value does not fit the database; {NOTHING_WRITTEN}. Check the values given",
    "23": _CONFLICT,
    "53": f"the database server is out of resources (memory or connections); {NOTHING_WRITTEN}. "
          "Try again later",
}


def explain(error: DBAPIError) -> DatabaseFailure:
    """The one-line failure for a database error (the cause is dropped: it holds the statement)."""
    return DatabaseFailure(_message(error))


def _message(error: DBAPIError) -> str:
    original = error.orig
    kind = type(original).__name__
    name = getattr(original, "sqlite_errorname", None)
    if isinstance(name, str):
        # Extended codes (SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT) belong to their family.
        family = next((m for code, m in _SQLITE.items() if name == code or name.startswith(code + "_")), None)
        return family or f"the database failed ({name}); {NOTHING_WRITTEN}. Try again"
    state = getattr(original, "sqlstate", None)
    if isinstance(state, str) and state:
        found = _POSTGRES.get(state) or _POSTGRES.get(state[:2])
        return found or f"the database refused the command (SQLSTATE {state}); {NOTHING_WRITTEN}"
    if error.connection_invalidated:
        return _LOST
    if kind == "OperationalError":  # no SQLSTATE: the client could not reach the server
        return (f"cannot reach the database server ({_first_line(original)}); {NOTHING_WRITTEN}. "
                "Check that it runs and LOTSE_DATABASE_URL, then try again")
    return f"the database failed ({kind}); {NOTHING_WRITTEN}. Try again"


def _first_line(original: BaseException | None) -> str:
    """A connection failure's own words (host, port, reason; no row is involved)."""
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return (lines[0] if lines else "no answer").rstrip(".")[:200]

"""Which cases a cohort is, for a cost shared among them (`lotse cost add --cohort`).

Lotse keeps no cohort as such: `lotse enrol` opens a case per row and remembers no file name (a
file's name may be a person's, and a cost's cohort reaches reports and Prefect). So a cohort is
given one of two ways:

- a month, `2026-03`: every case opened in that calendar month in the alliance's time zone
  (an enrolled list is opened on one day, so its cases share a month); the tag is the month;
- a file of case references, one a line (a CSV's first column; a header `ref` and lines starting
  with `#` are skipped), e.g. the references `lotse enrol` printed: the tag is `list-` and the
  first ten hex digits of the SHA-256 of the sorted references, the same for the same cases
  whatever the file is called, and naming no one.

A reference the file names twice, or that is no case, is bad input naming the line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from lotse.states.errors import BadInput, NotFound
from lotse.states.records import CaseRecord

MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
MAX_FILE_BYTES = 5_000_000  # 300,000 references: far beyond any cohort
TAG_DIGITS = 10
_FIELD = re.compile(r"[,;\t]")


@dataclass(frozen=True)
class CohortGiven:
    """A cohort as the command line gave it: a month, or the references a file holds."""

    tag: str
    month: tuple[int, int] | None = None
    refs: tuple[str, ...] = ()
    source: str = ""  # the file's name, for the operator's own error lines


def given(text: str) -> CohortGiven:
    """Read `--cohort FILE_OR_TAG`: a file that exists is a list of references; else a month."""
    path = Path(text)
    if path.is_file():
        return _from_file(path)
    match = MONTH.fullmatch(text.strip())
    if match is None and (path.suffix or "/" in text):
        raise BadInput(f"--cohort {path.name}: no such file; give a file of case references, one a line, "
                       "or a month like 2026-03")
    if match is None:
        raise BadInput(f"--cohort '{text[:60]}' is neither a file of case references nor a month "
                       "like 2026-03 (the cases opened in it)")
    return CohortGiven(tag=match.group(0), month=(int(match.group(1)), int(match.group(2))))


def cases(session: Session, cohort: CohortGiven, timezone: str, *, lock: bool = False) -> list[CaseRecord]:
    """The cases of the cohort, by reference; refuses an unknown reference and an empty month."""
    if cohort.month is not None:
        start, end = _month_bounds(*cohort.month, timezone)
        query = select(CaseRecord).where(CaseRecord.created_at >= start, CaseRecord.created_at < end)
        found = list(session.scalars(_locked(query.order_by(CaseRecord.ref), lock)))
        if not found:
            raise BadInput(f"--cohort {cohort.tag}: no case was opened in that month; "
                           "see `lotse case list`")
        return found
    query = select(CaseRecord).where(CaseRecord.ref.in_(cohort.refs))  # type: ignore[attr-defined]
    by_ref = {r.ref: r for r in session.scalars(_locked(query, lock))}
    for ref in cohort.refs:
        if ref not in by_ref:
            raise NotFound(f"{cohort.source}: unknown case '{ref}'; see `lotse case list`")
    return [by_ref[ref] for ref in sorted(cohort.refs)]


def _locked(query: object, lock: bool) -> object:
    return query.with_for_update() if lock else query  # type: ignore[attr-defined]


def _month_bounds(year: int, month: int, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(timezone)
    start = dt.datetime(year, month, 1, tzinfo=zone)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _from_file(path: Path) -> CohortGiven:
    name = path.name
    with path.open("rb") as stream:
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise BadInput(f"--cohort {name}: larger than {MAX_FILE_BYTES // 1_000_000} MB; a cohort "
                       "file holds case references, one a line")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"--cohort {name}: not UTF-8 text; save it as UTF-8 with a case reference "
                       "a line") from None
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        word = _FIELD.split(line, maxsplit=1)[0].strip().strip('"').upper()
        if not word or word.startswith("#") or (word == "REF" and not seen):
            continue
        if not re.fullmatch(r"[A-Z]{1,4}-\d{4}-\d{4,}", word):
            raise BadInput(f"--cohort {name}: line {number} is not a case reference like SE-2026-0042 "
                           "in its first column")
        if word in seen:
            raise BadInput(f"--cohort {name}: line {number} repeats {word} of line {seen[word]}; "
                           "name each case once")
        seen[word] = number
    if not seen:
        raise BadInput(f"--cohort {name}: holds no case reference; give one a line (e.g. SE-2026-0042)")
    refs = tuple(sorted(seen))
    digest = hashlib.sha256("\n".join(refs).encode()).hexdigest()[:TAG_DIGITS]
    return CohortGiven(tag=f"list-{digest}", refs=refs, source=name)

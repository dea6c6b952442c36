"""Enrolling a cohort: a CSV or XLSX file of new recruits, one row per person, opened as cases.

Columns: `given_name`, `family_name`, `nationality`, `employer` (an actor id), optionally `process`
and `region`, and any fact of the row's process (`arrival_date`, ...); an empty cell sets nothing.

Every row is checked before anything is written, by the same rules as `lotse case add`
(`casework.check_opening`: the employer is an employer, the actor may open cases, for this
employer in this region, § 38 BeschV on health and care occupations; the actor may set those facts,
values fit their types, the region is a plain name). A file with a bad row imports nothing, unless
bad rows are skipped on request. The good rows are then written `CHUNK` at a time, each chunk in a
transaction of its own with its history rows (entry point `import`) and whatever a new case causes:
a 30,000-row import never holds the database's write lock for more than a moment, and other commands
go on meanwhile.
For the user the import stays all or nothing: if it stops midway (killed, a full disk), the chunks
written stay, and importing the same file again writes the rest and counts the others as
enrolled before.

A row's key is a hash of the person's names, nationality, employer and process; it is stored as the
request id of the case's opening, so importing the same file again opens no case twice, even while
the first import is still running: the lookup happens inside each chunk's writing transaction.

Problems name the line (of a workbook: the sheet and row) and the column, never a cell's value: a
shifted column could carry a person's name into a message, and messages reach logs and the Prefect UI.

The file is read as a stream, to check every row (the people met so far kept on disk). The valid rows
of a file of up to `KEPT` rows are kept from that reading for the writing; a longer file is read
again to hand its valid rows on, so that a big list never sits in memory: a 50 MB list is checked
in well under 200 MB.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from lotse.states import database_failures, definitions, limits, regions
from lotse.states import facts as fact_kinds
from lotse.states.actor import Actor
from lotse.states.case import Case
from lotse.states.errors import BadFactValue, DatabaseFailure, LotseError, OpeningRefused
from lotse.states.process import Process
from lotse.states.records import CaseRecord, HistoryRecord
from lotse.states.regions import Regions
from lotse.states.store import list_actors
from lotse.tasks import bulk_opening, casework, directory
from lotse.tasks.bulk_opening import NewCase
from lotse.tasks.cohort_file import OPTIONAL, REQUIRED, Cohort, Mark, Unreadable, open_cohort
from lotse.tasks.context import Context

CHUNK = 500  # rows per transaction and per progress report
KEPT = 20_000  # valid rows kept from the check for the writing (some 25 MB); beyond, read again
# On SQLite, after this long of writing chunks, a pause long enough for a retry of every waiting
# writer (SQLite's busy handler retries at least every 100 ms): no one waits much longer than this,
# and the import spends an eighth of its writing time pausing.
WRITE_FOR_S = 1.0
LET_OTHERS_IN_S = 0.15
LISTED = 1000  # problems kept one by one; beyond, counted: a list of a million bad rows stays small
KEY_PREFIX = "enrol:"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: `line` 0 means the file as a whole; `where` says it as a reader
    finds it (`sheet 'Kohorte', rows 5-6`), by default `line N`."""

    line: int
    reason: str
    where: str = ""

    @property
    def place(self) -> str:
        return self.where or (f"line {self.line}" if self.line else "")

    def __str__(self) -> str:
        return f"{self.place}: {self.reason}" if self.place else self.reason


@dataclass
class Enrolment:
    """The outcome of one import: references only, never a name."""

    file: str
    rows: int = 0
    enrolled: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # enrolled by an earlier import of these rows
    problems: list[Problem] = field(default_factory=list)  # the first LISTED of them
    unlisted: int = 0  # problems beyond those listed
    skipped: int = 0  # bad rows left out on request
    dry_run: bool = False  # checked only: nothing was written

    @property
    def refused(self) -> bool:
        """Bad rows and no permission to skip them: nothing was imported."""
        return bool(self.problems) and not self.skipped

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.unlisted

    def add(self, problem: Problem) -> None:
        if len(self.problems) < LISTED:
            self.problems.append(problem)
        else:
            self.unlisted += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "rows": self.rows, "enrolled": len(self.enrolled),
            "already_enrolled": len(self.already), "skipped": self.skipped,
            "imported": not self.refused and not self.dry_run, "dry_run": self.dry_run,
            "refs": self.enrolled,
            "problems": [{"line": p.line, "where": p.place, "reason": p.reason} for p in self.problems],
            "problem_count": self.problem_count,
        }

    def summary(self) -> str:
        """For Prefect's log: rows by number only, never a sheet's name (it may name a person)."""
        if self.refused:
            shown = "; ".join(f"line {p.line}: {p.reason}" if p.line else p.reason
                              for p in self.problems[:20])
            more = f"; and {self.problem_count - 20} more" if self.problem_count > 20 else ""
            return f"{self.file}: {self.problem_count} problem(s), nothing imported: {shown}{more}"
        if self.dry_run:
            return (f"{self.file}: {self.rows} row(s) checked, {self.rows - self.skipped} valid, "
                    f"{self.skipped} bad row(s); nothing written (dry run)")
        return (
            f"{self.file}: {len(self.enrolled)} case(s) enrolled, {len(self.already)} enrolled before, "
            f"{self.skipped} bad row(s) skipped, of {self.rows} row(s)"
        )


@dataclass
class _Row:
    line: int
    key: str
    process: Process
    employer: Actor
    actor: Actor
    region: str
    given_name: str
    family_name: str
    values: dict[str, Any]


def enrol(
    ctx: Context,
    path: Path,
    *,
    skip_invalid: bool = False,
    by: str | None = None,
    progress: Progress | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
) -> Enrolment:
    """Check every row of the file, then open a case per new, valid row, `CHUNK` per transaction.
    `sheet`: the workbook's sheet (default: the first with the header); `dry_run`: check only."""
    result, valid = Enrolment(file=path.name, dry_run=dry_run), 0
    kept: list[_Row] | None = None if dry_run else []
    try:
        cohort = open_cohort(path, sheet)
        result.problems = _check_header(ctx, cohort)
        if not result.problems:
            for row in _checked(ctx, cohort, by, result):
                valid += 1
                if kept is not None:
                    if len(kept) < KEPT:
                        kept.append(row)
                    else:
                        kept = None
    except Unreadable as exc:
        result.problems.append(Problem(0, f"{path.name}: {exc}"))
        return result
    if not result.problems and not result.rows:
        result.problems.append(Problem(0, f"{path.name}: no rows below the header"))
    whole_file = any(p.line <= cohort.header_line for p in result.problems)
    if whole_file or (result.problems and not skip_invalid):
        return result
    result.skipped = result.rows - valid
    if dry_run:
        return result
    try:  # a long file is read again, handing the valid rows on a chunk at a time
        rows = kept if kept is not None else _checked(ctx, cohort, by, Enrolment(file=path.name))
        result.enrolled, result.already = _open_cases(ctx, rows, valid, progress)
    except Unreadable as exc:  # the file changed since it was checked; chunks written stay
        result.problems.append(Problem(0, f"{path.name}: {exc}"))
    return result


# -- checking --------------------------------------------------------------------------------------


def _check_header(ctx: Context, cohort: Cohort) -> list[Problem]:
    facts = {name for p in ctx.catalog.latest() for name in p.facts}
    known = set(REQUIRED) | set(OPTIONAL) | facts
    header, line = cohort.header, cohort.header_line
    where = cohort.where(line)
    problems = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(Problem(line, f"missing column(s) {', '.join(missing)}; the header needs "
                                      f"{', '.join(REQUIRED)}, optionally {', '.join(OPTIONAL)} and facts",
                                where))
    for position, name in enumerate(header, start=1):
        if name and name not in known:
            problems.append(Problem(line, f"column {position} is not a known column or fact; facts of "
                                          f"the processes: {', '.join(sorted(facts))}", where))
        elif name and header.index(name) != position - 1:
            problems.append(Problem(line, f"column {position} repeats column '{name}'", where))
    if not problems:  # every column named is a known one: a mark may name it
        problems = [Problem(line, m.reason, cohort.place(m)) for m in cohort.marks if m.first <= line]
    return problems


def _checked(ctx: Context, cohort: Cohort, by: str | None, result: Enrolment) -> Iterator[_Row]:
    """Each valid row of the file, the first time its person appears; every problem goes to
    `result.problems`, every row is counted in `result.rows`. Holds no row once handed on."""
    with ctx.db.reading() as session:
        actors = {a.id: a for a in list_actors(session)}
    if by is not None and by not in actors:
        result.add(Problem(0, f"unknown actor '{by}' for --by; see `lotse actor list`"))
        return
    if by is not None:
        try:
            casework.check_opener(actors[by])
        except OpeningRefused as exc:
            result.add(Problem(0, exc.reason))
            return
    header = cohort.header
    marks = [m for m in cohort.marks if m.first > cohort.header_line]
    for mark in marks:
        result.add(Problem(mark.first, mark.reason, cohort.place(mark)))
    marked = _rows_of(marks)
    hierarchy = ctx.regions  # read once per file: looking it up stats its file
    with _People() as people:
        for line, values in cohort.lines():
            result.rows += 1
            if marked(line):  # what the row seems to hold is not what the sheet shows: said above
                continue
            reasons: list[str] = []
            stray = [str(i + 1) for i, v in enumerate(values)
                     if (i >= len(header) or not header[i]) and str(v).strip()]
            if stray:
                reasons.append(f"a value in column(s) {', '.join(stray)}, which the header does not name")
            cell = {name: value for name, value in zip(header, values, strict=False) if name}
            row = _check_row(ctx, hierarchy, cell, actors, by, reasons)
            if row is not None and not reasons:
                row.line = line
                first = people.first_line(row.key, line)
                if first is None:
                    yield row
                else:
                    reasons.append(f"same person as {cohort.row(first)} (duplicate row)")
            for reason in reasons:
                result.add(Problem(line, reason, cohort.where(line)))
    result.problems.sort(key=lambda p: p.line)


def _rows_of(marks: list[Mark]) -> Callable[[int], bool]:
    """Whether a row lies in one of the marks (merged cells may span thousands of rows)."""
    spans = sorted((m.first, m.last) for m in marks)
    starts, reach, furthest = [s for s, _ in spans], [], 0
    for _, last in spans:
        furthest = max(furthest, last)
        reach.append(furthest)

    def marked(line: int) -> bool:
        at = bisect_right(starts, line) - 1
        return at >= 0 and reach[at] >= line

    return marked


class _People:
    """The people of a file met so far, by their key, and the line each was first met on. Kept in a
    private temporary SQLite database on disk: a file of a million rows needs no million keys in
    memory."""

    def __enter__(self) -> _People:
        self._db = sqlite3.connect("")  # "": a temporary database, deleted when closed
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        return self

    def __exit__(self, *_: object) -> None:
        self._db.close()

    def first_line(self, key: str, line: int) -> int | None:
        """None the first time `key` is met (and `line` is remembered); else the line it was met on."""
        if self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (key, line)).rowcount:
            return None
        return int(self._db.execute("SELECT line FROM seen WHERE key = ?", (key,)).fetchone()[0])


def _check_row(
    ctx: Context, hierarchy: Regions, cell: dict[str, Any], actors: dict[str, Actor], by: str | None,
    reasons: list[str],
) -> _Row | None:
    text = {k: str(v).strip() for k, v in cell.items()}
    for column in ("given_name", "family_name", "nationality", "employer"):
        if not text.get(column):
            reasons.append(f"{column} is empty")
    for column in ("given_name", "family_name"):
        if len(text.get(column, "")) > limits.NAME:
            reasons.append(f"{column} is longer than {limits.NAME} characters")
    process_name = text.get("process") or ctx.settings.default_process
    try:
        process = ctx.catalog.get(process_name)
    except LotseError:
        reasons.append(f"process: no such process; known: {', '.join(ctx.catalog.names())}")
        return None
    employer = actors.get(text.get("employer", ""))
    if text.get("employer") and employer is None:
        reasons.append("employer: no actor with this id; see `lotse actor list`")
    actor = actors[by] if by else employer
    values = _facts(process, cell, reasons)
    region = text.get("region") or (employer.region if employer else None) or ctx.settings.default_region
    try:
        regions.check_region(region, hierarchy)
    except LotseError:  # the value is not repeated: problems reach Prefect
        known = f"not a region of the hierarchy; known: {', '.join(hierarchy.codes)}"
        reasons.append(f"region: {known if regions.CODE.fullmatch(region) else directory.REGION_RULE}")
    if employer is None or actor is None:
        return None
    try:  # the rules of `lotse case add`, among them § 38 BeschV (health and care occupations)
        casework.check_opening(actor, employer, values.get("nationality", ""), region, process, hierarchy)
    except OpeningRefused as exc:
        reasons.append(f"{exc.column}: {exc.reason}")
    if reasons:
        return None
    trial = Case(ref="", process=process.name, process_version=process.version, stage=process.initial,
                 employer=employer.id, region="")
    try:
        trial.set_facts(process, actor, values)
    except LotseError as exc:
        reasons.append(str(exc))
        return None
    return _Row(
        line=0, key=_key(text, process), process=process, employer=employer, actor=actor,
        region=region, given_name=text["given_name"], family_name=text["family_name"], values=values,
    )


def _facts(process: Process, cell: dict[str, Any], reasons: list[str]) -> dict[str, Any]:
    values = {}
    for name, raw in cell.items():
        if name in REQUIRED[:2] or name in ("employer", *OPTIONAL) or str(raw).strip() == "":
            continue
        if name not in process.facts:
            reasons.append(f"{name}: not a fact of process {process.name}")
            continue
        fact = process.facts[name]
        try:
            values[name] = fact_kinds.parse_value(
                fact.type, raw.strip() if isinstance(raw, str) else raw, fact.values, name=name
            )
        except BadFactValue:  # its message may repeat the value; ours names the column only
            reasons.append(f"{name}: not {fact_kinds.expected(fact.type, fact.values)}")
    return values


def _key(text: dict[str, str], process: Process) -> str:
    parts = [" ".join(text[c].split()).casefold() for c in ("given_name", "family_name")]
    parts += [text["nationality"].upper(), text["employer"], process.name]
    return KEY_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


# -- writing ---------------------------------------------------------------------------------------


def _open_cases(
    ctx: Context, rows: Iterable[_Row], total: int, progress: Progress | None
) -> tuple[list[str], list[str]]:
    """`CHUNK` rows per transaction: the same records, history and consequences as `open_case`.
    `total`: how many rows come. Returns the references opened now and those enrolled before, by
    this file or another."""
    now = ctx.clock()
    opened: list[str] = []
    already: list[str] = []
    if progress and not total:
        progress(0, 0)
    rows = iter(rows)
    start = 0
    writing = time.monotonic()
    while chunk := list(islice(rows, CHUNK)):
        try:
            new, before = _open_chunk(ctx, chunk, now)
        except DBAPIError as exc:  # the chunks committed before stay; a rerun skips them
            raise DatabaseFailure(
                f"{database_failures.explain(exc)}; {len(opened)} case(s) were enrolled before it "
                "and stay: enrol the same file again to enrol the rest, none twice"
            ) from None
        opened += new
        already += before
        if progress:
            progress(start + len(chunk), total)
        start += len(chunk)
        if ctx.db.is_sqlite and start < total and time.monotonic() - writing > WRITE_FOR_S:
            # SQLite queues no one: a waiting writer retries every 100 ms at most, and would find
            # the import's next chunk holding the lock again at once, until its busy timeout.
            time.sleep(LET_OTHERS_IN_S)
            writing = time.monotonic()
    return opened, already


def _open_chunk(ctx: Context, rows: list[_Row], now: dt.datetime) -> tuple[list[str], list[str]]:
    with ctx.db.writing() as session:
        _wait_for_other_imports(session)
        # Looked up inside the write transaction: an import running at once has committed by now.
        earlier = _enrolled_before(session, [r.key for r in rows])
        already = [earlier[r.key] for r in rows if r.key in earlier]
        rows = [r for r in rows if r.key not in earlier]
        for process in {r.process.key: r.process for r in rows}.values():
            definitions.keep(session, ctx.catalog, process, now)
        by_region: dict[str, list[_Row]] = {}
        for row in rows:
            by_region.setdefault(row.region, []).append(row)
        refs: dict[int, str] = {}
        for region, group in by_region.items():
            reserved = casework.reserve_refs(session, ctx.regions.root(region), now, len(group),
                                             timezone=ctx.settings.timezone)
            for row, ref in zip(group, reserved, strict=True):
                refs[row.line] = ref
        bulk_opening.open_all(session, [
            NewCase(ref=refs[row.line], process=row.process, employer=row.employer.id, region=row.region,
                    given_name=row.given_name, family_name=row.family_name, actor=row.actor,
                    values=row.values, request_id=row.key)
            for row in rows
        ], now=now, via="import", proof=ctx.proof, timezone=ctx.settings.timezone)
        return [refs[row.line] for row in rows], already


def _wait_for_other_imports(session: Session) -> None:
    """The chunks of imports running at once are written one after the other. SQLite's writer
    holds the database's write lock from BEGIN IMMEDIATE already; PostgreSQL's takes a lock held
    until commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('lotse:enrol-cohort'))"))


def _enrolled_before(session: Session, keys: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(keys), CHUNK):
        query = (
            select(HistoryRecord.request_id, CaseRecord.ref)
            .join(CaseRecord, CaseRecord.id == HistoryRecord.case_id)
            .where(HistoryRecord.request_id.in_(keys[start:start + CHUNK]))  # type: ignore[union-attr]
        )
        found.update({key: ref for key, ref in session.execute(query) if key})
    return found



"""Stored definitions: every process version a case runs on, kept in the database.

A case runs for one to three years; its process file changes meanwhile. The first time a version
is used (a case opened on it, or moved to it by `lotse process migrate`) its YAML text and a
digest of its meaning are stored. From then on the stored copy decides for that version: when
the file is gone, cases keep running on it; when the file was edited in place, cases keep running
on it too, and every command says so in one line (`Edited`) until the change gets a new version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlmodel import Session

from lotse.states import tables
from lotse.states.database import Database
from lotse.states.errors import NotFound
from lotse.states.process import Catalog, Process, digest, load_text


# The queries here go through the Core tables (states/tables.py), not the ORM's classes: a
# read-only command builds no class and configures no mapper (issue 15).
def _stored() -> Any:
    return tables.process_definitions.c


def _cases() -> Any:
    return tables.cases.c


@dataclass(frozen=True)
class Edited:
    """A version whose file no longer says what its cases run on."""

    file: str
    name: str
    version: int
    cases: int
    next_version: int

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.name} v{self.version} was changed in place, but {self.cases} case(s) "
            f"use it: they keep the copy stored when it was first used. Give the change a new version "
            f"(version: {self.next_version}), then move the cases with "
            f"`lotse process migrate {self.name} --to {self.next_version}`"
        )


def bind(catalog: Catalog, db: Database) -> list[Edited]:
    """Put the stored copies in force where the files differ or are gone; return the in-place
    edits. One small query when nothing changed; the YAML of a stored copy is read only when
    its file differs or is gone."""
    stored = _stored()
    with db.reading() as session:
        rows = session.execute(select(stored.name, stored.version, stored.digest)).all()
        catalog.stored = {(r.name, r.version) for r in rows}
        differing = [(r.name, r.version) for r in rows
                     if (file := catalog.offered(r.name, r.version)) is None or digest(file) != r.digest]
        if not differing:
            return []
        copies = session.execute(
            select(stored.name, stored.version, stored.content, stored.source)
            .where(tuple_(stored.name, stored.version).in_(differing))
        ).all()
        counts = _cases_per_version(session, differing)
    edited = []
    for name, version, content, source in copies:
        stored = load_text(content, f"the copy of {name} v{version} stored from {source}")
        file = catalog.offered(name, version)
        if file is not None and digest(file) == digest(stored):
            continue  # the same meaning: the digest was computed by an older Lotse
        catalog.keep_in_force(stored.model_copy(update={"source": f"{source} (stored copy)"}))
        if file is not None:
            newest = max(p.version for p in catalog.versions() if p.name == name)
            edited.append(Edited(file.source, name, version, counts.get((name, version), 0), newest + 1))
    return sorted(edited, key=lambda e: (e.name, e.version))


def keep(session: Session, catalog: Catalog, process: Process, now: dt.datetime) -> None:
    """Store `process` in the caller's transaction unless it is stored: before the first case
    that runs on it commits. Two first cases at once both try; the second insert is skipped."""
    key = (process.name, process.version)
    if key in catalog.stored:
        return
    stored = _stored()
    if session.execute(select(stored.name).where(stored.name == key[0], stored.version == key[1])).first():
        catalog.stored.add(key)  # committed by someone else: no lookup for the next case
        return
    values = {"name": process.name, "version": process.version, "digest": digest(process),
              "content": process.text, "source": process.source[:500], "stored_at": now}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(tables.process_definitions).values(**values).on_conflict_do_nothing())


@dataclass(frozen=True)
class Unknown:
    """Cases on a version that neither a file nor the database holds, or whose file lacks the
    stage they stand in (edited before its copy was stored)."""

    name: str
    version: int
    cases: int
    stages: tuple[str, ...] = ()  # the stages the file lacks; empty: no file at all

    def __str__(self) -> str:
        if self.stages:
            return (f"{self.cases} case(s) of {self.name} v{self.version} stand in stage(s) "
                    f"{', '.join(self.stages)}, which its file no longer has: restore the version as "
                    "it was, give the change a new version, and run `lotse init`")
        return (f"{self.cases} case(s) run on {self.name} v{self.version}, which no process file and "
                "no stored copy defines: put its file back into the process folder and run `lotse init`")


def adopt(
    catalog: Catalog, db: Database, now: dt.datetime, *, write: bool = True,
) -> tuple[list[str], list[Unknown]]:
    """Store the versions cases use that are not stored yet (a database from before stored
    definitions: `lotse init` stores them from the files as they are now, if every stage their
    cases stand in is still there). Returns the versions stored (or, without `write`, that would
    be) and those no file defines as the cases need."""
    stored: list[Process] = []
    unknown: list[Unknown] = []
    cases = _cases()
    with db.writing() if write else db.reading() as session:
        stages = session.execute(
            select(cases.process, cases.process_version, cases.stage, func.count())
            .group_by(cases.process, cases.process_version, cases.stage)
        ).all()
        used: dict[tuple[str, int], dict[str, int]] = {}
        for name, version, stage, count in stages:
            used.setdefault((name, version), {})[stage] = count
        for (name, version), counts in sorted(used.items()):
            if (name, version) in catalog.stored:
                continue
            try:
                process = catalog.get(name, version)
            except NotFound:
                unknown.append(Unknown(name, version, sum(counts.values())))
                continue
            lacking = tuple(sorted(s for s in counts if s not in process.stages))
            if lacking:
                unknown.append(Unknown(name, version, sum(counts[s] for s in lacking), lacking))
                continue
            if write:
                keep(session, catalog, process, now)
            stored.append(process)
    if write:
        catalog.stored.update((p.name, p.version) for p in stored)
    return [p.key for p in stored], unknown


def _cases_per_version(
    session: Session, keys: Iterable[tuple[str, int]] | None = None,
) -> dict[tuple[str, int], int]:
    cases = _cases()
    query = select(cases.process, cases.process_version, func.count()).group_by(
        cases.process, cases.process_version)
    if keys is not None:
        query = query.where(tuple_(cases.process, cases.process_version).in_(list(keys)))
    return {(name, version): count for name, version, count in session.execute(query)}


def open_cases_per_version(catalog: Catalog, db: Database) -> dict[tuple[str, int], int]:
    """How many open cases (not in a final stage) run on each version."""
    cases = _cases()
    query = select(cases.process, cases.process_version, cases.stage, func.count()).group_by(
        cases.process, cases.process_version, cases.stage)
    counts: dict[tuple[str, int], int] = {}
    with db.reading() as session:
        for name, version, stage, count in session.execute(query):
            try:
                final = catalog.get(name, version).is_final(stage)
            except NotFound:
                final = False  # counted: `lotse doctor` names the version no file defines
            if not final:
                counts[(name, version)] = counts.get((name, version), 0) + count
    return counts

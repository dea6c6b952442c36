"""A database for command-line tests on both backends: a SQLite file under `home`, or a fresh
PostgreSQL database; `lotse init` sets it up, and `Db.rows()` dumps every row to prove that a
refused command wrote nothing. `Alliance` is `lotse` on such a database with named actors, for
the tests that talk to it as one object (`alliance_on` sets it up)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, select, text

from lotse.states.records import CaseRecord, OutboxRecord
from tests.cli.conftest import Lotse, Outcome
from tests.postgres import fresh_database
from tests.tables import dump


@dataclass
class Db:
    url: str

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        return dump(self.url)

    def recipients(self, ref: str) -> list[str]:
        """Whom the outbox holds messages for about a case, in the order they were queued."""
        return [recipient for recipient, _ in self.outbox(ref)]

    def outbox(self, ref: str) -> list[tuple[str, str | None]]:
        """The outbox rows of a case: (recipient, route key), in the order they were queued."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return [(row.recipient, row.route) for row in connection.execute(
                    select(OutboxRecord.recipient, OutboxRecord.route)
                    .join(CaseRecord, CaseRecord.id == OutboxRecord.case_id)  # type: ignore[arg-type]
                    .where(CaseRecord.ref == ref).order_by(OutboxRecord.id))]  # type: ignore[arg-type]
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(
    request: pytest.FixtureRequest, lotse: Lotse, home: Path, monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Db]:
    if request.param == "sqlite":
        ok(lotse("init"))
        yield Db(f"sqlite:///{home / 'lotse.db'}")
        return
    with fresh_database() as url:
        monkeypatch.setenv("LOTSE_DATABASE_URL", url)
        ok(lotse("init"))
        yield Db(url)


def ok(outcome: Outcome) -> Outcome:
    assert outcome.code == 0, outcome.err
    assert "Traceback" not in outcome.err
    return outcome


def add_actors(lotse: Lotse, *actors: tuple[str, str, str | None]) -> None:
    """Add (id, role, region) actors through the command line; the name is the id, titled."""
    for actor_id, role, region in actors:
        ok(lotse("actor", "add", actor_id, "--name", actor_id.replace("-", " ").title(), "--role", role,
                 "--email", f"{actor_id}@example.org", *(["--region", region] if region else [])))


def to_visa(lotse: Lotse, ref: str) -> None:
    """Move a pflege case on to `visa`, whose checklist asks housing for the arrival."""
    ok(lotse("case", "done", ref, "employment_contract", "recognition_documents", "--by", "koord"))
    ok(lotse("case", "advance", ref, "apply_visa", "--by", "koord"))


def close(lotse: Lotse, ref: str) -> None:
    """Withdraw a case (closed: a final stage), with the facts its version of pflege asks for."""
    withdraw = ("case", "advance", ref, "withdraw", "--by", "koord", "--set", "withdraw_reason=went home")
    withdrawn = lotse(*withdraw, "--set", "withdraw_category=other")
    if withdrawn.code != 0 and "withdraw_category" in withdrawn.err:  # a version without the category
        withdrawn = lotse(*withdraw)
    ok(withdrawn)


def open_case(lotse: Lotse, employer: str, *args: str) -> str:
    opened = ok(lotse("case", "add", "--given-name", "Maricel", "--family-name", "Dalisay",
                      "--nationality", "PHL", "--employer", employer, "--by", "koord", "--json", *args))
    return str(opened.json()["ref"])


Actor = tuple[str, str, str, str | None]  # id, name, role, region


class Alliance:
    """`lotse` on a database set up by `lotse init` and its actors; a test module subclasses it
    with the steps it needs."""

    def __init__(self, lotse: Lotse, url: str) -> None:
        self.lotse, self.url = lotse, url

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Outcome:
        return self.lotse(*args, env=env)

    def ok(self, *args: str, env: dict[str, str] | None = None) -> Outcome:
        return ok(self.lotse(*args, env=env))

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        return dump(self.url)

    def rows(self, sql: str, **values: Any) -> list[Any]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), values))
        finally:
            engine.dispose()


A = TypeVar("A", bound=Alliance)


@contextlib.contextmanager
def alliance_on(
    kind: type[A], backend: str, lotse: Lotse, home: Path, monkeypatch: pytest.MonkeyPatch,
    actors: list[Actor],
) -> Iterator[A]:
    """`kind` on a fresh database of `backend` (sqlite or postgresql) with these actors."""
    with contextlib.ExitStack() as stack:
        if backend == "postgresql":
            url = stack.enter_context(fresh_database())
            monkeypatch.setenv("LOTSE_DATABASE_URL", url)
        else:
            url = f"sqlite:///{home / 'lotse.db'}"
        alliance = kind(lotse, url)
        alliance.ok("init")
        for actor_id, name, role, region in actors:
            alliance.ok("actor", "add", actor_id, "--name", name, "--role", role,
                        "--email", f"{actor_id}@example.org", *(["--region", region] if region else []))
        yield alliance

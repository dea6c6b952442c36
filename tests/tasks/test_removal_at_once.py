"""An employer taken out of the directory while a case is opened for it at the same moment, on
PostgreSQL (SQLite runs one writer at a time, so the two never overlap there). Whichever commits
second sees the first: a case opened first makes the removal refuse; a removal first makes the
opening refuse; a case moved to another employer first stays with it, not handed over. Never an
open case whose employer has left the alliance.

Each test holds one side inside its transaction (a patched step waits for an event), starts the
other, waits until PostgreSQL shows it waiting for a lock, and lets the first one finish."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text

from lotse.config.settings import Settings
from lotse.states import no_poaching, store
from lotse.states.errors import LotseError, NotFound, Refused
from lotse.tasks import casework, directory, employer_change, hand_over
from lotse.tasks.context import Context
from tests.postgres import postgres_context

WAIT_S = 30


@pytest.fixture
def alliance(ctx: Context, settings: Settings) -> Iterator[Context]:
    with postgres_context(settings, ctx.clock) as on_postgres:
        directory.add_actor(on_postgres, "koord", name="Koordination", roles=["coordinator"])
        directory.add_actor(on_postgres, "klinik-nord", name="Klinik Nord", roles=["employer"],
                            region="SE-Nord")
        yield on_postgres


class Held:
    """A function of a module that, once called, waits until `release()` before it goes on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.reached, self.go = threading.Event(), threading.Event()
        real = getattr(module, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            self.reached.set()
            assert self.go.wait(WAIT_S), "never released"
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, held)

    def release(self) -> None:
        self.go.set()


def race(ctx: Context, held: Held, first: Callable[[], Any], second: Callable[[], Any]) -> dict[str, Any]:
    """Start `first` and let it reach `held`; start `second`, and once PostgreSQL shows it waiting
    for a lock (`waited`), let `first` finish. What each returned or the refusal it raised."""
    outcomes: dict[str, Any] = {}

    def run(name: str, work: Callable[[], Any]) -> threading.Thread:
        def keep() -> None:
            try:
                outcomes[name] = work()
            except LotseError as refusal:
                outcomes[name] = refusal

        thread = threading.Thread(target=keep)
        thread.start()
        return thread

    threads = [run("first", first)]
    assert held.reached.wait(WAIT_S), "the first never reached the held step"
    threads.append(run("second", second))
    outcomes["waited"] = waits_for_a_lock(ctx)
    held.release()
    for thread in threads:
        thread.join(WAIT_S)
    return outcomes


def waits_for_a_lock(ctx: Context) -> bool:
    """Whether another session of this database is waiting for a row lock, within WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with ctx.db.engine.connect() as connection:
            waiting = connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"))
        if waiting:
            return True
        time.sleep(0.05)
    return False


def remove(ctx: Context) -> dict[str, Any]:
    return hand_over.remove_actor(ctx, "klinik-nord", by="koord")


def open_case(ctx: Context) -> str:
    return casework.open_case(ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                              employer="klinik-nord")


def test_a_case_opened_while_its_employer_is_removed_makes_the_removal_refuse(
    alliance: Context, monkeypatch: pytest.MonkeyPatch,
) -> None:
    opening = Held(monkeypatch, casework, "_next_ref")  # inside open_case, after the employer is read

    outcome = race(alliance, opening, lambda: open_case(alliance), lambda: remove(alliance))

    assert outcome["waited"], "the removal did not wait for the case being opened"
    assert isinstance(outcome["first"], str), outcome["first"]  # the case's reference
    assert isinstance(outcome["second"], Refused), outcome["second"]
    assert "owns 1 open case(s) as employer" in str(outcome["second"])


def test_a_case_opened_while_its_employer_is_being_removed_is_refused(
    alliance: Context, monkeypatch: pytest.MonkeyPatch,
) -> None:
    removing = Held(monkeypatch, hand_over, "owned_by")  # inside remove_actor, after the actor is read

    outcome = race(alliance, removing, lambda: remove(alliance), lambda: open_case(alliance))

    assert outcome["waited"], "the case was opened without waiting for the removal of its employer"
    assert outcome["first"]["removed"] == "klinik-nord"
    assert isinstance(outcome["second"], NotFound), outcome["second"]
    assert str(outcome["second"]) == "unknown actor 'klinik-nord'; see `lotse actor list`"


def test_a_case_moved_to_another_employer_while_its_employer_is_removed_stays_moved(
    alliance: Context, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for actor_id, name in (("klinik-sued", "Klinik Süd"), ("klinik-ost", "Klinik Ost")):
        directory.add_actor(alliance, actor_id, name=name, roles=["employer"], region="SE-Sued")
    ref = open_case(alliance)
    moving = Held(monkeypatch, no_poaching, "check_target")  # inside the change, the case locked

    outcome = race(alliance, moving, lambda: employer_change.change_employer(
        alliance, ref, to="klinik-sued", by="koord", note="Die Einrichtungen sind sich einig"),
        lambda: hand_over.remove_actor(alliance, "klinik-nord", hand_over_to="klinik-ost", by="koord"))

    assert outcome["waited"], "the removal did not wait for the case being moved"
    assert outcome["first"]["to"] == "klinik-sued", outcome["first"]
    assert outcome["second"]["cases"] == [], outcome["second"]  # nothing of klinik-nord's was left
    with alliance.db.reading() as session:
        record = store.find_case(session, ref)
        assert record.employer_id == "klinik-sued"
        assert [h.action for h in store.history(session, record.id or 0)][-1] == "change_employer"

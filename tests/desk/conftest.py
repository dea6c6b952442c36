"""The desk served for real: its app under uvicorn on a free loopback port, in a thread, on the
test's SQLite file and clock. Links are made the way messages make them (`answer_links`), for
cases brought to the right stage by casework."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lotse.config.settings import Settings
from lotse.desk.app import Desk, create_app
from lotse.desk.server import in_thread as serve_in_thread
from lotse.notifications import answer_links
from lotse.states.records import HistoryRecord, LinkUseRecord
from lotse.tasks.context import Context
from tests.e2e.conftest import chromium
from tests.notifications.conftest import arrive, visa_case
from tests.tables import dump

KEY = "desk-test-key-" + "k" * 40


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, secret_key=KEY, _env_file=None)  # type: ignore[call-arg]


@dataclasses.dataclass
class Served:
    """The desk at `url`, over the test's context."""

    url: str
    ctx: Context
    desk: Desk

    @property
    def key(self) -> bytes:
        return self.desk.key

    def link(self, ref: str, name: str, actor: str, *, kind: str = "item", days: int = 30,
             now: dt.datetime | None = None, entered: dt.datetime | None = None) -> str:
        """The address of an answer link for the case as it stands (or `entered`, `now`)."""
        if entered is None:
            from lotse.states import store

            with self.ctx.db.reading() as session:
                entered = store.find_case(session, ref).stage_entered_at
        link = answer_links.new(ref, kind, name, actor, entered, now or self.ctx.clock(), days)  # type: ignore[arg-type]
        return answer_links.url(self.url, answer_links.token(link, self.key))

    def client(self) -> httpx.Client:
        return httpx.Client(timeout=10, follow_redirects=False)

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the database but the record of link uses: what a refused use leaves alone."""
        rows = dump(self.ctx.db.engine)
        rows.pop("link_uses", None)
        return rows

    def uses(self) -> list[LinkUseRecord]:
        with self.ctx.db.reading() as session:
            return list(session.scalars(select(LinkUseRecord).order_by(LinkUseRecord.id)))

    def history_count(self) -> int:
        with self.ctx.db.reading() as session:
            return int(session.scalar(select(func.count()).select_from(HistoryRecord)) or 0)


@pytest.fixture
def desk(alliance: Context) -> Iterator[Served]:
    app = create_app(alliance.settings, ctx=alliance)
    with serve_in_thread(app) as url:
        yield Served(url, alliance, app.state.desk)


def in_arrival(ctx: Context, given_name: str = "Maricel") -> str:
    """A pflege case that arrived on 2026-03-03: the landlord's confirmation is open for the
    housing company, due 14 days later."""
    ref = visa_case(ctx, given_name)
    arrive(ctx, ref)
    return ref


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """One headless Debian `chromium` per test module (never a downloaded browser)."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A fresh page (its own cookies) in the module's browser; any script dialog fails the test."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()
    assert dialogs == [], f"a script ran: {dialogs}"

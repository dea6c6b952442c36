"""The outbox's columns on PostgreSQL (real server at 127.0.0.1:5432), which, unlike SQLite, refuses
a value longer than its column: ids as long as a definition and the directory allow still make a
reminder that is queued once and delivered (to a real chat webhook on loopback)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.notifications import outbox
from lotse.states import schema
from lotse.states.process import Catalog, Process
from lotse.states.records import OutboxRecord
from lotse.tasks import casework, delivery, directory
from lotse.tasks.context import Context
from lotse.tasks.deadlines import check_deadlines
from tests.conftest import Clock
from tests.notifications.conftest import Webhook
from tests.postgres import fresh_database

pytestmark = pytest.mark.postgres
DEADLINE = "deadline_" + "d" * 55  # the longest id a definition may have
ROLE = "role_" + "r" * 59
ACTOR = "actor-" + "a" * 58  # the longest actor id the directory takes
REGION = "Region-" + "x" * 57  # the longest region


def test_a_reminder_with_the_longest_ids_is_queued_once_and_delivered(
    settings: Settings, clock: Clock, webhook: Webhook, tmp_path: Path,
) -> None:
    assert len(DEADLINE) == len(ROLE) == len(ACTOR) == len(REGION) == 64
    regions = tmp_path / "regions.yaml"  # the county with the longest region below it
    regions.write_text(f"regions:\n  - code: SE\n    title: Kreis\n    regions:\n"
                       f"      - {{code: SE-Nord, title: Nord}}\n      - {{code: {REGION}, title: Lang}}\n",
                       encoding="utf-8")
    routes = tmp_path / "routes.yaml"
    routes.write_text(f'version: 1\nurls:\n  - "{webhook.url()}":\n      tag: {ACTOR}, {ROLE}\n',
                      encoding="utf-8")
    with fresh_database() as url:
        own = {"database_url": url, "notify_config": routes, "regions_file": regions}
        ctx = Context.from_settings(settings.model_copy(update=own), check_schema=False)
        schema.upgrade(ctx.db.engine)
        ctx.clock = clock
        data = ctx.catalog.get("pflege").model_dump(by_alias=True)
        data["roles"].append(ROLE)
        data["deadlines"][DEADLINE] = {
            "title": "Erstgespräch", "role": ROLE, "basis": "Absprache der Allianz",
            "due": "1 days after stage_entry", "stages": ["recruited"], "ladder": [{"after": "0 days"}],
        }
        ctx.catalog = Catalog([Process.model_validate(data)])
        staff = [("koord", ["coordinator"], None), ("klinik-nord", ["employer"], "SE-Nord"),
                 (ACTOR, [ROLE], "SE-Nord")]
        for actor_id, roles, region in staff:
            directory.add_actor(ctx, actor_id, name=actor_id[:20], roles=roles, region=region)
        to = {  # the second region has no actor of the role: its reminder goes to role@region
            casework.open_case(ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                               employer="klinik-nord", region=region): recipient
            for region, recipient in [("SE-Nord", ACTOR), (REGION, f"{ROLE}@{REGION}")]
        }

        found = check_deadlines(ctx, as_of=clock().date() + dt.timedelta(days=1))

        assert [(f.deadline, f.reminded) for f in found] == [(DEADLINE, True)] * 2
        with ctx.db.reading() as session:
            rows = list(session.scalars(select(OutboxRecord)))
            raw = [f"deadline:{f.ref}:{DEADLINE}:{f.due.isoformat()}:L1:{to[f.ref]}" for f in found]
            assert outbox.queued_keys(session, raw) == set(raw)  # found again by the key a cause has
        assert sorted(r.recipient for r in rows) == [ACTOR, f"{ROLE}@{REGION}"]
        long, short = sorted(raw, key=len, reverse=True)
        assert len(long) > outbox.KEY_LENGTH and outbox.stored_key(long) in {r.dedup_key for r in rows}
        assert short in {r.dedup_key for r in rows}  # a key that fits is kept as it is

        assert check_deadlines(ctx, as_of=clock().date() + dt.timedelta(days=1))[0].reminded is False
        report = delivery.deliver(ctx)

        assert (report.sent, report.failed, report.dead) == (2, 0, 0)
        assert len(webhook.posts) == 2 and all("Erstgespräch" in p["json"]["message"] for p in webhook.posts)
        ctx.db.dispose()

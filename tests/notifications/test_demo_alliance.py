"""The demo alliance end to end: every transition's messages are kept for the right organisations
as history that is never sent, even once real routes point at a real SMTP server; every reminder
due after the demo reaches the right inbox, and only once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from lotse.notifications import outbox
from lotse.states.records import CaseRecord, HistoryRecord, OutboxRecord
from lotse.tasks import courses, deadlines, delivery, demo
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.notifications.conftest import Inbox


def address(actor_id: str) -> str:
    return f"{actor_id}@demo.example"


def route_every_demo_actor(ctx: Context, inbox: Inbox, folder: Path) -> None:
    lines = ["version: 1", "urls:"]
    for actor_id, *_ in demo.ACTORS:
        lines += [f'  - "{inbox.url(address(actor_id))}":', f"      tag: {actor_id}"]
    path = folder / "routes.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx.settings.notify_config = path


def expected_recipients(ctx: Context) -> Counter[tuple[str, str]]:
    """(case ref, actor) for every stage change of the demo: the transition's notify roles, as the
    definition says, resolved to the case's employer or the role's actors of the case's region."""
    expected: Counter[tuple[str, str]] = Counter()
    with ctx.db.reading() as session:
        cases = {c.id: c for c in session.scalars(select(CaseRecord))}
        stage_changes = select(HistoryRecord).where(HistoryRecord.from_stage != HistoryRecord.to_stage)
        for change in session.scalars(stage_changes):
            case = cases[change.case_id]
            process = ctx.catalog.get(case.process, case.process_version)
            transition = process.transition(change.action, change.from_stage or "")
            assert transition is not None
            actors = set()
            for role in transition.notify:
                if role == "employer":
                    actors.add(case.employer_id)
                    continue
                actors |= {a for a, _, roles, region in demo.ACTORS
                           if role in roles and region in (None, case.region)}
            expected.update((case.ref, actor) for actor in actors)
        # the owners of a family member's needs (`lotse family add`), told once each
        for row in session.scalars(select(HistoryRecord).where(HistoryRecord.action == "family_add")):
            case = cases[row.case_id]
            process = ctx.catalog.get(case.process, case.process_version)
            owners = {process.item(item).owner for item in row.detail["items"]}
            expected.update((case.ref, a) for a, _, roles, region in demo.ACTORS
                            if owners.intersection(roles) and region in (None, case.region))
        # and the school's message of each case assigned to one of its course groups
        assigned = select(HistoryRecord).where(HistoryRecord.action == courses.ASSIGN)
        expected.update((cases[row.case_id].ref, demo.SCHOOL) for row in session.scalars(assigned))
    return expected


def kept(ctx: Context) -> list[tuple[str, OutboxRecord]]:
    with ctx.db.reading() as session:
        query = select(CaseRecord.ref, OutboxRecord).join(CaseRecord, CaseRecord.id == OutboxRecord.case_id)
        return [(ref, row) for ref, row in session.execute(query)]


def test_every_demo_transition_is_kept_for_the_right_organisations_as_history_never_sent(
    ctx: Context,
) -> None:
    demo.create(ctx)

    rows = kept(ctx)

    assert rows and {row.status for _, row in rows} == {outbox.DEMO}
    assert {row.last_error for _, row in rows} == {outbox.DEMO_NOTE}
    assert Counter((ref, row.recipient) for ref, row in rows) == expected_recipients(ctx)
    family_names = [family for _, family, _ in demo.PFLEGE_PEOPLE + demo.CHANCEN_PEOPLE]
    for _, row in rows:  # no family name and no nationality, ever
        assert not [n for n in family_names if n in row.body or n in row.subject], row.body
        assert "PHL" not in row.body and "Philippin" not in row.body


def test_routes_turned_on_for_a_demo_database_send_none_of_its_backdated_messages(
    alliance: Context, inbox: Inbox, tmp_path: Path, lotse: Lotse,
) -> None:
    demo.create(alliance)
    route_every_demo_actor(alliance, inbox, tmp_path)

    assert delivery.deliver(alliance, retry_now=True).sent == 0
    sent = lotse("notify", "--now", "--json")
    due = lotse("notify", "--dry-run", "--json")
    listed = lotse("outbox", "--status", "demo", "--json")

    assert sent.code == 0, sent.err
    assert sent.json()["sent"] == 0 and due.json() == []
    assert inbox.mails == []
    assert len(listed.json()) == len(kept(alliance)) > 0
    assert {(row["status"], row["last_error"]) for row in listed.json()} == {("demo", outbox.DEMO_NOTE)}
    assert "demo, not sent" in lotse("outbox").out


def test_the_demos_overdue_deadlines_are_reminded_once_and_climb_to_the_coordinator(
    ctx: Context, inbox: Inbox, tmp_path: Path,
) -> None:
    demo.create(ctx)
    route_every_demo_actor(ctx, inbox, tmp_path)
    delivery.deliver(ctx)
    before = len(inbox.mails)
    today = deadlines.today(ctx)

    found = deadlines.check_deadlines(ctx, as_of=today)
    delivery.deliver(ctx)
    reminders = inbox.mails[before:]

    assert found, "the demo has overdue cases"
    assert len(reminders) >= len(found)
    assert any(address("koordination") in m.recipients for m in reminders)  # the ladder's level 2

    again = deadlines.check_deadlines(ctx, as_of=today)
    delivery.deliver(ctx)
    assert again and len(inbox.mails) == before + len(reminders)  # the same day: nothing new

    for day in range(1, 20):  # the following days: whatever climbs is sent, each message once
        deadlines.check_deadlines(ctx, as_of=today + dt.timedelta(days=day))
        delivery.deliver(ctx)
    with ctx.db.reading() as session:
        sent = session.scalars(select(OutboxRecord.dedup_key).where(OutboxRecord.status == "sent")).all()
    assert len(sent) == len(inbox.mails) == len(set(sent))

"""A hand-over as the organisations receive it (a real SMTP server on loopback): when a removed
actor's open cases are handed over, the actor taking them over gets one e-mail per case, naming
the case, the organisation it takes over from and the open items it is asked for now, each with an
answer link bound to it that works; never the note or the family name. What was queued for the
removed actor and not sent is cancelled in the same transaction and never reaches it."""

from __future__ import annotations

import re

from sqlalchemy import select

from lotse.states import store
from lotse.states.records import OutboxRecord
from lotse.tasks import answers, delivery, directory, hand_over
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.notifications.conftest import Inbox, Lotse, Routes, mail_routes
from tests.notifications.test_answer_links_in_messages import KEY, LINK, a_case_that_arrived, keyed, links
from tests.tasks.test_overviews import FakePrefect

__all__ = ["keyed"]

NOTE = "Frau Dalisay wohnt jetzt bei ihrer Schwester"
EMPLOYER_ITEMS = ["address_registered", "health_insurance", "tax_id"]  # of stage `arrival`


def add_successors(ctx: Context, inbox: Inbox, routes: Routes) -> None:
    directory.add_actor(ctx, "klinik-sued", name="Klinik Süd", roles=["employer"], region="SE-Sued",
                        email="klinik-sued@example.org")
    directory.add_actor(ctx, "wohnbau-sued", name="Wohnbau Süd", roles=["housing"], region="SE-Sued",
                        email="wohnbau-sued@example.org")
    successors = [(inbox.url(f"{actor}@example.org"), actor) for actor in ("klinik-sued", "wohnbau-sued")]
    routes(*mail_routes(inbox), *successors)


def outbox_to(ctx: Context, actor: str) -> list[OutboxRecord]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(OutboxRecord).where(OutboxRecord.recipient == actor)))


def test_the_successors_are_told_what_they_take_over_and_the_removed_ones_get_nothing_more(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes,
) -> None:
    add_successors(keyed, inbox, routes)
    ref = a_case_that_arrived(keyed, clock)  # its arrival messages wait in the outbox, unsent
    queued = {actor: len(outbox_to(keyed, actor)) for actor in ("klinik-nord", "wohnbau-nord")}
    assert all(queued.values())

    housing = hand_over.remove_actor(keyed, "wohnbau-nord", hand_over_to="wohnbau-sued", by="koord",
                                     note=NOTE)
    employer = hand_over.remove_actor(keyed, "klinik-nord", hand_over_to="klinik-sued", by="koord",
                                      note=NOTE)
    delivery.deliver(keyed)

    assert (housing["told"], housing["cancelled"]) == (1, queued["wohnbau-nord"])
    assert (employer["told"], employer["cancelled"]) == (1, queued["klinik-nord"])
    # nothing queued before reaches the organisations that left, now or on a later delivery
    assert inbox.to("wohnbau-nord@example.org") == [] and inbox.to("klinik-nord@example.org") == []
    for actor in ("wohnbau-nord", "klinik-nord"):
        assert {row.status for row in outbox_to(keyed, actor)} == {"cancelled"}
        assert all("removed from the directory" in (row.last_error or "") for row in outbox_to(keyed, actor))

    (to_klinik,) = inbox.to("klinik-sued@example.org")
    assert to_klinik.subject == f"{ref} (Maricel): übernommen von Klinik Nord"
    assert "ab jetzt Arbeitgeber" in to_klinik.text
    assert [(link.ref, link.name, link.actor) for link in links(to_klinik.text)] == [
        (ref, item, "klinik-sued") for item in EMPLOYER_ITEMS]
    (to_wohnbau,) = inbox.to("wohnbau-sued@example.org")
    assert to_wohnbau.subject == f"{ref} (Maricel): übernommen von Wohnbau Nord"
    assert "Arbeitgeber" not in to_wohnbau.text
    assert "- Wohnungsgeberbestätigung" in to_wohnbau.text
    for mail in (to_klinik, to_wohnbau):
        assert "Koordinierungsstelle hat Ihnen am " in mail.text  # who handed it over
        assert NOTE not in mail.text and "Dalisay" not in mail.subject + mail.text

    # the link of the new housing company answers for it: the hand-over put the case in its scope
    ((_, token),) = LINK.findall(to_wohnbau.text)
    assert not answers.answer(keyed, KEY.encode(), token).repeated
    with keyed.db.reading() as session:
        last = store.history(session, store.find_case(session, ref).id or 0)[-1]
    assert (last.action, last.actor_id, last.via) == ("done", "wohnbau-sued", "link")


def test_the_command_line_says_whom_it_told_and_what_it_cancelled(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    add_successors(keyed, inbox, routes)
    ref = a_case_that_arrived(keyed, clock)
    unsent = len(outbox_to(keyed, "wohnbau-nord"))

    removed = lotse("actor", "remove", "wohnbau-nord", "--hand-over-to", "wohnbau-sued", "--by", "koord")

    assert removed.code == 0 and removed.err == "", removed.err
    assert removed.out.strip() == (f"removed wohnbau-nord; handed 1 case(s) over to wohnbau-sued, told in 1 "
                                   f"message(s); {unsent} message(s) to it not sent yet cancelled")
    # delivered right after the change, like every change's messages
    assert [m.subject for m in inbox.to("wohnbau-sued@example.org")] == [
        f"{ref} (Maricel): übernommen von Wohnbau Nord"]
    listed = lotse("outbox", "--status", "cancelled", "--json").json()
    assert len(listed) == unsent and {row["to"] for row in listed} == {"wohnbau-nord"}
    # the person's own export lists the cancelled messages, but not their addressee as a recipient
    export = lotse("person", "export", ref, "--format", "json").json()
    assert {m["status"] for m in export["messages"] if m["to"] == "wohnbau-nord"} == {"cancelled"}
    assert "wohnbau-nord" not in [r["to"] for r in export["recipients"]]
    assert "wohnbau-sued" in [r["to"] for r in export["recipients"]]
    assert re.search(r"\bcancelled\b", lotse("outbox", "--help").out)


def test_the_overview_posted_to_prefect_shows_the_hand_over_without_the_note(
    keyed: Context, clock: Clock, inbox: Inbox, routes: Routes, lotse: Lotse,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    add_successors(keyed, inbox, routes)
    ref = a_case_that_arrived(keyed, clock)
    prefect = FakePrefect()
    try:
        monkeypatch.setenv("PREFECT_API_URL", prefect.api.url)
        removed = lotse("actor", "remove", "klinik-nord", "--hand-over-to", "klinik-sued", "--by", "koord",
                        "--note", NOTE)
    finally:
        prefect.stop()

    assert removed.code == 0, removed.err
    (posted,) = prefect.bodies
    assert posted["key"] == f"case-{ref.lower()}"
    assert "Übergeben (aus dem Verzeichnis genommen): Klinik Nord → Klinik Süd" in posted["data"]
    assert NOTE not in posted["data"] and "Dalisay" not in posted["data"]

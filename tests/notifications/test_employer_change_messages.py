"""A change of employer as both employers receive it: `lotse case change-employer` delivers one
e-mail to the old and one to the new employer right after the change (a real SMTP server on
loopback), naming the case and both employers, never the note; and the case's overview posted to
Prefect shows the change by the two employers' names and the period, without the note."""

from __future__ import annotations

import json

from lotse.tasks import casework, delivery, directory, employer_change
from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Lotse, Routes, mail_routes, visa_case
from tests.notifications.test_answer_links_in_messages import keyed, links

__all__ = ["keyed"]
from tests.tasks.test_overviews import FakePrefect

NOTE = "Frau Dalisay zieht zu ihrer Schwester nach Süd"


def add_klinik_sued(ctx: Context) -> None:
    directory.add_actor(ctx, "klinik-sued", name="Klinik Süd", roles=["employer"], region="SE-Sued",
                        email="klinik-sued@example.org")


def test_both_employers_receive_the_change_by_e_mail_without_the_note(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    add_klinik_sued(alliance)
    routes(*mail_routes(inbox), (inbox.url("klinik-sued@example.org"), "klinik-sued"))
    ref = visa_case(alliance)  # not arrived yet: the coordinator moves it, with a note

    moved = lotse("case", "change-employer", ref, "--to", "klinik-sued", "--by", "koord", "--note", NOTE)

    assert moved.code == 0 and moved.err == "", moved.err
    # delivered right after the change (with the case's earlier messages still pending)
    (old,) = [m for m in inbox.to("klinik-nord@example.org") if "Arbeitgeberwechsel" in m.subject]
    (new,) = inbox.to("klinik-sued@example.org")
    for mail in (old, new):
        assert mail.subject == f"{ref} (Maricel): Arbeitgeberwechsel von Klinik Nord zu Klinik Süd"
        assert "- bisher: Klinik Nord" in mail.text.splitlines() and "- jetzt: Klinik Süd" in mail.text
        assert "vor der Einreise" in mail.text
        assert NOTE not in mail.text and "Dalisay" not in mail.subject + mail.text
    assert "nicht mehr Arbeitgeber" in old.text and "ab jetzt Arbeitgeber" in new.text
    assert "erwartet" not in old.text + new.text  # the employer's item of the stage is ticked already
    shown = lotse("case", "show", ref, "--json").json()
    assert {(m["to"], m["status"]) for m in shown["messages"]} >= {("klinik-nord", "sent"),
                                                                  ("klinik-sued", "sent")}


def test_the_overview_posted_to_prefect_shows_the_change_without_the_note(
    alliance: Context, lotse: Lotse, monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    add_klinik_sued(alliance)
    ref = visa_case(alliance)
    prefect = FakePrefect()
    try:
        monkeypatch.setenv("PREFECT_API_URL", prefect.api.url)
        moved = lotse("case", "change-employer", ref, "--to", "klinik-sued", "--by", "koord", "--note", NOTE)
    finally:
        prefect.stop()

    assert moved.code == 0, moved.err
    assert [body["key"] for body in prefect.bodies] == [f"case-{ref.lower()}"]
    posted = prefect.bodies[0]["data"]
    assert "| Arbeitgeber gewechselt: Klinik Nord → Klinik Süd (vor der Einreise) | Koordinierungsstelle |" \
        in posted
    assert "- **Zuständig:** Klinik Süd (Arbeitgeber)" in posted
    assert NOTE not in json.dumps(prefect.bodies) and "Maricel" not in json.dumps(prefect.bodies)


def test_the_new_employer_is_asked_for_the_open_items_with_answer_links_of_its_own(
    keyed: Context, inbox: Inbox, routes: Routes,
) -> None:
    add_klinik_sued(keyed)
    routes(*mail_routes(inbox), (inbox.url("klinik-sued@example.org"), "klinik-sued"))
    ref = casework.open_case(keyed, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    casework.tick(keyed, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(keyed, ref, "apply_visa", by="klinik-nord")  # visa_granted: the employer's, open

    employer_change.change_employer(keyed, ref, to="klinik-sued", by="koord", note=NOTE)
    delivery.deliver(keyed)

    (new,) = inbox.to("klinik-sued@example.org")
    assert "Offen und ab jetzt von Ihnen erwartet:" in new.text and "- Visum erteilt" in new.text
    assert [(link.ref, link.name, link.actor) for link in links(new.text)] == [
        (ref, "visa_granted", "klinik-sued")]
    (old,) = [m for m in inbox.to("klinik-nord@example.org") if "Arbeitgeberwechsel" in m.subject]
    assert links(old.text) == [] and "erwartet" not in old.text

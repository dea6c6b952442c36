"""Messages about a family member reach a real SMTP server (the youth office) and a real chat
endpoint (the foreigners' office) naming the member by relation and number only: never its name,
never its birth year; the same for the Kita place's reminder."""

from __future__ import annotations

import datetime as dt

from pydantic import SecretStr

from lotse.notifications import answer_links
from lotse.tasks import casework, delivery, directory, family
from lotse.tasks.context import Context
from lotse.tasks.deadlines import check_deadlines
from tests.conftest import Clock
from tests.notifications.conftest import Inbox, Routes, Webhook

CHILD, BORN = "Aiyana", 2024
KEY = "a-test-key-of-the-alliance-0123456789abcdef"
ARRIVES = dt.date(2026, 9, 1)  # the test clock stands at 2026-03-02: the Kita place is due 2026-06-01


def test_the_youth_office_mail_and_the_foreigners_office_chat_name_child_1_only(
    alliance: Context, clock: Clock, inbox: Inbox, webhook: Webhook, routes: Routes,
) -> None:
    directory.add_actor(alliance, "jugendamt", name="Jugendamt Kreis", roles=["childcare"], region="SE-Nord",
                        email="jugendamt@example.org")
    routes((inbox.url("jugendamt@example.org"), "jugendamt"), (webhook.url("abh"), "foreigners_office"))
    alliance.settings.secret_key = SecretStr(KEY)  # the messages carry answer links
    ref = casework.open_case(alliance, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    family.add_member(alliance, ref, relation="child", given_name=CHILD, birth_year=BORN, arrives=ARRIVES,
                      by="koord")
    delivery.deliver(alliance)

    [mail] = inbox.to("jugendamt@example.org")
    [post] = [p["json"] for p in webhook.posts if p["path"] == "/abh"]
    assert mail.subject == f"{ref} (Maricel): Familie – neue Aufgabe für Kind 1"
    assert "- Kita-Platz (Kind 1): fällig am 01.06.2026" in mail.text
    assert "Visum zum Familiennachzug (Kind 1): fällig am 01.06.2026" in post["message"]
    assert "Kind 1" in post["title"]
    # one answer link each, for the need the recipient owns: it names the item, never the member
    [(_, token)] = [line.split("/a/") for line in mail.text.splitlines() if "erledigt melden: " in line]
    link = answer_links.read(token.strip(), KEY.encode())
    assert (link.ref, link.kind, link.name, link.actor) == (
        ref, "item", "family_child1_kita_place", "jugendamt")
    assert "/a/" in post["message"]

    clock.now = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    check_deadlines(alliance, as_of=dt.date(2026, 6, 1))
    delivery.deliver(alliance)
    reminders = inbox.to("jugendamt@example.org")[1:]
    assert [m.subject for m in reminders] == [
        f"{ref} (Maricel): Erinnerung – Kita-Platz (Kind 1) bis 01.06.2026"]

    for text in [m.subject + m.text for m in inbox.mails] + [p["json"]["title"] + p["json"]["message"]
                                                              for p in webhook.posts]:
        assert CHILD not in text and str(BORN) not in text and "Dalisay" not in text

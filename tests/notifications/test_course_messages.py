"""The messages of language course groups as the organisations receive them: `lotse course
assign` delivers the school's e-mail at once (a real SMTP server on loopback), naming the group
and the case; in a chat with `LOTSE_CHAT_REFERENCE_ONLY` the case goes by its reference alone,
and a group id is shown as the text it is; the coordinator's e-mail of a group that ended below its
target names the cases by reference only."""

from __future__ import annotations

from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Lotse, Routes, Webhook, mail_routes

GROUP = ["--school", "sprachschule", "--level", "B2", "--pace", "slow", "--start", "2026-01-05",
         "--end", "2026-05-29", "--place", "Raum 3", "--by", "koord"]


def opened(ctx: Context, given_name: str) -> str:
    return casework.open_case(ctx, given_name=given_name, family_name="Dalisay", nationality="PHL",
                              employer="klinik-nord")


def test_the_school_receives_the_group_and_the_case_by_e_mail_right_after_the_assignment(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    routes(*mail_routes(inbox))
    ref = opened(alliance, "Maricel")
    assert lotse("course", "add", "b2-langsam", *GROUP).code == 0

    assigned = lotse("course", "assign", "b2-langsam", ref, "--by", "koord")

    assert assigned.code == 0 and assigned.err == ""
    (mail,) = inbox.to("sprachschule@example.org")
    assert mail.subject == f"{ref} (Maricel): Kursgruppe b2-langsam (B2, langsam)"
    for line in ["- Kursgruppe: b2-langsam", "- Zielniveau: B2", "- Tempo: langsam", "- Beginn: 05.01.2026",
                 "- Ende: 29.05.2026", "- Ort: Raum 3"]:
        assert line in mail.text.splitlines()
    assert "Dalisay" not in mail.subject + mail.text and "PHL" not in mail.text
    shown = lotse("case", "show", ref, "--json").json()
    sent = [(m["to"], m["channel"], m["status"]) for m in shown["messages"]]
    assert sent == [("sprachschule", "email", "sent")]


def test_a_chat_gets_the_reference_only_and_the_group_id_as_plain_text(
    alliance: Context, webhook: Webhook, routes: Routes, lotse: Lotse,
) -> None:
    alliance.settings.chat_reference_only = True
    routes((webhook.url("school"), "sprachschule"))
    ref = opened(alliance, "Joanna")
    assert lotse("course", "add", "b2_langsam", *GROUP).code == 0

    assert lotse("course", "assign", "b2_langsam", ref, "--by", "sprachschule").code == 0

    (post,) = [p["json"] for p in webhook.posts]
    assert post["title"] == f"{ref}: Kursgruppe b2\\_langsam (B2, langsam)"  # `_` is no emphasis
    assert "Joanna" not in post["title"] + post["message"]


def test_the_coordinator_is_mailed_the_cases_of_an_ended_group_below_its_target_once(
    alliance: Context, inbox: Inbox, routes: Routes, lotse: Lotse,
) -> None:
    routes(*mail_routes(inbox))
    below, passed = opened(alliance, "Maricel"), opened(alliance, "Joanna")
    assert lotse("course", "add", "b2-langsam", *GROUP).code == 0
    assert lotse("course", "assign", "b2-langsam", below, passed, "--by", "koord").code == 0
    assert lotse("exam", passed, "--level", "B2", "--exam", "Goethe-Zertifikat B2", "--date", "2026-05-20",
                 "--passed", "--by", "sprachschule").code == 0

    for day in ("2026-05-29", "2026-05-30"):
        assert lotse("check", "--as-of", day).code == 0
        assert lotse("notify").code == 0

    (mail,) = inbox.to("koord@example.org")
    assert mail.subject == "Kursgruppe b2-langsam beendet: 1 unter B2"
    assert f"- {below}" in mail.text.splitlines() and passed not in mail.text
    assert "Maricel" not in mail.text and "Dalisay" not in mail.text

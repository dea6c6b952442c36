"""Names are text, whatever they look like: a given name that looks like HTML, Markdown or a link
arrives as that text, escaped for a chat's Markdown (real webhook) and plain in an e-mail (real
SMTP server), with the shipped templates and with an override."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pydantic import SecretStr

from lotse.tasks import delivery
from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Routes, Webhook, mail_routes, visa_case
from tests.notifications.test_answer_links_in_messages import KEY, links

NAMES = ["<script>alert(1)</script>", "**fett**", "[klick](http://evil.example)", "`code` _kursiv_ # Titel"]
SHOWN_AS_TEXT = {  # how a Markdown renderer shows the escaped name: the name itself
    name: name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for name in NAMES
}


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


@pytest.fixture
def told(alliance: Context, inbox: Inbox, webhook: Webhook, routes: Routes) -> dict[str, str]:
    """One case per name, its stage change sent to Klinik Nord by e-mail and by chat."""
    alliance.settings.chat_reference_only = False
    alliance.settings.secret_key = SecretStr(KEY)  # the messages carry answer links
    routes(*mail_routes(inbox), (webhook.url(), "klinik-nord"))
    refs = {name: visa_case(alliance, name) for name in NAMES}
    report = delivery.deliver(alliance)
    assert report.failed == report.dead == 0
    return refs


def test_a_name_with_markup_reaches_the_chat_escaped_and_a_markdown_renderer_shows_it_as_text(
    told: dict[str, str], webhook: Webhook,
) -> None:
    for name, ref in told.items():
        post = next(p["json"] for p in webhook.posts if ref in p["json"]["title"])
        for text in (post["title"], post["message"]):
            assert name not in text
            html = rendered(text)
            assert SHOWN_AS_TEXT[name] in html, html
            assert "<script>" not in html and "<strong>" not in html and "<em>" not in html
            assert "evil.example\"" not in html and "<code>" not in html and "<h1>" not in html
    chat = [p["json"]["message"] for p in webhook.posts]
    assert [links(text) for text in chat] and all(links(text) for text in chat)  # read back as made


def test_a_name_with_markup_reaches_the_email_subject_and_text_as_it_is(
    told: dict[str, str], inbox: Inbox,
) -> None:
    for name, ref in told.items():
        mail = next(m for m in inbox.to("klinik-nord@example.org") if m.subject.startswith(ref))
        assert mail.subject == f"{ref} ({name}): Visum beantragt"
        assert f"im Fall {ref} ({name}) ist etwas geschehen" in mail.text
        assert mail.message.get_body(preferencelist=("html",)) is None


def test_a_name_with_line_breaks_and_control_characters_gives_a_one_line_subject(
    alliance: Context, inbox: Inbox, routes: Routes,
) -> None:
    routes(*mail_routes(inbox))
    ref = visa_case(alliance, "Anna\x1b[31m\x07Rot\u2028Bcc")
    assert delivery.deliver(alliance).sent
    mail = next(m for m in inbox.to("klinik-nord@example.org") if m.subject.startswith(ref))
    assert mail.subject == f"{ref} (Anna [31m Rot Bcc): Visum beantragt"


def test_an_override_template_escapes_names_for_the_chat_too(
    alliance: Context, inbox: Inbox, webhook: Webhook, routes: Routes, tmp_path: Path,
) -> None:
    folder = tmp_path / "templates" / "de" / "stage_changed"
    folder.mkdir(parents=True)
    (folder / "event-apply_visa.j2").write_text(
        '{% extends "de/stage_changed/default.j2" %}'
        "{% block subject %}Neu: {{ case.name }} ({{ case.ref }}){% endblock %}", encoding="utf-8")
    alliance.settings.template_dir = tmp_path / "templates"
    alliance.settings.chat_reference_only = False
    routes(*mail_routes(inbox), (webhook.url(), "klinik-nord"))
    ref = visa_case(alliance, "**fett**")
    assert delivery.deliver(alliance).failed == 0
    post = next(p["json"] for p in webhook.posts if ref in p["json"]["title"])
    assert post["title"] == f"Neu: \\*\\*fett\\*\\* ({ref})"
    mail = next(m for m in inbox.to("klinik-nord@example.org") if ref in m.subject)
    assert mail.subject == f"Neu: **fett** ({ref})"

"""Message texts: one default per kind, overridable per event and per role from LOTSE_TEMPLATE_DIR;
a broken override falls back to the default with a warning instead of losing the message."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from lotse.notifications import messages

CONTEXT: dict[str, Any] = {
    "case": {"ref": "SE-2026-0001", "name": "Maricel", "process": "pflege", "region": "SE-Nord",
             "overview": "case-se-2026-0001", "url": None},
    "event": {"id": "arrive", "title": "Eingereist", "date": dt.date(2026, 3, 1)},
    "before": {"id": "visa", "title": "Visumverfahren"}, "after": {"id": "arrival", "title": "Ankunft"},
    "by": "Klinik Nord", "at": dt.date(2026, 3, 2),
    "recipient": {"name": "Wohnbau Nord", "roles": ["housing"], "role_titles": ["Wohnungsunternehmen"]},
    "expected": [{"id": "landlord_confirmation", "title": "Wohnungsgeberbestätigung",
                  "due": dt.date(2026, 3, 17), "link": None}],
    "asks": [], "link_days": 30,
    "stage_due": dt.date(2026, 6, 2), "stage_basis": "AufenthG", "facts": [],
    "contact": {"name": "Koordinierungsstelle", "email": "koord@example.org"}, "channel": "email",
}


def override(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render(folder: Path | None, roles: tuple[str, ...] = ("housing",), topic: str = "arrive",
           locale: str = "de") -> messages.Rendered:
    return messages.render("stage_changed", CONTEXT, locale=locale, topic=topic, roles=roles,
                           template_dir=folder)


def test_due_dates_are_written_the_way_each_language_writes_them() -> None:
    assert "- Wohnungsgeberbestätigung, bis 17.03.2026" in render(None).body
    assert "- Wohnungsgeberbestätigung, due 2026-03-17" in render(None, locale="en").body


def test_the_most_specific_override_wins_event_and_role_over_event_over_role_over_default(
    tmp_path: Path,
) -> None:
    override(tmp_path, "de/stage_changed/role-housing.j2",
             "{% block subject %}role{% endblock %}{% block body %}role{% endblock %}")
    assert render(tmp_path).subject == "role"
    override(tmp_path, "de/stage_changed/event-arrive.j2",
             "{% block subject %}event{% endblock %}{% block body %}event{% endblock %}")
    assert render(tmp_path).subject == "event"
    override(tmp_path, "de/stage_changed/event-arrive.role-housing.j2",
             "{% block subject %}both{% endblock %}{% block body %}both{% endblock %}")
    assert render(tmp_path).subject == "both"
    assert render(tmp_path, roles=("employer",)).subject == "event"
    assert render(tmp_path, roles=("employer",), topic="settle").subject.startswith("SE-2026-0001")
    assert render(tmp_path, locale="en").body.startswith("Hello")  # no English override: ours


def test_an_override_may_extend_the_default_and_replace_one_block(tmp_path: Path) -> None:
    override(tmp_path, "de/stage_changed/role-housing.j2",
             '{% extends "de/stage_changed/default.j2" %}'
             "{% block expected %}Bitte Zimmer {{ case.ref }} vorbereiten.\n{% endblock %}")
    text = render(tmp_path)
    assert text.subject == "SE-2026-0001 (Maricel): Eingereist"
    assert "Bitte Zimmer SE-2026-0001 vorbereiten." in text.body and "Ansprechpartner" in text.body
    assert "Was jetzt von Ihnen erwartet wird" not in text.body and text.warning is None


@pytest.mark.parametrize("broken", [
    "{% block subject %}{{ case.ref }{% endblock %}",  # syntax
    "{% block subject %}{{ case.birthday }}{% endblock %}{% block body %}x{% endblock %}",  # unknown
    "{% block body %}only a body{% endblock %}",  # no subject
    "{% block subject %}{{ ''.__class__.__mro__ }}{% endblock %}{% block body %}x{% endblock %}",
])
def test_a_broken_override_sends_the_default_with_a_warning(tmp_path: Path, broken: str) -> None:
    override(tmp_path, "de/stage_changed/role-housing.j2", broken)
    text = render(tmp_path)
    assert text.subject == "SE-2026-0001 (Maricel): Eingereist"
    assert text.warning is not None and text.warning.startswith("warning: template in ")


def test_check_names_every_template_that_does_not_compile(tmp_path: Path) -> None:
    assert messages.check(None) == []
    missing = tmp_path / "missing"
    assert messages.check(missing) == [f"LOTSE_TEMPLATE_DIR={missing} is not a folder"]
    override(tmp_path, "de/stage_changed/role-housing.j2", "{% if %}")
    override(tmp_path, "en/reminder/default.j2", "{% block subject %}ok{% endblock %}")
    (problem,) = messages.check(tmp_path)
    assert problem.startswith("template de/stage_changed/role-housing.j2: ") and "line 1" in problem


def test_every_shipped_template_renders_in_both_languages() -> None:
    contexts = {
        "stage_changed": CONTEXT,
        "reminder": {**CONTEXT, "deadline": {
            "id": "x", "title": "Anmeldung", "due": dt.date(2026, 3, 1), "level": 2, "role": "coordinator",
            "role_title": "Koordinierungsstelle", "basis": "§ 17 BMG", "overdue_days": 1, "escalated": True,
            "responsible": {"role": "employer", "title": "Arbeitgeber", "names": ["Klinik Nord"]},
            "reminded": [{"level": 1, "to": "Klinik Nord", "on": dt.date(2026, 3, 1), "sent": False}],
            "item": None, "link": None}},
        "undeliverable": {**CONTEXT, "failed": {"id": 7, "to": "wohnbau-nord", "to_name": "Wohnbau Nord",
                                                "channel": "email", "attempts": 6, "error": "refused"}},
        "test": {**CONTEXT, "recipient": {"name": "Wohnbau Nord", "roles": ["housing"],
                                          "role_titles": ["Wohnungsunternehmen"]}},
        "sign_in": {**CONTEXT, "case": None, "link": "https://desk.example/sign-in/x.y", "minutes": 15,
                    "until": "09:15"},
        "family_needs": {**CONTEXT, "member": {"label": "Kind 1", "relation": "child"},
                         "at": dt.date(2026, 3, 1)},
        "course_assigned": {**CONTEXT, "course": COURSE},
        "course_left": {**CONTEXT, "course": COURSE},
        "course_ended": {**CONTEXT, "case": None, "course": COURSE, "below": ["SE-2026-0001"]},
        "employer_changed": {**CONTEXT, "old": "Klinik Nord", "new": "Klinik Süd", "by": "Koordination",
                             "at": dt.date(2026, 3, 1), "inside_period": True,
                             "period_ends": dt.date(2028, 3, 1), "side": "new",
                             "expected": CONTEXT["expected"]},
        "handed_over": {**CONTEXT, "old": "Klinik Nord", "by": "Koordination", "at": dt.date(2026, 3, 1),
                        "employer": True, "expected": CONTEXT["expected"]},
    }
    for locale in ("de", "en"):
        for kind in messages.KINDS:
            text = messages.render(kind, contexts[kind], locale=locale)
            assert text.subject and text.body.strip() and text.warning is None


COURSE = {"id": "b2-schnell", "level": "B2", "pace": "fast", "pace_title": "schnell",
          "start": dt.date(2026, 1, 5), "end": dt.date(2026, 5, 31), "place": "Raum 3", "capacity": 12,
          "school": "Sprachschule Wort"}


def test_the_override_shown_in_the_docs_works(tmp_path: Path) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "notifications.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```jinja\n(.*?)```", docs, re.S)
    override(tmp_path, "de/stage_changed/event-arrive.role-housing.j2", example)
    context = {**CONTEXT, "facts": [{"id": "arrival_date", "title": "Einreisedatum", "value": "03.03.2026"}]}
    text = messages.render("stage_changed", context, locale="de", topic="arrive", roles=("housing",),
                           template_dir=tmp_path)
    assert text.warning is None and "Bitte das Zimmer ab 03.03.2026 vorbereiten." in text.body


def test_an_override_may_place_the_answer_links_itself(tmp_path: Path) -> None:
    override(tmp_path, "de/stage_changed/role-housing.j2",
             '{% extends "de/stage_changed/default.j2" %}'
             "{% block expected %}{% for item in expected %}{{ item.title }}: {{ item.link }}\n{% endfor %}"
             "{% endblock %}{% block asks %}{% for ask in asks %}{{ ask.title }} ({{ ask.type }}): "
             "{{ ask.link }}\n{% endfor %}{% endblock %}")
    context = {**CONTEXT, "expected": [{**CONTEXT["expected"][0], "link": "https://desk.example/a/x.y"}],
               "asks": [{"id": "arrival_date", "title": "Einreisedatum", "type": "date",
                         "link": "https://desk.example/a/p.q"}], "link_days": 14}
    text = messages.render("stage_changed", context, locale="de", topic="arrive", roles=("housing",),
                           template_dir=tmp_path)
    assert text.warning is None
    assert "Wohnungsgeberbestätigung: https://desk.example/a/x.y\n" in text.body
    assert "Einreisedatum (date): https://desk.example/a/p.q\n" in text.body
    assert "erledigt melden" not in text.body and "Bitte angeben" not in text.body
    assert "Jeder Link gilt einmal und 14 Tage lang." in text.body  # the default's footer

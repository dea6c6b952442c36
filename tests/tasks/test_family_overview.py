"""A case's family in the overview Prefect shows (tasks/case_overview.py): each need of a member
is a checklist row with its owner and due date, recording the member is a timeline entry, and
both name the member by relation and number only, never by name or birth year."""

from __future__ import annotations

import datetime as dt

from lotse.tasks import case_views, casework, directory, family
from lotse.tasks.case_overview import render
from lotse.tasks.context import Context
from tests.conftest import Clock

CHILD, BORN = "Zahra", 2025
ARRIVES = dt.date(2027, 9, 1)  # two years old then: a Kita place, due 3 months before


def overview(ctx: Context, ref: str, locale: str) -> str:
    [view] = case_views.views(ctx, refs=[ref])
    return render(view, locale=locale, timezone="Europe/Berlin")


def test_the_overview_shows_the_needs_and_the_recording_by_relation_and_number_only(
    alliance: Context, clock: Clock,
) -> None:
    directory.add_actor(alliance, "jugendamt", name="Jugendamt Kreis", roles=["childcare"], region="SE-Nord")
    ref = casework.open_case(alliance, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    family.add_member(alliance, ref, relation="child", given_name=CHILD, birth_year=BORN, arrives=ARRIVES,
                      by="koord")

    german = overview(alliance, ref, "de")
    english = overview(alliance, ref, "en")

    kita = "| Kita-Platz (Kind 1) | Jugendamt Kreis (Jugendamt (Kindertagesbetreuung)) | 01.06.2027 | offen |"
    assert kita in german
    assert "Familienangehörige/r erfasst: Kind 1" in german
    assert "Daycare place (child 1)" in english and "family member recorded: child 1" in english
    assert "§ 24 (2), (3) SGB VIII" in german  # the open deadline with its basis
    for text in (german, english):
        assert CHILD not in text and str(BORN) not in text and "Maricel" not in text

    casework.tick(alliance, ref, ["family_child1_kita_place"], by="jugendamt")
    done = overview(alliance, ref, "de")

    row = next(line for line in done.splitlines() if line.startswith("| Kita-Platz (Kind 1)"))
    assert "Jugendamt Kreis" in row.split("|")[4] and "offen" not in row

"""The case page of the desk shows a case's language course groups and exam results to the
signed-in coordinator (over HTTP, against the real app), as text: an exam's name with markup
stays text; a case without any shows no such section."""

from __future__ import annotations

from lotse.tasks import casework, courses, exams
from tests.desk.conftest import Served
from tests.desk.coordinator import signed_in


def test_the_case_page_shows_the_groups_and_exams_of_the_case(desk: Served) -> None:
    ctx = desk.ctx
    ref = casework.open_case(ctx, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    other = casework.open_case(ctx, given_name="Joanna", family_name="Dalisay", nationality="PHL",
                               employer="klinik-nord")
    courses.add_course(ctx, "b2-langsam", school="sprachschule", level="B2", pace="slow", start="2026-01-05",
                       end="2026-05-29", place="Raum 3", by="koord")
    courses.assign(ctx, "b2-langsam", [ref], by="koord")
    exams.record_exam(ctx, ref, level="B1", exam="<b>telc</b> B1", taken_on="2026-02-16", passed=True,
                      by="sprachschule")
    client = signed_in(desk)

    html = client.get(f"{desk.url}/cases/{ref}").text
    without = client.get(f"{desk.url}/cases/{other}").text

    assert "<h2>Sprachkurse und Prüfungen</h2>" in html
    assert ("<tr><td>b2-langsam</td><td>Sprachschule Wort</td><td>B2</td><td>langsam</td>"
            "<td>05.01.2026 – 29.05.2026</td><td>Raum 3</td></tr>") in html
    assert ("<tr><td>16.02.2026</td><td>B1</td><td>&lt;b&gt;telc&lt;/b&gt; B1</td><td>bestanden</td>"
            "<td>Sprachschule Wort</td></tr>") in html
    assert "<b>telc</b>" not in html
    assert "Sprachkurse und Prüfungen" not in without

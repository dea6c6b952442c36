"""The family on the desk: the case page shows a signed-in coordinator the family members with
their names (as text, markup escaped) and what each needs, and its form ticks a need like any
item; the youth office reports a Kita place done with the answer link of its message."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

from sqlalchemy import select

from lotse.states.records import DeadlineRecord, HistoryRecord
from lotse.tasks import directory, family
from tests.desk.conftest import Served, csrf_of, in_arrival
from tests.desk.coordinator import signed_in

CHILD = "<script>alert(1)</script>Zahra"
KITA = "family_child1_kita_place"
ARRIVES = dt.date(2026, 9, 1)  # the desk's clock stands at 2026-03-02: the Kita place is due 2026-06-01


def with_child(served: Served) -> str:
    directory.add_actor(served.ctx, "jugendamt", name="Jugendamt Kreis", roles=["childcare"],
                        region="SE-Nord", email="jugendamt@example.org")
    ref = in_arrival(served.ctx)
    family.add_member(served.ctx, ref, relation="child", given_name=CHILD, birth_year=2024, arrives=ARRIVES,
                      by="koord")
    return ref


def test_the_case_page_shows_the_family_escaped_with_its_needs_and_ticks_a_need(desk: Served) -> None:
    ref = with_child(desk)
    client = signed_in(desk)

    page = client.get(f"{desk.url}/cases/{ref}").text

    table = page[page.index('id="family"'):]
    table = table[:table.index("</table>")]
    assert "<script>" not in page and html_lib.escape(CHILD, quote=False) in table
    assert "<td>Kind 1</td>" in table and "<td>2024</td>" in table and "01.09.2026" in table
    assert re.search(r'data-item="family_child1_kita_place">Kita-Platz \(Kind 1\) <span class="muted">'
                     r"\(Jugendamt \(Kindertagesbetreuung\), fällig am 01.06.2026\)", table)
    assert f'name="item" value="{KITA}"' in page  # the form offers the need like any open item

    form = {name: value for name, value in re.findall(
        r'<input type="hidden" name="(version|seen|request_id)" value="([^"]*)"', page)}
    done = client.post(f"{desk.url}/cases/{ref}", data={"csrf": csrf_of(page), **form, "item": KITA})
    assert done.status_code == 303, done.text
    after = client.get(f"{desk.url}/cases/{ref}").text
    table = after[after.index('id="family"'):]
    assert re.search(r'data-item="family_child1_kita_place"><span class="done">✓</span> Kita-Platz', table)
    with desk.ctx.db.reading() as session:
        row = session.scalars(select(HistoryRecord).order_by(HistoryRecord.id.desc())).first()  # type: ignore
        closed = session.scalars(select(DeadlineRecord).where(DeadlineRecord.deadline == KITA)).one()
    assert row is not None and (row.action, row.via, row.detail) == ("done", "desk", [KITA])
    assert closed.closed_why == "done"


def test_the_youth_office_reports_the_kita_place_done_with_its_answer_link(desk: Served) -> None:
    ref = with_child(desk)
    url = desk.link(ref, KITA, "jugendamt")

    with desk.client() as client:
        page = client.get(url)
        done = client.post(url, data={"csrf": csrf_of(page.text)})
    wrong = desk.link(ref, "family_child2_kita_place", "jugendamt")
    with desk.client() as client:
        refused = client.get(wrong)

    assert page.status_code == 200 and "Kita-Platz (Kind 1)" in page.text and "01.06.2026" in page.text
    assert "Zahra" not in page.text  # the link's page names the member by relation and number
    assert done.status_code == 200
    with desk.ctx.db.reading() as session:
        row = session.scalars(select(HistoryRecord).order_by(HistoryRecord.id.desc())).first()  # type: ignore
    assert row is not None and (row.action, row.actor_id, row.via, row.detail) == (
        "done", "jugendamt", "link", [KITA])
    assert refused.status_code == 410  # no second child: not asked

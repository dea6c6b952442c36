"""The desk's report page (`/report`): the funnel and time in stage of the known cohort
(tests/known_cohort.py) as SVG bar charts drawn on the server and as tables, for signed-in
coordinators only, linked from their pages; no name and no reference on it; labels escaped; the
charts render in Chromium under the desk's Content-Security-Policy, without JavaScript."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from lotse.desk.app import create_app
from lotse.desk.charts import Series, bar_chart
from lotse.desk.server import in_thread as serve_in_thread
from lotse.tasks.context import Context
from tests import known_cohort
from tests.conftest import Clock
from tests.desk.conftest import Served
from tests.desk.coordinator import signed_in

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def refs(alliance: Context, clock: Clock) -> dict[str, str]:
    return known_cohort.build(alliance, clock)  # the clock ends on 1 July 2026: the page's day


def svgs(html: str) -> list[ElementTree.Element]:
    """Every inline SVG of the page, parsed as XML (so it is well-formed)."""
    return [ElementTree.fromstring(found) for found in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def bars(svg: ElementTree.Element) -> list[str]:
    """The tooltip of every bar: 'series, category: value'."""
    return [rect.findtext(f"{SVG}title") or "" for rect in svg.iter(f"{SVG}rect")
            if rect.get("class") == "bar"]


def test_a_signed_in_coordinator_sees_the_funnel_and_time_in_stage_as_charts_and_tables(
    desk: Served, refs: dict[str, str],
) -> None:
    client = signed_in(desk)

    page = client.get(f"{desk.url}/report")

    assert page.status_code == 200
    assert "script" not in page.headers["content-security-policy"]
    html = page.text
    assert '<a href="/report">Berichte</a>' in client.get(f"{desk.url}/cases").text
    funnel_chart, time_chart = svgs(html)
    assert funnel_chart.findtext(f"{SVG}title") == (
        "Pflegefachkraft aus dem Ausland: erreichte Fälle je Stufe und Kohorte")
    assert "2026-03 (3), Visumverfahren: 2" in bars(funnel_chart)
    assert "2026-04 (1), Visumverfahren: 1" in bars(funnel_chart)
    assert "2026-03 (3), Abgebrochen: 1" in bars(funnel_chart)
    assert set(bars(time_chart)) == {"Median, Angeworben: 10", "90. Perzentil, Angeworben: 20",
                                     "Median, Visumverfahren: 30", "90. Perzentil, Visumverfahren: 30"}
    assert ("<tr><td>Visumverfahren</td><td>1</td><td>30</td><td>30</td><td>0</td><td>2</td><td>101</td></tr>"
            in html)  # B in the visa stage since 22 March: 101 days on 1 July
    assert ("<tr><td>2026-03</td><td>3</td><td>Visumverfahren</td><td>2</td><td>67 %</td><td>15</td>"
            "<td>20</td></tr>") in html
    assert not any(word in html for word in ("Muster", "Dana", "HYPERLINK", *refs.values()))


def test_by_quarter_the_cohorts_are_quarters(desk: Served, refs: dict[str, str]) -> None:
    html = signed_in(desk).get(f"{desk.url}/report", params={"period": "quarter"}).text

    assert "2026-Q1 (3), Visumverfahren: 2" in bars(svgs(html)[0])
    assert "<strong>nach Quartal</strong>" in html


def test_in_english_with_lotse_locale_en(alliance: Context, refs: dict[str, str]) -> None:
    app = create_app(alliance.settings.model_copy(update={"locale": "en"}), ctx=alliance)
    with serve_in_thread(app) as url:
        html = signed_in(Served(url, alliance, app.state.desk)).get(f"{url}/report").text

    assert "<h1>Reports</h1>" in html and '<a href="/report">Reports</a>' in html
    assert "2026-03 (3), Visa procedure: 2" in bars(svgs(html)[0])
    assert "median, Recruited: 10" in bars(svgs(html)[1])


def test_the_value_axis_goes_in_whole_round_steps() -> None:
    axis = [t.text for t in ElementTree.fromstring(str(bar_chart("t", ["a"], [Series("s", [3])])))
            .iter(f"{SVG}text")][1:6]
    assert axis == ["0", "1", "2", "3", "4"]
    days = ElementTree.fromstring(str(bar_chart("t", ["a", "b"], [Series("s", [30, 101])])))
    assert [t.text for t in days.iter(f"{SVG}text")][1:6] == ["0", "50", "100", "150", "200"]


def test_without_a_sign_in_the_report_page_leads_to_the_sign_in(desk: Served, refs: dict[str, str]) -> None:
    with desk.client() as client:
        page = client.get(f"{desk.url}/report")

    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")


def test_every_label_of_a_chart_is_escaped() -> None:
    drawn = bar_chart("<b>T</b> & co", ["<script>x</script>", "a\"b"], [Series("=1+1 <i>", [3, None])],
                      unit="'days'")

    parsed = ElementTree.fromstring(str(drawn))
    texts = [t.text for t in parsed.iter(f"{SVG}text")]
    assert "<script>x</script>" in texts and 'a"b' in texts and "=1+1 <i>" in texts
    assert "<script>" not in str(drawn) and "<b>" not in str(drawn)
    assert bars(parsed) == ["=1+1 <i>, <script>x</script>: 3"]  # None draws no bar
    assert "style=" not in str(drawn)  # the CSP allows no inline style


def test_the_charts_render_in_chromium(
    desk: Served, refs: dict[str, str], page,  # type: ignore[no-untyped-def]
) -> None:
    client = signed_in(desk)
    page.context.add_cookies([{"name": "lotse_session", "value": client.cookies["lotse_session"],
                               "url": desk.url}])
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)

    page.goto(f"{desk.url}/report")

    charts = page.locator("figure.chart svg")
    assert charts.count() == 2
    for index in range(2):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    heights = [page.locator("figure.chart svg rect.bar").nth(i).bounding_box()["height"]  # type: ignore[index]
               for i in range(page.locator("figure.chart svg rect.bar").count())]
    assert len(heights) > 5 and max(heights) > 50
    assert page.locator("figure.chart svg text", has_text="Visumverfahren").count() >= 2
    assert refused == []  # no CSP violation: nothing inline the policy blocks

"""A transition's chat message reaches a real HTTP server on loopback (Apprise json://), routed by
role and region, with the case's reference only when LOTSE_CHAT_REFERENCE_ONLY is set."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lotse.states.records import OutboxRecord
from lotse.tasks import casework, delivery
from lotse.tasks.context import Context
from tests.notifications.conftest import Routes, Webhook, arrive, visa_case


def test_housing_in_its_region_gets_the_arrival_in_its_chat_room(
    alliance: Context, webhook: Webhook, routes: Routes,
) -> None:
    routes((webhook.url("se-nord-housing"), "housing, SE-Nord"),
           (webhook.url("se-sued-housing"), "housing, SE-Sued"),
           (webhook.url("everyone-else"), "employer, foreigners_office, counsellor, agency"))
    ref = visa_case(alliance)
    arrive(alliance, ref)
    report = delivery.deliver(alliance)
    assert report.failed == report.dead == 0
    housing = [p["json"] for p in webhook.posts if p["path"] == "/se-nord-housing"]
    assert len(housing) == 1 and not any(p["path"] == "/se-sued-housing" for p in webhook.posts)
    (post,) = housing
    assert post["title"] == f"{ref} (Maricel): Eingereist"
    assert post["type"] == "info"
    expected = "Was jetzt von Ihnen erwartet wird:\n- Wohnungsgeberbestätigung (§ 19 BMG), bis 17.03.2026\n"
    assert expected in post["message"]
    assert "Einreisedatum: 03.03.2026" in post["message"]
    assert "Dalisay" not in post["message"] and "PHL" not in post["message"]


def test_chat_messages_name_the_reference_only_when_so_configured(
    alliance: Context, webhook: Webhook, routes: Routes,
) -> None:
    alliance.settings.chat_reference_only = True
    routes((webhook.url("housing"), "housing"), (webhook.url("rest"), "employer, foreigners_office, "
                                                                      "counsellor, agency"))
    ref = visa_case(alliance, given_name="Joanna")
    arrive(alliance, ref)
    delivery.deliver(alliance)
    assert len(webhook.posts) == 3 + 4  # apply_visa, then arrive
    (post,) = [p["json"] for p in webhook.posts if p["path"] == "/housing"]
    assert post["title"] == f"{ref}: Eingereist"
    for sent in webhook.posts:
        assert "Joanna" not in sent["json"]["title"] + sent["json"]["message"]


def test_a_route_tagged_with_a_region_only_cases_are_in_is_not_another_regions_route(
    alliance: Context, webhook: Webhook, routes: Routes, tmp_path: Path,
) -> None:
    routes((webhook.url("se-west-housing"), "housing, SE-West"),
           (webhook.url("everyone-else"), "employer, foreigners_office, counsellor, agency"))
    casework.open_case(alliance, given_name="Ana", family_name="Reyes", nationality="PHL",
                       employer="klinik-nord", region="SE-West", by="koord")
    # The alliance's hierarchy no longer names SE-West, and no actor is there: only a case is.
    # A route tagged with it is still that region's route, and never one of SE-Nord's cases.
    (tmp_path / "regions.yaml").write_text(
        "regions:\n  - code: SE\n    title: Seeland\n    regions:\n      - code: SE-Nord\n"
        "        title: Nord\n", encoding="utf-8")
    alliance.settings.regions_file = tmp_path / "regions.yaml"
    ref = visa_case(alliance)
    arrive(alliance, ref)
    delivery.deliver(alliance)
    assert not any(p["path"] == "/se-west-housing" for p in webhook.posts)
    with alliance.db.reading() as session:
        housing = session.scalars(select(OutboxRecord).where(OutboxRecord.recipient == "wohnbau-nord")).all()
    # Without a route of its region the arrival's row to Wohnbau Nord waits for one.
    assert [row.route for row in housing] == [None]

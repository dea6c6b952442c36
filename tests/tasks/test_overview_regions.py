"""The case overview names the organisations as the notifications address them, up the region
hierarchy: a town's case without a housing company of its own shows its target region's."""

from __future__ import annotations

from lotse.tasks import case_views, casework, directory
from lotse.tasks.case_overview import render
from lotse.tasks.context import Context
from tests.regions import TWO_COUNTIES


def overview(ctx: Context, ref: str) -> str:
    [view] = case_views.views(ctx, refs=[ref])
    return render(view, locale="de", timezone="Europe/Berlin", public_url=None)


def test_a_towns_case_names_the_target_regions_housing_company_until_the_town_has_its_own(
    alliance: Context,
) -> None:
    alliance.settings.regions_file = TWO_COUNTIES
    ref = casework.open_case(alliance, given_name="A", family_name="B", nationality="PHL",
                             employer="klinik-nord", region="SE-Seestadt")
    casework.tick(alliance, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(alliance, ref, "apply_visa", by="koord")  # visa: housing_confirmed, owned by housing

    assert "| Wohnbau Nord (Wohnungsunternehmen) |" in overview(alliance, ref)  # of SE-Nord, above the town

    directory.add_actor(alliance, "wohnbau-seestadt", name="Wohnbau Seestadt", roles=["housing"],
                        region="SE-Seestadt")
    shown = overview(alliance, ref)
    assert "| Wohnbau Seestadt (Wohnungsunternehmen) |" in shown and "Wohnbau Nord" not in shown

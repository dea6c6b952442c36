"""A route tagged with a region takes that region's messages and no other's, also where the region
is one of the hierarchy that no case or actor is in yet (a town the alliance has not reached): a
delivery sends the north's housing message to no town's mailbox, and says the message has no
route. Checked by what a real SMTP server on loopback receives."""

from __future__ import annotations

from lotse.tasks import casework, delivery
from lotse.tasks.context import Context
from tests.notifications.conftest import Inbox, Routes, arrive, visa_case
from tests.notifications.test_bad_configuration import everyone_but

TOWN = "wohnen-moorbek@example.org"


def test_a_town_route_takes_no_message_of_another_region_before_the_town_has_a_case(
    alliance: Context, inbox: Inbox, routes: Routes,
) -> None:
    routes(*everyone_but(inbox, "wohnbau-nord"), (inbox.url(TOWN), "housing, SE-Moorbek"))
    ref = visa_case(alliance)
    arrive(alliance, ref)  # tells housing in SE-Nord: wohnbau-nord, which has no route of its own

    delivery.deliver(alliance)

    assert inbox.to(TOWN) == []
    (row,) = [r for r in delivery.outbox(alliance, case_ref=ref) if r["to"] == "wohnbau-nord"]
    assert row["status"] == "failed" and "no route for actor 'wohnbau-nord'" in row["last_error"]
    assert [m for m in inbox.to("klinik-nord@example.org") if "Eingereist" in m.subject]  # the others' went

    # the town's own case is told through the town's route
    there = casework.open_case(alliance, given_name="Jomar", family_name="Reyes", nationality="PHL",
                               employer="klinik-nord", region="SE-Moorbek")
    casework.tick(alliance, there, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(alliance, there, "apply_visa", by="klinik-nord")
    casework.tick(alliance, there, ["visa_granted", "housing_confirmed"], by="koord")
    arrive(alliance, there)
    delivery.deliver(alliance)
    assert inbox.to(TOWN) and {m.subject.split(" ")[0] for m in inbox.to(TOWN)} == {there}

"""`lotse sign-in ACTOR_ID`: an operator at the shell hands a coordinator a one-time sign-in link
(the first sign-in of an alliance, a coordinator whose mail does not arrive, the demo). The
operator's operating-system account is recorded as the one who issued it."""

from __future__ import annotations

import getpass
from pathlib import Path

from sqlalchemy import select

from lotse.states.records import LinkUseRecord, SignInRecord
from tests.conftest import run_lotse
from tests.desk.conftest import KEY, Served, csrf_of


def test_the_printed_link_signs_the_coordinator_in_once(desk: Served, home: Path) -> None:
    made = run_lotse(home, "sign-in", "koord", env={"LOTSE_SECRET_KEY": KEY})

    assert made.returncode == 0, made.stderr
    link = made.stdout.strip().replace(desk.ctx.settings.desk_url, desk.url)
    assert "/sign-in/" in link
    with desk.client() as client:
        page = client.get(link)
        signed = client.post(link, data={"csrf": csrf_of(page.text)})
        assert signed.status_code == 303 and "lotse_session" in client.cookies
        again = client.post(link, data={"csrf": csrf_of(page.text)})
        assert again.status_code >= 400
    with desk.ctx.db.reading() as session:
        (sign_in,) = session.scalars(select(SignInRecord)).all()
        issued = session.scalars(select(LinkUseRecord.outcome).where(
            LinkUseRecord.link_id == sign_in.id).order_by(LinkUseRecord.id)).all()
    assert sign_in.actor_id == "koord" and sign_in.used_at is not None
    assert issued[0] == f"issued:os:{getpass.getuser()}"[:32]


def test_a_link_for_no_coordinator_is_one_line_and_makes_nothing(desk: Served, home: Path) -> None:
    for actor, why in [("wohnbau-nord", "not a coordinator"), ("niemand", "unknown actor")]:
        refused = run_lotse(home, "sign-in", actor, env={"LOTSE_SECRET_KEY": KEY})
        assert refused.returncode == 1 and why in refused.stderr
        assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("error: ")
    assert run_lotse(home, "sign-in", "koord").returncode == 1  # no key: says to run lotse init
    with desk.ctx.db.reading() as session:
        assert session.scalars(select(SignInRecord)).all() == []

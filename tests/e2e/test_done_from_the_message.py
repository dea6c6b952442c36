"""The issue's promise, end to end on `lotse up`: a housing company reports the landlord's
confirmation done with one click from its e-mail, the deadline for it closes, and the coordinator
sees it on the desk's case page (after signing in by a link sent to its own mailbox) and in the
case's overview in Prefect."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_lotse
from tests.desk.coordinator import mails_to
from tests.e2e.conftest import Up, free_port, newest_artifact, server_log_errors, start
from tests.notifications.conftest import Inbox

pytestmark = [pytest.mark.prefect, pytest.mark.browser]

ACTORS = [
    ("koord", "Koordinierungsstelle Seeland", "coordinator", None),
    ("klinik-nord", "Klinik Nord", "employer", "SE-Nord"),
    ("vermittlung", "Vermittlung Brücke", "agency", "SE-Nord"),
    ("wohnbau-nord", "Wohnbau Nord", "housing", "SE-Nord"),
]
ITEM = "Wohnungsgeberbestätigung (§ 19 BMG)"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    server = Inbox().start()
    yield server
    server.stop()


def test_a_housing_company_reports_done_from_its_email_and_the_coordinator_sees_it(
    tmp_path: Path, inbox: Inbox, page,  # type: ignore[no-untyped-def]
) -> None:
    routes = tmp_path / "routes.yaml"
    lines = ["version: 1", "urls:"]
    for actor, *_ in ACTORS:
        lines += [f'  - "{inbox.url(f"{actor}@example.org")}":', f"      tag: {actor}"]
    routes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    desk_port = free_port()
    env = {"LOTSE_NOTIFY_CONFIG": str(routes), "LOTSE_PUBLIC_URL": f"http://127.0.0.1:{desk_port}"}
    up = start(tmp_path, env=env, desk_port=desk_port)
    try:
        ref = _case_that_arrived(up, env)

        (mail,) = [m for m in mails_to(inbox, "wohnbau-nord@example.org", 1, 30) if ITEM in m.text]
        link = re.search(r"erledigt melden: (\S+)", mail.text)
        assert link, mail.text
        before = json.loads(run_lotse(up.home, "case", "show", ref, "--json", env=env).stdout)
        assert "landlord_confirmation" in {d["deadline"] for d in before["deadlines"]}
        page.goto(link.group(1))
        assert ref in page.inner_text("main") and ITEM in page.inner_text("main")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "Danke" in page.inner_text("main") or "erledigt" in page.inner_text("main")

        shown = json.loads(run_lotse(up.home, "case", "show", ref, "--json", env=env).stdout)
        (item,) = [i for i in shown["checklist"] if i["id"] == "landlord_confirmation"]
        assert (item["done"], item["by"]) == (True, "wohnbau-nord")
        last = shown["history"][-1]
        assert (last["action"], last["actor"], last["via"]) == ("done", "wohnbau-nord", "link")
        assert last["proof"].startswith("link:")
        assert "landlord_confirmation" not in {d["deadline"] for d in shown["deadlines"]}

        # The coordinator signs in by the link sent to its own mailbox, and sees who did it.
        page.goto(f"{up.desk}/sign-in")
        page.fill("input[name=email]", "koord@example.org")
        page.click("button[type=submit]")
        sign_in = re.search(r"https?://\S+/sign-in/\S+", mails_to(inbox, "koord@example.org", 1, 30)[-1].text)
        assert sign_in, "no sign-in link"
        page.goto(sign_in.group(0))
        page.click("button[type=submit]")
        page.goto(f"{up.desk}/cases/{ref}")
        text = page.inner_text("main")
        assert "Maricel" in text and "Dalisay" in text
        row = next(line for line in text.splitlines() if line.startswith(ITEM))
        assert "Wohnbau Nord" in row

        # The overview in Prefect, refreshed by the desk after the change, shows it done by them.
        key = f"case-{ref.lower()}"
        deadline = time.monotonic() + 90
        while True:
            overview = newest_artifact(up.api, key)["data"]
            rows = [r for r in overview.splitlines() if r.startswith(f"| {ITEM} |")]
            if rows and "Wohnbau Nord" in rows[0].split("|")[-2]:
                break
            assert time.monotonic() < deadline, f"the overview does not show it done:\n{overview}"
            time.sleep(0.5)
        assert "Dalisay" not in overview and "Maricel" not in overview
    finally:
        code = up.stop()
    assert code == 0, up.text()
    assert server_log_errors(up) == []
    desk_log = (up.home / "desk.log").read_text()
    assert "Dalisay" not in desk_log and link.group(1).rsplit("/", 1)[1] not in desk_log


def _case_that_arrived(up: Up, env: dict[str, str]) -> str:
    """A case of Klinik Nord through the visa stage and arrived, by the command line."""
    for actor, name, role, region in ACTORS:
        args = ["actor", "add", actor, "--name", name, "--role", role, "--email", f"{actor}@example.org"]
        assert run_lotse(up.home, *args, *(["--region", region] if region else []), env=env).returncode == 0

    def lotse(*args: str) -> str:
        done = run_lotse(up.home, *args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    added = lotse("case", "add", "--given-name", "Maricel", "--family-name", "Dalisay",
                  "--nationality", "PHL", "--employer", "klinik-nord", "--by", "klinik-nord", "--json")
    ref = json.loads(added)["ref"]
    lotse("case", "done", ref, "employment_contract", "--by", "klinik-nord")
    lotse("case", "done", ref, "recognition_documents", "--by", "vermittlung")
    lotse("case", "advance", ref, "apply_visa", "--by", "klinik-nord")
    lotse("case", "done", ref, "visa_granted", "--by", "klinik-nord")
    lotse("case", "done", ref, "housing_confirmed", "--by", "wohnbau-nord")
    lotse("case", "advance", ref, "arrive", "--by", "klinik-nord",
          "--set", "arrival_date=2026-12-01", "--set", "visa_valid_until=2027-06-30")
    return ref

"""Nothing personal in Prefect, by construction: after a scenario through every way into Prefect
(the command line as flow runs, refused and not, typos of personal facts, a name as a date, an
enrolment from a file named after a person, the run forms of the deployments, the work-case form)
the raw bytes of the Prefect server's SQLite database and its write-ahead log hold none of the
names and values used."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.deployments import run_deployment
from prefect.exceptions import PrefectHTTPStatusError

from tests.conftest import run_lotse
from tests.e2e.conftest import Up, prefect_at, start

pytestmark = pytest.mark.prefect

FAMILY = "Quraishi"
# Each must never reach Prefect; compared case-insensitively (keys and run names are lowercased).
SECRETS = [FAMILY, "Kohorte_Quraishi_Maerz", "nationalty", "geburtsdatum", "1991-04-17", "withdraw_reson",
           "Schwanger", '"AFG"', "=AFG", "Farida"]
EMPLOYER, COORDINATOR = "pflegeheim-lindenhof", "koordination"


def lotse(up: Up, *args: str) -> Any:
    return run_lotse(up.home, *args, env={"PREFECT_API_URL": up.api})


def hits(data: bytes) -> list[str]:
    text = data.lower()
    forms = {s: {s.encode(), json.dumps(s).encode(), s.encode("utf-16-le")} for s in SECRETS}
    return sorted(s for s, encoded in forms.items() if any(e.lower() in text for e in encoded))


def scanned(prefect_home: Path) -> dict[str, list[str]]:
    found = {}
    for name in ("prefect.db", "prefect.db-wal"):
        path = prefect_home / name
        if path.exists():
            found[name] = hits(path.read_bytes())
    return found


def paused(run_id: Any, timeout: float = 90) -> Any:
    """The served work-case run once it waits for its form (it starts within a few seconds)."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while not ((run := client.read_flow_run(run_id)).state and run.state.is_paused()):
            assert run.state is None or not run.state.is_final(), run.state
            assert time.monotonic() < deadline, f"work-case did not pause within {timeout:.0f} s"
            time.sleep(0.5)
    return run


def test_no_name_or_personal_value_is_in_the_prefect_database_after_every_way_in(tmp_path: Path) -> None:
    up = start(tmp_path, demo=True)
    prefect_home = Path(up.env["PREFECT_HOME"])
    try:
        opened = lotse(up, "case", "add", "--given-name", "Farida", "--family-name", FAMILY,
                       "--nationality", "AFG", "--employer", EMPLOYER, "--by", COORDINATOR)
        assert opened.returncode == 0, opened.stderr
        ref = opened.stdout.strip()

        # The command line refuses before a run exists: typos of personal facts, a name as a date.
        for wrong in ("nationalty=AFG", "geburtsdatum=1991-04-17", "withdraw_reson=Schwanger",
                      f"arrival_date={FAMILY}"):
            refused = lotse(up, "case", "advance", ref, "apply_visa", "--by", COORDINATOR, "--set", wrong)
            assert refused.returncode == 2 and refused.stderr.startswith("error: "), refused.stderr
        refused = lotse(up, "case", "advance", ref, "apply_visa", "--by", COORDINATOR)  # by the rules
        assert refused.returncode == 1 and "needs checklist item" in refused.stderr, refused.stderr
        # A personal fact and a note are set here, never as a run.
        personal = lotse(up, "case", "advance", ref, "withdraw", "--by", EMPLOYER, "--set",
                         "withdraw_category=family", "--set", "withdraw_reason=Schwanger",
                         "--note", f"Frau {FAMILY} ist schwanger")
        assert personal.returncode == 0 and "not as a flow run" in personal.stderr, personal.stderr

        # An enrolment from a file named after a person, refused (a name as a date) and done.
        bad = tmp_path / "Kohorte_Quraishi_April.csv"
        bad.write_text("given_name,family_name,nationality,employer,arrival_date\n"
                       f"Farida,{FAMILY},AFG,{EMPLOYER},{FAMILY}\n", encoding="utf-8")
        refused = lotse(up, "enrol", str(bad))
        assert refused.returncode == 2 and "arrival_date: not a date" in refused.stderr, refused.stderr
        good = tmp_path / "Kohorte_Quraishi_Maerz.csv"
        good.write_text("given_name,family_name,nationality,employer\n"
                        f"Farida,{FAMILY},AFG,{EMPLOYER}\nSoraya,{FAMILY},AFG,{EMPLOYER}\n", encoding="utf-8")
        enrolled = lotse(up, "enrol", str(good), "--json")
        assert enrolled.returncode == 0, enrolled.stderr
        [enrolled_ref, *_] = json.loads(enrolled.stdout)["refs"]

        with prefect_at(up.api), get_client(sync_client=True) as client:
            # The run forms: the server refuses what does not fit, before it stores a run.
            for name, parameters in [
                ("advance-case", {"case_ref": enrolled_ref, "event": "arrive", "actor": COORDINATOR,
                                  "facts": {"arrival_date": FAMILY}}),
                ("advance-case", {"case_ref": enrolled_ref, "event": "apply_visa", "actor": COORDINATOR,
                                  "facts": {"nationalty": "AFG"}}),
                ("advance-case", {"case_ref": FAMILY, "event": "apply_visa", "actor": COORDINATOR}),
                ("enrol-cohort", {"file": str(good)}),
                ("enrol-cohort", {"file": good.name}),
                ("work-case", {"case_ref": FAMILY}),
            ]:
                with pytest.raises(PrefectHTTPStatusError, match="409"):
                    run_deployment(f"{name}/{name}", parameters=parameters, timeout=0)
            # The work-case form: a name in a date field, a typo of a personal fact, then a fit.
            started = run_deployment("work-case/work-case", parameters={"case_ref": enrolled_ref}, timeout=0)
            run = paused(started.id)
            keys = run.state.state_details.run_input_keyset
            schema = json.loads(client.read_flow_run_input(run.id, keys["schema"]))
            actor = schema["properties"]["on_behalf_of"]["enum"][0]
            for wrong in ({"fact_arrival_date": FAMILY}, {"fact_nationalty": "AFG"},
                          {"fact_geburtsdatum": "1991-04-17"}):
                answer = client.resume_flow_run(run.id, run_input={"on_behalf_of": actor, **wrong})
                assert str(answer.status) == "SetStateStatus.REJECT", wrong
            answer = client.resume_flow_run(run.id, run_input={"on_behalf_of": actor})
            assert str(answer.status) == "SetStateStatus.ACCEPT", answer.details
            deadline = time.monotonic() + 90
            while not (state := client.read_flow_run(run.id).state) or not state.is_final():
                assert time.monotonic() < deadline, "the work-case run did not end"
                time.sleep(0.5)
            assert state.is_completed(), state

        shown = run_lotse(up.home, "case", "show", ref).stdout
        assert FAMILY in shown  # the names are in Lotse's own database: a leak would be found
        while_running = scanned(prefect_home)
    finally:
        stopped = up.stop()
    assert stopped == 0, up.text()
    with sqlite3.connect(prefect_home / "prefect.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    after_checkpoint = scanned(prefect_home)

    assert while_running.get("prefect.db") == [] and while_running.get("prefect.db-wal", []) == []
    assert set(after_checkpoint) <= {"prefect.db", "prefect.db-wal"} and "prefect.db" in after_checkpoint
    assert all(found == [] for found in after_checkpoint.values()), after_checkpoint
    # The scan reads what Prefect holds: the references it is allowed to hold are found.
    held = (prefect_home / "prefect.db").read_bytes().lower()
    assert enrolled_ref.lower().encode() in held and ref.lower().encode() in held

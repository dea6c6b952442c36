"""No person's name reaches Prefect: after enrolling, moving, refusing, reporting, checking and
delivering on a `lotse up` server, no known name appears in any flow or task run (name,
parameters, state message), log, artifact or deployment the server holds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prefect.deployments import run_deployment
from prefect.exceptions import PrefectHTTPStatusError

from lotse.tasks import inbox
from lotse.tasks.demo import CHANCEN_PEOPLE, PFLEGE_PEOPLE
from tests.e2e.conftest import Up, prefect_at
from tests.e2e.test_lotse_up import present
from tests.flows.server_reads import every

pytestmark = pytest.mark.prefect

COHORT = [("Chiamaka", "Eze", "NGA"), ("Bui", "Thanh Huong", "VNM"), ("Wanjiru", "Kamau", "KEN")]


def names() -> set[str]:
    people = [*PFLEGE_PEOPLE, *CHANCEN_PEOPLE, *COHORT]
    return {part for given, family, _ in people for part in (given, family)}


def everything(api: str) -> dict[str, list[dict[str, object]]]:
    return {
        "flow runs": every("/flow_runs/filter", "ID_DESC", api),
        "task runs": every("/task_runs/filter", "ID_DESC", api),
        "logs": every("/logs/filter", "TIMESTAMP_ASC", api),
        "artifacts": every("/artifacts/filter", "ID_DESC", api),
        "deployments": every("/deployments/filter", "NAME_ASC", api),
    }


def run(name: str, **parameters: object) -> None:
    flow_run = run_deployment(f"{name}/{name}", parameters=parameters, timeout=120)
    assert flow_run.state is not None and flow_run.state.is_final(), flow_run.state


def test_no_known_name_appears_anywhere_on_the_prefect_server(served: Up, tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    rows = [f"{g},{f},{n},pflegeheim-lindenhof" for g, f, n in COHORT]
    cohort.write_text("given_name,family_name,nationality,employer\n" + "\n".join(rows) + "\n"
                      + "Zainab,Musa,NGA,nobody\n", encoding="utf-8")
    listed = json.loads(served.lotse("case", "list", "--json").stdout)
    ref = next(c["ref"] for c in listed if c["stage"] == "recruited" and c["process"] == "pflege")
    with prefect_at(served.api):
        neutral = inbox.receive(served.home, cohort).name  # as `lotse enrol` passes it
        run("enrol-cohort", file=neutral)  # refused: one bad row, names in every row
        run("enrol-cohort", file=neutral, skip_invalid=True)
        run("advance-case", case_ref=ref, event="apply_visa", actor="koordination")  # refused
        with pytest.raises(PrefectHTTPStatusError, match="409"):  # refused at creation: personal
            run("advance-case", case_ref=ref, event="withdraw", actor="koordination",
                facts={"withdraw_category": "moved_away", "withdraw_reason": "returned home"})
        assert served.lotse("case", "set", ref, "withdraw_reason=returned home", "--by",
                            "koordination").returncode == 0
        run("advance-case", case_ref=ref, event="withdraw", actor="koordination", note="by request")
        run("pipeline-report")
        for name in ("check-deadlines", "deliver-notifications"):
            if present(name):
                run(name)

    held = everything(served.api)

    assert len(held["flow runs"]) >= 6 and held["logs"] and held["artifacts"]
    text = json.dumps(held, ensure_ascii=False)
    assert ref in text  # cases are named by reference
    assert "returned home" not in text  # a personal fact never became a run's parameter
    shown = served.lotse("case", "show", ref).stdout  # the names are in Lotse, so a leak would show
    assert any(name in shown for name in names())
    leaked = sorted(n for n in names() if re.search(rf"\b{re.escape(n)}\b", text))
    assert leaked == [], f"person names on the Prefect server: {leaked}"

"""The demo alliance has costs to show: every employer, a programme, a shared trip that saved
something, cases by outcome; the report names no person."""

from __future__ import annotations

import json
from decimal import Decimal

from lotse.tasks import cost_report, demo
from lotse.tasks.context import Context


def test_the_demo_records_costs_the_report_can_show(ctx: Context) -> None:
    demo.create(ctx)

    report = cost_report.cost_report(ctx)

    assert [row["employer"] for row in report["by_employer"]] == sorted(demo.EMPLOYERS)
    assert Decimal(report["saving"]["total"]) > 0 and report["saving"]["costs"][0]["employers"] == 3
    assert {row["kind"] for row in report["by_payer"]} == {"employer", "alliance", "programme"}
    assert report["outcomes"]["integrated"]["cases"] >= 1 and report["outcomes"]["withdrawn"]["cases"] >= 1
    assert sum(Decimal(row["total"]) for row in report["by_employer"]) == Decimal(report["total"])
    shown = json.dumps(report, ensure_ascii=False)
    assert not any(name in shown for person in demo.PFLEGE_PEOPLE for name in person[:2])

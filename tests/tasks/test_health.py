"""The doctor's judgement of a scheduled deployment: from its cron (as Prefect keeps it) and when it
last completed a run, on a clock the test sets."""

from __future__ import annotations

import datetime as dt

from lotse.config.settings import Settings
from lotse.tasks import health
from lotse.tasks.prefect_api import Deployment, Schedule
from tests.conftest import Clock

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def installation(settings: Settings) -> health.Installation:
    return health.Installation(settings, environ={}, clock=Clock(NOW))


def deployment(cron: str, *, paused: bool = False, active: bool = True) -> Deployment:
    return Deployment("d-1", "deliver-notifications/deliver-notifications", paused,
                      [Schedule(cron, None, "Europe/Berlin", active)])


def test_a_run_completed_within_two_intervals_is_ok(settings: Settings) -> None:
    result = health.schedule(installation(settings), deployment("*/5 * * * *"), NOW - dt.timedelta(minutes=9))
    assert result.status == "ok"
    assert result.detail == "cron '*/5 * * * *' (Europe/Berlin): last completed 9 min ago"
    assert result.data["interval_s"] == 300


def test_a_last_run_older_than_two_intervals_warns(settings: Settings) -> None:
    late = NOW - dt.timedelta(minutes=11)
    result = health.schedule(installation(settings), deployment("*/5 * * * *"), late)
    assert result.status == "warn"
    assert "last completed 11 min ago, more than two intervals (5 min each)" in result.detail


def test_a_daily_schedule_is_judged_by_days(settings: Settings) -> None:
    daily = deployment("30 6 * * *")
    inst = installation(settings)
    assert health.schedule(inst, daily, NOW - dt.timedelta(hours=47)).status == "ok"
    late = health.schedule(inst, daily, NOW - dt.timedelta(hours=49))
    assert late.status == "warn" and "(1 day each)" in late.detail


def test_a_schedule_that_never_completed_a_run_warns(settings: Settings) -> None:
    result = health.schedule(installation(settings), deployment("*/5 * * * *"), None)
    assert result.status == "warn" and result.detail.endswith("no completed run yet")


def test_a_paused_deployment_or_schedule_warns(settings: Settings) -> None:
    inst, recent = installation(settings), NOW - dt.timedelta(minutes=1)
    for paused in (deployment("*/5 * * * *", paused=True), deployment("*/5 * * * *", active=False)):
        result = health.schedule(inst, paused, recent)
        assert result.status == "warn" and "is paused" in result.detail


def test_the_checks_are_a_list_a_new_one_can_join(settings: Settings) -> None:
    def secret_key(_inst: health.Installation) -> list[health.Result]:
        return [health.Result("secret key", "fail", "LOTSE_SECRET_KEY is not set")]

    health.CHECKS.append(secret_key)
    try:
        results = health.examine(installation(settings))
    finally:
        health.CHECKS.remove(secret_key)
    assert [r.name for r in results][-1] == "secret key"
    assert health.failed(results)

"""`lotse retention`: closed cases past their process's retention are erased, or listed with
--dry-run; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from lotse.config.settings import Settings
from lotse.tasks import apply_retention, case_file, directory, erasure
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.cli.test_person_rights import history_of, visa_case, withdraw
from tests.conftest import Clock
from tests.postgres import postgres_context


def test_a_dry_run_lists_refs_only_and_a_run_erases_them(
    alliance: Context, lotse: Lotse, clock: Clock,
) -> None:
    old = visa_case(alliance, given="Altgeschlossen", family="Kappelmeier")
    withdraw(alliance, old, "Umzug")
    clock.advance(days=30)
    young = visa_case(alliance, given="Jung", family="Brettschneider")
    withdraw(alliance, young, "Umzug")
    before = len(history_of(alliance, old))

    dry = lotse("retention", "--dry-run", "--as-of", "02.03.2029")
    assert dry.code == 0, dry.err
    assert dry.out.splitlines()[0] == old and "Kappelmeier" not in dry.out
    assert len(history_of(alliance, old)) == before

    done = lotse("retention", "--as-of", "2029-03-02", "--json")
    assert done.code == 0, done.err
    assert done.json() == {"as_of": "2029-03-02", "dry_run": False, "due": [old], "erased": [old]}
    assert case_file.case_file(alliance, old)["given_name"] == erasure.ERASED
    assert case_file.case_file(alliance, young)["given_name"] == "Jung"
    assert history_of(alliance, old)[-1].via == "cli"
    assert lotse("retention", "--as-of", "2029-03-02", "--json").json()["due"] == []


def test_a_bad_day_is_one_line(alliance: Context, lotse: Lotse) -> None:
    assert "--as-of 'someday'" in lotse("retention", "--as-of", "someday").error


def test_retention_erases_on_postgresql(settings: Settings, clock: Clock) -> None:
    with postgres_context(settings, clock) as ctx:
        for actor_id, roles in (("koord", ["coordinator"]), ("klinik-nord", ["employer"])):
            directory.add_actor(ctx, actor_id, name=actor_id, roles=roles, region="SE-Nord")
        old = visa_case(ctx, given="Alt", family="Kappelmeier")
        withdraw(ctx, old, "Umzug")
        clock.advance(days=1)
        young = visa_case(ctx, given="Jung", family="Brettschneider")
        withdraw(ctx, young, "Umzug")
        result = apply_retention.apply(ctx, as_of=dt.date(2029, 3, 2))
        assert result["erased"] == [old]
        assert case_file.case_file(ctx, old)["family_name"] == erasure.ERASED
        assert case_file.case_file(ctx, young)["family_name"] == "Brettschneider"

"""Upgrading a database that has cases to schema 0006: the names are folded for search, the
history keeps every row (older rows have no proof), and the upgrade changes no case."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from lotse.config.settings import Settings
from lotse.states import schema
from lotse.states.database import Database
from lotse.states.names import fold
from lotse.states.records import CaseRecord, HistoryRecord


def test_fold_drops_case_and_accents_so_a_plain_keyboard_finds_every_name() -> None:
    assert fold("Müller") == fold("MULLER") == "muller"
    assert fold(" Hadžić ") == "hadzic"
    assert fold("Aydın") == "aydın"  # dotless i has no decomposition: it stays
    assert fold("Weiß") == "weiss"
    assert fold("Ben  Salah") == "ben salah"


def test_upgrading_to_0006_folds_the_names_of_existing_cases(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    db = Database(settings.db_url, create=True)
    config = schema._config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO actors (id, name, created_at) VALUES ('klinik', 'Klinik', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO cases (ref, process, process_version, stage, version, employer_id, region, "
            "given_name, family_name, created_at, stage_entered_at) VALUES "
            "('SE-2026-0001', 'pflege', 1, 'recruited', 0, 'klinik', 'SE', 'Amela', 'Hadžić', "
            "'2026-01-01', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO history (case_id, at, action, actor_id, via) VALUES "
            "(1, '2026-01-01', 'open', 'klinik', 'cli')"))

    before, after = schema.upgrade(db.engine)

    assert (before, after) == ("0005", schema.head())
    with db.reading() as session:
        case = session.scalars(select(CaseRecord)).one()
        row = session.scalars(select(HistoryRecord)).one()
    assert (case.given_name, case.family_name) == ("Amela", "Hadžić")
    assert (case.given_key, case.family_key) == ("amela", "hadzic")
    assert (row.action, row.proof) == ("open", None)
    db.dispose()

"""The rights of the person (GDPR): `lotse person export` gives them everything Lotse holds about
them, audited; `lotse person erase` erases their names, personal facts and texts for good, on
SQLite down to the file's bytes, and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from lotse.config.settings import Settings
from lotse.states import store
from lotse.states.records import CaseRecord, FactRecord, HistoryRecord, OutboxRecord
from lotse.tasks import case_file, case_views, casework, directory, erasure, person_export
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.conftest import Clock
from tests.postgres import postgres_context
from tests.states.test_store import assert_valid_chain

GIVEN, FAMILY = "Quraishina", "Zyzzbrandt"
REASON_TEXT = "Schwangerschaft Zwillinge"  # a personal withdraw reason: it must go
NOTE = "Frau Zyzzbrandt zieht zu ihrer Schwester"


def visa_case(ctx: Context, given: str = GIVEN, family: str = FAMILY) -> str:
    """A pflege case with a personal fact, a note naming the person and messages about it."""
    ref = casework.open_case(ctx, given_name=given, family_name=family, nationality="PHL",
                             employer="klinik-nord")
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(ctx, ref, "apply_visa", by="klinik-nord", note=NOTE if family == FAMILY else None)
    return ref


def withdraw(ctx: Context, ref: str, reason: str = REASON_TEXT) -> None:
    casework.advance(ctx, ref, "withdraw", by="klinik-nord", facts={"withdraw_category": "moved_away",
                                                                    "withdraw_reason": reason})


def history_of(ctx: Context, ref: str) -> list[HistoryRecord]:
    with ctx.db.reading() as session:
        return store.history(session, store.find_case(session, ref).id or 0)


def test_an_export_holds_everything_about_the_person_and_is_audited(alliance: Context, lotse: Lotse) -> None:
    ref = visa_case(alliance)
    done = lotse("person", "export", ref, "--by", "koord")
    assert done.code == 0, done.err
    data = done.json()
    assert (data["given_name"], data["family_name"]) == (GIVEN, FAMILY)
    assert data["facts"]["nationality"] == "PHL"  # personal facts included
    ticked = {i["id"] for i in data["checklist"] if i["done"]}
    assert ticked == {"employment_contract", "recognition_documents"}
    assert data["deadlines"] and all({"due", "closed_at"} <= set(d) for d in data["deadlines"])
    with alliance.db.reading() as session:
        subjects = list(session.scalars(select(OutboxRecord.subject)))
    assert subjects and sorted(m["subject"] for m in data["messages"]) == sorted(subjects)
    assert {r["organisation"] for r in data["recipients"]} >= {"Klinik Nord"}
    assert any(h["action"] == "set" and h["detail"] == {"nationality": "PHL"} for h in data["history"])
    assert "http" not in json.dumps(data["messages"])  # subjects, never the bodies' links
    last = history_of(alliance, ref)[-1]
    assert (last.action, last.actor_id) == ("exported", "koord")
    assert last.from_stage == last.to_stage == "visa"
    assert last.proof is not None and last.proof.startswith("os:")
    with alliance.db.reading() as session:
        assert store.find_case(session, ref).version == 1  # an export moves nothing


def test_the_html_export_is_one_escaped_page(alliance: Context, lotse: Lotse) -> None:
    ref = visa_case(alliance, given="<script>alert(1)</script>")
    page = lotse("person", "export", ref, "--format", "html")
    assert page.code == 0, page.err
    assert page.out.startswith("<!DOCTYPE html>") and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.out
    assert "<script>" not in page.out and FAMILY in page.out
    assert history_of(alliance, ref)[-1].actor_id == person_export.LOTSE  # no --by: the os user proves it


def test_bad_export_arguments_are_one_line_and_write_nothing(alliance: Context, lotse: Lotse) -> None:
    ref = visa_case(alliance)
    before = len(history_of(alliance, ref))
    assert "--format 'pdf'" in lotse("person", "export", ref, "--format", "pdf").error
    assert "unknown actor" in lotse("person", "export", ref, "--by", "nobody").error
    assert "unknown case" in lotse("person", "export", "SE-2026-9999").error
    assert len(history_of(alliance, ref)) == before


def test_an_open_case_is_not_erased_and_nothing_is_written(alliance: Context, lotse: Lotse) -> None:
    ref = visa_case(alliance)
    before = case_file.case_file(alliance, ref)
    refused = lotse("person", "erase", ref, "--reason", "Antrag Art. 17", "--by", "koord")
    assert refused.code == 1 and "is open (stage visa)" in refused.error and "--close" in refused.error
    assert case_file.case_file(alliance, ref) == before


def test_only_a_coordinator_erases(alliance: Context, lotse: Lotse) -> None:
    ref = visa_case(alliance)
    withdraw(alliance, ref)
    refused = lotse("person", "erase", ref, "--reason", "Antrag Art. 17", "--by", "klinik-nord")
    assert refused.code == 1 and "needs one of the roles coordinator" in refused.error
    assert case_file.case_file(alliance, ref)["family_name"] == FAMILY


def test_an_empty_reason_is_refused(alliance: Context, lotse: Lotse) -> None:
    ref = visa_case(alliance)
    withdraw(alliance, ref)
    assert "--reason is empty" in lotse("person", "erase", ref, "--reason", "  ", "--by", "koord").error
    assert "at most 200" in lotse("person", "erase", ref, "--reason", "x" * 201, "--by", "koord").error
    assert case_file.case_file(alliance, ref)["family_name"] == FAMILY


def raw_bytes(settings: Settings) -> bytes:
    """The database file and its write-ahead log as they lie on disk, after a checkpoint."""
    file = Path(settings.db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(file) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = file.with_name(file.name + "-wal")
    return file.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture
def freed_space_kept() -> Iterator[None]:
    """SQLite as most builds ship it: freed space keeps its old bytes unless a connection says
    otherwise (this Python's SQLite zeroes it by default, which would hide a missing erasure)."""
    def keep(connection: Any, _record: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.execute("PRAGMA secure_delete=OFF")

    event.listen(Engine, "connect", keep)
    yield
    event.remove(Engine, "connect", keep)


SECRETS = [GIVEN, FAMILY, GIVEN.lower(), FAMILY.lower(), REASON_TEXT, "Schwester"]


def test_erase_with_close_withdraws_and_leaves_no_name_in_the_files_bytes(
    freed_space_kept: None, alliance: Context, lotse: Lotse,
) -> None:
    ref = visa_case(alliance)
    other = visa_case(alliance, given="Amihan", family="Bautista")  # another person's case stays as it is
    withdraw(alliance, other, "Umzug")
    lotse("person", "export", ref)
    assert all(s.encode() in raw_bytes(alliance.settings) for s in [GIVEN, FAMILY, "Schwester"])

    done = lotse("person", "erase", ref, "--close", "--reason", "Antrag nach Art. 17 vom 2026-03-01",
                 "--by", "koord", "--json")
    assert done.code == 0, done.err
    # notes: the note of apply_visa and of the withdrawal; personal facts set at opening and withdrawal
    assert done.json() == {"ref": ref, "facts": ["nationality", "withdraw_reason"], "messages": 5, "notes": 4,
                           "family": 0, "compacted": True, "withdrawn": True}
    data = raw_bytes(alliance.settings)
    assert [s for s in SECRETS if s.encode() in data] == []
    assert b"Amihan" in data  # the other case is untouched

    shown = case_file.case_file(alliance, ref)
    assert (shown["given_name"], shown["family_name"], shown["stage"]) == (erasure.ERASED, erasure.ERASED,
                                                                          "withdrawn")
    assert shown["facts"]["nationality"] == erasure.ERASED
    rows = history_of(alliance, ref)
    assert [r.action for r in rows][-4:] == ["exported", "set", "withdraw", "erased"]
    assert rows[-1].note == "Antrag nach Art. 17 vom 2026-03-01" and rows[-1].actor_id == "koord"
    assert rows[-1].from_stage == rows[-1].to_stage == "withdrawn"
    with alliance.db.reading() as session:
        assert_valid_chain(rows, store.find_case(session, ref).version)  # the pseudonymous chain stays
    with alliance.db.reading() as session:
        case_id = store.find_case(session, ref).id
        messages = list(session.scalars(select(OutboxRecord).where(OutboxRecord.case_id == case_id)))
        assert all(m.subject == m.body == erasure.ERASED for m in messages)
        # none was sent (no routes here): with nothing left to say, none ever goes
        assert {m.status for m in messages} == {"cancelled"}
        assert session.scalars(select(FactRecord.value).where(FactRecord.case_id == case_id,
                                                               FactRecord.name == "withdraw_reason")).one() \
            == erasure.ERASED
    assert lotse("person", "export", ref).code == 0  # the erased case still reads


def test_a_second_erase_says_it_is_erased_already(alliance: Context, lotse: Lotse) -> None:
    ref = visa_case(alliance)
    withdraw(alliance, ref)
    assert lotse("person", "erase", ref, "--reason", "Antrag", "--by", "koord").code == 0
    before = len(history_of(alliance, ref))
    again = lotse("person", "erase", ref, "--reason", "Antrag", "--by", "koord", "--close")
    assert again.code == 1 and "is erased already" in again.error
    assert len(history_of(alliance, ref)) == before


def test_export_and_erase_work_on_postgresql(settings: Settings, clock: Clock) -> None:
    with postgres_context(settings, clock) as ctx:
        for actor_id, roles in (("koord", ["coordinator"]), ("klinik-nord", ["employer"])):
            directory.add_actor(ctx, actor_id, name=actor_id, roles=roles, region="SE-Nord")
        ref = visa_case(ctx)
        assert person_export.export(ctx, ref, by="koord")["family_name"] == FAMILY
        with pytest.raises(Exception, match="is open"):
            erasure.erase(ctx, ref, reason="Antrag", by="koord")
        assert erasure.withdraw_first(ctx, ref, by="koord") is not None
        done = erasure.erase(ctx, ref, reason="Antrag", by="koord")
        assert done.facts == ["nationality", "withdraw_reason"]
        with ctx.db.reading() as session:
            record = session.scalars(select(CaseRecord)).one()
            assert (record.given_name, record.family_key) == (erasure.ERASED, "[geloscht]")
            notes = list(session.scalars(
                select(HistoryRecord.note).where(HistoryRecord.note.is_not(None))))  # type: ignore[union-attr]
        assert NOTE not in notes and notes[-1] == "Antrag"
        assert person_export.export(ctx, ref)["given_name"] == erasure.ERASED


def test_an_erase_while_a_reader_holds_the_log_is_made_and_says_the_file_waits(
    alliance: Context, lotse: Lotse,
) -> None:
    ref = visa_case(alliance)
    withdraw(alliance, ref)
    reader = sqlite3.connect(alliance.settings.db_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM cases").fetchone()
        done = lotse("person", "erase", ref, "--reason", "Antrag", "--by", "koord", "--json")
    finally:
        reader.close()
    assert done.code == 0 and done.json()["compacted"] is False
    assert "could not be compacted now (a reader held the write-ahead log)" in done.err
    assert case_file.case_file(alliance, ref)["family_name"] == erasure.ERASED
    assert lotse("retention", "--json").json()["erased"] == []  # a later run compacts it
    assert [s for s in SECRETS if s.encode() in raw_bytes(alliance.settings)] == []


def test_an_erased_case_still_reads_everywhere_it_is_shown(alliance: Context, lotse: Lotse) -> None:
    from lotse.tasks import case_overview, case_page

    ref = visa_case(alliance)
    withdraw(alliance, ref)
    assert lotse("person", "erase", ref, "--reason", "Antrag", "--by", "koord").code == 0
    shown = lotse("case", "show", ref)
    assert shown.code == 0 and f"{ref}  [gelöscht] [gelöscht]" in shown.out and FAMILY not in shown.out
    page = case_page.case_page(alliance, ref)
    assert page.given_name == erasure.ERASED and FAMILY not in repr(page)
    [view] = case_views.views(alliance, refs=[ref])
    overview = case_overview.render(view, locale="de", timezone="Europe/Berlin")  # what Prefect shows
    assert ref in overview and "[gelöscht]" not in overview and REASON_TEXT not in overview


def test_an_export_for_an_organisation_not_on_the_case_is_refused(alliance: Context, lotse: Lotse) -> None:
    ref = visa_case(alliance)
    directory.add_actor(alliance, "klinik-sued", name="Klinik Süd", roles=["employer"], region="SE-Nord")
    before = len(history_of(alliance, ref))
    refused = lotse("person", "export", ref, "--by", "klinik-sued")
    assert refused.code == 1 and "klinik-sued" in refused.error and FAMILY not in refused.err + refused.out
    assert len(history_of(alliance, ref)) == before
    assert lotse("person", "export", ref, "--by", "klinik-nord").code == 0

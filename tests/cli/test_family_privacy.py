"""A family member's name and birth year are personal data: they are in the person's export
(Art. 15), gone after the erasure (Art. 17) from the rows and the SQLite file's bytes, and the
privacy record lists them; an HTML export shows a name as the text it is."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from lotse.tasks.context import Context
from tests.cli.backends import ok
from tests.cli.conftest import Lotse
from tests.tables import dump

CHILD = "<b>Zahra</b>"
BORN = dt.date.today().year - 3


def with_child(lotse: Lotse, ref: str) -> None:
    ok(lotse("family", "add", ref, "--relation", "child", "--given-name", CHILD, "--birth-year", str(BORN),
             "--arrives", f"{dt.date.today().year + 1}-08-01", "--by", "koord"))


def test_the_export_holds_the_family_with_names_and_the_html_escapes_them(
    alliance: Context, lotse: Lotse, case_ref: str,
) -> None:
    with_child(lotse, case_ref)

    exported = ok(lotse("person", "export", case_ref)).json()
    page = ok(lotse("person", "export", case_ref, "--format", "html")).out

    [member] = exported["family"]
    assert (member["given_name"], member["birth_year"], member["relation"]) == (CHILD, BORN, "child")
    assert member["needs"][0]["item"] == "family_child1_kita_place"
    assert "family_child1_kita_place" in {d["deadline"] for d in exported["deadlines"]}
    assert "&lt;b&gt;Zahra&lt;/b&gt;" in page and CHILD not in page and str(BORN) in page


def test_the_erasure_removes_the_names_birth_years_and_arrivals_of_the_family(
    alliance: Context, lotse: Lotse, case_ref: str,
) -> None:
    with_child(lotse, case_ref)
    ok(lotse("family", "add", case_ref, "--relation", "spouse", "--given-name", "Ramon", "--by", "koord"))
    with alliance.db.writing() as session:  # closed: only a closed case is erased
        session.execute(text("UPDATE cases SET stage = 'withdrawn' WHERE ref = :ref"), {"ref": case_ref})

    done = ok(lotse("person", "erase", case_ref, "--reason", "Antrag nach Art. 17", "--by", "koord",
                    "--json"))
    listed = ok(lotse("family", "list", case_ref, "--json")).json()
    rows = dump(alliance.db.engine)
    raw = b"".join(path.read_bytes() for path in alliance.settings.home.glob("lotse.db*"))

    assert done.json()["family"] == 2 and done.json()["compacted"] is True
    assert [(m["relation"], m["given_name"], m["birth_year"], m["arrives"]) for m in listed["family"]] == [
        ("child", "[gelöscht]", None, None), ("spouse", "[gelöscht]", None, None)]
    assert "Zahra" not in str(rows) and "Ramon" not in str(rows)
    assert b"Zahra" not in raw and b"Ramon" not in raw
    assert "'family': 2" in str(rows["history"][-1])  # the erasure's own history row counts them


def test_the_privacy_record_lists_the_family_members_data_and_who_is_told_of_their_needs(
    alliance: Context, lotse: Lotse,
) -> None:
    record = ok(lotse("privacy", "record", "--format", "json")).json()

    pflege = next(p for p in record["processes"] if p["process"] == "pflege v2")
    fields = {f["field"] for f in pflege["personal_data"]}
    assert {"family_members.given_name", "family_members.birth_year", "family_members.arrives"} <= fields
    told = {r["role"]: r["told_of"] for r in pflege["recipients"]}
    assert "family need kita_place" in told["childcare"]

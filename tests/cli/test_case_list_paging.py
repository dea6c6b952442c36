"""`lotse case list --limit N --after REF` on the demo alliance, on SQLite and PostgreSQL: the
pages, each after the last reference of the one before, give every case exactly once, by case id,
in text and in JSON, with the filters too; a bad --after or --limit is one error line."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from lotse.states.records import CaseRecord
from tests.cli.backends import Db, db, ok
from tests.cli.conftest import Lotse

__all__ = ["db"]


@pytest.fixture
def demo(db: Db, lotse: Lotse) -> Lotse:
    ok(lotse("init", "--demo"))
    return lotse


def by_id(db: Db, region: str | None = None) -> list[str]:
    """The references of the cases by case id, read from the database itself."""
    engine = create_engine(db.url)
    try:
        with engine.connect() as connection:
            query = select(CaseRecord.ref).order_by(CaseRecord.id)  # type: ignore[arg-type]
            if region is not None:
                query = query.where(CaseRecord.region == region)
            return list(connection.scalars(query))
    finally:
        engine.dispose()


def pages(lotse: Lotse, size: int, *filters: str, as_json: bool = True) -> list[list[str]]:
    """Every page of `size` cases, each after the last reference of the page before."""
    found: list[list[str]] = []
    while True:
        after = ["--after", found[-1][-1]] if found else []
        if as_json:
            shown = ok(lotse("case", "list", *filters, "--limit", str(size), *after, "--json"))
            page = [row["ref"] for row in shown.json()]
        else:
            shown = ok(lotse("case", "list", *filters, "--limit", str(size), *after))
            lines = shown.out.splitlines()
            page = [] if lines == ["(none)"] else [line.split()[0] for line in lines[1:]]
        assert len(page) <= size
        if not page:
            return found
        found.append(page)


def test_pages_give_every_case_once_in_the_order_of_case_ids(demo: Lotse, db: Db) -> None:
    cases = by_id(db)
    assert len(cases) > 10 and cases != sorted(cases)  # id order is not the order of references

    in_json = pages(demo, 4)
    in_text = pages(demo, 7, as_json=False)

    assert [ref for page in in_json for ref in page] == cases
    assert [ref for page in in_text for ref in page] == cases
    assert [len(page) for page in in_json[:-1]] == [4] * (len(in_json) - 1)
    assert [row["ref"] for row in ok(demo("case", "list", "--json")).json()] == cases


def test_pages_keep_the_filters(demo: Lotse, db: Db) -> None:
    south = by_id(db, region="SE-Sued")
    assert 2 < len(south) < len(by_id(db))

    assert [ref for page in pages(demo, 2, "--region", "SE-Sued") for ref in page] == south
    after_any = ok(demo("case", "list", "--region", "SE-Sued", "--after", by_id(db)[0], "--json")).json()
    assert [row["ref"] for row in after_any] == [ref for ref in south if ref != by_id(db)[0]]


def test_a_bad_page_is_one_error_line_and_exit_2(demo: Lotse) -> None:
    bad = [["--after", "SE-1999-9999"], ["--after", " "], ["--limit", "0"], ["--limit", "-3"],
           ["--limit", "many"], ["--stage", "visa", "--after", "nobody"]]
    for args in bad:
        for as_json in ([], ["--json"]):
            result = demo("case", "list", *args, *as_json)
            assert result.code == 2 and result.out == "", args
            assert len(result.err.splitlines()) == 1 and result.err.startswith("error: "), args

"""`--expected-version`: a change made on a stale view of the case is refused and writes nothing."""

from __future__ import annotations

from tests.cli.conftest import Lotse


def _ready_for_visa(lotse: Lotse, ref: str) -> None:
    ticked = lotse("case", "done", ref, "employment_contract", "recognition_documents", "--by", "koord")
    assert ticked.code == 0, ticked.err


def test_an_event_on_the_version_the_user_saw_is_made(lotse: Lotse, case_ref: str) -> None:
    _ready_for_visa(lotse, case_ref)
    version = lotse("case", "show", case_ref, "--json").json()["version"]

    done = lotse("case", "advance", case_ref, "apply_visa", "--by", "klinik-nord",
                 "--expected-version", str(version), "--json")

    assert done.code == 0, done.err
    assert done.json()["version"] == version + 1


def test_an_event_on_a_stale_version_is_a_conflict_that_writes_nothing(
    lotse: Lotse, case_ref: str, tables
) -> None:  # type: ignore[no-untyped-def]
    _ready_for_visa(lotse, case_ref)
    seen = lotse("case", "show", case_ref, "--json").json()["version"]
    moved = lotse("case", "advance", case_ref, "withdraw", "--by", "koord",
                  "--set", "withdraw_category=moved_away", "--set", "withdraw_reason=x")
    assert moved.code == 0, moved.err
    before = tables()

    stale = lotse("case", "advance", case_ref, "apply_visa", "--by", "klinik-nord",
                  "--expected-version", str(seen))

    assert stale.code == 1
    assert stale.error.startswith(f"error: {case_ref} changed since version {seen} (now version {seen + 1})")
    assert tables() == before

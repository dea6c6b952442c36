"""The rules of costs without a database: amounts as typed, shares that sum to the cent, the
saving of a shared cost, who counts as the person."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotse.states import costs
from lotse.states.errors import BadInput

REFS = st.lists(st.integers(1, 9999), min_size=1, max_size=12, unique=True)
AMOUNTS = st.integers(1, 10**12 - 1).map(lambda cents: Decimal(cents).scaleb(-2))


@pytest.mark.parametrize(("typed", "amount"), [
    ("1234.50", "1234.50"), ("1234,5", "1234.50"), ("80", "80.00"), (" 0.01 ", "0.01"),
    ("9999999999.99", "9999999999.99"),
])
def test_an_amount_is_read_as_an_exact_decimal_with_two_places(typed: str, amount: str) -> None:
    parsed = costs.parse_amount(typed)
    assert isinstance(parsed, Decimal) and str(parsed) == amount


@pytest.mark.parametrize("typed", ["0", "0,00", "-1", "+1", "1.234", "1e3", "inf", "NaN", "1 000",
                                   "1.000,50", "", "12345678901"])
def test_anything_else_is_bad_input(typed: str) -> None:
    with pytest.raises(BadInput, match="--amount"):
        costs.parse_amount(typed)


def test_a_hundred_three_ways_gives_the_first_the_left_over_cent() -> None:
    assert costs.divide(Decimal("100.00"), 3) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert costs.divide(Decimal("0.02"), 3) == [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")]


@given(amount=AMOUNTS, numbers=REFS, employers=st.lists(st.sampled_from("abcd"), min_size=12, max_size=12),
       split=st.sampled_from(costs.SPLITS))
def test_shares_sum_exactly_to_the_amount_and_differ_by_a_cent_at_most(
    amount: Decimal, numbers: list[int], employers: list[str], split: str,
) -> None:
    cases = [(f"SE-2026-{n:04d}", employers[i]) for i, n in enumerate(numbers)]

    parts = costs.shares(amount, cases, split)

    assert sum(part for _, _, part in parts) == amount
    assert sorted((ref, employer) for ref, employer, _ in parts) == sorted(cases)
    assert all(part.as_tuple().exponent == -2 for _, _, part in parts)
    groups = [[p for _, _, p in parts]] if split == costs.PER_CASE else [
        [p for _, e, p in parts if e == employer] for employer in {e for _, e in cases}]
    for group in groups:
        assert max(group) - min(group) <= Decimal("0.01")
    if split == costs.PER_EMPLOYER:
        totals = [sum(group) for group in groups]
        assert max(totals) - min(totals) <= Decimal("0.01")


@given(amount=AMOUNTS, k=st.integers(1, 6))
def test_a_cost_shared_by_k_employers_saves_k_minus_one_times_it(amount: Decimal, k: int) -> None:
    parts = costs.divide(amount, k)
    saved = costs.saving(amount, {f"employer-{i}": part for i, part in enumerate(parts)})
    assert sum(saved.values()) == (k - 1) * amount


@pytest.mark.parametrize("payer", ["person", "Worker", "SELF", "Arbeitnehmerin", "se-2026-0042",
                                   "HL-2027-12345"])
def test_the_person_is_recognised_as_payer(payer: str) -> None:
    assert costs.is_person(payer)


@pytest.mark.parametrize("payer", ["klinik-nord", "koord", "land-sprache", "se-nord"])
def test_organisations_and_programmes_are_not_the_person(payer: str) -> None:
    assert not costs.is_person(payer)

"""What recruiting costs, as rules: the categories, amounts in euros, who may pay, how a cohort's
cost is split, and what sharing it saved. Pure: no database.

- An amount is a `Decimal` with at most two places, positive, below 10^10 euros; never a float.
- A payer is an employer, the alliance (its coordinator) or a funding programme; never the
  person of a case. The seal "Faire Anwerbung Pflege Deutschland" (and the WHO Code of Practice)
  holds that the worker pays no recruitment costs.
- A cohort cost is split into shares that sum exactly to its amount, cent for cent: each share
  gets the whole cents of an equal part, and the cents left over go one each to the first shares
  in a fixed order (employers by id, cases by reference). 100.00 three ways: 33.34, 33.33, 33.33.
- `per_case`: equal per case. `per_employer`: equal per employer covered, then equal per case
  within each employer's part.
- The saving of a cohort cost C shared by k employers is (k - 1) * C: each of them alone would
  have borne the whole of it (the trip, the fair, the group course is one undertaking whoever
  joins), and together they bore it once. Per employer: C minus its share. A cost that grows
  with the number of people (a visa fee) is a case's own cost and saves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from lotse.states.errors import BadInput
from lotse.states.titles import Title

CENT = Decimal("0.01")
MAX_WHOLE_DIGITS = 10  # euros below 10,000,000,000: a cost is an invoice, not a budget

CATEGORIES: dict[str, Title] = {
    "recruitment_fee": Title({"de": "Vermittlungsgebühr", "en": "Recruitment fee"}),
    "travel": Title({"de": "Reisekosten", "en": "Travel"}),
    "visa_fees": Title({"de": "Visagebühren", "en": "Visa fees"}),
    "recognition_fees": Title({"de": "Anerkennungsgebühren", "en": "Recognition fees"}),
    "language_course": Title({"de": "Sprachkurs", "en": "Language course"}),
    "adaptation_course": Title({"de": "Anpassungslehrgang", "en": "Adaptation course"}),
    "housing_deposit": Title({"de": "Mietkaution", "en": "Housing deposit"}),
    "integration_support": Title({"de": "Integrationsbegleitung", "en": "Integration support"}),
    "other": Title({"de": "Sonstiges", "en": "Other"}),
}

PER_CASE, PER_EMPLOYER = "per_case", "per_employer"
SPLITS = (PER_CASE, PER_EMPLOYER)

EMPLOYER, ALLIANCE, PROGRAMME = "employer", "alliance", "programme"  # the kinds of payer

# What someone may type for "the person pays"; refused by the fair-recruitment rule, by name.
PERSON_WORDS = frozenset({"person", "worker", "employee", "self", "case", "fachkraft", "person-selbst",
                          "arbeitnehmer", "arbeitnehmerin", "beschaeftigte", "beschäftigte"})
FAIR_RECRUITMENT = ('the worker pays no recruitment costs (seal "Faire Anwerbung Pflege Deutschland", '
                    "WHO Code of Practice): the payer is an employer, the alliance (its coordinator) "
                    "or a funding programme")

_AMOUNT = re.compile(rf"(\d{{1,{MAX_WHOLE_DIGITS}}})(?:[.,](\d{{1,2}}))?")


def parse_amount(text: str) -> Decimal:
    """Euros as typed (`1234.50`, `1234,5`, `80`): a positive decimal with at most two places, no
    thousands separator; bad input otherwise."""
    given = text.strip()
    match = _AMOUNT.fullmatch(given)
    if match is None:
        raise BadInput(f"--amount '{text[:40]}' is not an amount in euros; give a positive number with "
                       f"at most two decimal places and no thousands separator, e.g. 1234.50")
    whole, cents = match.groups()
    try:
        amount = Decimal(f"{whole}.{(cents or '').ljust(2, '0')}")
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        raise BadInput(f"--amount '{text[:40]}' is not an amount in euros") from None
    if amount <= 0:
        raise BadInput(f"--amount '{text[:40]}' is not positive; a cost is more than 0.00 euros")
    return amount


def euros(amount: Decimal) -> str:
    """An amount as JSON and tables show it: two places, a point (`1234.50`)."""
    return str(amount.quantize(CENT))


def category_title(category: str, locale: str) -> str:
    title = CATEGORIES.get(category)
    return title.in_(locale) if title is not None else category


def check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise BadInput(f"unknown --category '{category[:40]}'; categories: {', '.join(CATEGORIES)}")
    return category


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise BadInput(f"unknown --split '{split[:40]}'; one of {', '.join(SPLITS)}")
    return split


def is_person(payer: str) -> bool:
    """Does `payer` name the person of a case (a word for it, or a case reference)?"""
    word = payer.strip().casefold()
    return word in PERSON_WORDS or re.fullmatch(r"[a-zäöüß]{1,4}-\d{4}-\d{4,}", word) is not None


def divide(amount: Decimal, parts: int) -> list[Decimal]:
    """`amount` in `parts` equal shares that sum to it exactly; the first shares carry the cents
    left over (100.00 / 3 = 33.34, 33.33, 33.33)."""
    if parts < 1:
        raise ValueError("a cost is divided into one part at least")
    cents = int((amount / CENT).to_integral_value())
    each, left = divmod(cents, parts)
    return [(Decimal(each + (1 if i < left else 0)) * CENT).quantize(CENT) for i in range(parts)]


def shares(amount: Decimal, cases: Sequence[tuple[str, str]], split: str) -> list[tuple[str, str, Decimal]]:
    """The shares of a cohort cost: (case reference, employer, amount) per case covered, in the
    order of the references, summing exactly to `amount`. `cases`: (reference, employer) pairs."""
    check_split(split)
    ordered = sorted(cases)
    if not ordered:
        raise ValueError("a cohort cost covers one case at least")
    if split == PER_CASE:
        return [(ref, employer, part)
                for (ref, employer), part in zip(ordered, divide(amount, len(ordered)), strict=True)]
    employers = sorted({employer for _, employer in ordered})
    result = []
    for employer, part in zip(employers, divide(amount, len(employers)), strict=True):
        own = [ref for ref, of in ordered if of == employer]
        result += [(ref, employer, piece) for ref, piece in zip(own, divide(part, len(own)), strict=True)]
    return sorted(result)


def saving(amount: Decimal, employer_shares: dict[str, Decimal]) -> dict[str, Decimal]:
    """What sharing one cost saved each employer it covers: alone it would have borne the whole
    amount, shared it bore its share. Sums to (k - 1) * amount for k employers."""
    return {employer: amount - share for employer, share in employer_shares.items()}

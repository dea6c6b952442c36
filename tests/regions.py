"""Region hierarchies the tests use besides the shipped one (config/regions.yaml)."""

from __future__ import annotations

from pathlib import Path

# The shipped county SE, and the city HL beside it: references of HL's cases count under HL-.
TWO_COUNTIES = Path(__file__).parent / "two_counties.yaml"

"""Ethical recruitment: the WHO Health Workforce Support and Safeguards List and § 38 BeschV.

Health and care workers from the countries on the list may be recruited and placed only by the
Federal Employment Agency (BA/ZAV); a person who applies on their own initiative may still be hired
by an employer directly. A private agency that places such a person risks a fine of up to EUR 30,000.

The rule binds health and care occupations only: it applies to a process whose definition says
`occupation: health` (or says nothing: the stricter reading), not to `education` (`erzieher`,
childcare) or `other`; see `Process.safeguarded`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from lotse import config
from lotse.states.actor import Actor
from lotse.states.errors import Refused
from lotse.states.process import Process

LIST_FILE = Path(config.__file__).parent / "who_ssl_2023.yaml"


@cache
def safeguarded() -> dict[str, str]:
    """ISO 3166 alpha-3 code -> country name, of every country on the list."""
    return dict(yaml.safe_load(LIST_FILE.read_text(encoding="utf-8"))["countries"])


def check_placement(actor: Actor, nationality: str, process: Process) -> None:
    """Refuse a private agency opening a case of a health or care occupation (`process.safeguarded`)
    for a person from a safeguarded country."""
    if not process.safeguarded:
        return
    if "agency" not in actor.roles or actor.is_coordinator or "employer" in actor.roles:
        return
    country = safeguarded().get(nationality)
    if country is not None:
        raise Refused(
            f"{country} is on the WHO Health Workforce Support and Safeguards List 2023: under "
            "§ 38 BeschV only the Federal Employment Agency may recruit or place from there. "
            "If the person applied on their own initiative, the employer opens the case (--by EMPLOYER)"
        )

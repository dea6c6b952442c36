"""The sections of a case file that `lotse case show` prints besides its own: the family (which
`lotse family list` prints too), the language courses and exams. Kept apart from the commands that
change them, whose tasks a `case show` started cold would import for nothing."""

from __future__ import annotations

from typing import Any


def family_lines(members: list[dict[str, Any]]) -> list[str]:
    """The family as `case show` and `family list` print it."""
    out = []
    for m in members:
        born = f", born {m['birth_year']}" if m["birth_year"] else ""
        later = f", arrives {m['arrives']}" if m["arrives"] else ""
        out.append(f"  {m['label']}: {m['given_name']} ({m['relation']}{born}{later})")
        out += [f"    [{'x' if n['done'] else ' '}] {n['item']} ({n['owner']}"
                + (f", due {n['due']}" if n["due"] and not n["done"] else "") + f"): {n['title']}"
                for n in m["needs"]]
    return out


def language_lines(data: dict[str, Any]) -> list[str]:
    """The course groups and exams of `lotse case show`, when the case has any."""
    lines = []
    if data.get("courses"):
        lines += ["Language courses:", *[
            f"  {c['id']}: {c['level']}, {c['pace']}, {c['start']} to {c['end']} ({c['school']})"
            for c in data["courses"]]]
    if data.get("exams"):
        lines += ["Exams:", *[f"  {e['date']}  {e['level']} {'passed' if e['passed'] else 'failed'}: "
                              f"{e['exam']} ({e['recorded_by']})" for e in data["exams"]]]
    return lines

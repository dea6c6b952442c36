"""`lotse network` on the demo alliance (`lotse init --demo`), on SQLite and PostgreSQL: the three
formats say the same, name organisations only (no person, no contact, no case), and the mermaid
flowchart is well formed with every label escaped."""

from __future__ import annotations

import re

import pytest

from lotse.tasks import demo
from tests.cli.backends import Db, db, ok
from tests.cli.conftest import Lotse

__all__ = ["db"]

PEOPLE = [name for person in demo.PFLEGE_PEOPLE + demo.CHANCEN_PEOPLE for name in person[:2]]
NODE = re.compile(r'(?P<id>[a-z]+\d+)(\["(?P<box>[^"]*)"\]|\(\["(?P<stage>[^"]*)"\]\)|\{"(?P<role>[^"]*)"\})')
LABEL = re.compile(r"(?:[A-Za-z0-9_ äöüÄÖÜß.,:()/+-]|#\d+;|<br/>)*")
KEYWORDS = {"end", "graph", "subgraph", "flowchart", "click", "style", "class", "classDef", "linkStyle"}


@pytest.fixture
def alliance_demo(db: Db, lotse: Lotse) -> Lotse:
    ok(lotse("init", "--demo"))
    return lotse


def check_mermaid(text: str) -> dict[str, str]:
    """Parse the flowchart line by line as mermaid reads it; returns the labels by node id."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    labels: dict[str, str] = {}
    depth = 0
    for line in lines[1:]:
        line = line.strip()
        if line == "end":
            depth -= 1
            assert depth >= 0, "an `end` without its subgraph"
        elif found := re.fullmatch(r'subgraph (\w+)\["([^"]*)"\]', line):
            depth += 1
            assert found.group(1) not in labels
            labels[found.group(1)] = found.group(2)
        elif found := NODE.fullmatch(line):
            assert found["id"] not in labels, f"node {found['id']} defined twice"
            labels[found["id"]] = found["box"] or found["stage"] or found["role"]
        elif found := re.fullmatch(r"(\w+) (---|-\.->) (\w+)", line):
            assert found.group(1) in labels and found.group(3) in labels, f"an edge to nowhere: {line}"
        else:
            pytest.fail(f"not a line of the flowchart: {line!r}")
    assert depth == 0, "a subgraph without its `end`"
    assert not KEYWORDS & set(labels)
    for label in labels.values():
        assert LABEL.fullmatch(label), f"an unescaped character in {label!r}"
    return labels


def unescaped(label: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label).replace("<br/>", "\n")


def test_the_network_of_the_demo_in_three_formats_names_organisations_and_no_person(
    alliance_demo: Lotse,
) -> None:
    data = ok(alliance_demo("network", "--format", "json")).json()
    md = ok(alliance_demo("network", "--format", "md")).out
    drawn = ok(alliance_demo("network")).out
    listed = ok(alliance_demo("actor", "list", "--json")).json()
    cases = ok(alliance_demo("case", "list", "--json")).json()

    orgs = {o["id"]: o for o in data["organisations"]}
    assert set(orgs) == {a["id"] for a in listed}
    roles = {r["role"]: r for r in data["roles"]}
    assert {"pflege:visa", "pflege:arrival", "pflege:housed"} <= set(roles["housing"]["stages"])
    assert "pflege:recognition" in roles["recognition_office"]["stages"]
    assert roles["housing"]["organisations"] == ["wohnbau-seeland-nord", "wohnen-sued"]
    open_refs = [c for c in cases if c["stage"] not in ("integrated", "withdrawn")]
    assert data["open_cases"] == len(open_refs)
    assert orgs["koordination"]["open_cases"] == len(open_refs)  # the coordinator: every open case
    assert sum(orgs[e]["open_cases"] for e in demo.EMPLOYERS) == len(open_refs)  # each employer its own
    north = sum(1 for c in open_refs if c["region"] == "SE-Nord")
    assert orgs["wohnbau-seeland-nord"]["open_cases"] == north  # a region's company: its region's
    labels = [unescaped(label) for label in check_mermaid(drawn).values()]
    for org in orgs.values():
        assert any(label.startswith(org["name"] + "\n") for label in labels), org["name"]
        assert escape_md(org["name"]) in md
    assert any(label.startswith("Zielregion Nord (SE-Nord)") for label in labels)
    everything = "\n".join([str(data), md, drawn])
    assert not [name for name in PEOPLE if name in everything]
    assert "@" not in everything  # no mailbox, no contact
    assert not any(c["ref"] in everything for c in cases)
    # the demo's profiles: languages and websites are shown, a service's free text and contact never
    assert orgs["beratung-seeland"]["languages"] == ["de", "en", "ar", "tl"]
    assert "https://wohnbau-seeland-nord.demo.lotse.invalid" in md
    services = [text for profile in demo.PROFILES.values() for text in profile.services.values()]
    assert services and not any(text in everything for text in services)


def escape_md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]{}|~#!])", r"\\\1", text)


def test_markup_in_an_organisations_name_stays_text_in_every_format(alliance_demo: Lotse) -> None:
    name = 'Wohnbau "Nord"]; click a1 href "javascript:alert(1)" <script>x</script> | *fett* `code`'
    ok(alliance_demo("actor", "add", "wohnbau-markup", "--name", name, "--role", "housing",
                     "--region", "SE-Nord", "--website", "https://wohnbau.example/?a=1&b=2"))

    drawn = ok(alliance_demo("network", "--format", "mermaid")).out
    md = ok(alliance_demo("network", "--format", "md")).out
    data = ok(alliance_demo("network", "--format", "json")).json()

    labels = check_mermaid(drawn)  # the name neither ends its label nor adds a line
    assert any(unescaped(label).startswith(name + "\n") for label in labels.values())
    assert "<script>" not in drawn
    assert not any(line.strip().startswith("click") for line in drawn.splitlines())
    row = next(line for line in md.splitlines() if "wohnbau.example" in line)
    assert "<script>" not in row and "&lt;script&gt;" in row and row.count(" | ") == 4
    assert next(o for o in data["organisations"] if o["id"] == "wohnbau-markup")["name"] == name


def test_an_unknown_format_is_one_error_line(alliance_demo: Lotse) -> None:
    outcome = alliance_demo("network", "--format", "svg")
    assert outcome.code == 2
    assert outcome.error == "error: unknown --format 'svg'; use one of mermaid, md, json"

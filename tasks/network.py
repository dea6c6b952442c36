"""The network map of the alliance (`lotse network`, the `network` artifact of `pipeline-report`):
its organisations grouped by role and by region, with the stages each role acts in and the
number of open cases each organisation serves.

- The stages a role acts in come from the definitions new cases open on: the stages it is
  responsible for, owns checklist items in, is told of (`notify` of a transition into the stage),
  or fires events from (`roles` of a transition out of it).
- An organisation's open cases are those it acts on by standing (states/scope.py): an employer
  its own, a regional organisation those of the regions it serves and below, one without a
  region (and the coordinator) every open case.

Actors are organisations; the map shows their names, roles, regions, languages and websites,
never a contact address or the free text of their services (which could name a person), and no
case at all. Every label is escaped for its format: markdown, and mermaid (an entity per
character outside a plain set, so a name can neither end a label nor start a link).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lotse.states import scope, store
from lotse.states.process import Process
from lotse.states.records import ActorRecord, CaseRecord
from lotse.states.titles import role_title
from lotse.tasks.case_overview import escape
from lotse.tasks.context import Context

FORMATS = ("mermaid", "md", "json")
ALLIANCE = "*"  # the group of organisations without a region: the whole alliance
_PLAIN = re.compile(r"[A-Za-z0-9_ äöüÄÖÜß.,:()/+-]")
_WORDS = {
    "de": {"alliance": "Ganze Allianz", "open": "offene Fälle", "stages": "Stufen", "serves": "auch",
           "title": "Netzwerk der Allianz", "organisation": "Organisation", "region": "Region",
           "languages": "Sprachen", "website": "Website", "none": "(keine)"},
    "en": {"alliance": "Whole alliance", "open": "open cases", "stages": "Stages", "serves": "also",
           "title": "The alliance's network", "organisation": "Organisation", "region": "Region",
           "languages": "Languages", "website": "Website", "none": "(none)"},
}


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    roles: tuple[str, ...]
    region: str | None
    serves: tuple[str, ...]
    languages: tuple[str, ...]
    website: str | None
    open_cases: int


def network(ctx: Context) -> dict[str, Any]:
    """The map as data: regions (the hierarchy and any region in use), roles with their stages
    and organisations, and every organisation with its open cases."""
    locale = ctx.settings.locale
    with ctx.db.reading() as session:
        actors = store.list_actors(session)
        profile = {r.id: r for r in session.scalars(
            select(ActorRecord).where(ActorRecord.removed_at.is_(None)))}  # type: ignore[union-attr]
        cases = session.execute(select(CaseRecord.process, CaseRecord.process_version, CaseRecord.stage,
                                       CaseRecord.employer_id, CaseRecord.region)).all()
    open_cases = [c for c in cases if not ctx.catalog.get(c.process, c.process_version).is_final(c.stage)]
    organisations = [
        Organisation(
            a.id, a.name, tuple(sorted(a.roles)), a.region, tuple(sorted(a.serves)),
            tuple(profile[a.id].languages or ()), profile[a.id].website,
            sum(1 for c in open_cases
                if scope.by_standing(a, employer=c.employer_id, region=c.region, regions=ctx.regions)),
        )
        for a in actors
    ]
    stages = stages_by_role(ctx.catalog.latest())
    used = {o.region for o in organisations if o.region} | {r for o in organisations for r in o.serves}
    regions = [{"code": code, "title": ctx.regions.title(code, locale),
                "parent": ctx.regions.by_code[code].parent if code in ctx.regions else None}
               for code in [*ctx.regions.codes, *sorted(used - set(ctx.regions.codes))]]
    roles = sorted({r for o in organisations for r in o.roles} | set(stages))
    return {
        "regions": regions,
        "roles": [{"role": role, "title": role_title(role, locale), "stages": stages.get(role, []),
                   "organisations": [o.id for o in organisations if role in o.roles]} for role in roles],
        "organisations": [{
            "id": o.id, "name": o.name, "roles": list(o.roles), "region": o.region, "serves": list(o.serves),
            "languages": list(o.languages), "website": o.website, "open_cases": o.open_cases,
        } for o in organisations],
        "open_cases": len(open_cases),
    }


def stages_by_role(processes: list[Process]) -> dict[str, list[str]]:
    """Per role, the stages it acts in (`process:stage`), in the order of each definition."""
    found: dict[str, dict[str, None]] = {}

    def mark(role: str, process: Process, stage: str) -> None:
        found.setdefault(role, {})[f"{process.name}:{stage}"] = None

    for process in processes:
        for name, stage in process.stages.items():
            if stage.responsible:
                mark(stage.responsible, process, name)
            for item in stage.checklist:
                mark(item.owner, process, name)
        for transition in process.transitions:
            for role in transition.notify:
                mark(role, process, transition.to)
            for role in transition.roles:
                for source in process.sources(transition):
                    mark(role, process, source)
    order = {f"{p.name}:{s}": (i, j) for i, p in enumerate(processes) for j, s in enumerate(p.stages)}
    return {role: sorted(stages, key=lambda s: order.get(s, (0, 0)))
            for role, stages in sorted(found.items())}


def render(data: dict[str, Any], form: str, locale: str) -> str:
    if form == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if form == "md":
        return markdown(data, locale)
    return mermaid(data, locale)


def markdown(data: dict[str, Any], locale: str) -> str:
    """One section per role (its stages), one table row per organisation, by region."""
    w = _WORDS[locale]
    orgs = {o["id"]: o for o in data["organisations"]}
    titles = {r["code"]: r["title"] for r in data["regions"]}
    lines = [f"# {w['title']}", ""]
    for role in data["roles"]:
        lines += [f"## {escape(role['title'])} ({escape(role['role'])})", "",
                  f"{w['stages']}: {escape(', '.join(role['stages'])) or w['none']}", ""]
        members = sorted((orgs[i] for i in role["organisations"]),
                         key=lambda o: (_region_order(data, o["region"]), o["name"].casefold()))
        if not members:
            lines += [w["none"], ""]
            continue
        lines += [f"| {w['region']} | {w['organisation']} | {w['open']} | {w['languages']} | "
                  f"{w['website']} |", "|---|---|---:|---|---|"]
        for o in members:
            where = titles.get(o["region"], o["region"]) if o["region"] else w["alliance"]
            if o["serves"]:
                where += f" ({w['serves']} {', '.join(o['serves'])})"
            lines.append(f"| {escape(where)} | {escape(o['name'])} | {o['open_cases']} | "
                         f"{escape(', '.join(o['languages']))} | {escape(o['website'] or '')} |")
        lines.append("")
    return "\n".join(lines)


def mermaid(data: dict[str, Any], locale: str) -> str:
    """A mermaid flowchart: the regions as nested subgraphs holding their organisations (labelled
    with their roles and open cases), each role a node linked to the organisations in it and to
    the stages it acts in."""
    w = _WORDS[locale]
    ids: dict[str, str] = {}

    def node(kind: str, key: str) -> str:
        return ids.setdefault(f"{kind}:{key}", f"{kind}{len(ids) + 1}")

    regions = {r["code"]: r for r in data["regions"]}
    children: dict[str | None, list[str]] = {}
    for code, region in regions.items():
        children.setdefault(region["parent"] if region["parent"] in regions else None, []).append(code)
    members: dict[str, list[dict[str, Any]]] = {}
    for o in data["organisations"]:
        members.setdefault(o["region"] or ALLIANCE, []).append(o)
    lines = ["flowchart LR"]

    def organisation(o: dict[str, Any], indent: str) -> str:
        roles = ", ".join(role_title(r, locale) for r in o["roles"])
        return (f'{indent}{node("a", o["id"])}["{label(o["name"])}<br/>{label(roles)}<br/>'
                f'{o["open_cases"]} {label(w["open"])}"]')

    def region(code: str, indent: str) -> list[str]:
        inner = [organisation(o, indent + "  ") for o in members.get(code, [])]
        for child in children.get(code, []):
            inner += region(child, indent + "  ")
        if not inner:  # a region without organisations, here or below, is left out
            return []
        title = label(f"{regions[code]['title']} ({code})")
        return [f'{indent}subgraph {node("r", code)}["{title}"]', *inner, f"{indent}end"]

    for code in children.get(None, []):
        lines += region(code, "  ")
    if members.get(ALLIANCE):
        lines.append(f'  subgraph {node("r", ALLIANCE)}["{label(w["alliance"])}"]')
        lines += [organisation(o, "    ") for o in members[ALLIANCE]]
        lines.append("  end")
    stages = sorted({s for role in data["roles"] for s in role["stages"]})
    lines.append(f'  subgraph {node("g", "stages")}["{label(w["stages"])}"]')
    lines += [f'    {node("s", s)}(["{label(s)}"])' for s in stages]
    lines.append("  end")
    for role in data["roles"]:
        if not role["organisations"]:
            continue
        lines.append(f'  {node("role", role["role"])}{{"{label(role["title"])}"}}')
        lines += [f'  {node("role", role["role"])} --- {node("a", o)}' for o in role["organisations"]]
        lines += [f'  {node("role", role["role"])} -.-> {node("s", s)}' for s in role["stages"]]
    return "\n".join(lines) + "\n"


def label(text: str) -> str:
    """Text for a mermaid label in double quotes: every character outside a plain set as an entity
    (`#34;`), so no quote, bracket, pipe, backtick or markup from the data reaches the parser."""
    flat = " ".join(str(text).split())
    return "".join(c if _PLAIN.fullmatch(c) else f"#{ord(c)};" for c in flat)


def _region_order(data: dict[str, Any], code: str | None) -> int:
    codes = [r["code"] for r in data["regions"]]
    return codes.index(code) if code in codes else len(codes)


def markdown_artifact(ctx: Context) -> str:
    """The `network` artifact: the mermaid map in a markdown fence, as Prefect shows it."""
    locale = ctx.settings.locale
    return f"# {_WORDS[locale]['title']}\n\n```mermaid\n{mermaid(network(ctx), locale)}```\n"

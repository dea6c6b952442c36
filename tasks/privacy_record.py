"""The record of processing activities (Art. 30 GDPR), generated from what Lotse runs on:
`lotse privacy record`.

Per process: the personal data (the names of every case, and the facts the definition marks or
names as personal), their purpose (the fact's title), who receives messages (the roles each
event notifies and each deadline reminds, and the organisations of the directory in those roles)
and the retention. For the whole installation: the processors, the mail and chat services of the
routes, by scheme and host only; never an address's user, password or token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from lotse.states import store
from lotse.states.courses import LANGUAGE_SCHOOL
from lotse.states.process import Process
from lotse.tasks.context import Context

NAMES = [
    {"field": "given_name", "purpose": "Vorname der Person / given name of the person"},
    {"field": "family_name", "purpose": "Familienname der Person / family name of the person"},
]
# Recorded with `lotse family add` where a definition declares `family_needs` (docs/family.md).
FAMILY = [
    {"field": "family_members.given_name",
     "purpose": "Vorname eines Familienangehörigen / given name of a family member"},
    {"field": "family_members.birth_year",
     "purpose": "Geburtsjahr eines Kindes (Kita, Schule) / birth year of a child (daycare, school)"},
    {"field": "family_members.arrives", "purpose": "Tag des Familiennachzugs / day a family member joins"},
]
# Recorded with `lotse cost add` for every case (docs/costs.md): no name, but linked to the case's
# reference; kept after an erasure, when the reference is all that is left of the person.
COSTS = [
    {"field": "cost_shares.amount",
     "purpose": "Kosten der Anwerbung je Fall, Art, wer sie trägt (nie die Person) / "
                "recruiting costs per case, their kind, who bears them (never the person)"},
]
FORMATS = ("md", "json")
KEPT = "none set: kept until erased by `lotse person erase`"


def record(ctx: Context) -> dict[str, Any]:
    """The record as data."""
    locale = ctx.settings.locale
    with ctx.db.reading() as session:
        actors = store.list_actors(session)
    by_role: dict[str, list[str]] = {}
    for actor in actors:
        for role in sorted(actor.roles):
            by_role.setdefault(role, []).append(f"{actor.name} ({actor.id})")
    return {
        "controller": "the alliance running this Lotse (its coordinator)",
        "processes": [_process(p, locale, by_role) for p in _in_use(ctx)],
        "processors": processors(ctx),
        "storage": {"database": ctx.db.display_url.split("://")[0]},
    }


def _in_use(ctx: Context) -> list[Process]:
    """The versions new cases open on, and every older one stored for the cases that ran on it
    (their personal data stays until erased, whether its file is still there or not)."""
    processes = {p.key: p for p in ctx.catalog.latest()}
    for name, version in sorted(ctx.catalog.stored):
        process = ctx.catalog.get(name, version)
        processes.setdefault(process.key, process)
    return list(processes.values())


def _process(process: Process, locale: str, by_role: dict[str, list[str]]) -> dict[str, Any]:
    personal = [*NAMES, *(
        {"field": name, "purpose": fact.title.in_(locale) or name}
        for name, fact in process.facts.items() if process.is_personal(name)
    ), *(FAMILY if process.family_needs else []), *COSTS]
    notified: dict[str, list[str]] = {}
    for t in process.transitions:
        for role in t.notify:
            notified.setdefault(role, []).append(t.event)
    for deadline_id, deadline in process.deadlines.items():
        notified.setdefault(deadline.role, []).append(f"reminder {deadline_id}")
    for need_id, need in process.family_needs.items():  # by relation and number, never by name
        notified.setdefault(need.owner, []).append(f"family need {need_id}")
    if "employer" in process.roles:  # both employers of a change of employer (docs/attrition.md)
        notified.setdefault("employer", []).append("change_employer")
    # who takes over a removed organisation's open cases: as employer, or asked for its items
    for role in {"employer", *(item.owner for stage in process.stages.values() for item in stage.checklist)}:
        if role in process.roles:
            notified.setdefault(role, []).append("hand-over")
    if LANGUAGE_SCHOOL in process.roles:  # the school of a course group a case is assigned to
        notified.setdefault(LANGUAGE_SCHOOL, []).append("course group")
    return {
        "process": process.key,
        "title": process.title.in_(locale),
        "personal_data": personal,
        "recipients": [
            {"role": role, "told_of": sorted(set(events)), "organisations": by_role.get(role, [])}
            for role, events in sorted(notified.items())
        ],
        "retention": str(process.retention) if process.retention else KEPT,
    }


def processors(ctx: Context) -> list[dict[str, str]]:
    """The services that carry messages: each route by channel, scheme and host."""
    if ctx.settings.notify_config is None:
        return []
    from lotse.notifications import routes  # Apprise only where routes are configured

    found = {}
    for target in routes.load(ctx.settings).targets:
        parts = urlsplit(target.label)
        host = parts.hostname or ""
        found[(target.channel, parts.scheme, host)] = {"channel": target.channel, "scheme": parts.scheme,
                                                       "host": host}
    return sorted(found.values(), key=lambda p: (p["channel"], p["scheme"], p["host"]))


def markdown(data: dict[str, Any]) -> str:
    """The record as a Markdown document for the alliance's data protection officer."""
    lines = ["# Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)", "",
             f"Verantwortlicher / controller: {data['controller']}", ""]
    for p in data["processes"]:
        lines += [f"## {p['title']} ({p['process']})", "", "Personenbezogene Daten / personal data:", ""]
        lines += [f"- `{f['field']}`: {f['purpose']}" for f in p["personal_data"]]
        lines += ["", "Empfänger / recipients:", ""]
        lines += [f"- {r['role']} ({', '.join(r['told_of'])}): {', '.join(r['organisations']) or '-'}"
                  for r in p["recipients"]]
        lines += ["", f"Löschfrist / retention: {p['retention']}", ""]
    lines += ["## Auftragsverarbeiter / processors", ""]
    lines += [f"- {p['channel']}: {p['scheme']}://{p['host']}" for p in data["processors"]] or ["- (none)"]
    lines += ["", f"Datenbank / database: {data['storage']['database']}"]
    return "\n".join(lines) + "\n"

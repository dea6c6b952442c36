"""What Lotse holds about a person, for the person (Art. 15 and 20 GDPR): `lotse person export`.

The case file (`case_file.case_file`: the case, every fact, personal ones included, the checklist,
the family members with names and needs, the history, the open deadlines) plus what it leaves
out: every deadline with how it closed, the
history's details, the costs of the person's recruitment and who paid them (never the person:
docs/costs.md), the messages sent about the case (to which organisation, when, their subject;
never their links) and which organisations received what. As JSON (machine-readable, Art. 20) or as
one self-contained HTML page a coordinator hands over. Every export is audited on the case
(`exported`, with its author and the operating-system user).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from sqlalchemy import select

from lotse.notifications.outbox import CANCELLED
from lotse.states import scope, store
from lotse.states.moments import iso
from lotse.states.records import ActorRecord, DeadlineRecord, HistoryRecord, OutboxRecord
from lotse.tasks import case_file, cost_book
from lotse.tasks.context import Context

ACTION = "exported"
LOTSE = "lotse"  # the author of an export made without --by: the operating-system user is its proof
FORMATS = ("json", "html")


def export(ctx: Context, ref: str, *, by: str | None = None, via: str = "cli") -> dict[str, Any]:
    """Audit the export on the case, then read everything about the person."""
    with ctx.db.writing() as session:
        record = store.find_case(session, ref, lock=True)
        author = LOTSE
        if by:  # who asks must be entitled to the case, as for any change of it
            actor = store.get_actor(session, by)
            scope.check(actor, ref=record.ref, employer=record.employer_id, region=record.region,
                        opener=lambda: store.opener(session, record), regions=ctx.regions)
            author = actor.id
        session.add(HistoryRecord(
            case_id=record.id or 0, at=ctx.clock(), action=ACTION, from_stage=record.stage,
            to_stage=record.stage, actor_id=author, via=via, proof=ctx.proof,
        ))
    data = case_file.case_file(ctx, record.ref)
    with ctx.db.reading() as session:
        names = dict(session.execute(select(ActorRecord.id, ActorRecord.name)).all())
        rows = store.history(session, record.id or 0)
        deadlines = [
            {"deadline": d.deadline, "due": d.due.isoformat(), "level": d.level,
             "opened_at": iso(d.opened_at), "closed_at": iso(d.closed_at), "closed_why": d.closed_why}
            for d in session.scalars(select(DeadlineRecord).where(DeadlineRecord.case_id == record.id)
                                     .order_by(DeadlineRecord.id))  # type: ignore[arg-type]
        ]
        messages = [
            {"to": m.recipient, "organisation": names.get(m.recipient, m.recipient), "channel": m.channel,
             "status": m.status, "subject": m.subject, "created_at": iso(m.created_at),
             "sent_at": iso(m.sent_at)}
            for m in session.scalars(select(OutboxRecord).where(OutboxRecord.case_id == record.id)
                                     .order_by(OutboxRecord.id))  # type: ignore[arg-type]
        ]
    data["history"] = [
        {"action": h.action, "from": h.from_stage, "to": h.to_stage, "actor": h.actor_id, "via": h.via,
         "proof": h.proof, "at": iso(h.at), "note": h.note, "detail": h.detail}
        for h in rows
    ]
    data.pop("allowed_events", None)  # what the case may do next is Lotse's, not the person's
    data["deadlines"] = deadlines
    data["messages"] = messages
    data["recipients"] = _recipients(messages)
    with ctx.db.reading() as session:  # what the recruitment cost, and who paid it: never the person
        data["costs"] = cost_book.costs_of_case(session, record.id or 0)
    return data


def _recipients(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per organisation: how many messages it was sent, or will be, about the case, and their
    subjects. A cancelled message (to an organisation taken out of the directory) never goes."""
    by: dict[str, dict[str, Any]] = {}
    for message in messages:
        if message["status"] == CANCELLED:
            continue
        entry = by.setdefault(message["to"], {"to": message["to"], "organisation": message["organisation"],
                                              "messages": 0, "subjects": []})
        entry["messages"] += 1
        if message["subject"] not in entry["subjects"]:
            entry["subjects"].append(message["subject"])
    return list(by.values())


_PAGE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8">
<title>Auskunft nach Art. 15 DSGVO: {{ d.ref }}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}th,td{border:1px solid #bbb;padding:.3rem;
text-align:left;vertical-align:top}th{background:#eee}</style></head><body>
<h1>Auskunft nach Art. 15 DSGVO / Data access (Art. 15 GDPR)</h1>
<p>{{ d.given_name }} {{ d.family_name }}, {{ d.ref }}: {{ d.process }} v{{ d.process_version }},
{{ d.stage_title }} ({{ d.stage }}) seit {{ d.stage_entered_at }}; Arbeitgeber {{ d.employer }},
Region {{ d.region }}; angelegt {{ d.created_at }}.</p>
<h2>Angaben / Facts</h2>
<table><tr><th>Angabe</th><th>Wert</th></tr>
{% for name, value in d.facts.items() %}<tr><td>{{ name }}</td><td>{{ value }}</td></tr>
{% endfor %}</table>
{% if d.family %}<h2>Familie / Family</h2>
<table><tr><th>Angehörige/r</th><th>Vorname</th><th>Geburtsjahr</th><th>Kommt am</th><th>Bedarf</th></tr>
{% for m in d.family %}<tr><td>{{ m.label }} ({{ m.relation }})</td><td>{{ m.given_name }}</td>
<td>{{ m.birth_year or "" }}</td><td>{{ m.arrives or "" }}</td>
<td>{% for n in m.needs %}{{ n.title }}{% if n.done %} ✓{% endif %}{% if not loop.last %}; {% endif %}
{% endfor %}</td></tr>
{% endfor %}</table>
{% endif %}
<h2>Checkliste / Checklist</h2>
<table><tr><th>Punkt</th><th>Zuständig</th><th>Erledigt</th></tr>
{% for i in d.checklist %}<tr><td>{{ i.title or i.id }}</td><td>{{ i.owner }}</td>
<td>{% if i.done %}{{ i.at }} ({{ i.by }}){% endif %}</td></tr>
{% endfor %}</table>
<h2>Fristen / Deadlines</h2>
<table><tr><th>Frist</th><th>Fällig</th><th>Erinnert</th><th>Geschlossen</th></tr>
{% for f in d.deadlines %}<tr><td>{{ f.deadline }}</td><td>{{ f.due }}</td><td>{{ f.level }}</td>
<td>{{ f.closed_at or "" }} {{ f.closed_why or "" }}</td></tr>
{% endfor %}</table>
<h2>Nachrichten / Messages</h2>
<table><tr><th>An</th><th>Datum</th><th>Betreff</th><th>Stand</th></tr>
{% for m in d.messages %}<tr><td>{{ m.organisation }}</td><td>{{ m.sent_at or m.created_at }}</td>
<td>{{ m.subject }}</td><td>{{ m.status }}</td></tr>
{% endfor %}</table>
<h2>Empfänger / Recipients</h2>
<table><tr><th>Organisation</th><th>Nachrichten</th><th>Betreffe</th></tr>
{% for r in d.recipients %}<tr><td>{{ r.organisation }}</td><td>{{ r.messages }}</td>
<td>{{ r.subjects | join("; ") }}</td></tr>
{% endfor %}</table>
<h2>Kosten / Costs</h2>
<p>Was die Anwerbung gekostet hat und wer es bezahlt hat; Sie selbst zahlen keine Anwerbekosten. /
What recruiting cost and who paid; you pay no recruitment costs yourself.</p>
<table><tr><th>Datum</th><th>Art</th><th>Anteil (EUR)</th><th>Betrag (EUR)</th><th>Bezahlt von</th>
<th>Programm</th></tr>
{% for c in d.costs %}<tr><td>{{ c.date }}</td><td>{{ c.category }}</td><td>{{ c.share }}</td>
<td>{{ c.amount }}</td><td>{{ c.payer }}</td><td>{{ c.programme or "" }}</td></tr>
{% endfor %}</table>
<h2>Verlauf / History</h2>
<table><tr><th>Zeit</th><th>Was</th><th>Von</th><th>Wer</th><th>Über</th><th>Notiz</th></tr>
{% for h in d.history %}<tr><td>{{ h.at }}</td><td>{{ h.action }}</td><td>{{ h.from }} → {{ h.to }}</td>
<td>{{ h.actor }}</td><td>{{ h.via }}</td>
<td>{{ h.note or "" }}{% if h.detail %} {{ h.detail }}{% endif %}</td></tr>
{% endfor %}</table>
</body></html>
"""


def html(data: dict[str, Any]) -> str:
    """The export as one self-contained page, every value escaped."""
    return Environment(autoescape=True).from_string(_PAGE).render(d=data)

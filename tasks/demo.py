"""A fictional alliance for trying Lotse: invented organisations and people, 32 cases spread over
every stage of both shipped processes, with histories dated over the past months.

Every change goes through the same casework as the command line, so the demo also exercises the
rules, the outbox and the deadlines. The messages those changes queued are kept as the demo's
history (status `demo`): turning on real routes later never sends its backdated messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from lotse.notifications import outbox
from lotse.states.records import CaseRecord
from lotse.tasks import case_file, casework, courses, directory, exams
from lotse.tasks.context import Context

COORDINATOR_ID = "koordination"
ACTORS = [
    (COORDINATOR_ID, "Koordinierungsstelle Fachkräfteallianz Seeland", ["coordinator"], None),
    ("klinik-seeblick", "Klinik Seeblick", ["employer"], "SE-Nord"),
    ("pflegeheim-lindenhof", "Pflegeheim Lindenhof", ["employer"], "SE-Sued"),
    ("pflegedienst-am-hafen", "Ambulanter Pflegedienst Am Hafen", ["employer"], "SE-Nord"),
    ("vermittlung-bruecke", "Vermittlung Brücke (fiktiv)", ["agency"], None),
    ("abh-seeland", "Ausländerbehörde Kreis Seeland", ["foreigners_office"], None),
    ("anerkennung-land", "Anerkennungsstelle Gesundheitsberufe", ["recognition_office"], None),
    ("sprachschule-wortwerk", "Sprachschule Wortwerk", ["language_school"], None),
    ("wohnbau-seeland-nord", "Wohnbau Seeland Nord", ["housing"], "SE-Nord"),
    ("wohnen-sued", "Wohnungsgenossenschaft Süd", ["housing"], "SE-Sued"),
    ("beratung-seeland", "Migrationsberatung Seeland", ["counsellor"], None),
    ("jugendamt-seeland", "Jugendamt Kreis Seeland", ["childcare"], None),
    ("schulamt-seeland", "Schulamt Kreis Seeland", ["school"], None),
    ("arbeitsagentur-seeland", "Agentur für Arbeit Seeland", ["job_centre"], None),
]
EMPLOYERS = ["klinik-seeblick", "pflegeheim-lindenhof", "pflegedienst-am-hafen"]
# What some of them offer (docs/directory.md): function mailboxes and switchboards only, all fictional.
PROFILES = {
    "wohnbau-seeland-nord": directory.Profile(
        services={"housing": "Möblierte Ein- und Zweizimmerwohnungen nahe der Kliniken, zur Ankunft"},
        languages=["de", "en"], contact="vermietung@wohnbau-seeland-nord.demo.lotse.invalid",
        website="https://wohnbau-seeland-nord.demo.lotse.invalid"),
    "sprachschule-wortwerk": directory.Profile(
        services={"language_school": "Deutsch B1/B2 Pflege, telc-Prüfungszentrum, Abendkurse"},
        languages=["de", "en", "es"], contact="+49 4551 0000-0"),
    "beratung-seeland": directory.Profile(
        services={"counsellor": "Migrationsberatung, Familiennachzug, Anerkennung"},
        languages=["de", "en", "ar", "tl"], contact="beratung@beratung-seeland.demo.lotse.invalid"),
}

# (given name, family name, nationality): invented, any likeness is chance
PFLEGE_PEOPLE = [
    ("Maricel", "Dalisay", "PHL"), ("Joanna", "Villareal", "PHL"), ("Ramon", "Bautista", "PHL"),
    ("Anjali", "Menon", "IND"), ("Thomas", "Kuriakose", "IND"), ("Priya", "Nair", "IND"),
    ("Amira", "Ben Salah", "TUN"), ("Youssef", "Trabelsi", "TUN"), ("Lina", "Gharbi", "TUN"),
    ("Fernanda", "Alves", "BRA"), ("Lucas", "Moreira", "BRA"), ("Thi Lan", "Nguyen", "VNM"),
    ("Van Duc", "Tran", "VNM"), ("Siti", "Rahmawati", "IDN"), ("Dewi", "Kusuma", "IDN"),
    ("Valeria", "Ortega", "MEX"), ("Camila", "Restrepo", "COL"), ("Dilnoza", "Karimova", "UZB"),
    ("Rania", "Haddad", "JOR"), ("Elira", "Hoxha", "ALB"), ("Amela", "Hadžić", "BIH"),
    ("Kateryna", "Bondar", "UKR"), ("Marisol", "Reyes", "PHL"),
]
CHANCEN_PEOPLE = [
    ("Omar", "Al-Hamwi", "SYR"), ("Nour", "Khalil", "SYR"), ("Farid", "Rahimi", "AFG"),
    ("Zahra", "Ahmadi", "AFG"), ("Olena", "Kovalenko", "UKR"), ("Samir", "Hussein", "IRQ"),
    ("Helen", "Tesfay", "ERI"), ("Dawit", "Girma", "ETH"), ("Leyla", "Aydın", "TUR"),
]
PFLEGE_SPREAD = {"recruited": 3, "visa": 4, "arrival": 4, "language_course": 4, "recognition": 3,
                 "housed": 2, "integrated": 2, "withdrawn": 1}
CHANCEN_SPREAD = {"recruited": 2, "language_course": 2, "recognition": 1, "training": 2,
                  "integrated": 1, "withdrawn": 1}


@dataclass(frozen=True)
class Step:
    """One thing that happens on a case's way: ticks, facts or an event, by a role, `days` later."""

    role: str
    days: int
    done: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    event: str | None = None


def _date(days_from_now: int, clock: dt.datetime) -> str:
    return (clock.date() + dt.timedelta(days=days_from_now)).isoformat()


PFLEGE_WAY = [
    Step("employer", 3, done=("employment_contract",)),
    Step("agency", 20, done=("recognition_documents",)),
    Step("agency", 2, event="apply_visa"),
    Step("foreigners_office", 14, done=("advance_approval",)),
    Step("agency", 10, done=("embassy_appointment",)),
    Step("housing", 20, done=("housing_confirmed",)),
    Step("employer", 25, done=("visa_granted",)),
    Step("employer", 7, event="arrive", facts=(("arrival_date", "+0"), ("visa_valid_until", "+90"))),
    Step("employer", 10, done=("address_registered", "health_insurance")),
    Step("housing", 1, done=("landlord_confirmation",)),
    Step("foreigners_office", 20, done=("residence_permit_applied",)),
    Step("language_school", 10, event="start_language_course"),
    Step("language_school", 3, done=("course_enrolled",)),
    Step("language_school", 90, facts=(("language_level", "B1"),)),
    Step("employer", 7, event="start_recognition"),
    Step("employer", 10, done=("documents_submitted",)),
    Step("language_school", 80, facts=(("language_level", "B2"),)),
    Step("recognition_office", 20, done=("recognition_granted",)),
    Step("housing", 5, event="settle"),
    Step("housing", 60, done=("permanent_housing",)),
    Step("counsellor", 14, event="complete"),
]
CHANCEN_WAY = [
    Step("counsellor", 5, done=("counselling_done",)),
    Step("foreigners_office", 10, done=("work_permit_checked",),
         facts=(("residence_title", "104c"), ("residence_title_until", "+540"))),
    Step("counsellor", 7, event="start_language_course"),
    Step("language_school", 3, done=("course_enrolled",)),
    Step("language_school", 100, facts=(("language_level", "B1"),)),
]
CHANCEN_TO = {
    "recognition": [Step("counsellor", 3, facts=(("qualification_abroad", "true"),)),
                    Step("counsellor", 5, event="start_recognition")],
    "training": [Step("employer", 10, done=("training_contract",)),
                 Step("employer", 5, event="start_training")],
}


# One case per process and stage is left ready for its next event, so that `lotse up --demo` can
# fire it as a flow run and the Prefect UI shows real runs of the demo's transitions.
READY_NEXT = {("pflege", "recruited"), ("pflege", "visa"), ("pflege", "language_course"),
              ("chancen", "recruited")}
# ... and one per stage of these is left ready but not fired: the cases a coordinator can move
# from the advance-case and work-case forms right after `make demo`.
READY_LEFT = {("pflege", "arrival"), ("pflege", "recognition"), ("chancen", "language_course")}


def create(ctx: Context) -> str:
    """Add the demo alliance, unless cases exist already; say what was done."""
    with ctx.db.reading() as session:
        if session.scalar(select(func.count()).select_from(CaseRecord)):
            return "demo: the database has cases already; nothing added"
    real_clock = ctx.clock
    today = real_clock()
    with ctx.db.reading() as session:
        before = outbox.last_id(session)
    for actor_id, name, roles, region in ACTORS:
        directory.add_actor(ctx, actor_id, name=name, roles=roles, region=region,
                            email=f"{actor_id}@demo.lotse.invalid", profile=PROFILES.get(actor_id))
    count = 0
    prepared: set[tuple[str, str]] = set()
    try:
        people = iter(PFLEGE_PEOPLE)
        for stage, n in PFLEGE_SPREAD.items():
            for _ in range(n):
                _walk(ctx, today, count, next(people), "pflege", stage, prepared)
                count += 1
        people = iter(CHANCEN_PEOPLE)
        for stage, n in CHANCEN_SPREAD.items():
            for _ in range(n):
                _walk(ctx, today, count, next(people), "chancen", stage, prepared)
                count += 1
        ctx.clock = lambda: today
        _language_courses(ctx, today.date())
        _family(ctx, today.date())
        from lotse.tasks import demo_costs  # the demo's costs, through `lotse cost add`'s rules

        demo_costs.add(ctx, COORDINATOR_ID)
    finally:
        ctx.clock = real_clock
        with ctx.db.writing() as session:
            kept = outbox.keep_as_demo(session, before)
    return (f"demo: added {len(ACTORS)} actors and {count} cases (fictional names); their {kept} "
            f"messages are kept as history in the outbox, never sent")


def _walk(ctx: Context, today: dt.datetime, index: int, person: tuple[str, str, str],
          process: str, target: str, prepared: set[tuple[str, str]]) -> None:
    """Open a case and take it along its way until it stands in `target`; the first case of a
    stage in READY_NEXT or READY_LEFT is also made ready for its next event."""
    way = _way(process, target)
    dwell = (5, 20, 45, 80, 120)[index % 5]  # some cases stall, so checks and reports show them
    span = sum(step.days for step in way) + dwell
    moment = today - dt.timedelta(days=span, hours=index)
    ctx.clock = lambda: moment
    employer = EMPLOYERS[index % len(EMPLOYERS)]
    coordinator = "koordination"
    ref = casework.open_case(
        ctx, given_name=person[0], family_name=person[1], nationality=person[2],
        employer=employer, process=process, by=coordinator if process == "chancen" else employer,
    )
    region = "SE-Nord" if employer != "pflegeheim-lindenhof" else "SE-Sued"
    for step in way:
        moment += dt.timedelta(days=step.days)
        ctx.clock = lambda moment=moment: moment
        actor = _actor_for(step.role, employer, region)
        if step.done:
            casework.tick(ctx, ref, list(step.done), by=actor)
        facts = {k: (_date(int(v[1:]), moment) if v[0] in "+-" else v) for k, v in step.facts}
        if step.event:
            casework.advance(ctx, ref, step.event, by=actor, facts=facts)
        elif facts:
            casework.set_facts(ctx, ref, facts, by=actor)
    if (process, target) in (READY_NEXT | READY_LEFT) - prepared:
        prepared.add((process, target))
        _prepare_next_event(ctx, today, ref, process, way, employer, region)
    if target == "withdrawn":
        ctx.clock = lambda: today - dt.timedelta(days=2)
        reasons: dict[str, str] = {"withdraw_reason": "Rückkehr ins Herkunftsland (fiktiv)"}
        if "withdraw_category" in ctx.catalog.get(process).facts:
            reasons["withdraw_category"] = "homesickness"
        casework.advance(ctx, ref, "withdraw", by=coordinator, facts=reasons, note="demo: withdrawn")


def _prepare_next_event(ctx: Context, today: dt.datetime, ref: str, process: str, way: list[Step],
                        employer: str, region: str) -> None:
    """Do what the next event needs (ticks, facts), but leave the event itself to a flow run."""
    full = _way(process, "integrated")
    moment = today - dt.timedelta(days=1)
    ctx.clock = lambda: moment
    for step in full[len(way):]:
        facts = {k: (_date(int(v[1:]), today) if v[0] in "+-" else v) for k, v in step.facts}
        actor = _actor_for(step.role, employer, region)
        if step.done:
            casework.tick(ctx, ref, list(step.done), by=actor)
        if facts:
            casework.set_facts(ctx, ref, facts, by="koordination")
        if step.event:
            return


def _family(ctx: Context, today: dt.date) -> None:
    """The first pflege case in arrival has a partner with her and a child who follows in five
    months: their needs (integration course, job search, Kita place, reunification visa) are open."""
    from lotse.tasks import family  # the family's needs, through `lotse family add`'s rules

    ref = case_file.list_cases(ctx, stage="arrival", process="pflege")[0]["ref"]
    family.add_member(ctx, ref, relation="spouse", given_name="Jomar", birth_year=today.year - 36,
                      by="beratung-seeland")
    family.add_member(ctx, ref, relation="child", given_name="Ligaya", birth_year=today.year - 3,
                      arrives=today + dt.timedelta(days=150), by="beratung-seeland")


SCHOOL = "sprachschule-wortwerk"
EXAM = "telc Deutsch B1-B2 Pflege"


def _language_courses(ctx: Context, today: dt.date) -> None:
    """A school's two B2 groups, a fast one that has ended and a slow one still running, with the
    pflege cases in recognition and in the language course, and a few exam results that leave
    every case's language level as its way set it."""
    def day(days: int) -> str:
        return (today + dt.timedelta(days=days)).isoformat()

    place = "Hafenstraße 5, Seeland (fiktiv)"
    courses.add_course(ctx, "demo-b2-schnell", school=SCHOOL, level="B2", pace="fast", start=day(-220),
                       end=day(-20), capacity=12, place=place, by=COORDINATOR_ID)
    courses.add_course(ctx, "demo-b2-langsam", school=SCHOOL, level="B2", pace="slow", start=day(-150),
                       end=day(120), capacity=12, place=place, by=COORDINATOR_ID)
    fast = [r["ref"] for r in case_file.list_cases(ctx, stage="recognition", process="pflege")]
    slow = [r["ref"] for r in case_file.list_cases(ctx, stage="language_course", process="pflege")]
    courses.assign(ctx, "demo-b2-schnell", fast, by=COORDINATOR_ID)
    courses.assign(ctx, "demo-b2-langsam", slow, by=SCHOOL)
    for weeks, ref in zip((9, 12, 15), fast, strict=False):  # the level each has already: no changes
        exams.record_exam(ctx, ref, level="B1", exam=EXAM, taken_on=day(-220 + 7 * weeks), passed=True,
                          by=SCHOOL)
        if case_file.case_file(ctx, ref)["facts"].get("language_level") == "B2":
            exams.record_exam(ctx, ref, level="B2", exam=EXAM, taken_on=day(-220 + 7 * (weeks + 14)),
                              passed=True, by=SCHOOL)
    for ref in slow[:2]:
        exams.record_exam(ctx, ref, level="B1", exam=EXAM, taken_on=day(-30), passed=False, by=SCHOOL)


def ready_events(ctx: Context) -> list[dict[str, str]]:
    """The events `lotse up --demo` fires as advance-case flow runs: for each stage of READY_NEXT,
    the first case ready for its next event (nothing missing), with an actor who may fire it.
    The cases of READY_LEFT stay ready for the forms. No names, only references."""
    runs: dict[tuple[str, str], dict[str, str]] = {}
    for row in case_file.list_cases(ctx):
        stage = (row["process"], row["stage"])
        if stage not in READY_NEXT or stage in runs:
            continue
        for option in case_file.case_file(ctx, row["ref"])["allowed_events"]:
            if option["event"] != "withdraw" and not option["missing"]:
                role = option["roles"][0] if option["roles"] else "coordinator"
                runs[stage] = {"case_ref": row["ref"], "event": option["event"],
                               "actor": _actor_for(role, row["employer"], row["region"])}
                break
    return list(runs.values())


def _way(process: str, target: str) -> list[Step]:
    if process == "pflege":
        stop = "language_course" if target == "withdrawn" else target
        way: list[Step] = []
        stages = {"apply_visa": "visa", "arrive": "arrival", "start_language_course": "language_course",
                  "start_recognition": "recognition", "settle": "housed", "complete": "integrated"}
        if stop == "recruited":
            return PFLEGE_WAY[:1]
        for step in PFLEGE_WAY:
            way.append(step)
            if step.event and stages[step.event] == stop:
                break
        return way
    if target in ("recruited", "withdrawn"):
        return CHANCEN_WAY[:1]
    if target == "language_course":
        return CHANCEN_WAY[:3]
    if target == "integrated":
        return [*CHANCEN_WAY, *CHANCEN_TO["training"],
                Step("language_school", 200, facts=(("language_level", "B2"),)),
                Step("employer", 30, done=("training_passed",)), Step("employer", 3, event="complete")]
    return [*CHANCEN_WAY, *CHANCEN_TO[target]]


def _actor_for(role: str, employer: str, region: str) -> str:
    if role == "employer":
        return employer
    for actor_id, _, roles, actor_region in ACTORS:
        if role in roles and actor_region in (None, region):
            return actor_id
    return "koordination"

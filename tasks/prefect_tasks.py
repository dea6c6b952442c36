"""The Prefect tasks: each takes ids and plain values (never a session, never a person's name),
opens its own context from the settings, and runs one plain unit of work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import get_client, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from sqlalchemy.exc import OperationalError

from lotse.config.settings import Settings
from lotse.states import store
from lotse.states.errors import BadInput, LotseError, NotFound, NotReady, Refused
from lotse.tasks import (
    case_views,
    casework,
    cohort_import,
    cost_report,
    course_report,
    deadlines,
    delivery,
    overviews,
    pipeline_report,
    worksheet,
)
from lotse.tasks.context import Context
from lotse.tasks.prefect_api import auth_headers
from lotse.tasks.worksheet import Answer, Worksheet


def _context() -> Context:
    """The context of a task; a definition edited in place under running cases is logged (the
    file and the version: nothing personal) and the task goes on with the stored copy."""
    ctx = Context.from_settings(Settings())
    for edited in ctx.edited:
        get_run_logger().warning(str(edited))
    return ctx


@task(name="apply-event", task_run_name="apply {event} to {case_ref}")
def apply_event(
    case_ref: str, event: str, actor: str, facts: dict[str, Any] | None, note: str | None,
    request_id: str | None, expected_version: int | None = None,
) -> dict[str, Any] | LotseError:
    """Fire one event on one case; the flow run's id makes a retried run change nothing twice.

    Facts marked personal (nationality, a reason for withdrawal, ...) are refused here: Prefect
    keeps every parameter for ever, so they are set with `lotse case set` instead.

    A refusal by the rules or of the input is returned, not raised: it is an answer, and the task
    run would log a traceback for it. A database that is not there (`NotReady`) still raises.
    """
    ctx = _context()
    try:
        _refuse_personal_facts(ctx, case_ref, facts or {})
        return casework.advance(
            ctx, case_ref, event, by=actor, facts=facts, note=note, via="flow", request_id=request_id,
            expected_version=expected_version,
        )
    except NotReady:
        raise
    except (Refused, BadInput) as refusal:
        return refusal


def _refuse_personal_facts(ctx: Context, case_ref: str, facts: dict[str, Any]) -> None:
    personal = casework.personal_facts(ctx, case_ref, list(facts)) if facts else []
    if personal:
        raise BadInput(
            f"{case_ref}: {', '.join(personal)} is personal data and is not taken through Prefect; "
            f"set it with `lotse case set {case_ref} {personal[0]}=... --by ACTOR_ID`, then run again "
            "without it"
        )


# -- working a case through the `work-case` form ----------------------------------------------


@task(name="read-case", task_run_name="read {case_ref}", cache_policy=NO_CACHE, persist_result=False)
def read_worksheet(case_ref: str) -> Worksheet | LotseError:
    """What the `work-case` form offers for the case now; an unknown or closed case is a refusal."""
    try:
        return worksheet.worksheet(_context(), case_ref)
    except NotReady:
        raise
    except (Refused, BadInput) as refusal:
        return refusal


@task(name="apply-form", task_run_name="apply the form to {case_ref}", cache_policy=NO_CACHE,
      persist_result=False)
def apply_form(
    case_ref: str, sheet: Worksheet, answer: Answer, request_id: str | None,
) -> dict[str, Any] | LotseError:
    """Apply a submitted form in one transaction and leave the artifact `work-<ref>`: what changed,
    what is missing now. A refusal is returned (and shown), not raised; it changes nothing."""
    ctx = _context()
    refusal: LotseError | None = None
    result: dict[str, Any] | None = None
    try:
        result = worksheet.apply(ctx, sheet, answer, request_id)
    except NotReady:
        raise
    except (Refused, BadInput) as error:
        refusal = error
    try:
        after: Worksheet | None = worksheet.worksheet(ctx, case_ref)
    except Refused:  # closed by this change: nothing is missing any more
        after = None
    markdown = worksheet.outcome_markdown(sheet, answer, result, after, str(refusal) if refusal else None)
    create_markdown_artifact(markdown, key=f"work-{sheet.ref.lower()}",
                             description=f"work-case {sheet.ref}: what changed, what is missing now")
    if refusal is not None:
        return refusal
    assert result is not None
    get_run_logger().info(
        "%s: %s item(s) ticked, %s fact(s) set, event %s, on behalf of %s%s", sheet.ref, len(answer.items),
        len(answer.facts), answer.event or "none", answer.actor,
        " (applied before: nothing changed again)" if result.get("repeated") else "",
    )
    return result


# -- orchestration: enrolling, reporting, tagging (the plain work is in cohort_import and
# pipeline_report; these tasks add what only Prefect shows: artifacts and run tags) -------------

# These tasks change or read the database each time they run: never cache them, never keep results.
_ALWAYS = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="enrol-rows", **_ALWAYS)
def enrol_rows(file: str, skip_invalid: bool, by: str | None) -> dict[str, Any]:
    """Check and import a cohort file, with a progress artifact while it writes."""
    name = Path(file).name
    progress_id = create_progress_artifact(0.0, key="enrol-progress", description=f"enrolling {name}")

    def progress(done: int, total: int) -> None:
        update_progress_artifact(progress_id, 100.0 * done / total if total else 100.0)

    result = cohort_import.enrol(_context(), Path(file), skip_invalid=skip_invalid, by=by, progress=progress)
    update_progress_artifact(progress_id, 100.0)
    create_markdown_artifact(_enrolment_markdown(result), key="enrolment", description=result.summary()[:400])
    get_run_logger().info(result.summary())
    return result.as_dict()


@task(name="report-pipeline", **_ALWAYS)
def report_pipeline(as_of: dt.date | None, region_level: int | None = None,
                    period: str = "month") -> dict[str, Any]:
    """Build the pipeline report and publish it: counts, stalled cases, the last transitions;
    `region_level`: the depth of the region hierarchy open cases are counted by."""
    report = pipeline_report.pipeline(_context(), as_of, region_level)
    create_table_artifact(
        pipeline_report.pipeline_table(report), key="pipeline",
        description=f"Open cases per stage and process, per employer, per region ({report['open_cases']} "
                    f"open, as of {report['as_of']})",
    )
    create_table_artifact(
        report["stuck"] or [{"ref": "(none)"}], key="stuck-cases",
        description=f"Cases in their stage for longer than its limit ({len(report['stuck'])}, "
                    f"as of {report['as_of']})",
    )
    create_markdown_artifact(
        pipeline_report.transitions_markdown(report), key="last-transitions",
        description=f"The last {pipeline_report.RECENT_TRANSITIONS} transitions",
    )
    if groups := course_report.table(course_report.report(_context(), as_of)):  # no case references
        create_table_artifact(groups, key="language-courses", description=(
            "Language course groups and paces: participants, reached the target, median weeks from the "
            "start to a passed B1 and B2 (docs/courses.md)"))
    try:  # a broken programmes file costs this table only, not the overviews published after it
        costs = cost_report.cost_table(cost_report.cost_report(_context(), as_of))
    except BadInput as broken:  # names the file and the key, never a person
        get_run_logger().warning("costs: not published: %s; see `lotse doctor`", broken)
    else:  # amounts per employer and category: no case reference, no name
        create_table_artifact(costs, key="costs", description=(
            "Recruiting costs in EUR per employer and category, what programmes funded and what sharing "
            "saved (docs/costs.md)"))
    from lotse.tasks import attrition_report  # categories, stages, employers, regions: no case, no note

    create_table_artifact(
        attrition_report.attrition_table(attrition_report.attrition(_context(), as_of)), key="attrition",
        description="Withdrawals per stage, category, employer and region, as counts and shares of the "
                    "cases that entered the stage; changes of employer in the alliance (docs/attrition.md)",
    )
    from lotse.tasks import funnel, time_in_stage  # stages, cohorts, counts and days: no case, no name

    create_table_artifact(
        funnel.funnel_table(funnel.funnel(_context(), as_of, period)) or [{"cohort": "(none)"}], key="funnel",
        description=f"Cases opened per {period}: how many reached each stage, median and 90th percentile "
                    "of days from opening (docs/reports.md)",
    )
    create_table_artifact(
        time_in_stage.time_in_stage_table(time_in_stage.time_in_stage(_context(), as_of, region_level))
        or [{"stage": "(none)"}], key="time-in-stage",
        description="Days in stage per process version, employer and region: median and 90th percentile of "
                    "finished stays; withdrawn and still there apart (docs/reports.md)",
    )
    get_run_logger().info(
        "%s open case(s), %s stuck longer than their stage's limit",
        report["open_cases"], len(report["stuck"]),
    )
    return report


@task(name="publish-network", **_ALWAYS)
def publish_network() -> int:
    """Publish the network map of the alliance (tasks/network.py) as the markdown artifact
    `network`: organisations by role and region, no case and no person. Returns how many."""
    from lotse.tasks import network

    ctx = _context()
    create_markdown_artifact(network.markdown_artifact(ctx), key="network",
                             description="The alliance's organisations by role and region, the stages "
                                         "they act in and their open cases")
    with ctx.db.reading() as session:
        return len(store.list_actors(session))


@task(name="remind-due-deadlines", **_ALWAYS)
def remind_due_deadlines(as_of: dt.date | None) -> dict[str, Any]:
    """Check every open deadline on `as_of` (default: today in LOTSE_TIMEZONE) and queue the
    reminders whose level is due; what it found carries case refs, never a name."""
    ctx = _context()
    day = as_of or deadlines.today(ctx)
    found = [f.as_json() for f in deadlines.check_deadlines(ctx, as_of=day)]
    ended = course_report.ended_below_target(ctx, as_of=day)
    get_run_logger().info(
        "%s deadline(s) due or overdue on %s, %s reminder(s) queued; %s course group(s) ended below "
        "their target reported", len(found), day.isoformat(), sum(f["reminded"] for f in found), len(ended),
    )
    return {"as_of": day.isoformat(), "found": found}


# -- case overviews (tasks/overviews.py renders and records them; these publish from a run) -----


def publish_overview(case_ref: str) -> None:
    """Publish the case's overview, the markdown artifact `case-<ref>`, linked to the running flow
    run; an unknown case has none. Never fails the run: if Prefect does not take it, one warning,
    and the next pipeline-report publishes it."""
    ctx = _context()
    views = case_views.views(ctx, refs=[case_ref])
    if not views:
        return
    shown = overviews.rendered(ctx, views[0])
    try:
        create_markdown_artifact(shown.markdown, key=shown.key, description=shown.description)
    except Exception as exc:  # the change is made: an artifact that failed must not fail its run
        problem = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        missed = overviews.Outcome(failed=[views[0].case.ref], problem=problem)
        get_run_logger().warning("%s", missed.warning())
        return
    overviews.record(ctx, views)


@task(name="publish-overviews", **_ALWAYS)
def publish_overviews(case_refs: list[str]) -> dict[str, int]:
    """Publish the overviews of the cases a bulk change touched (an enrolment, a deadline check),
    in one batch after its commit, linked to this run."""
    return _published(lambda ctx, api, **run: overviews.publish(ctx, api, refs=case_refs, **run))


@task(name="publish-stale-overviews", **_ALWAYS)
def publish_stale_overviews() -> dict[str, int]:
    """Publish the overview of every case whose overview is missing or older than its last change
    (a change made while Prefect was down, a reminder, another LOTSE_LOCALE), in one batch."""
    return _published(overviews.publish_stale)


def _published(publish: Any) -> dict[str, int]:
    from prefect.context import TaskRunContext
    from prefect.settings import get_current_settings

    logger = get_run_logger()
    api = get_current_settings().api
    if not api.url:  # a run on a temporary in-process server: no address to post to
        logger.warning("no PREFECT_API_URL: case overviews are published by a run on a Prefect server")
        return {"published": 0, "failed": 0}
    secrets = {name: value.get_secret_value() for name, value in (
        ("PREFECT_API_AUTH_STRING", api.auth_string), ("PREFECT_API_KEY", api.key)) if value}
    run = TaskRunContext.get()
    links = {"flow_run_id": str(run.task_run.flow_run_id), "task_run_id": str(run.task_run.id)} if run else {}
    outcome = publish(_context(), overviews.PrefectApi(str(api.url).rstrip("/"), auth_headers(secrets)),
                      timeout=overviews.BULK_TIMEOUT_S, **links)
    logger.info("%s case overview(s) published", len(outcome.published))
    if (line := outcome.warning()) is not None:
        logger.warning("%s", line)
    return {"published": len(outcome.published), "failed": len(outcome.failed)}


def tag_run_with_case(case_ref: str) -> list[str]:
    """Tag the running flow run with the case's process and region (nothing for an unknown case)."""
    ctx = _context()
    run = FlowRunContext.get()
    if run is None or run.flow_run is None:
        return []
    try:
        with ctx.db.reading() as session:
            found = store.find_case(session, case_ref)
    except NotFound:
        return []
    labels = [found.process, found.region]
    with get_client(sync_client=True) as client:
        client.update_flow_run(run.flow_run.id, tags=sorted({*run.flow_run.tags, *labels}))
    return labels


def _enrolment_markdown(result: cohort_import.Enrolment) -> str:
    lines = [f"# Enrolment of {result.file}", "", result.summary(), ""]
    if result.problems:
        lines += ["| line | problem |", "|---|---|"]
        lines += [f"| {p.line or ''} | {p.reason.replace('|', '/')} |" for p in result.problems[:500]]
        if result.problem_count > 500:
            lines.append(f"| | and {result.problem_count - 500} more |")
    if result.enrolled:
        more = " ..." if len(result.enrolled) > 200 else ""
        lines += ["", f"Enrolled: {', '.join(result.enrolled[:200])}{more}"]
    return "\n".join(lines) + "\n"


# -- delivering the outbox ---------------------------------------------------------------------


def network_trouble(task: Any, task_run: Any, state: Any) -> bool:
    """Retry the delivery only for what a moment may heal: a connection that broke (to the
    database, or a network error outside a single message). A message that fails is not a task
    failure: its row records the error and waits for its own backoff."""
    try:
        state.result()
    except (OSError, OperationalError):
        return True
    except Exception:
        return False
    return False


@task(name="deliver-outbox", retries=3, retry_delay_seconds=[10, 30, 90], retry_condition_fn=network_trouble,
      **_ALWAYS)
def deliver_outbox(retry_failed_now: bool = False, case_ref: str | None = None) -> dict[str, Any]:
    """Send every message that is due (of one case, if given); `retry_failed_now` ignores the
    backoff of failed ones. Logs counts, row ids and actor ids: never a subject or a body."""
    logger = get_run_logger()
    try:
        report = delivery.deliver(_context(), retry_now=retry_failed_now, case_ref=case_ref)
    except NotReady as exc:  # no routes configured yet: messages wait, the schedule stays green
        logger.warning("%s", exc)
        return delivery.Report(warnings=[str(exc)]).as_dict()
    logger.info("%s", report.summary())
    for line in report.warnings:
        logger.warning("notification routes: %s", line)
    for problem in report.problems:
        logger.warning("message #%s to %s %s: %s", problem["id"], problem["to"], problem["status"],
                       problem["error"])
    return report.as_dict()


@task(name="deliver-case-messages", task_run_name="deliver messages of {case_ref}", **_ALWAYS)
def deliver_case_messages(case_ref: str) -> dict[str, int] | None:
    """Send one case's new messages right after its change, within the short notify timeout;
    never fails the run (what is not sent waits in the outbox for the scheduled delivery)."""
    logger = get_run_logger()
    return delivery.deliver_after_change(_context(), case_ref, logger.warning)

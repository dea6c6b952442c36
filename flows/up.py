"""`lotse up`: the main job. A Prefect server (the one at `PREFECT_API_URL`, or a local one it
starts), one deployment per flow with its schedule, served in this process until Ctrl-C or SIGTERM.

Only one `lotse up` runs per Lotse home: a second one finds the lock taken (or the port in use)
and says so instead of starting another server.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import IO, Any

from lotse.config import hosts
from lotse.config.settings import Settings
from lotse.flows import server as prefect_server
from lotse.states.errors import BadInput, NotReady, Refused

Say = Callable[[str], None]


def up(
    settings: Settings, *, port: int | None = None, no_server: bool = False, demo: bool = False,
    desk_port: int | None = None, no_desk: bool = False, host: str | None = None, say: Say = print,
) -> None:
    """Run until stopped; every user error is a `LotseError` raised before anything starts.
    The desk runs beside Prefect on `desk_port` (default LOTSE_DESK_PORT), unless `no_desk`.
    The local Prefect server binds to `host` (default LOTSE_PREFECT_HOST, 127.0.0.1)."""
    from lotse.tasks.context import Context

    host = _host(host, settings)
    start_server = not os.environ.get("PREFECT_API_URL") and not no_server
    if start_server and (refusal := prefect_server.bind_refusal(host, os.environ)):
        raise Refused(refusal)
    _stop_on_sigterm()
    # Refuses a database `lotse init` has not made, before the lock creates anything in the home.
    ctx = Context.from_settings(settings)
    for edited in ctx.edited:
        print(f"warning: {edited}", file=sys.stderr)
    with _only_one(settings.home):
        port = port or settings.prefect_port
        given = os.environ.get("PREFECT_API_URL")
        api = given or prefect_server.api_url(port, host)
        if start_server and prefect_server.port_taken(port, host):
            raise Refused(
                f"port {port} is in use (is `lotse up` already running? {prefect_server.ui_url(api)}); "
                "stop it, choose another --port, or set PREFECT_API_URL to use that server"
            )
        desk = None if no_desk else _desk(settings, desk_port or settings.desk_port, say)
        home = Path(os.environ.get("PREFECT_HOME") or settings.home / "prefect").resolve()
        # Set before Prefect is imported: for this process and the flow runs it starts.
        os.environ["PREFECT_API_URL"] = api
        if start_server:
            os.environ["PREFECT_HOME"] = str(home)
            if auth := os.environ.get(prefect_server.AUTH):  # the server asks it of every client
                os.environ[prefect_server.CLIENT_AUTH] = auth
        from lotse.flows import deployments

        planned = deployments.build(ctx)  # a bad schedule setting is refused before a server starts
        if not start_server:
            _require(api, "PREFECT_API_URL points to no answering Prefect server" if given else
                     "--no-server, but no Prefect server answers there; drop --no-server or set "
                     "PREFECT_API_URL")
            _free(desk)
            with _beside(desk, say, demo=demo):
                _serve(ctx, planned, api, say, own_server=False, demo=demo)
            return
        _free(desk)
        local = prefect_server.LocalServer(port, home, host)
        bound = "" if host == prefect_server.HOST else f", bound to {host}"
        guarded = ", basic auth" if os.environ.get(prefect_server.AUTH) else ""
        say(f"starting a Prefect server on {prefect_server.ui_url(api)} (PREFECT_HOME {home}{bound}"
            f"{guarded}, log {local.log}) ...")
        try:
            local.start()
            with _beside(desk, say, demo=demo):  # starts while the Prefect server does
                local.wait_healthy()
                _serve(ctx, planned, api, say, own_server=True, demo=demo)
        finally:
            say("stopping the Prefect server ...")
            local.stop()
            say("stopped")


def _serve(ctx: Any, planned: Any, api: str, say: Say, *, own_server: bool, demo: bool = False) -> None:
    from prefect.deployments import run_deployment
    from prefect.runner import Runner
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from lotse.flows.work_pool import owners

    with temporary_settings(updates={PREFECT_API_URL: api}):
        # A deployment in a work pool belongs to its workers (`lotse deploy --pool`): not taken
        # over here, so neither are its runs, nor is it paused when this process stops.
        pooled = owners([d.name for d in planned.built])
        runner = Runner(name="lotse", pause_on_shutdown=True, query_seconds=ctx.settings.poll_seconds)
        for deployment in planned.built:
            if deployment.name not in pooled:
                runner.add_deployment(deployment)
        ui = prefect_server.ui_url(api)
        say(f"Prefect UI: {ui}")
        served = len(planned.built) - len(pooled)
        say(f"registered {served} deployments (tag 'lotse'), served by this process:")
        for name, cron in planned.schedules.items():
            when = f"cron '{cron}' ({ctx.settings.timezone})" if cron else "on demand"
            if name in pooled:
                when = f"served by work pool '{pooled[name]}', left to its workers"
            say(f"  {name}/{name}: {when}")
        for name in planned.missing:
            say(f"  {name}: skipped, flows/{name.replace('-', '_')}.py is not in this installation")
        demo_runs = []
        if demo and "advance-case" in planned.schedules:
            from lotse.tasks.demo import ready_events

            for parameters in ready_events(ctx):
                demo_runs.append(run_deployment("advance-case/advance-case", parameters=parameters,
                                                timeout=0).id)
                say(f"demo: started advance-case {parameters['event']} {parameters['case_ref']}")
        report_later = "pipeline-report" in planned.schedules and bool(demo_runs)
        if "pipeline-report" in planned.schedules and not report_later:
            run_deployment("pipeline-report/pipeline-report", timeout=0)
            say("started one pipeline-report run, so the pipeline artifact is current")
        elif report_later:
            say("a pipeline-report run follows once the demo's runs have ended, so the pipeline and "
                "stuck-cases artifacts show where they left the cases")
        say(f"deployments: {ui}/deployments   artifacts: {ui}/artifacts")
        ready = "Ctrl-C stops lotse up" + (" and the server" if own_server else "")
        after = _report_after(demo_runs, say) if report_later else None
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_until_stopped(runner, lambda: say(ready), after))


async def _report_after(runs: list[Any], say: Say, timeout: float = 300) -> None:
    """Start one pipeline-report run once these runs have ended (or `timeout` s have passed)."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with get_client() as client:
        waiting = list(runs)
        while waiting and loop.time() < deadline:
            states = [(await client.read_flow_run(run)).state for run in waiting]
            waiting = [run for run, state in zip(waiting, states, strict=True)
                       if state is None or not state.is_final()]
            if waiting:
                await asyncio.sleep(0.5)
    await run_deployment("pipeline-report/pipeline-report", timeout=0)
    say("started one pipeline-report run after the demo's runs, so the pipeline artifact is current")


async def _until_stopped(
    runner: Any, ready: Callable[[], None], after: Coroutine[Any, Any, None] | None = None,
) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop the runner the graceful way (it pauses the
    schedules and cancels its runs); the server is stopped after it, by the caller. `after` runs
    beside the runner once it serves."""
    loop = asyncio.get_running_loop()
    serving = asyncio.ensure_future(runner.start())
    await asyncio.sleep(0)  # the runner installs its own SIGTERM handler first thing; ours replaces it
    stopping: list[asyncio.Task[None]] = []

    async def graceful() -> None:
        while not runner.started and not serving.done():  # a signal during start: let it finish
            await asyncio.sleep(0.1)
        if runner.started:
            await runner.astop()

    def stop() -> None:
        if not stopping:
            stopping.append(loop.create_task(graceful()))

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    ready()
    follow_up = asyncio.ensure_future(after) if after is not None else None
    try:
        await serving
    finally:
        if follow_up is not None and not follow_up.done():
            follow_up.cancel()


def _desk(settings: Settings, port: int, say: Say) -> prefect_server.LocalDesk | None:
    """The desk to start beside Prefect; without a key to sign its links it is left out, with a
    note."""
    if settings.signing_key() is None:
        say("desk: not started: no secret key to sign its links; run `lotse init` (it writes "
            f"{settings.secret_key_file}) or set LOTSE_SECRET_KEY; --no-desk leaves it out")
        return None
    # Links in messages (made by the flow runs this process starts) point to where the desk is.
    os.environ["LOTSE_DESK_PORT"] = str(port)
    return prefect_server.LocalDesk(settings.desk_host, port, settings.home.resolve())


def _free(desk: prefect_server.LocalDesk | None) -> None:
    """Refuse before anything starts when the desk's port is taken."""
    if desk is not None and prefect_server.port_taken(desk.port, desk.host):
        raise Refused(f"the desk's port {desk.port} is in use (is `lotse up` or `lotse desk` already "
                      "running?); stop it, choose another --desk-port, or leave the desk out with --no-desk")


@contextlib.contextmanager
def _beside(desk: prefect_server.LocalDesk | None, say: Say, *, demo: bool = False) -> Iterator[None]:
    """The desk runs while the body does, and stops after it (before the Prefect server)."""
    if desk is None:
        yield
        return
    desk.start()
    try:
        desk.wait_healthy(timeout=60)
        say(f"desk: {desk.url} (log {desk.log})")
        if demo:
            from lotse.tasks.demo import COORDINATOR_ID

            say(f"demo: sign in to the desk as its coordinator with the link that "
                f"`lotse sign-in {COORDINATOR_ID}` prints (the demo's organisations have no mail routes)")
        yield
    finally:
        say("stopping the desk ...")
        desk.stop(grace=10)


def _host(given: str | None, settings: Settings) -> str:
    """`--host`, else LOTSE_PREFECT_HOST; one that is no address is bad input."""
    if given is None:
        return settings.prefect_host
    try:
        return hosts.check(given)
    except ValueError as exc:
        raise BadInput(f"--host: {exc}") from None


def _require(api: str, problem: str) -> None:
    if not prefect_server.healthy(api):
        raise NotReady(f"{problem}: {api}")


def _stop_on_sigterm() -> None:
    """SIGTERM before serving starts unwinds like Ctrl-C (the runner installs its own later)."""

    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


@contextlib.contextmanager
def _only_one(home: Path) -> Iterator[IO[str]]:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, as `lotse init` makes it
    path = home / "up.lock"
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            pid = lock.read().strip() or "?"
            raise Refused(f"`lotse up` is already running for {home.resolve()} (pid {pid}); "
                          "stop it first (Ctrl-C, or kill that pid)") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            yield lock
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock, fcntl.LOCK_UN)

"""Serving the desk: uvicorn, meant to sit behind a reverse proxy that ends TLS.

The server's log names no one. Uvicorn's own access log is off (it writes the query string and
the client's address); ours writes the method, the path with every token replaced by `<token>`,
never a query string, the status and the duration. An error escaping the application is logged
by its kind and place only: its message might hold a value from a form.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from lotse.config.settings import Settings
from lotse.states.errors import Refused

access = logging.getLogger("lotse.desk.access")
log = logging.getLogger("lotse.desk")

Say = Callable[[str], None]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Path segments that carry a secret: what follows `/a/`, and anything shaped like a signed token.
_AFTER = {"a"}
_SIGNED = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_LONG = 40


def shown_path(path: str) -> str:
    """A request's path as the log may show it: tokens replaced by `<token>`."""
    parts = path.split("/")
    shown = []
    for index, part in enumerate(parts):
        secret = part and ((index == 2 and parts[1] in _AFTER) or _SIGNED.fullmatch(part)
                           or len(part) > _LONG)
        shown.append("<token>" if secret else part)
    return "/".join(shown)


class AccessLog:
    """ASGI middleware: one line per request, naming no one (see the module's docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:  # the page is sent (or not); the traceback stays out of the log
            log.error("%s at %s", type(exc).__name__, _where(exc))
            if status == 0:
                await _plain_500(send)
            status = status or 500
        finally:
            took = (time.perf_counter() - started) * 1000
            access.info("%s %s %s %.0f ms", scope.get("method", "?"), shown_path(scope.get("path", "")),
                        status or "-", took)


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    code = tb.tb_frame.f_code
    return f"{code.co_filename}:{tb.tb_lineno} ({code.co_name})"


async def _plain_500(send: Any) -> None:
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": b"Internal Server Error"})


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to the address; `Refused` in one line when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and an
    # accepted socket inherits it. Without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        raise Refused(f"port {port} on {host} {why}: is the desk already running? Stop it, or choose "
                      "another --port (LOTSE_DESK_PORT)") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def server(app: Any, *, log_level: str = "info") -> Any:
    """An uvicorn server for the desk's app (run it with `.run(sockets=[listen(...)])`)."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # Ctrl-C and SIGTERM stop the desk the graceful way, and that is a clean exit (uvicorn
            # would raise the signal again once stopped). In a thread (tests) signals are left alone.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            before = {signum: signal.signal(signum, self.handle_exit) for signum in STOP_SIGNALS}
            try:
                yield
            finally:
                for signum, handler in before.items():
                    signal.signal(signum, handler)

    config = uvicorn.Config(
        AccessLog(app), proxy_headers=True, access_log=False, log_config=None, log_level=log_level,
        server_header=False, lifespan="off",
    )
    return Server(config)


def log_to_stderr() -> None:
    """The desk's lines (and uvicorn's own, start and stop) on stderr, with their time."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("lotse", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


def serve(settings: Settings, host: str, port: int, *, say: Say = print) -> None:
    """Serve the desk until Ctrl-C or SIGTERM. Refuses before it binds: no secret key, no database."""
    from lotse.desk.app import create_app

    if settings.public_url is None:  # links the desk makes point to where it listens
        settings = settings.model_copy(update={"desk_host": host, "desk_port": port})
    app = create_app(settings)
    sock = listen(host, port)
    log_to_stderr()
    say(f"desk: http://{host}:{port} (links point to {settings.desk_url})")
    try:
        server(app).run(sockets=[sock])
    finally:
        sock.close()


@contextlib.contextmanager
def in_thread(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """The app under uvicorn on a free port, in a thread of this process, until the block ends
    (for tests and benchmarks); yields its address."""
    sock = listen(host, 0)
    running = server(app, log_level="warning")
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the desk did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)
        sock.close()

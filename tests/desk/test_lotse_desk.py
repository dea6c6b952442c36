"""`lotse desk` as a real subprocess: it answers on its port, serves an answer link, stops cleanly
on SIGTERM, and its log names neither the token nor the person; a taken port or a missing key is
one error line."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from lotse.notifications import answer_links
from lotse.states import store
from lotse.tasks.context import Context
from tests.conftest import LOTSE, run_lotse
from tests.desk.conftest import KEY, csrf_of, in_arrival
from tests.notifications.conftest import free_port


def test_lotse_desk_serves_a_link_and_its_log_names_no_token_and_no_one(
    alliance: Context, home: Path, tmp_path: Path,
) -> None:
    ref = in_arrival(alliance)
    with alliance.db.reading() as session:
        entered = store.find_case(session, ref).stage_entered_at
    # The desk runs on the real clock: the link is made now.
    link = answer_links.new(ref, "item", "landlord_confirmation", "wohnbau-nord", entered,
                            dt.datetime.now(dt.UTC), 30)
    token = answer_links.token(link, KEY.encode())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "PREFECT_API_URL"))}
    env.update(LOTSE_HOME=str(home), LOTSE_SECRET_KEY=KEY)
    out, err = tmp_path / "desk.out", tmp_path / "desk.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        desk = subprocess.Popen([*LOTSE, "desk", "--port", str(port)], stdout=stdout, stderr=stderr,
                                stdin=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert desk.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "the desk did not answer"
                time.sleep(0.1)
        with httpx.Client(timeout=10) as client:
            form = client.get(f"{base}/a/{token}?from=mail")
            done = client.post(f"{base}/a/{token}", data={"csrf": csrf_of(form.text)})
    finally:
        desk.send_signal(signal.SIGTERM)
        code = desk.wait(timeout=30)

    assert (health.status_code, health.text) == (200, "ok")
    assert form.status_code == 200 and "Maricel" in form.text
    assert done.status_code == 200
    assert code == 0
    assert out.read_text().startswith(f"desk: {base}")
    log = err.read_text()
    assert "GET /a/<token> 200" in log and "POST /a/<token> 200" in log
    assert token not in log and token.split(".")[0] not in log and token.split(".")[1] not in log
    assert link.id not in log  # nor the link's id, by which link_uses would name it
    assert "Maricel" not in log and "Dalisay" not in log and "from=mail" not in log
    assert "Traceback" not in log


def test_a_port_in_use_is_one_error_line(alliance: Context, home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run_lotse(home, "desk", "--port", str(port), env={"LOTSE_SECRET_KEY": KEY})

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use: is the desk already running? Stop it, or choose "
        "another --port (LOTSE_DESK_PORT)"]


def test_without_a_secret_key_the_desk_does_not_start(alliance: Context, home: Path) -> None:
    refused = run_lotse(home, "desk", "--port", str(free_port()))

    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: no secret key: run `lotse init`")

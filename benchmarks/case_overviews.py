"""Benchmark: publishing case overviews (the artifacts `case-<ref>`) to a local Prefect server.

On a fresh SQLite database with a cohort of 10,000 new cases (enrolled without Prefect, so none is
published yet), measures:

- finding the missing and stale overviews (`overviews.stale`, the query `pipeline-report` runs);
- reading and rendering all 10,000 (`case_views.views` + `case_overview.render`), no network;
- publishing all 10,000 in one batch as `pipeline-report` or an enrolment does, at 8 requests at once;
- the floor beside it: 10,000 bare markdown artifacts of one line through the same client, which is
  what Prefect's server itself costs per artifact;
- one `lotse case done` on the command line with PREFECT_API_URL set, against the same command
  without it (the change alone): what publishing adds to a change.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from enrol_cohort import alliance, write_cohort  # the same invented cohort

ROWS = 10_000
CONCURRENCY = int(os.environ.get("CONCURRENCY", 0)) or None  # to try another; default: Lotse's
CLI_REPEATS = 7


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(home: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lotse.flows.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "LOTSE_HOME": str(home), **env}, timeout=120)
    took = time.perf_counter() - started
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
    return took


def main() -> int:
    from lotse.config.settings import Settings
    from lotse.flows.server import LocalServer
    from lotse.tasks import case_views, cohort_import, overviews
    from lotse.tasks.case_overview import CaseView
    from lotse.tasks.context import Context

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        home = tmp / "home"
        cohort = tmp / "cohort.csv"
        write_cohort(cohort, ROWS)
        alliance(home)
        ctx = Context.from_settings(Settings(home=home))
        assert len(cohort_import.enrol(ctx, cohort).enrolled) == ROWS

        started = time.perf_counter()
        missing = overviews.stale(ctx)
        stale_s = time.perf_counter() - started
        assert len(missing) == ROWS

        started = time.perf_counter()
        views: list[CaseView] = []
        for start in range(0, ROWS, overviews.CHUNK):
            views += case_views.views(ctx, ids=missing[start:start + overviews.CHUNK])
        size = sum(len(overviews.rendered(ctx, view).markdown) for view in views)
        render_s = time.perf_counter() - started

        server = LocalServer(free_port(), tmp / "prefect")
        server.start()
        try:
            server.wait_healthy()
            api = overviews.PrefectApi(server.api)
            started = time.perf_counter()
            at_once = CONCURRENCY or overviews.CONCURRENCY
            done = overviews.publish_stale(ctx, api, timeout=overviews.BULK_TIMEOUT_S, concurrency=at_once)
            publish_s = time.perf_counter() - started
            assert len(done.published) == ROWS and not done.failed, done.problem
            assert overviews.stale(ctx) == []

            bare = [overviews.Published(view, f"bare-{view.case_id}", "x", "") for view in views]
            started = time.perf_counter()
            with overviews._Poster(api, at_once, None, None, overviews.BULK_TIMEOUT_S) as poster:
                floor = poster.post(bare)
            floor_s = time.perf_counter() - started
            assert not floor.failed, floor.problem

            ref = views[0].case.ref
            ticks = [("employment_contract",), ("employment_contract", "--undo")]
            without = [cli(home, {}, "case", "done", ref, *ticks[n % 2], "--by", "koord")
                       for n in range(CLI_REPEATS)]
            with_api = [cli(home, {"PREFECT_API_URL": server.api}, "case", "done", ref, *ticks[n % 2],
                            "--by", "koord") for n in range(CLI_REPEATS)]
        finally:
            server.stop()
        ctx.db.dispose()

    print(f"case overviews, {ROWS} new cases (SQLite, a local Prefect server on SQLite, "
          f"{at_once} requests at once):")
    print(f"  missing or stale found:  {stale_s:6.2f} s")
    print(f"  read and rendered:       {render_s:6.2f} s  ({ROWS / render_s:,.0f}/s, "
          f"{size / ROWS / 1024:.1f} KiB each)")
    print(f"  published in one batch:  {publish_s:6.2f} s  ({ROWS / publish_s:,.0f}/s)")
    print(f"  floor: bare artifacts:   {floor_s:6.2f} s  ({ROWS / floor_s:,.0f}/s, one line each, "
          "same client)")
    added = statistics.median(with_api) - statistics.median(without)
    print(f"  `lotse case done`:       {statistics.median(with_api):6.2f} s with PREFECT_API_URL, "
          f"{statistics.median(without):.2f} s without (median of {CLI_REPEATS}; publishing adds "
          f"{added:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: answering from the message (issue 10), each figure beside its floor in the same run.

1. Writing the messages of a transition with answer links (a token signed per item and fact)
   against the same transition without a key (no links): what the links add to every change.
2. One answer by link at the desk, over real HTTP to uvicorn on loopback: the GET of the page
   and the POST that ticks the item, against the floor of the same tick through
   `casework.work` directly (one transaction, no HTTP, no token), and an HTTP round trip to
   the desk's `/health`.

CPU time (this process: the client and the server thread) beside wall time. SQLite file in a
temporary folder; the alliance and its cases are made by casework as the tests make them.
"""

from __future__ import annotations

import contextlib
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from lotse.config.settings import Settings
from lotse.desk import server
from lotse.desk.app import create_app
from lotse.desk.security import RateLimit
from lotse.notifications import answer_links
from lotse.states import schema, store
from lotse.tasks import casework, directory
from lotse.tasks.context import Context

CASES = 150
ACTORS = [
    ("koord", "Koordinierungsstelle", ["coordinator"], None),
    ("klinik-nord", "Klinik Nord", ["employer"], "SE-Nord"),
    ("vermittlung", "Vermittlung Brücke", ["agency"], "SE-Nord"),
    ("abh-nord", "Ausländerbehörde Nord", ["foreigners_office"], "SE-Nord"),
    ("wohnbau-nord", "Wohnbau Nord", ["housing"], "SE-Nord"),
    ("beratung", "Migrationsberatung", ["counsellor"], "SE-Nord"),
]


def context(folder: Path, key: str | None) -> Context:
    settings = Settings(home=folder, secret_key=key, _env_file=None)  # type: ignore[call-arg]
    ctx = Context.from_settings(settings, check_schema=False)
    schema.upgrade(ctx.db.engine)
    for actor_id, name, roles, region in ACTORS:
        directory.add_actor(ctx, actor_id, name=name, roles=roles, region=region,
                            email=f"{actor_id}@example.org")
    return ctx


def in_visa(ctx: Context, n: int) -> list[str]:
    refs = []
    for i in range(n):
        ref = casework.open_case(ctx, given_name=f"Person{i}", family_name="Beispiel", nationality="PHL",
                                 employer="klinik-nord")
        casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
        casework.advance(ctx, ref, "apply_visa", by="klinik-nord")
        casework.tick(ctx, ref, ["visa_granted", "housing_confirmed"], by="koord")
        refs.append(ref)
    return refs


def arrive(ctx: Context, ref: str) -> None:
    casework.advance(ctx, ref, "arrive", by="klinik-nord",
                     facts={"arrival_date": "2026-03-03", "visa_valid_until": "2026-09-30"})


def timed(work: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def each(items: list[str], work: Callable[[str], None]) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `work` per item."""
    runs = [timed(lambda item=item: work(item)) for item in items]
    return (statistics.median(w for w, _ in runs) * 1000, statistics.median(c for _, c in runs) * 1000)


def line(label: str, figure: tuple[float, float], floor: tuple[float, float] | None = None) -> None:
    ratio = f"  {figure[0] / floor[0]:5.2f}x wall  {figure[1] / floor[1]:5.2f}x cpu" if floor else ""
    print(f"{label:<58} {figure[0]:7.2f} ms wall {figure[1]:7.2f} ms cpu{ratio}")


@contextlib.contextmanager
def desk_served(ctx: Context) -> Iterator[str]:
    app = create_app(ctx.settings, ctx=ctx)
    app.state.desk.limits["token"] = RateLimit(10**6, 60)  # one client answering many links
    with server.in_thread(app) as url:
        yield url


def main() -> None:
    key = "benchmark-key-" + "b" * 40
    plain = context(Path(tempfile.mkdtemp(prefix="lotse-bench-links-")), None)
    linked = context(Path(tempfile.mkdtemp(prefix="lotse-bench-links-")), key)
    print(f"{CASES} cases per figure; SQLite; medians per case")

    print("1. the transition `arrive` with its messages (4 recipients)")
    floor = each(in_visa(plain, CASES), lambda ref: arrive(plain, ref))
    line("   without a key: no answer links (floor)", floor)
    with_links = each(in_visa(linked, CASES), lambda ref: arrive(linked, ref))
    line("   with answer links in every message", with_links, floor)

    print("2. one answer by link: the housing company reports the landlord's confirmation")
    refs = in_visa(linked, 2 * CASES)
    for ref in refs:
        arrive(linked, ref)
    direct, by_link = refs[:CASES], refs[CASES:]

    def tick(ref: str) -> None:
        casework.work(linked, ref, by="wohnbau-nord", items=["landlord_confirmation"], via="link")

    tick_floor = each(direct, tick)
    line("   floor: casework.work, the same tick, no HTTP, no token", tick_floor)
    with desk_served(linked) as url, httpx.Client(timeout=10) as client:

        def healthy(_ref: str) -> None:
            client.get(f"{url}/health").raise_for_status()

        health = each(by_link, healthy)
        line("   floor: HTTP round trip to the desk's /health", health)
        links = {}
        with linked.db.reading() as session:
            for ref in by_link:
                entered = store.find_case(session, ref).stage_entered_at
                link = answer_links.new(ref, "item", "landlord_confirmation", "wohnbau-nord", entered,
                                        linked.clock(), 30)
                links[ref] = answer_links.url(url, answer_links.token(link, key.encode()))
        pages: dict[str, str] = {}

        def look(ref: str) -> None:
            page = client.get(links[ref])
            page.raise_for_status()
            pages[ref] = page.text

        def confirm(ref: str) -> None:
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', pages[ref])
            assert csrf is not None
            done = client.post(links[ref], data={"csrf": csrf.group(1)})
            assert done.status_code == 200, done.text

        line("   GET of the link's page (changes nothing)", each(by_link, look), health)
        line("   POST of the confirmation (the tick, audited)", each(by_link, confirm), tick_floor)
    with linked.db.reading() as session:
        done = sum(1 for ref in by_link if "landlord_confirmation" in store.load_case(
            session, store.find_case(session, ref), linked.catalog.get("pflege")).done)
    print(f"answered by link: {done} of {len(by_link)}")
    sys.exit(0 if done == len(by_link) else 1)


if __name__ == "__main__":
    main()

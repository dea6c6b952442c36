"""Benchmark: `lotse case list` on a scale database (benchmarks/scale.py; goal: streamed, under
100 MB peak at 300,000 cases), each run in a fresh process beside its floor in the same run: the
same rows read with sqlite3 and written with json.dumps, row by row.

    .venv/bin/python benchmarks/case_list.py [--cases N] [--home FOLDER]

Without --home it builds a database of N cases (default 100,000) through Lotse's own bulk path
first; with --home it measures the one there (e.g. /tmp/scale/300000 of `scale.py --into
/tmp/scale`; read only). Prints wall time, CPU time and peak memory of each run and the ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import child
import scale

GOAL_MB = 100
# The floor: the same columns in the same order, each row a JSON object, the list streamed.
FLOOR = """
import json, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
out = sys.stdout
rows = connection.execute(
    "SELECT ref, process, process_version, stage, version, employer_id, region, stage_entered_at "
    "FROM cases WHERE id > ? ORDER BY id LIMIT ?", (int(sys.argv[2]), int(sys.argv[3])))
keys = ("ref", "process", "process_version", "stage", "version", "employer", "region", "stage_entered_at")
out.write("[")
for n, row in enumerate(rows):
    out.write(("\\n" if n == 0 else ",\\n") + json.dumps(dict(zip(keys, row)), indent=2))
out.write("\\n]\\n")
"""


def floor(home: Path, after_id: int, limit: int) -> child.Run:
    return child.floor(FLOOR, home, str(after_id), str(limit))


def middle(home: Path) -> tuple[str, int, int]:
    """A reference in the middle of the list (by case id), its id, and how many cases there are."""
    with sqlite3.connect(home / "lotse.db") as connection:
        count = connection.execute("SELECT count(*) FROM cases").fetchone()[0]
        ref, case_id = connection.execute("SELECT ref, id FROM cases ORDER BY id LIMIT 1 OFFSET ?",
                                          (count // 2,)).fetchone()
    return ref, case_id, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--home", type=Path, default=None, help="a scale database's LOTSE_HOME (read only)")
    args = parser.parse_args()
    folder = None
    if args.home is None:
        folder = Path(tempfile.mkdtemp(prefix="lotse-case-list-"))
        home = folder / str(args.cases)
        home.mkdir()
        wall, cpu = scale.build(home, args.cases)
        print(f"built {args.cases:,} cases through `lotse enrol`'s path: {wall:.1f} s wall, {cpu:.1f} s CPU")
    else:
        home = args.home
    try:
        ref, case_id, count = middle(home)
        out = Path(tempfile.mkdtemp(prefix="lotse-case-list-out-"))
        try:
            whole_floor = floor(home, 0, count)
            whole = child.lotse(home, "case", "list", "--json", stdout=out / "list.json")
            listed = json.loads((out / "list.json").read_text(encoding="utf-8"))
            right = len(listed) == count and listed[count // 2]["ref"] == ref
        finally:
            shutil.rmtree(out)
        text = child.lotse(home, "case", "list")
        page_floor = floor(home, case_id, 1_000)
        page = child.lotse(home, "case", "list", "--json", "--limit", "1000", "--after", ref)
    finally:
        if folder is not None:
            shutil.rmtree(folder)
    print(f"case list, {count:,} cases (SQLite; each in a fresh process, starting Python included; "
          f"goal: under {GOAL_MB} MB peak):")
    print(f"  floor, sqlite3 + json.dumps, all:      {whole_floor.line()}")
    print(f"  lotse case list --json:                {whole.line()}  {whole.ratio(whole_floor)}  "
          f"{'ok' if whole.peak_mb < GOAL_MB else 'MISSED'}")
    print(f"  lotse case list (text):                {text.line()}  {text.ratio(whole_floor)}  "
          f"{'ok' if text.peak_mb < GOAL_MB else 'MISSED'}")
    print(f"  floor, one page of 1,000 after a case: {page_floor.line()}")
    print(f"  lotse case list --limit 1000 --after:  {page.line()}  {page.ratio(page_floor)}")
    print(f"  lists every case once, in order: {'ok' if right else 'WRONG'}")
    met = right and whole.peak_mb < GOAL_MB and text.peak_mb < GOAL_MB
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the commands a reporter and an editor run on a big case, each in a child process:
wall and CPU time and peak memory (max RSS, the figure `/usr/bin/time -v` prints), beside its
aim and a floor measured in the same run.

    .venv/bin/python bench/commands_bench.py                  # 1,000,000 visits
    .venv/bin/python bench/commands_bench.py --visits 100000  # make bench-quick

Floors: `investigate --version` (starting Python and importing the CLI: every command pays it)
and `sqlite-utils rows … --csv` of the same visits (the least a full listing or export costs).
The workspace holds no ANALYZE statistics, as real ones never do (the plans then are the ones
tests/test_query_plans.py checks).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _workspace import BIN, bench_folder, build_visits, run_child

# command, aim in seconds (None: none set), aim for peak MB
COMMANDS = [
    (["case", "list"], None, 300),
    (["case", "show", "bench"], 0.5, 300),
    (["visit", "list", "--case", "bench", "--limit", "20"], 0.3, 300),
    (["review", "queue"], 0.3, 300),
    (["checklist", "bench"], 2.0, 300),
    (["fieldwork", "bench"], 2.0, 300),
    (["visit", "list", "--case", "bench"], None, 300),
    (["review", "queue", "--all"], None, 300),
    (["export", "bench", "--format", "csv", "--out", "{tmp}/export"], None, 300),
    (["bundle", "bench", "--out", "{tmp}/bench.zip"], None, 300),
    (["verify"], None, 300),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with bench_folder("investigate-commands-", args.keep) as folder:
        ws = folder / "ws"
        t = time.perf_counter()
        build_visits(ws, args.visits, findings=True)
        import sqlite3

        with sqlite3.connect(ws / "investigate.db") as db:  # as a workspace is: no statistics
            db.execute("drop table if exists sqlite_stat1")
        print(f"built {args.visits:,} visits (with their findings) in {time.perf_counter() - t:.0f} s\n")
        inv = str(BIN / "investigate")
        start = run_child([inv, "--version"])
        floor = run_child([str(BIN / "sqlite-utils"), "rows", str(ws / "investigate.db"), "visits", "--csv"])
        print(f"{'':<52}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}   aim")
        print(f"{'floor: investigate --version (start-up)':<52}{start.wall:>8.2f}{start.cpu:>8.2f}{start.peak_mb:>9.0f}")
        print(f"{'floor: sqlite-utils rows visits --csv':<52}{floor.wall:>8.2f}{floor.cpu:>8.2f}{floor.peak_mb:>9.0f}")
        for cmd, aim_s, aim_mb in COMMANDS:
            cmd = [c.format(tmp=folder) for c in cmd]
            run = run_child([inv, "-w", str(ws), *cmd])
            aim = " and ".join(x for x in (f"< {aim_s} s" if aim_s else "", f"< {aim_mb} MB") if x)
            ok = (aim_s is None or run.wall < aim_s) and run.peak_mb < aim_mb
            print(f"{'investigate ' + ' '.join(cmd).replace(str(folder), '…'):<52}{run.wall:>8.2f}{run.cpu:>8.2f}"
                  f"{run.peak_mb:>9.0f}   {aim} {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()

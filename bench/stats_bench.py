"""Benchmark: `investigate stats CASE --by chain` over 1,000,000 visits (aim: under 1 s).

    .venv/bin/python bench/stats_bench.py [--visits 1000000]

Builds a workspace with one case, 20,000 stores in 12 chains and the visits (through
Workspace.insert_many, audited like any import; the build is timed apart), then times the CLI
in a child process several times and prints the best and the median.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _workspace import BIN, build_visits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="investigate-stats-"))
    try:
        t = time.perf_counter()
        build_visits(folder / "ws", args.visits)
        print(f"built {args.visits:,} visits in {time.perf_counter() - t:.1f} s")
        cmd = [str(BIN / "investigate"), "-w", str(folder / "ws"), "stats", "bench", "--by", "chain", "--format", "json"]
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        startup = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([str(BIN / "investigate"), "--help"], check=True, stdout=subprocess.DEVNULL)
            startup.append(time.perf_counter() - start)
        print(f"stats --by chain over {args.visits:,} visits: best {min(times):.2f} s, median "
              f"{statistics.median(times):.2f} s (process start included; `investigate --help` alone: "
              f"{min(startup):.2f} s)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: `investigate stats CASE --by chain` over 1,000,000 visits (aim: under 1 s).

    .venv/bin/python bench/stats_bench.py [--visits 1000000]

Builds a workspace with one case, 20,000 stores in 12 chains and the visits (through
Workspace.insert_many, audited like any import; the build is timed apart), then times the CLI
in a child process several times and prints the best and the median.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from investigate.cases import cases  # noqa: E402
from investigate.workspace import init_workspace, new_id  # noqa: E402

BIN = Path(sys.executable).parent


def build(root: Path, n_visits: int, n_stores: int = 20_000) -> None:
    rnd = random.Random(11)
    ws = init_workspace(root, timezone_name="Europe/Berlin")
    case = cases.create_case(ws, slug="bench", title="Bench", protocol="tobacco-minors")
    now = ws.now().isoformat()
    store_ids = [new_id() for _ in range(n_stores)]
    ws.insert_many("stores", ({"id": sid, "name": f"S{i}", "channel": "in_person", "chain": f"Chain {i % 12}",
                               "district": f"D{i % 9}", "created_at": now} for i, sid in enumerate(store_ids)))
    outcomes = ["violation", "compliant", "compliant", "compliant", "inconclusive"]

    def visits():
        for i in range(n_visits):
            outcome = rnd.choice(outcomes)
            yield {"case_id": case["id"], "store_id": store_ids[rnd.randrange(n_stores)], "protocol": "tobacco-minors",
                   "kind": "undercover", "visited_at": f"2026-10-{1 + i % 28:02d}T{10 + i % 9}:00:00+02:00",
                   "visited_date": f"2026-10-{1 + i % 28:02d}", "answers": json.dumps({"sale": outcome == "violation"}),
                   "outcome": outcome, "source": "bench", "created_at": now, "round": 1, "attempt": "completed",
                   "review_state": "approved"}

    ws.insert_many("visits", visits())
    ws.db.execute("analyze")
    ws.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="investigate-stats-"))
    try:
        t = time.perf_counter()
        build(folder / "ws", args.visits)
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

"""Shared by the benchmarks: a workspace with many visits, built fast through insert_many (one
transaction per table, every row audited like any import)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from investigate.cases import cases  # noqa: E402
from investigate.workspace import Workspace, init_workspace, new_id  # noqa: E402

BIN = Path(sys.executable).parent


def build_visits(root: Path, n_visits: int, *, n_stores: int = 20_000, seed: int = 11, slug: str = "bench",
                 ws: Workspace | None = None) -> dict:
    rnd = random.Random(seed)
    own = ws is None
    ws = ws or init_workspace(root, timezone_name="Europe/Berlin")
    case = cases.create_case(ws, slug=slug, title=f"Benchmark case {slug}", protocol="tobacco-minors",
                             jurisdiction="Berlin", legal_basis="JuSchG § 10", description="Generated.")
    now = ws.now().isoformat()
    store_ids = [new_id() for _ in range(n_stores)]
    ws.insert_many("stores", ({"id": sid, "name": f"Store {i}", "channel": "in_person", "chain": f"Chain {i % 12}",
                               "district": f"District {i % 9}", "address": f"Street {i}", "city": "Berlin",
                               "lat": 52.4 + rnd.random() * 0.2, "lon": 13.3 + rnd.random() * 0.3,
                               "created_at": now} for i, sid in enumerate(store_ids)))
    outcomes = ["violation", "compliant", "compliant", "compliant", "inconclusive"]

    def visits():
        for i in range(n_visits):
            outcome = rnd.choice(outcomes)
            day = 1 + i % 28
            yield {"case_id": case["id"], "store_id": store_ids[rnd.randrange(n_stores)], "protocol": "tobacco-minors",
                   "kind": "undercover", "visited_at": f"2026-10-{day:02d}T{10 + i % 9}:00:00+02:00",
                   "visited_date": f"2026-10-{day:02d}", "answers": json.dumps({"sale": outcome == "violation"}),
                   "outcome": outcome, "source": "bench", "created_at": now, "round": 1, "attempt": "completed",
                   "review_state": "approved"}

    ws.insert_many("visits", visits())
    ws.db.execute("analyze")
    if own:
        ws.close()
    return {"case": case, "store_ids": store_ids}


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    peak_mb: float  # max RSS, as /usr/bin/time -v reports it


def run_child(cmd: list[str], **kwargs) -> Run:
    """Wall time, CPU time and peak memory of one child process (os.wait4's rusage: the same
    figures ``/usr/bin/time -v`` prints). CPU time is what the benchmarks compare: on a shared
    machine it varies far less than wall time."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr.read().decode()[-3000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def measure(cmd: list[str], **kwargs) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    run = run_child(cmd, **kwargs)
    return run.wall, run.peak_mb

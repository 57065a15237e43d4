"""Benchmark: the provable log at a million entries (issue 12).

    .venv/bin/python bench/log_bench.py [--visits 1000000]

Builds a workspace of N visits (N + 20,000 audit entries), then measures, each in its own
process (wall time, and peak RSS from /usr/bin/time -v): `investigate verify` beside its floor — one
stream of the audit_log rows and one SHA-256 per row, nothing else — the first `checkpoint`
(builds the whole Merkle tree), a second one (incremental), and `prove` of one entry.
Aims: verify < 30 s and < 300 MB; an inclusion proof < 50 ms (in-process; the CLI figure
includes Python's start); a checkpoint < 1 s.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import re
import subprocess

from _workspace import BIN, build_visits

from investigate.proof import log
from investigate.store.workspace import Workspace

FLOOR = """
import hashlib, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
n = 0
for row in conn.execute("select seq, at, actor, action, table_name, row_id, row_hash, data, prev_hash, hash "
                        "from audit_log order by seq"):
    hashlib.sha256("\\x1f".join(str(v) for v in row).encode()).hexdigest()
    n += 1
print(n)
"""


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) as /usr/bin/time -v reports them: the child is forked
    from `time`, not from this large process, so its peak is its own."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return elapsed, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="investigate-log-"))
    try:
        t = time.perf_counter()
        build_visits(folder / "ws", args.visits)
        with Workspace(folder / "ws") as ws:
            entries = ws.db.execute("select count(*) from audit_log").fetchone()[0]
        print(f"built: {args.visits:,} visits, {entries:,} audit entries in {time.perf_counter() - t:.1f} s")
        inv = [str(BIN / "investigate"), "-w", str(folder / "ws")]
        rows = []
        # Alternate ours and the floor, twice, so that load on the machine hits both alike.
        for _ in range(2):
            rows.append(("floor: stream + SHA-256 per entry", *measure([str(BIN / "python"), "-c", FLOOR,
                                                                         str(folder / "ws" / "investigate.db")])))
            rows.append(("investigate verify (no checkpoint yet)", *measure(inv + ["verify"])))
        rows.append(("investigate checkpoint (first: builds the tree)", *measure(inv + ["checkpoint"])))
        rows.append(("investigate checkpoint (incremental)", *measure(inv + ["checkpoint"])))
        rows.append(("investigate verify (against its checkpoint)", *measure(inv + ["verify"])))
        rows.append((f"investigate prove {entries // 2} (process start included)",
                     *measure(inv + ["prove", str(entries // 2)])))
        with Workspace(folder / "ws") as ws:
            times = []
            for seq in (1, entries // 3, entries // 2, entries - 1):
                t = time.perf_counter()
                proof = log.inclusion(ws, seq)
                times.append(time.perf_counter() - t)
                assert proof["verified"]
        rows.append(("inclusion proof, in process (worst of 4)", max(times), 0.0))
        print(f"{'what':<52} {'seconds':>8} {'peak MB':>8}")
        for name, seconds, peak in rows:
            print(f"{name:<52} {seconds:>8.3f} {peak:>8.0f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

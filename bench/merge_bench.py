"""Benchmark: merge a bundle of 100,000 visits with 1,000 evidence files into a workspace of
1,000,000 visits.

    .venv/bin/python bench/merge_bench.py [--target 1000000] [--bundle 100000] [--files 1000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _workspace import BIN, build_visits, measure

from investigate.cases import evidence
from investigate.store.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", type=int, default=1_000_000)
    parser.add_argument("--bundle", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="investigate-merge-"))
    try:
        t = time.perf_counter()
        build_visits(folder / "target", args.target, slug="home")
        print(f"built the target: {args.target:,} visits in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        build_visits(folder / "reporter", args.bundle, slug="field", n_stores=5000, seed=5)
        with Workspace(folder / "reporter") as ws:
            ids = [r[0] for r in ws.db.execute("select id from visits limit ?", [args.files])]
            files = folder / "photos"
            files.mkdir()
            for i, vid in enumerate(ids):
                photo = files / f"IMG_{i:04d}.jpg"
                photo.write_bytes(b"\xff\xd8\xff" + f"photo {i} ".encode() * 200)
                evidence.add_evidence(ws, ws.get("visits", vid), [photo])
        print(f"built the reporter's workspace: {args.bundle:,} visits, {args.files:,} photos in "
              f"{time.perf_counter() - t:.1f} s")
        inv = str(BIN / "investigate")
        secs, mb = measure([inv, "-w", str(folder / "reporter"), "bundle", "field", "--out", str(folder / "field.zip")])
        print(f"bundle: {secs:.1f} s, peak {mb:.0f} MB, {(folder / 'field.zip').stat().st_size / 1e6:.0f} MB zip")
        secs, mb = measure([inv, "-w", str(folder / "target"), "merge", str(folder / "field.zip")])
        print(f"merge into {args.target:,} visits: {secs:.1f} s, peak {mb:.0f} MB")
        secs, _ = measure([inv, "-w", str(folder / "target"), "merge", str(folder / "field.zip")])
        print(f"merge again (nothing new): {secs:.1f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: merge a bundle of 100,000 visits with 1,000 evidence files into a workspace of
1,000,000 visits, beside its floor, then merge it again (nothing new).

    .venv/bin/python bench/merge_bench.py [--target 1000000] [--bundle 100000] [--files 1000]

Floor: the bundle's rows and audit entries read from the zip and inserted into a copy of the same
workspace through sqlite-utils, ``insert_all(..., ignore=True)`` table by table (`MERGE_FLOOR`):
the same rows and entries written, with none of a merge's checks (sums, chain, checkpoint, every
row against its entry, conflicts) and no audit entries of its own. Each merge and its floor run
one after the other on fresh copies of the target. Aim (issue 30): the merge streams its members,
peak under 300 MB; CPU is printed as a ratio to the floor. Exit status 1 when the aim is missed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from _workspace import BIN, bench_folder, build_visits, run_child

from investigate.cases import evidence
from investigate.store.workspace import Workspace

MERGE_FLOOR = """
import json, sys, zipfile, sqlite_utils
db = sqlite_utils.Database(sys.argv[1])
with zipfile.ZipFile(sys.argv[2]) as zf:
    origin = json.loads(zf.read("manifest.json"))["workspace_id"]
    for name in zf.namelist():
        if name.startswith("rows/") and name.endswith(".json"):
            rows = json.loads(zf.read(name))
            if rows:
                db[name[5:-5]].insert_all(rows, ignore=True)
    db["foreign_audit"].insert_all(({"origin": origin, **e} for e in json.loads(zf.read("audit.json"))), ignore=True)
"""
AIM_MB = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=1_000_000)
    parser.add_argument("--bundle", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with bench_folder("investigate-merge-", args.keep) as folder:
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
        bundle = folder / "field.zip"
        run = run_child([inv, "-w", str(folder / "reporter"), "bundle", "field", "--out", str(bundle)])
        print(f"bundle: {run.wall:.1f} s, {run.cpu:.1f} s CPU, peak {run.peak_mb:.0f} MB, "
              f"{bundle.stat().st_size / 1e6:.0f} MB zip\n")

        def fresh(name: str) -> Path:
            shutil.rmtree(folder / name, ignore_errors=True)
            shutil.copytree(folder / "target", folder / name)
            return folder / name

        ours, plain = fresh("ours"), fresh("plain")
        runs = {"merge": run_child([inv, "-w", str(ours), "merge", str(bundle)]),
                "floor": run_child([sys.executable, "-c", MERGE_FLOOR, str(plain / "investigate.db"), str(bundle)]),
                "merge again": run_child([inv, "-w", str(ours), "merge", str(bundle)]),
                "floor again": run_child([sys.executable, "-c", MERGE_FLOOR, str(plain / "investigate.db"),
                                          str(bundle)])}
        ok = True
        print(f"{'':<52}{'wall s':>8}{'CPU s':>8}{'peak MB':>8}{'ratio':>8}  aim")
        for label, floor_label in (("merge", "floor"), ("merge again", "floor again")):
            run, base = runs[label], runs[floor_label]
            met = run.peak_mb < AIM_MB
            ok &= met
            print(f"{f'investigate {label} into {args.target:,} visits':<52}{run.wall:>8.1f}{run.cpu:>8.1f}"
                  f"{run.peak_mb:>8.0f}{run.cpu / base.cpu:>7.2f}x  < {AIM_MB} MB {'ok' if met else 'MISSED'}")
            print(f"{f'{floor_label}: sqlite-utils insert_all, ignore=True':<52}{base.wall:>8.1f}{base.cpu:>8.1f}"
                  f"{base.peak_mb:>8.0f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: `investigate visit import` beside `sqlite-utils insert --csv` of the same file, in
CPU time, at several sizes; and into a workspace already holding many visits.

    .venv/bin/python bench/import_bench.py            # 50k, 100k, 200k, 400k, 1M; 100k into 1M
    .venv/bin/python bench/import_bench.py --quick    # 25k, 50k, 100k; 100k into 100k

Each size runs ours and the floor one after the other (alternating, so a busy machine slows
both alike) and prints CPU µs per row, the ratio, wall seconds and peak memory (max RSS of the
child, the figure `/usr/bin/time -v` prints). Aims (issue 30; issue 16's were 2x and 1.3x):
within 1.5x of sqlite-utils at every size, CPU per row at the largest size within 1.2x of the
smallest, into a full workspace within 1.15x of into a fresh one, peak under 300 MB. Each row
says whether it met its aim; the exit status is 1 when any missed.

Our import does more than sqlite-utils: it validates every row against the protocol, derives
outcomes and findings by the rules, and writes a hash-chained audit row per record.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _workspace import BIN, bench_folder, run_child

CHAINS = ["Späti24", "KioskCo", "Tabak & Mehr", "Nachtladen", None, None]
DISTRICTS = ["Neukölln", "Kreuzberg", "Wedding", "Mitte", "Friedrichshain"]
N_STORES = 20_000


def write_stores(path: Path, n_stores: int, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fp:
        w = csv.writer(fp)
        w.writerow(["name", "chain", "licence_number", "address", "city", "district", "lat", "lon"])
        for i in range(n_stores):
            w.writerow([f"Store {i} „Ecke“", rnd.choice(CHAINS) or "", f"L-{i:06d}",
                        f"Straße {i % 500} Nr. {i}", "Berlin", rnd.choice(DISTRICTS),
                        f"{52.4 + rnd.random() * 0.2:.6f}", f"{13.3 + rnd.random() * 0.3:.6f}"])
    return path


def write_visits(path: Path, n_visits: int, n_stores: int, seed: int = 7) -> Path:
    """Visits as a newsroom's spreadsheet holds them: no id column, so the import recognises a
    re-run by a key over each row's values."""
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fp:
        w = csv.writer(fp)
        w.writerow(["store", "tester", "visited_at", "product", "sale", "id_check", "id_carried"])
        for i in range(n_visits):
            day = 1 + i % 28
            w.writerow([f"L-{rnd.randrange(n_stores):06d}", f"T-{i % 4}", f"2026-10-{day:02d} {10 + i % 9}:{i % 60:02d}",
                        rnd.choice(["cigarettes", "e-cigarette", "snus"]), "yes" if rnd.random() < 0.2 else "no",
                        rnd.choice(["none", "glance", "scanned", "asked_age_only"]), "yes"])
    return path


def template(folder: Path, stores: Path) -> Path:
    """A workspace with the stores, four testers and the case: copied for every measurement. The
    testers' consent predates the visits (October 2026): by default it is dated today."""
    inv = str(BIN / "investigate")
    ws = folder / "template"
    subprocess.run([inv, "init", str(ws), "--timezone", "Europe/Berlin"], check=True, stdout=subprocess.DEVNULL)
    for slug in ("bench", "held"):
        subprocess.run([inv, "-w", str(ws), "case", "new", slug, "--title", slug.title(), "--protocol",
                        "tobacco-minors"], check=True, stdout=subprocess.DEVNULL)
    for i in range(4):
        subprocess.run([inv, "-w", str(ws), "tester", "add", f"T-{i}", "--birth-month", "2010-01", "--consent",
                        "--consent-held-by", "bench safe", "--consent-date", "2026-01-01"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([inv, "-w", str(ws), "store", "import", str(stores)], check=True, stdout=subprocess.DEVNULL)
    return ws


def ours(ws_from: Path, work: Path, visits: Path, case: str = "bench"):
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ws_from, work)
    return run_child([str(BIN / "investigate"), "-w", str(work), "visit", "import", str(visits), "--case", case])


def floor(work: Path, visits: Path):
    db = work / "plain.db"
    db.unlink(missing_ok=True)
    return run_child([str(BIN / "sqlite-utils"), "insert", str(db), "visits", str(visits), "--csv"])


AIM_FLOOR, AIM_LINEAR, AIM_FULL, AIM_MB = 1.5, 1.2, 1.15, 300


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def met(run, base, aim: float) -> bool:
    """Whether ``run`` took at most ``aim`` times the CPU of ``base``, under the memory aim."""
    return run.cpu / base.cpu <= aim and run.peak_mb < AIM_MB


def row(label: str, n: int, run, base=None, aim: float | None = None) -> str:
    """One line of the table; with ``aim``, whether ``run`` met it against ``base``."""
    per = run.cpu / n * 1e6
    ratio = f"{run.cpu / base.cpu:.2f}x" if base else ""
    text = f"{label:<44}{n:>10,}{per:>9.0f}{ratio:>8}{run.wall:>9.1f}{run.peak_mb:>9.0f}"
    if aim is not None:
        text += f"  <= {aim}x, < {AIM_MB} MB {verdict(met(run, base, aim))}"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda t: [int(x) for x in t.split(",")],
                        default=[50_000, 100_000, 200_000, 400_000, 1_000_000])
    parser.add_argument("--held", type=int, default=1_000_000, help="visits already in the workspace")
    parser.add_argument("--into", type=int, default=100_000, help="visits imported into that workspace")
    parser.add_argument("--quick", action="store_true", help="25k, 50k, 100k; 100k into 100k")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.held = [25_000, 50_000, 100_000], 100_000
    with bench_folder("investigate-import-bench-", args.keep) as folder:
        t = time.perf_counter()
        stores = write_stores(folder / "stores.csv", N_STORES)
        files = {n: write_visits(folder / f"visits-{n}.csv", n, N_STORES) for n in sorted({*args.sizes, args.into})}
        held = write_visits(folder / "held.csv", args.held, N_STORES, seed=8)
        base = template(folder, stores)
        print(f"generated {N_STORES:,} stores and the visit files, imported the stores: "
              f"{time.perf_counter() - t:.1f} s\n")
        print(f"{'':<44}{'rows':>10}{'µs CPU':>9}{'ratio':>8}{'wall s':>9}{'peak MB':>9}")
        fresh, ok = {}, True
        for n in args.sizes:
            ours_run = ours(base, folder / "work", files[n])
            floor_run = floor(folder, files[n])
            fresh[n] = ours_run
            ok &= met(ours_run, floor_run, AIM_FLOOR)
            print(row("investigate visit import", n, ours_run, floor_run, AIM_FLOOR))
            print(row("sqlite-utils insert --csv (floor)", n, floor_run))
        small, large = min(args.sizes), max(args.sizes)
        linear = (fresh[large].cpu / large) / (fresh[small].cpu / small)
        ok &= linear <= AIM_LINEAR
        print(f"\nCPU per row at {large:,} / at {small:,}: {linear:.2f}x (aim: within {AIM_LINEAR}x) "
              f"{verdict(linear <= AIM_LINEAR)}")

        t = time.perf_counter()
        full = folder / "full"
        ours(base, full, held, case="held")
        print(f"\nbuilt a workspace holding {args.held:,} visits in {time.perf_counter() - t:.1f} s")
        into_full = ours(full, folder / "work", files[args.into])
        into_fresh = fresh.get(args.into) or ours(base, folder / "work", files[args.into])
        print(row(f"import {args.into:,} into {args.held:,} held", args.into, into_full, into_fresh))
        print(row(f"import {args.into:,} into a fresh workspace", args.into, into_fresh))
        full_ok = met(into_full, into_fresh, AIM_FULL)
        ok &= full_ok
        print(f"into a full workspace / into a fresh one: {into_full.cpu / into_fresh.cpu:.2f}x "
              f"(aim: within {AIM_FULL}x, < {AIM_MB} MB) {verdict(full_ok)}")
        size = (folder / "work" / "investigate.db").stat().st_size / 1e6
        print(f"workspace database after that: {size:.0f} MB (visits, findings and one audit row per record)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

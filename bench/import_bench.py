"""Benchmark: import 100,000 stores and 1,000,000 visits through the CLI, beside
`sqlite-utils insert --csv` of the same files on the same machine.

    .venv/bin/python bench/import_bench.py            # full size
    .venv/bin/python bench/import_bench.py --scale 0.1

Prints rows per second and peak memory (max RSS of each child process, from os.wait4).
Our import does more than sqlite-utils: it validates every row against the protocol, derives
outcomes and findings by the rules, and writes a hash-chained audit row per record.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CHAINS = ["Späti24", "KioskCo", "Tabak & Mehr", "Nachtladen", None, None]
DISTRICTS = ["Neukölln", "Kreuzberg", "Wedding", "Mitte", "Friedrichshain"]


def generate(folder: Path, n_stores: int, n_visits: int, seed: int = 7) -> tuple[Path, Path]:
    rnd = random.Random(seed)
    stores = folder / "stores.csv"
    with open(stores, "w", newline="", encoding="utf-8") as fp:
        w = csv.writer(fp)
        w.writerow(["name", "chain", "licence_number", "address", "city", "district", "lat", "lon"])
        for i in range(n_stores):
            w.writerow([f"Store {i} „Ecke“", rnd.choice(CHAINS) or "", f"L-{i:06d}",
                        f"Straße {i % 500} Nr. {i}", "Berlin", rnd.choice(DISTRICTS),
                        f"{52.4 + rnd.random() * 0.2:.6f}", f"{13.3 + rnd.random() * 0.3:.6f}"])
    visits = folder / "visits.csv"
    with open(visits, "w", newline="", encoding="utf-8") as fp:
        w = csv.writer(fp)
        w.writerow(["store", "tester", "visited_at", "product", "sale", "id_check", "id_carried"])
        for i in range(n_visits):
            sale = rnd.random() < 0.2
            day = 1 + i % 28
            w.writerow([f"L-{rnd.randrange(n_stores):06d}", f"T-{i % 4}", f"2026-10-{day:02d} {10 + i % 9}:{i % 60:02d}",
                        rnd.choice(["cigarettes", "e-cigarette", "snus"]), "yes" if sale else "no",
                        rnd.choice(["none", "glance", "scanned", "asked_age_only"]), "yes"])
    return stores, visits


def measure(cmd: list[str], env=None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and stderr of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return elapsed, usage.ru_maxrss / 1024, err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 stores and 1,000,000 visits")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    n_stores, n_visits = int(100_000 * args.scale), int(1_000_000 * args.scale)
    folder = Path(tempfile.mkdtemp(prefix="investigate-bench-"))
    try:
        t = time.perf_counter()
        stores, visits = generate(folder, n_stores, n_visits)
        print(f"generated {n_stores:,} stores and {n_visits:,} visits in {time.perf_counter() - t:.1f} s")

        inv = str(BIN / "investigate")
        ws = folder / "ws"
        subprocess.run([inv, "init", str(ws), "--timezone", "Europe/Berlin"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([inv, "-w", str(ws), "case", "new", "bench", "--title", "Bench", "--protocol",
                        "tobacco-minors"], check=True, stdout=subprocess.DEVNULL)
        for i in range(4):
            subprocess.run([inv, "-w", str(ws), "tester", "add", f"T-{i}", "--birth-month", "2010-01", "--consent"],
                           check=True, stdout=subprocess.DEVNULL)

        ours_s = measure([inv, "-w", str(ws), "store", "import", str(stores)])
        ours_v = measure([inv, "-w", str(ws), "visit", "import", str(visits), "--case", "bench"])

        su = str(BIN / "sqlite-utils")
        plain = folder / "plain.db"
        base_s = measure([su, "insert", str(plain), "stores", str(stores), "--csv"])
        base_v = measure([su, "insert", str(plain), "visits", str(visits), "--csv"])

        print(f"\n{'':<34}{'seconds':>9}{'rows/s':>11}{'peak MB':>9}")
        for label, n, (secs, mb, _) in [
            ("investigate store import", n_stores, ours_s),
            ("sqlite-utils insert --csv stores", n_stores, base_s),
            ("investigate visit import", n_visits, ours_v),
            ("sqlite-utils insert --csv visits", n_visits, base_v),
        ]:
            print(f"{label:<34}{secs:>9.1f}{n / secs:>11,.0f}{mb:>9.0f}")
        print(f"\nratio stores: {ours_s[0] / base_s[0]:.2f}x   ratio visits: {ours_v[0] / base_v[0]:.2f}x "
              f"(aim: within 2x; peak under 300 MB)")
        size = (ws / "investigate.db").stat().st_size / 1e6
        print(f"workspace database: {size:.0f} MB (visits, findings and one audit row per record)")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

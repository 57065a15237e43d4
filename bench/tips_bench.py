"""Benchmark: import 1,000,000 complaint rows (CFPB layout) and rank leads over them, beside
`sqlite-utils insert --csv` of the same file.

    .venv/bin/python bench/tips_bench.py [--rows 1000000]

Aim: import within 2x of sqlite-utils, leads under 2 s.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _workspace import BIN, measure

HEADER = ["Date received", "Product", "Sub-product", "Issue", "Sub-issue", "Consumer complaint narrative",
          "Company public response", "Company", "State", "ZIP code", "Tags", "Consumer consent provided?",
          "Submitted via", "Date sent to company", "Company response to consumer", "Timely response?",
          "Consumer disputed?", "Complaint ID"]
ISSUES = ["Managing an account", "Incorrect information on your report", "Attempts to collect debt not owed",
          "Problem with a purchase shown on your statement", "Trouble during payment process", "Fees or interest"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rnd = random.Random(1)
    folder = Path(tempfile.mkdtemp(prefix="investigate-tips-"))
    try:
        path = folder / "complaints.csv"
        companies = [f"Company {i} Inc." for i in range(3000)]
        with open(path, "w", newline="", encoding="utf-8") as fp:
            w = csv.writer(fp)
            w.writerow(HEADER)
            for i in range(args.rows):
                consent = rnd.random() < 0.3
                w.writerow([f"{1 + i % 12:02d}/{1 + i % 28:02d}/2025", "Credit card", "", rnd.choice(ISSUES), "",
                            "I was charged twice and nobody helped." if consent else "", "",
                            companies[int(rnd.paretovariate(1.2)) % len(companies)], "KY", "40502", "",
                            "Consent provided" if consent else "Consent not provided", "Web", "01/05/2025",
                            "Closed with explanation", "Yes", "N/A", str(1_000_000 + i)])
        inv = str(BIN / "investigate")
        subprocess.run([inv, "init", str(folder / "ws")], check=True, stdout=subprocess.DEVNULL)
        ours, mb = measure([inv, "-w", str(folder / "ws"), "tip", "import", str(path)])
        base, base_mb = measure([str(BIN / "sqlite-utils"), "insert", str(folder / "plain.db"), "tips", str(path), "--csv"])
        print(f"tip import of {args.rows:,} rows: {ours:.1f} s ({args.rows / ours:,.0f} rows/s, peak {mb:.0f} MB); "
              f"sqlite-utils insert --csv: {base:.1f} s; ratio {ours / base:.2f}x")
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([inv, "-w", str(folder / "ws"), "leads", "--min", "3", "--json"], check=True,
                           stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        print(f"leads --min 3 over {args.rows:,} tips: best {min(times):.2f} s (process start included)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

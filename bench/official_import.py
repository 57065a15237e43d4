"""Benchmark: importing official records (an FDA compliance-check export and a LIVES feed).

Generates a synthetic FDA export (ISO-8859-1, unstandardised names) and a LIVES feed with
same-day duplicate inspections, imports each through the CLI into a fresh workspace, and
prints rows per second and the peak memory of the importing process. Not collected by pytest.

    .venv/bin/python bench/official_import.py [--fda-rows 200000] [--businesses 20000]
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "investigate"]
OUT = ROOT / "bench" / "out"

DECISIONS = ["No Violations Observed"] * 6 + ["Warning Letter"] * 3 + ["Civil Money Penalty", "No-Tobacco-Sale Order"]
PRODUCTS = ["Cigarettes", "ENDS", "Cigars", "Cigarillos", "Smokeless Tobacco"]
SPELLINGS = ["{n}", "{n} Inc", "{u}", "{nd}"]


def make_fda(path: Path, rows: int, shops: int, rng: random.Random) -> None:
    with open(path, "w", newline="", encoding="iso-8859-1") as fp:
        w = csv.writer(fp)
        w.writerow(["Retailer Name", "Street Address", "City", "State", "Zip", "Decision Date", "Decision Type",
                    "Minor Involved", "Sale to Minor", "Product Type"])
        for i in range(rows):
            shop = rng.randrange(shops)
            name = f"Café Shop {shop}"
            spelled = rng.choice(SPELLINGS).format(n=name, u=name.upper(), nd=name.replace(" ", "-"))
            decision = rng.choice(DECISIONS)
            sale = "No" if decision == "No Violations Observed" else rng.choice(["Yes", "No"])
            w.writerow([spelled, f"{shop} Main {rng.choice(['Street', 'St.'])}", "Springfield", "KY",
                        f"{40000 + shop % 999:05d}", f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(2012, 2024)}",
                        decision, "Yes", sale, rng.choice(PRODUCTS)])


def make_lives(folder: Path, businesses: int, rng: random.Random) -> tuple[int, int]:
    folder.mkdir(parents=True, exist_ok=True)
    n_insp = n_vio = 0
    with open(folder / "businesses.csv", "w", newline="") as b, open(folder / "inspections.csv", "w", newline="") as i, \
            open(folder / "violations.csv", "w", newline="") as v:
        bw, iw, vw = csv.writer(b), csv.writer(i), csv.writer(v)
        bw.writerow(["business_id", "name", "address", "city", "state"])
        iw.writerow(["business_id", "score", "date"])
        vw.writerow(["business_id", "date", "code", "description"])
        for bid in range(1, businesses + 1):
            bw.writerow([bid, f"RESTAURANT #{bid}", f"{bid} W MAIN ST, STE. {bid % 40}", "Lexington", "KY"])
            days = rng.sample(range(1, 28), 3)
            for d in days:
                date = f"2015{rng.randint(1, 12):02d}{d:02d}"
                for _ in range(2 if rng.random() < 0.09 else 1):  # same-day duplicates, as in Lexington
                    iw.writerow([bid, rng.randint(70, 100), date])
                    n_insp += 1
                for code in rng.sample(range(1, 45), rng.choice([0, 0, 1, 2, 3, 4])):
                    vw.writerow([bid, date, code, f"Standard not met. Item {code}"])
                    n_vio += 1
    (folder / "feed_info.csv").write_text("feed_date,feed_version,municipality_name\n20160303,2.0,Benchville\n")
    return n_insp, n_vio


#: Runs the CLI in a child process and reports that process's own peak RSS on stderr.
WRAPPER = (
    "import resource, sys\n"
    "from investigate.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as ex:\n    code = ex.code\nelse:\n    code = 0\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def timed(args: list[str], workspace: Path) -> tuple[float, float]:
    """Seconds and the importing process's peak RSS in MB."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, "-w", str(workspace), *args], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fda-rows", type=int, default=200_000)
    parser.add_argument("--businesses", type=int, default=20_000)
    opts = parser.parse_args()
    rng = random.Random(6)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        tmp = Path(tmp)
        fda = tmp / "fda.csv"
        make_fda(fda, opts.fda_rows, opts.fda_rows // 10, rng)
        n_insp, n_vio = make_lives(tmp / "lives", opts.businesses, rng)
        for name in ("ws-fda", "ws-lives"):
            subprocess.run([*CLI, "init", str(tmp / name)], check=True, stdout=subprocess.DEVNULL)
        s, mb = timed(["import", "fda", str(fda)], tmp / "ws-fda")
        print(f"FDA export:  {opts.fda_rows:>9,} rows in {s:6.1f} s = {opts.fda_rows / s:>8,.0f} rows/s, peak {mb:,.0f} MB")
        s2, _ = timed(["import", "fda", str(fda)], tmp / "ws-fda")
        print(f"FDA again:   {opts.fda_rows:>9,} rows in {s2:6.1f} s (nothing new to add)")
        total = opts.businesses + n_insp + n_vio
        s, mb = timed(["import", "lives", str(tmp / "lives")], tmp / "ws-lives")
        print(f"LIVES feed:  {total:>9,} rows ({opts.businesses:,} businesses, {n_insp:,} inspections, "
              f"{n_vio:,} violations) in {s:6.1f} s = {total / s:>8,.0f} rows/s, peak {mb:,.0f} MB")
        s, _ = timed(["export", "lives-benchville", "--format", "lives", "--out", str(tmp / "out")], tmp / "ws-lives")
        print(f"LIVES export: {total:>8,} rows in {s:6.1f} s")
        real = ROOT / "tests" / "data" / "lives-lexington"
        if real.is_dir():
            subprocess.run([*CLI, "init", str(tmp / "ws-lex")], check=True, stdout=subprocess.DEVNULL)
            s, mb = timed(["import", "lives", str(real)], tmp / "ws-lex")
            print(f"Lexington (real): 9,808 rows in {s:6.1f} s (process start included), peak {mb:,.0f} MB")


if __name__ == "__main__":
    main()

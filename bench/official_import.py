"""Benchmark: importing official records as agencies export them.

Generates a synthetic FDA search export (title preamble, "Inspection Result" with the FDA's
wordings, Inspection and Decision Date, several products per inspection, cp1252 ’), a LIVES
feed in San Francisco's layout ("Score", ViolationTypeID, risk_category, same-day duplicates,
orphan violations, owner columns we do not import) and a Chicago-like inspections file for
`visit import --kind official`. Imports each through the CLI into a fresh workspace, checks
that a second run adds nothing, and prints rows per second and the peak memory of the
importing process. Not collected by pytest.

    .venv/bin/python bench/official_import.py [--fda-rows 200000] [--businesses 20000] [--official-rows 50000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "investigate"]
OUT = ROOT / "bench" / "out"

DECISIONS = (["No Violations Observed"] * 6 + ["Warning Letter Issued"] * 2 + ["Warning Letter"]
             + ["Civil Money Penalty", "Civil Money Penalty not available", "Civil Money Penalty Archived",
                "No-Tobacco-Sale Order"])
PRODUCTS = ["Cigarettes", "ENDS", "Cigars", "Cigarillos", "Smokeless Tobacco"]
SPELLINGS = ["{n}", "{n} Inc", "{u}", "{nd}"]


def make_fda(path: Path, rows: int, shops: int, rng: random.Random) -> int:
    """The search export: preamble, then one row per product of an inspection. Returns the
    number of inspections (the visits an import should make)."""
    inspections = 0
    with open(path, "w", newline="", encoding="cp1252") as fp:
        fp.write('"Compliance Check Inspections of Tobacco Product Retailers"\r\n"Exported for the benchmark"\r\n\r\n')
        w = csv.writer(fp)
        w.writerow(["Retailer Name", "Street Address", "City", "State", "Zip", "Inspection Date", "Decision Date",
                    "Inspection Result", "Minor Involved", "Sale to Minor", "Product Type"])
        seen = set()
        written = 0
        while written < rows:
            shop = rng.randrange(shops)
            day = (rng.randint(2012, 2024), rng.randint(1, 12), rng.randint(1, 28))
            if (shop, day) in seen:
                continue
            seen.add((shop, day))
            inspections += 1
            name = f"Joe’s Shop {shop}"
            spelled = rng.choice(SPELLINGS).format(n=name, u=name.upper(), nd=name.replace(" ", "-"))
            decision = rng.choice(DECISIONS)
            sale = "No" if decision == "No Violations Observed" else rng.choice(["Yes", "No"])
            street = f"{shop} Main {rng.choice(['Street', 'St.'])}"
            for product in rng.sample(PRODUCTS, rng.choice([1, 1, 1, 2])):
                w.writerow([spelled, street, "Springfield", "KY", f"{40000 + shop % 999:05d}",
                            f"{day[1]:02d}/{day[2]:02d}/{day[0]}", f"{day[1]:02d}/{min(day[2] + 1, 28):02d}/{day[0]}",
                            decision, "Yes", sale, product])
                written += 1
    return inspections


def make_lives(folder: Path, businesses: int, rng: random.Random) -> tuple[int, int, int]:
    folder.mkdir(parents=True, exist_ok=True)
    n_insp = n_vio = n_orphan_days = 0
    risks = ["High Risk", "Moderate Risk", "Low Risk"]
    with open(folder / "businesses.csv", "w", newline="") as b, open(folder / "inspections.csv", "w", newline="") as i, \
            open(folder / "violations.csv", "w", newline="") as v:
        bw, iw, vw = csv.writer(b), csv.writer(i), csv.writer(v)
        bw.writerow(["business_id", "name", "address", "city", "state", "owner_name", "TaxCode"])
        iw.writerow(["business_id", "Score", "date", "type"])
        vw.writerow(["business_id", "date", "ViolationTypeID", "risk_category", "description"])
        for bid in range(1, businesses + 1):
            bw.writerow([bid, f"RESTAURANT #{bid}", f"{bid} W MAIN ST, STE. {bid % 40}", "Benchville", "CA",
                         f"OWNER {bid} LLC", "H24"])
            days = rng.sample(range(1, 28), 4)
            for n, d in enumerate(days):
                date = f"2015{rng.randint(1, 12):02d}{d:02d}"
                orphan = n == 3
                if orphan and rng.random() < 0.1:
                    n_orphan_days += 1
                elif orphan:
                    continue
                else:
                    for _ in range(2 if rng.random() < 0.09 else 1):  # same-day duplicates, as in Lexington
                        iw.writerow([bid, "" if rng.random() < 0.05 else rng.randint(70, 100), date,
                                     "Routine - Unscheduled"])
                        n_insp += 1
                for code in rng.sample(range(103100, 103160), rng.choice([0, 0, 1, 2, 3, 4] if not orphan else [1, 2])):
                    vw.writerow([bid, date, code, rng.choice(risks), f"Standard not met. Item {code}"])
                    n_vio += 1
    (folder / "feed_info.csv").write_text("feed_date,feed_version,municipality_name\n20160303,2.0,Benchville\n")
    return n_insp, n_vio, n_orphan_days


def make_official(path: Path, rows: int, rng: random.Random) -> int:
    """Chicago-like inspections: License #, MM/DD/YYYY, Results words, columns to ignore."""
    licences = max(rows // 5, 1)
    with open(path, "w", newline="", encoding="utf-8") as fp:
        w = csv.writer(fp)
        w.writerow(["Inspection ID", "DBA Name", "License #", "Risk", "Address", "Zip", "Inspection Date",
                    "Inspection Type", "Results", "Violations", "Location"])
        for i in range(rows):
            lic = rng.randrange(licences)
            w.writerow([1_000_000 + i, f"PLACE {lic}", 100_000 + lic, "Risk 1 (High)", f"{lic} N CLARK ST", "60654",
                        f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(2015, 2024)}", "Canvass",
                        rng.choice(["Pass", "Pass", "Fail", "Pass w/ Conditions", "Out of Business"]),
                        "", f"({41.8 + lic % 100 / 1000:.4f}, -87.6300)"])
    return licences


#: Runs the CLI in a child process and reports that process's own peak RSS on stderr.
WRAPPER = (
    "import resource, sys\n"
    "from investigate.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as ex:\n    code = ex.code\nelse:\n    code = 0\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def timed(args: list[str], workspace: Path) -> tuple[float, float, dict]:
    """Seconds, the importing process's peak RSS in MB, and the --json summary."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, "-w", str(workspace), *args, "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fda-rows", type=int, default=200_000)
    parser.add_argument("--businesses", type=int, default=20_000)
    parser.add_argument("--official-rows", type=int, default=50_000)
    opts = parser.parse_args()
    rng = random.Random(6)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        tmp = Path(tmp)
        fda = tmp / "fda.csv"
        n_fda = make_fda(fda, opts.fda_rows, max(opts.fda_rows // 10, 1), rng)
        n_insp, n_vio, n_orphans = make_lives(tmp / "lives", opts.businesses, rng)
        official = tmp / "official.csv"
        make_official(official, opts.official_rows, rng)
        for name in ("ws-fda", "ws-lives", "ws-official"):
            subprocess.run([*CLI, "init", str(tmp / name)], check=True, stdout=subprocess.DEVNULL)

        s, mb, out = timed(["import", "fda", str(fda)], tmp / "ws-fda")
        assert out["visits_added"] == n_fda and out["header_line"] == 4 and out["encoding"] == "cp1252", out
        print(f"FDA search export: {opts.fda_rows:>9,} rows in {s:6.1f} s = {opts.fda_rows / s:>8,.0f} rows/s, "
              f"peak {mb:,.0f} MB ({out['visits_added']:,} inspections, {out['rows_merged']:,} rows merged, "
              f"header on line {out['header_line']}, {out['encoding']})")
        s2, _, again = timed(["import", "fda", str(fda)], tmp / "ws-fda")
        assert again["visits_added"] == 0
        print(f"FDA again:         {opts.fda_rows:>9,} rows in {s2:6.1f} s, {again['visits_added']} added")

        total = opts.businesses + n_insp + n_vio
        s, mb, out = timed(["import", "lives", str(tmp / "lives")], tmp / "ws-lives")
        assert out["orphan_days"] == n_orphans and out["findings_added"] == n_vio, out
        print(f"LIVES feed (SF layout): {total:>9,} rows ({opts.businesses:,} businesses, {n_insp:,} inspections, "
              f"{n_vio:,} violations) in {s:6.1f} s = {total / s:>8,.0f} rows/s, peak {mb:,.0f} MB; "
              f"{out['orphan_violations']:,} orphan violations on {out['orphan_days']:,} days kept; "
              f"unknown columns: {', '.join(out['unknown_columns'])}")
        s, _, out = timed(["export", "lives-benchville", "--format", "lives", "--out", str(tmp / "out")], tmp / "ws-lives")
        assert out["files"]["inspections.csv"] == n_insp, out
        print(f"LIVES export: {total:>8,} rows in {s:6.1f} s, {out['files']['inspections.csv']:,} inspection rows "
              "(the feed's own count)")

        s, _, out = timed(["store", "import", str(official), "--ignore-unknown"], tmp / "ws-official")
        print(f"Official stores:   {opts.official_rows:>9,} rows in {s:6.1f} s -> {out['inserted']:,} stores, "
              f"{out['with_coordinates']:,} with coordinates from the Location cell")
        subprocess.run([*CLI, "-w", str(tmp / "ws-official"), "case", "new", "chicago", "--title", "Chicago",
                        "--protocol", "official-inspection"], check=True, stdout=subprocess.DEVNULL)
        args = ["visit", "import", str(official), "--case", "chicago", "--kind", "official",
                "--map", "store=License #", "--map", "visited_at=Inspection Date", "--date-format", "%m/%d/%Y",
                "--map", "result=Results", "--map", "attempt=Results", "--map", "external_ref=Inspection ID",
                "--map-value", "Results:Pass w/ Conditions=pass_with_conditions",
                "--map-value", "Results:Out of Business=closed", "--ignore-unknown"]
        s, mb, out = timed(args, tmp / "ws-official")
        print(f"Official visits:   {opts.official_rows:>9,} rows in {s:6.1f} s = {opts.official_rows / s:>8,.0f} rows/s, "
              f"peak {mb:,.0f} MB, {out['visits']:,} added")
        s2, _, again = timed(args, tmp / "ws-official")
        assert again["visits"] == 0 and again["already_imported"] == opts.official_rows, again
        print(f"Official again:    {opts.official_rows:>9,} rows in {s2:6.1f} s, {again['visits']} added, "
              f"{again['already_imported']:,} already imported")

        real = ROOT / "tests" / "data" / "lives-lexington"
        subprocess.run([*CLI, "init", str(tmp / "ws-lex")], check=True, stdout=subprocess.DEVNULL)
        s, mb, out = timed(["import", "lives", str(real)], tmp / "ws-lex")
        print(f"Lexington (real): 9,808 rows in {s:6.1f} s (process start included), peak {mb:,.0f} MB, "
              f"{out['visits_added']:,} visits, {out['orphan_days']} orphan days")


if __name__ == "__main__":
    main()

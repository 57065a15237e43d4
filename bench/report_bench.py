"""Benchmark: the PDF report for a case of 1,000 and of 10,000 visits, wall time and peak memory,
beside WeasyPrint rendering a bare HTML table of the same rows (the floor).

    .venv/bin/python bench/report_bench.py [--sizes 1000 10000]

Aim: under 15 s and 500 MB for 1,000 visits, within 1.5x of the floor. The report is the public
edition (four columns per visit, as the floor's table; the checklist overridden), with its
cover, figures, method, chart, map, findings, replies and evidence sections.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _workspace import BIN, build_visits, measure

FLOOR = """
import sys, sqlite3
from weasyprint import HTML
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select s.name, s.address, v.visited_at, v.outcome from visits v join stores s on s.id = v.store_id "
                  "order by v.visited_at").fetchall()
cells = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td><td>{d}</td></tr>" for a, b, c, d in rows)
HTML(string=f"<html><body><table>{cells}</table></body></html>").write_pdf(sys.argv[2])
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(f"{'visits':>8} {'report s':>9} {'report MB':>10} {'floor s':>8} {'floor MB':>9} {'ratio':>6}")
    for n in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix="investigate-report-"))
        try:
            build_visits(folder / "ws", n, n_stores=max(50, n // 5))
            ours = measure([str(BIN / "investigate"), "-w", str(folder / "ws"), "report", "bench", "--lang", "en",
                            "--override", "benchmark", "--out", str(folder / "r.pdf")])
            floor = measure([sys.executable, "-c", FLOOR, str(folder / "ws" / "investigate.db"), str(folder / "f.pdf")])
            print(f"{n:>8,} {ours[0]:>9.1f} {ours[1]:>10.0f} {floor[0]:>8.1f} {floor[1]:>9.0f} {ours[0] / floor[0]:>6.2f}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

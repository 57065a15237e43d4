"""Benchmark: the PDF report of a case of 1,000 and of 10,000 visits beside its floor, WeasyPrint
rendering a bare HTML table of the same rows.

    .venv/bin/python bench/report_bench.py [--sizes 1000 10000] [--runs 3] [--quick]

The report is the public edition (four columns per visit, as the floor's table; the checklist
overridden), with its cover, figures, method, chart, findings, replies and evidence sections. The
two make different numbers of pages (the report's cover, figures and method; the floor's table
has no header row or padding), so they are compared per page: CPU time of the whole process
(start, imports, gathering, rendering, writing; steadier than wall time on a shared machine, which
is printed beside it) over the pages it wrote. Each size runs ours and the floor in turn, `--runs`
times; the medians are printed with the peak memory of each process (max RSS from os.wait4).

Aim: within 1.3x of the floor per page. `--quick` is one size of 1,000 visits (about 30 s).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _workspace import BIN, build_visits, run_child

AIM = 1.3
FLOOR = """
import sys, sqlite3
from weasyprint import HTML
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select s.name, s.address, v.visited_at, v.outcome from visits v join stores s on s.id = v.store_id "
                  "order by v.visited_at").fetchall()
cells = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td><td>{d}</td></tr>" for a, b, c, d in rows)
HTML(string=f"<html><body><table>{cells}</table></body></html>").write_pdf(sys.argv[2])
"""


def pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1,000 visits only")
    args = parser.parse_args()
    if args.quick:
        args.sizes = [1000]
    print(f"{'visits':>8} {'ours wall':>9} {'cpu':>6} {'pages':>6} {'cpu/page':>9} {'MB':>5}   {'floor wall':>10} "
          f"{'cpu':>6} {'pages':>6} {'cpu/page':>9} {'MB':>5}   {'per page':>8}  aim")
    ok = True
    for n in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix="investigate-report-"))
        try:
            build_visits(folder / "ws", n, n_stores=max(50, n // 5))
            ours, floor = [], []
            for _ in range(args.runs):
                ours.append(run_child([str(BIN / "investigate"), "-w", str(folder / "ws"), "report", "bench",
                                     "--lang", "en", "--override", "benchmark", "--out", str(folder / "r.pdf")]))
                floor.append(run_child([sys.executable, "-c", FLOOR, str(folder / "ws" / "investigate.db"),
                                      str(folder / "f.pdf")]))
            ours_p, floor_p = pages(folder / "r.pdf"), pages(folder / "f.pdf")
            cells = []
            for runs, n_pages in ((ours, ours_p), (floor, floor_p)):
                wall, cpu = statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs)
                cells.append((wall, cpu, n_pages, cpu / n_pages * 1000, max(r.peak_mb for r in runs)))
            ratio = cells[0][3] / cells[1][3]
            ok &= ratio <= AIM
            (ow, oc, op, opp, om), (fw, fc, fp, fpp, fm) = cells
            print(f"{n:>8,} {ow:>8.1f}s {oc:>5.1f}s {op:>6} {opp:>7.0f}ms {om:>5.0f}   {fw:>9.1f}s {fc:>5.1f}s "
                  f"{fp:>6} {fpp:>7.0f}ms {fm:>5.0f}   {ratio:>8.2f}  {'ok' if ratio <= AIM else f'over {AIM}x'}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

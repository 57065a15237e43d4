"""Benchmark: the PDF report of a case of 1,000 and of 10,000 visits beside its floor, bare
WeasyPrint rendering the same rows with the same stylesheet.

    .venv/bin/python bench/report_bench.py [--sizes 1000 10000] [--runs 3] [--quick]

The case is realistic: every violation has its finding (the report groups them by business), and
the public edition prints what the policy lets it print (pseudonyms, districts, day dates). The
floor is fair (issue 30): before anything is timed, the rows our report prints — its visits table
and its findings grouped by business, as ``views.gather`` hands them to the template — are written
to a JSON file; the floor reads that file and renders the same two tables, in the same markup,
with the report's own ``report.css``. (It used to render four bare columns of a case with no
findings, with no stylesheet: 1.17x where the same rows and CSS gave 1.21x.) What ours renders
beyond it is its cover, figures, method, chart, map and checkpoint.

The two make different numbers of pages, so they are compared per page: CPU time of the whole
process (start, imports, gathering, rendering, writing; steadier than wall time on a shared
machine, which is printed beside it) over the pages it wrote. Each size runs ours and the floor in
turn, ``--runs`` times; the medians are printed with the peak memory of each process.

Aim (issue 30): within 1.1x of the floor per page, and under 600 MB at 10,000 visits. ``--quick`` is
one size of 1,000 visits (about 30 s).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _workspace import BIN, build_visits, run_child

AIM, AIM_MB = 1.1, 600
FLOOR = """
import json, sys
from html import escape as e
from weasyprint import HTML
rows = json.load(open(sys.argv[1], encoding="utf-8"))
visits = "".join(f'<tr><td class="name">{e(v["store"])}</td><td class="name">{e(v["address"] or "")}</td>'
                 f'<td class="when">{e(v["date"])}</td><td class="outcome-{v["outcome"]}">{e(v["outcome_text"])}</td></tr>'
                 for v in rows["visits"])
findings = "".join(f'<tbody class="business"><tr class="business"><th colspan="4" class="name">{e(g["store"])}</th></tr>'
                   + "".join(f'<tr class="severity-{f["severity"]}"><td class="when">{e(f["date"])}</td><td>{e(f["title"])}</td>'
                             f'<td>{e(f["severity_text"])}</td><td class="statute">{e(f["statute"] or "")}</td></tr>'
                             for f in g["entries"]) + "</tbody>" for g in rows["findings"])
HTML(string=f'<html><head><link rel="stylesheet" href="report.css"></head><body><h2>Visits</h2>'
            f'<table class="long"><colgroup><col class="w-name"><col class="w-name"><col class="w-date"><col></colgroup>'
            f'<thead><tr><th>Store</th><th>Address</th><th>Date</th><th>Outcome</th></tr></thead><tbody>{visits}</tbody></table>'
            f'<h2>Findings</h2><table class="findings"><thead><tr><th>Date</th><th>Finding</th><th>Severity</th>'
            f'<th>Statute</th></tr></thead>{findings}</table></body></html>',
     base_url=sys.argv[3]).write_pdf(sys.argv[2])
"""


def printed_rows(ws_root: Path, out: Path) -> Path:
    """The rows the public report prints (visits, findings by business), as the template gets them."""
    from investigate.cases.cases import get_case
    from investigate.store.workspace import Workspace
    from investigate.views.gather import gather

    ws = Workspace(ws_root)
    context = gather(ws, get_case(ws, "bench"), edition="public", lang="en")
    out.write_text(json.dumps({"visits": context["visits"], "findings": context["findings"]}), encoding="utf-8")
    ws.close()
    return out


def pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def main() -> int:
    from investigate.reports.render import templates_root

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1,000 visits only")
    args = parser.parse_args()
    if args.quick:
        args.sizes = [1000]
    css_base = str(templates_root() / "report") + "/"
    print(f"{'visits':>8} {'ours wall':>9} {'cpu':>6} {'pages':>6} {'cpu/page':>9} {'MB':>5}   {'floor wall':>10} "
          f"{'cpu':>6} {'pages':>6} {'cpu/page':>9} {'MB':>5}   {'per page':>8}  aim")
    ok = True
    for n in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix="investigate-report-"))
        try:
            build_visits(folder / "ws", n, n_stores=max(50, n // 5), findings=True)
            rows = printed_rows(folder / "ws", folder / "rows.json")
            ours, floor = [], []
            for _ in range(args.runs):
                ours.append(run_child([str(BIN / "investigate"), "-w", str(folder / "ws"), "report", "bench",
                                     "--lang", "en", "--override", "benchmark", "--out", str(folder / "r.pdf")]))
                floor.append(run_child([sys.executable, "-c", FLOOR, str(rows), str(folder / "f.pdf"), css_base]))
            ours_p, floor_p = pages(folder / "r.pdf"), pages(folder / "f.pdf")
            cells = []
            for runs, n_pages in ((ours, ours_p), (floor, floor_p)):
                wall, cpu = statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs)
                cells.append((wall, cpu, n_pages, cpu / n_pages * 1000, max(r.peak_mb for r in runs)))
            ratio = cells[0][3] / cells[1][3]
            (ow, oc, op, opp, om), (fw, fc, fp, fpp, fm) = cells
            fine = ratio <= AIM and om < AIM_MB
            ok &= fine
            print(f"{n:>8,} {ow:>8.1f}s {oc:>5.1f}s {op:>6} {opp:>7.0f}ms {om:>5.0f}   {fw:>9.1f}s {fc:>5.1f}s "
                  f"{fp:>6} {fpp:>7.0f}ms {fm:>5.0f}   {ratio:>8.2f}  "
                  f"{'ok' if fine else f'MISSED (aim {AIM}x, < {AIM_MB} MB)'}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

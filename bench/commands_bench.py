"""Benchmark: the commands a reporter and an editor run on a big case, each in a child process,
each printed beside its floor measured in the same run: issue 30's table.

    .venv/bin/python bench/commands_bench.py                  # 1,000,000 visits
    .venv/bin/python bench/commands_bench.py --visits 100000  # make bench-quick

Figures: wall and CPU time (user + system) and peak memory (max RSS, the figure
`/usr/bin/time -v` prints). Ratios are of CPU time, steadier than wall time on a shared machine.
Floors:

- start-up: `investigate --version` (starting Python and importing the CLI: every command pays
  it). Interactive commands are held to a wall time instead (< 0.3 s).
- rows: `sqlite-utils rows visits --csv` of the same visits, the least a full listing or the LIVES
  export costs.
- exported rows: every table the case's CSV export writes (its stores, visits, findings and the
  rest), each as `sqlite-utils rows TABLE --csv` writes it (cursor rows through `csv.writer`), to
  files, in one process (`EXPORTED_FLOOR`): the same content as the CSV export, which until 5
  December was held to `rows`, the visits alone (at 1M: 1.22 million rows written against 1
  million). The LIVES export stays on `rows`: it writes a few columns of the same tables.
- hashing: one SHA-256 per audit entry over its fields, read in Python (`HASH_FLOOR`), the least
  `verify` and a first `checkpoint` cost.
- carried rows: the rows a bundle carries (stores, visits, findings and their audit entries) as
  JSON lines through sqlite-utils, one `json.dumps` per row as `sqlite-utils rows` writes them,
  in one process (`CARRIED_FLOOR`): the same content as the bundle's members, uncompressed.
- copy: the stores, visits and findings inserted into a new database through sqlite-utils
  (`COPY_FLOOR`): a database of the rows a public copy holds, without what it decides for each.

Bulk review is measured next, on a second case of waiting visits (a quarter as many as the big
one, at least 10,000) added to the same workspace: `review --case waiting --all-received approve`,
in visits per second of CPU.

Last, the scorecard of a customer-service case of a tenth as many tests (at least 10,000): the
demo's service case grown by copying its visits (`build_service`), an interactive command held
to < 0.3 s like the others. Beside the start-up, a second floor: importing `scipy.stats`, whose
bootstrap and Kaplan–Meier every scorecard with an interval calls (`numbers.stats`).

Import (`import_bench.py`), merge (`merge_bench.py`), the public PDF (`report_bench.py`) and
Datasette (`datasette_bench.py`) have their own benchmarks. The workspace holds no ANALYZE
statistics, as real ones never do (the plans then are the ones tests/test_query_plans.py checks).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time

from _workspace import BIN, bench_folder, build_service, build_visits, run_child

from investigate.store.workspace import Workspace

HASH_FLOOR = """
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute("select seq, at, actor, action, table_name, row_id, row_hash, data from audit_log order by seq"):
    hashlib.sha256("\\x1f".join("" if v is None else str(v) for v in row).encode()).hexdigest()
"""

CARRIED_FLOOR = """
import json, os, sys, sqlite_utils
db = sqlite_utils.Database(sys.argv[1])
with open(os.devnull, "w") as out:
    for table in ("stores", "visits", "findings", "audit_log"):
        for row in db[table].rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\\n")
"""
EXPORTED_FLOOR = """
import csv, os, sqlite3, sys
db, out = sqlite3.connect(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
for table in ("cases", "companies", "stores", "visits", "findings", "evidence", "promises", "replies"):
    cursor = db.execute(f"select * from [{table}]")
    with open(os.path.join(out, table + ".csv"), "w", newline="", encoding="utf-8") as fp:
        writer = csv.writer(fp)
        writer.writerow([d[0] for d in cursor.description])
        for row in cursor:
            writer.writerow(row)
"""
COPY_FLOOR = """
import sys, sqlite_utils
source, copy = sqlite_utils.Database(sys.argv[1]), sqlite_utils.Database(sys.argv[2])
for table in ("stores", "visits", "findings"):
    copy[table].insert_all(source[table].rows)
"""

# command, floor, aim: seconds of wall time for an interactive command (floor "start"), else the
# highest ratio of CPU time to the floor's; every command also aims under 300 MB.
COMMANDS = [
    (["case", "show", "bench"], "start", 0.3),
    (["checklist", "bench"], "start", 0.3),
    (["fieldwork", "bench"], "start", 0.3),
    (["stats", "bench", "--by", "chain"], "start", 0.3),
    (["review", "queue"], "start", 0.3),
    (["visit", "list", "--case", "bench", "--limit", "20"], "start", 0.3),
    # one store's visits, and asking that store for comment: sought by the store, not found by
    # walking the case's million visits in time order
    (["visit", "list", "--case", "bench", "--store", "{store}", "--limit", "20"], "start", 0.3),
    (["reply", "request", "bench", "{store}"], "start", 0.3),
    (["visit", "list", "--case", "bench"], "rows", 1.5),
    (["review", "queue", "--all"], "rows", 1.5),
    # verify and a first checkpoint before bundle and publish, which sign a checkpoint of their own
    (["verify"], "hashing", 3.0),
    (["checkpoint"], "hashing", 2.0),
    (["export", "bench", "--format", "csv", "--out", "{tmp}/export"], "exported", 1.5),
    (["export", "bench", "--format", "lives", "--out", "{tmp}/lives"], "rows", 1.5),
    (["bundle", "bench", "--out", "{tmp}/bench.zip"], "carried", 1.5),
    (["publish", "--case", "bench", "--override", "bench", "--out", "{tmp}/public"], "copy", 1.5),
]
AIM_MB = 300
AIM_REVIEW = 20_000  # visits per second of CPU

#: After the table: every business of the case asked for comment, and the interactive commands
#: that name businesses again sixty days on (libfaketime), every window closed: the checklist an
#: editor runs before publishing then checks each finding against what its request covered.
LATER = "+60d"
ASKED = [(["checklist", "bench"], 0.3), (["case", "show", "bench"], 0.3)]

#: The scorecards measured on the service case (``build_service``), each held to < 0.3 s wall.
SCORECARDS = [["scorecard", "{case}"], ["scorecard", "{case}", "--by", "company,channel"],
              ["scorecard", "{case}", "--public"]]
SCIPY_FLOOR = "from scipy.stats import bootstrap, ecdf"


def line(label: str, run, floor_label: str = "", ratio: str = "", aim: str = "") -> str:
    return f"{label:<64}{run.wall:>8.2f}{run.cpu:>8.2f}{run.peak_mb:>8.0f}  {floor_label:<10}{ratio:>7}  {aim}"


def main() -> int:
    """Prints the table; 1 when any command missed its aim (``make bench`` says so at the end)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with bench_folder("investigate-commands-", args.keep) as folder:
        ws = folder / "ws"
        db = ws / "investigate.db"
        t = time.perf_counter()
        build_visits(ws, args.visits, findings=True)
        with sqlite3.connect(db) as conn:  # as a workspace is: no statistics
            conn.execute("drop table if exists sqlite_stat1")
        print(f"built {args.visits:,} visits (with their findings) in {time.perf_counter() - t:.0f} s\n")
        inv = str(BIN / "investigate")
        floors = {"start": run_child([inv, "--version"]),
                  "rows": run_child([str(BIN / "sqlite-utils"), "rows", str(db), "visits", "--csv"]),
                  "exported": run_child([sys.executable, "-c", EXPORTED_FLOOR, str(db), str(folder / "floor-export")]),
                  "hashing": run_child([sys.executable, "-c", HASH_FLOOR, str(db)]),
                  "carried": run_child([sys.executable, "-c", CARRIED_FLOOR, str(db)]),
                  "copy": run_child([sys.executable, "-c", COPY_FLOOR, str(db), str(folder / "copy.db")])}
        all_ok = True
        print(f"{'':<64}{'wall s':>8}{'CPU s':>8}{'peak MB':>8}  {'floor':<10}{'ratio':>7}  aim")
        print(line("floor start: investigate --version", floors["start"]))
        print(line("floor rows: sqlite-utils rows visits --csv", floors["rows"]))
        print(line("floor exported: the export's tables, as sqlite-utils rows --csv", floors["exported"]))
        print(line("floor hashing: SHA-256 per audit entry, in Python", floors["hashing"]))
        print(line("floor carried: a bundle's rows as JSON lines, sqlite-utils", floors["carried"]))
        print(line("floor copy: stores, visits, findings into a new db, sqlite-utils", floors["copy"]))
        with sqlite3.connect(db) as conn:  # a store of the case, by its short id as people type it
            store = conn.execute("select substr(store_id, 25, 8) from visits limit 1").fetchone()[0]
        for cmd, floor, aim in COMMANDS:
            cmd = [c.format(tmp=folder, store=store) for c in cmd]
            run = run_child([inv, "-w", str(ws), *cmd])
            ratio = run.cpu / floors[floor].cpu
            if floor == "start":
                ok, aim_text = run.wall < aim, f"< {aim} s"
            else:
                ok, aim_text = ratio <= aim, f"<= {aim}x"
            ok &= run.peak_mb < AIM_MB
            all_ok &= ok
            label = "investigate " + " ".join(cmd).replace(str(folder), "…")
            print(line(label, run, floor, f"{ratio:.2f}x", f"{aim_text}, < {AIM_MB} MB {'ok' if ok else 'MISSED'}"))

        run = run_child([inv, "-w", str(ws), "reply", "request", "bench", "--all"])
        print(line("investigate reply request bench --all", run))
        faketime = shutil.which("faketime")
        for cmd, aim in ASKED:
            if not faketime:
                print(f"investigate {' '.join(cmd)} once every window closed: not measured (no faketime)")
                continue
            run = run_child([faketime, "-f", LATER, inv, "-w", str(ws), *cmd])
            ok = run.wall < aim and run.peak_mb < AIM_MB
            all_ok &= ok
            print(line(f"investigate {' '.join(cmd)}, {LATER[1:]} on (every business asked)", run, "start",
                       f"{run.cpu / floors['start'].cpu:.2f}x", f"< {aim} s, < {AIM_MB} MB {'ok' if ok else 'MISSED'}"))

        waiting = max(10_000, args.visits // 4)
        opened = Workspace(ws)
        build_visits(ws, waiting, slug="waiting", review_state="received", seed=12, ws=opened)
        opened.db.execute("drop table if exists sqlite_stat1")
        opened.close()
        run = run_child([inv, "-w", str(ws), "review", "--case", "waiting", "--all-received", "approve"])
        rate = waiting / run.cpu
        ok = rate >= AIM_REVIEW and run.peak_mb < AIM_MB
        print(line(f"review --case waiting --all-received approve ({waiting:,})", run, "",
                   f"{rate / 1000:.1f}k/s", f">= {AIM_REVIEW // 1000}k visits/s, < {AIM_MB} MB {'ok' if ok else 'MISSED'}"))
        all_ok &= ok
        return 0 if scorecards(folder / "service", max(10_000, args.visits // 10), inv, floors["start"]) and all_ok else 1


def scorecards(root, tests: int, inv: str, start) -> bool:
    """The scorecards of a service case of ``tests`` tests, beside the start-up and the import of
    scipy.stats; whether each held its aim."""
    t = time.perf_counter()
    case = build_service(root, tests)["case"]
    print(f"\nbuilt the service case SERVICE ({case['slug']}) of {tests:,} tests in {time.perf_counter() - t:.0f} s")
    scipy = run_child([sys.executable, "-c", SCIPY_FLOOR])
    print(line("floor statistics: import scipy.stats", scipy))
    all_ok = True
    for cmd in SCORECARDS:
        cmd = [c.format(case=case["slug"]) for c in cmd]
        run = run_child([inv, "-w", str(root), *cmd])
        ok = run.wall < 0.3 and run.peak_mb < AIM_MB
        all_ok &= ok
        label = "investigate " + " ".join(cmd).replace(case["slug"], "SERVICE")
        print(line(label, run, "start", f"{run.cpu / start.cpu:.2f}x",
                   f"< 0.3 s, < {AIM_MB} MB {'ok' if ok else 'MISSED'}"))
    return all_ok


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: 'network combine' over many newsrooms' published folders, beside the same query in
SQLite over their attached public databases (issue 28), in one run.

    .venv/bin/python bench/network_bench.py                                # 10 newsrooms x 100,000 visits
    .venv/bin/python bench/network_bench.py --newsrooms 10 --visits 20000  # quicker

Each newsroom is a real workspace (its own log key and a signed checkpoint) whose public copy is
generated straight into the public database's schema (``publish.public.SCHEMA``: stores of 12
chains, named, two rounds, some stores tested twice, a design weight per result) and then written
as Parquet with its manifest by the real writer (``publish.parquet.write_parquet``). Building
through the domain would measure the domain: the import and publish benchmarks do that.

Measured, each in a child process (``_workspace.run_child``: CPU = user + system, peak = max
RSS as /usr/bin/time -v reports it):

- combine: ``investigate network combine DIR... --out OUT --json``, the whole command: start-up,
  every manifest's signature, every file's SHA-256 and checkpoint, the protocol check, DuckDB's
  query over the Parquet files and the output written;
- start-up: ``investigate --version``, what every command pays before it starts;
- sqlite: the same figures (``publish.combine.COMBINED``, its first-result step written as a
  window, SQLite's faster form: the join back on the first id cannot use an index through the
  views and took 35 s of CPU at full size) in SQLite over the public databases attached
  (temporary views union them with each newsroom's origin), the floor a desk without the
  Parquet files pays: no hash checked, nothing written.

The ratio is sqlite's CPU over combine's.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

from _workspace import BIN, bench_folder, run_child

from investigate.proof.log import sign_checkpoint
from investigate.protocol.protocols import get_protocol
from investigate.publish.parquet import write_parquet
from investigate.publish.public import SCHEMA
from investigate.store.workspace import init_workspace

SQLITE_CHILD = """
import sqlite3, sys
from investigate.publish.combine import COMBINED, TABLES
from investigate.publish.design_weights import first_results_sql
# SQLite's own best form of "each store's first completed test": a window. The join back on the
# first id that DuckDB prefers cannot use an index through the union of views: 35 s of CPU here.
WINDOW = ("select source, case_slug, store_id, round, outcome from (select source, case_slug, store_id, round, "
          "outcome, row_number() over (partition by source, case_slug, store_id, round order by id) as nth "
          "from visits where attempt = 'completed') where nth = 1 and outcome in ('violation', 'compliant')")
query = COMBINED.replace(first_results_sql("source"), WINDOW)
assert query != COMBINED
paths = sys.argv[1:]
conn = sqlite3.connect(":memory:")
for i, path in enumerate(paths):
    conn.execute(f"attach database ? as n{i}", [path])
for table in TABLES:
    conn.execute(f"create temp view {table} as " + " union all ".join(
        f"select (select substr(note, 1, instr(note, char(10)) - 1) from n{i}.log_checkpoint) as source, * from n{i}.{table}" for i in range(len(paths))))
rows = conn.execute(query).fetchall()
print(len(rows))
"""


def published_newsroom(root: Path, n_visits: int, *, seed: int, stores_per: int = 2_000) -> Path:
    """A workspace with a signed checkpoint and a public folder of ``n_visits`` generated visits."""
    rnd = random.Random(seed)
    ws = init_workspace(root, newsroom=f"Newsroom {seed}", timezone_name="Europe/Berlin")
    signed = sign_checkpoint(ws)
    public_key = ws.setting("log", "public_key")
    ws.close()
    out = root / "public"
    out.mkdir()
    db = sqlite3.connect(out / "public.db")
    db.executescript(SCHEMA)
    slug = "tobacco-2026"
    db.execute("insert into cases (slug, title, protocol) values (?, ?, ?)", [slug, f"City {seed}", "tobacco-minors"])
    db.execute("insert into log_checkpoint (size, root_hash, made_at, public_key, note) values (?,?,?,?,?)",
               [signed["size"], signed["root"], signed["made_at"], public_key, signed["note"]])
    stores = [f"S-{seed:02d}{i:06d}" for i in range(stores_per)]
    db.executemany("insert into stores (id, case_slug, named, name, label, chain, city, district) "
                   "values (?,?,1,?,?,?,?,?)",
                   [(sid, slug, f"Store {sid}", f"Store {sid}", f"Chain {i % 12}", f"City {seed}", f"D{i % 9}")
                    for i, sid in enumerate(stores)])
    outcomes = ["violation", "compliant", "compliant", "compliant", "inconclusive"]
    rows = []
    for i in range(n_visits):
        rnd_no = 1 if i < n_visits * 0.7 else 2
        rows.append((i + 1, slug, stores[rnd.randrange(stores_per)], f"2026-10-{1 + i % 28:02d}", rnd_no,
                     "completed" if rnd.random() < 0.95 else "closed", rnd.choice(outcomes), "sale: no"))
    db.executemany("insert into visits (id, case_slug, store_id, visit_date, round, attempt, outcome, answers) "
                   "values (?,?,?,?,?,?,?,?)", rows)
    from investigate.publish.design_weights import FIRST_RESULTS

    weights = {f"D{d}": 1 + rnd.random() * 3 for d in range(9)}
    district = dict(db.execute("select id, district from stores"))
    db.executemany("insert into design_weights (case_slug, round, store_id, weight) values (?,?,?,?)",
                   [(slug, rnd_no, sid, weights[district[sid]])
                    for _, sid, rnd_no, _ in db.execute(FIRST_RESULTS).fetchall()])
    db.commit()
    db.execute("vacuum")
    db.close()
    write_parquet(out / "public.db", [{"slug": slug, "protocol": "tobacco-minors",
                                       "outcome_hash": get_protocol("tobacco-minors").outcome_hash}])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--newsrooms", type=int, default=10)
    parser.add_argument("--visits", type=int, default=100_000, help="visits per newsroom")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.newsrooms > 10:
        raise SystemExit("SQLite attaches at most 10 databases: --newsrooms 10 at most")
    with bench_folder("network-bench-", args.keep) as tmp:
        started = time.perf_counter()
        folders = [published_newsroom(tmp / f"n{i}", args.visits, seed=i) for i in range(args.newsrooms)]
        total = args.newsrooms * args.visits
        sqlite_mb = sum((f / "public.db").stat().st_size for f in folders) / 1e6
        parquet_mb = sum(p.stat().st_size for f in folders for p in (f / "parquet").glob("*.parquet")) / 1e6
        print(f"built {args.newsrooms} published folders of {args.visits:,} visits ({total:,} in all) in "
              f"{time.perf_counter() - started:.1f} s: public databases {sqlite_mb:.1f} MB, Parquet {parquet_mb:.1f} MB")
        start = run_child([BIN / "investigate", "--version"])
        combine = run_child([BIN / "investigate", "network", "combine", *folders, "--out", tmp / "out", "--json"])
        sqlite = run_child([sys.executable, "-c", SQLITE_CHILD, *[f / "public.db" for f in folders]],
                           cwd=Path(__file__).resolve().parent.parent)
        print(f"{'':34}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}")
        print(f"{'network combine (checks + DuckDB)':34}{combine.wall:8.2f}{combine.cpu:8.2f}{combine.peak_mb:9.0f}")
        print(f"{'SQLite, attached public dbs':34}{sqlite.wall:8.2f}{sqlite.cpu:8.2f}{sqlite.peak_mb:9.0f}")
        print(f"{'start-up (investigate --version)':34}{start.wall:8.2f}{start.cpu:8.2f}{start.peak_mb:9.0f}")
        print(f"ratio of CPU, SQLite / combine: {sqlite.cpu / combine.cpu:.1f}x "
              f"({total:,} visits in {args.newsrooms} newsrooms)")


if __name__ == "__main__":
    main()

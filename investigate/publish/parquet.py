"""The public copy as Parquet files with their provenance (``publish --parquet``, issue 28).

Another desk that wants to recompute or combine a newsroom's figures should not have to
download a SQLite file per case and write SQL by hand: each public table is also written as
``parquet/<table>.parquet`` (zstd) beside ``public.db``, read by DuckDB, pandas or Arrow,
locally or over HTTP. Each file carries, in its key-value metadata, the signed log checkpoint
of the publication (``investigate.checkpoint``) and the SQL of the figures read from it
(``investigate.figures``: the SQL that recomputes the published rates from the visits and the
weighted rate from the design weights). ``manifest.json`` lists every file with its SHA-256,
the checkpoint and its key, and per case the protocol and the hash of what decides its
outcomes — what ``network combine`` checks before it combines anything.

The files are written from the finished public database, never from the workspace: they hold
exactly what it holds.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from ..files import file_sha256
from .design_weights import FIRST_RESULTS

PARQUET_DIR = "parquet"
MANIFEST = "manifest.json"
FORMAT = "investigate-publication/1"
BATCH_ROWS = 50_000

#: The SQL of each published figure, over the tables by their names (a view per Parquet file in
#: DuckDB, or the public database itself): anyone can run it and compare.
FIGURES = {
    "rates": {
        "all": "select case_slug, count(*) as visits, "
               "sum(case when outcome = 'violation' then 1 else 0 end) as violations, "
               "sum(case when outcome in ('violation', 'compliant') then 1 else 0 end) as eligible, "
               "sum(case when outcome = 'violation' then 1.0 else 0 end) / "
               "nullif(sum(case when outcome in ('violation', 'compliant') then 1 else 0 end), 0) as violation_rate "
               "from visits group by case_slug order by case_slug",
    },
    "weighted_rates": {
        "by_round": f"with firsts as ({FIRST_RESULTS}) "
                    "select f.case_slug, f.round, count(*) as stores_tested, "
                    "sum(w.weight * (case when f.outcome = 'violation' then 1 else 0 end)) / sum(w.weight) "
                    "as violation_rate from firsts f join design_weights w on w.case_slug = f.case_slug "
                    "and w.store_id = f.store_id and w.round = f.round group by f.case_slug, f.round "
                    "order by f.case_slug, f.round",
    },
}


def _arrow_type(declared: str):
    import pyarrow as pa

    declared = (declared or "").lower()
    if "int" in declared:
        return pa.int64()
    if "real" in declared or "floa" in declared or "doub" in declared:
        return pa.float64()
    return pa.string()


def write_table_parquet(conn: sqlite3.Connection, table: str, path: Path, metadata: dict[str, str]) -> int:
    """One table of ``conn`` as a zstd Parquet file with ``metadata``, streamed in batches;
    returns its rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = conn.execute(f"pragma table_info([{table}])").fetchall()
    schema = pa.schema([pa.field(c[1], _arrow_type(c[2])) for c in columns],
                       metadata={k.encode(): v.encode() for k, v in metadata.items()})
    rows = 0
    cursor = conn.execute(f"select * from [{table}] order by rowid")
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        while batch := cursor.fetchmany(BATCH_ROWS):
            values = list(zip(*batch))
            writer.write_table(pa.Table.from_arrays([pa.array(v, type=f.type) for v, f in zip(values, schema)],
                                                    schema=schema))
            rows += len(batch)
    return rows


def remove_parquet(out_dir: Path) -> None:
    """The Parquet files and manifest of an earlier publish into ``out_dir``, removed."""
    shutil.rmtree(Path(out_dir) / PARQUET_DIR, ignore_errors=True)
    (Path(out_dir) / MANIFEST).unlink(missing_ok=True)


def write_parquet(db_path: Path, cases: list[dict]) -> dict:
    """Every table of the public database at ``db_path`` as Parquet in ``parquet/`` beside it,
    and ``manifest.json``; ``cases`` = per case its slug, protocol and outcome hash. The folder
    is written under a temporary name and moved into place: a failed run leaves the old one."""
    db_path = Path(db_path)
    out_dir = db_path.parent
    tmp = out_dir / f".{PARQUET_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        note, public_key = conn.execute("select note, public_key from log_checkpoint order by size desc").fetchone()
        files = []
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' "
                                             "and name not like 'sqlite_%' order by name")]
        for table in tables:
            path = tmp / f"{table}.parquet"
            rows = write_table_parquet(conn, table, path, {
                "investigate.table": table, "investigate.checkpoint": note,
                "investigate.figures": json.dumps(FIGURES.get(table, {}), ensure_ascii=False)})
            files.append({"path": f"{PARQUET_DIR}/{table}.parquet", "table": table, "rows": rows,
                          "bytes": path.stat().st_size, "sha256": file_sha256(path)})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        conn.close()
    final = out_dir / PARQUET_DIR
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    manifest = {"format": FORMAT, "checkpoint": note, "public_key": public_key,
                "database": {"path": db_path.name, "sha256": file_sha256(db_path)},
                "files": files, "cases": cases, "figures": FIGURES}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return {"manifest": str(out_dir / MANIFEST), "files": files}

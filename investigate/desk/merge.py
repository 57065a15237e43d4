"""Merging reporters' work: a bundle or another workspace folder (``bundles``), added by id.

- nothing is trusted before it is checked: member paths (no ``..``, no absolute paths),
  every member's SHA-256 against the manifest, the schema (a bundle from a newer version is
  refused), the other side's audit chain from its first link, and every bundled row against
  the newest entry of that chain that names it;
- a row whose id we do not have is inserted (one audit entry in our chain per row, action
  ``merge``); the same id with the same content is skipped; the same id with different
  content is a conflict, recorded in ``merge_conflicts`` and printed, and never overwritten;
- the other side's chain is kept in ``foreign_audit`` under its workspace id, so ``verify``
  can recompute it later;
- evidence files are copied by hash, and checked;
- all in one transaction: a failure merges nothing (evidence files copied for it are removed).

Merging the same bundle twice changes nothing. Merging several workspaces in any order gives
the same domain rows (our own audit log records the order, as it should).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Iterable, Iterator

from ..proof.partial import encode_proof
from ..store import audit
from ..store.leftovers import left_by_a_killed_run
from ..errors import InvalidInput
from ..files import file_sha256
from ..store.workspace import Workspace, utc_now
from .bundles import (HASH, counted, SOURCE_TABLES, TABLES, BundleError, Source, applied_migrations,
                      check_checkpoint, open_source, record_origin_key, workspace_id)
from .spool import CHAIN_FIELDS, SPOOL_NAME

#: Unique keys besides the id. Two rows with different ids and the same key are the same thing
#: for these tables (skipped), and a collision a person must resolve for the others.
UNIQUE_KEYS = {"cases": ("slug",), "testers": ("code",), "case_stores": ("case_id", "store_id"),
               "evidence": ("visit_id", "sha256"), "tips": ("source", "external_id"), "tip_sources": ("tip_id",),
               "companies": ("name_key",), "stories": ("case_id",), "story_sources": ("story_id",),
               "story_document_sources": ("document_id",),
               # The same key and version with other content: edited in place in one workspace.
               "protocol_versions": ("key", "version")}
SAME_THING_ON_KEY = {"case_stores", "evidence", "tips", "tip_sources", "story_sources", "story_document_sources"}
#: Rows that follow from a visit's answers: while the visit is in conflict, the other side's
#: new ones are held back (``merge_conflicts.held_for``), never attached to our version.
VISIT_CHILDREN = ("findings", "promises")


def check_chain(source: Source) -> None:
    """Recompute the other side's chain (a bundle's: each entry's link, the entries between them
    being proven by its checkpoint instead)."""
    broken = audit.broken_link(source.spool.chain(), gaps=source.is_bundle)
    if broken is not None:
        raise BundleError(f"{source.label}: audit chain broken at entry {broken}")


def check_rows(ws: Workspace, source: Source, tables: list[str]) -> None:
    """Every row the source carries must be the one the newest entry of its chain naming it
    hashed."""
    key = source.sources_key or b"\0"
    for table in tables:
        for row, row_hash in source.spool.rows_with_entries(table):
            if row_hash is None or row_hash != ws.row_hash(table, row, key):
                raise BundleError(f"{source.label}: {table} {row['id']} does not match the audit chain it came with")


STAGING_PREFIX = ".incoming-"


def clean_leftovers(ws: Workspace) -> list[str]:
    """Remove the staging folders of merges that were killed (their process is gone); returns
    what was removed. ``verify`` reports the ones still there."""
    removed = []
    for folder in ws.root.glob(STAGING_PREFIX + "*"):
        if not left_by_a_killed_run(folder.name[len(STAGING_PREFIX):].split("-")[0]):
            continue
        # Killed between commit and move: finish the move for rows that are in the database.
        for staged in folder.iterdir():
            if HASH.match(staged.name) and not ws.evidence_path(staged.name).exists() and ws.db.execute(
                    "select 1 from evidence where sha256 = ?", [staged.name]).fetchone():
                if file_sha256(staged) == staged.name:
                    target = ws.evidence_path(staged.name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.chmod(staged, 0o444)
                    os.replace(staged, target)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def merge(ws: Workspace, path: Path | str, *, progress=None, total=None) -> dict:
    """Merge a bundle or another workspace into ``ws``; see the module docstring."""
    cleaned = clean_leftovers(ws)
    # One staging folder per merge, beside the workspace's files: the source's rows are spooled
    # into it, its evidence streamed into it and hashed there, and files moved into place only
    # after the transaction has committed. A failed merge leaves nothing behind.
    staging = ws.root / f"{STAGING_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    staging.mkdir()
    # Every shape a crafted bundle (or an altered workspace) can take ends as one line, never a
    # traceback: in reading it into the spool as in merging it.
    crafted = (KeyError, TypeError, ValueError, AttributeError, sqlite3.Error)
    try:
        try:
            source = open_source(path, staging / SPOOL_NAME, progress=progress, total=total)
        except crafted as ex:
            raise _malformed(path, ex)
        try:
            return _merge(ws, source, staging, progress=progress, total=total) | {"cleaned_leftovers": cleaned}
        except crafted as ex:
            raise _malformed(source.label, ex)
        finally:
            source.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _malformed(label, ex: Exception) -> BundleError:
    return BundleError(f"{label}: malformed bundle, nothing was merged ({type(ex).__name__}: {ex})")


def _merge(ws: Workspace, source: Source, staging: Path, *, progress=None, total=None) -> dict:
    if source.origin == workspace_id(ws):
        raise InvalidInput(f"{source.label} is this workspace itself")
    ours = set(applied_migrations(ws))
    newer = [m for m in source.migrations if m not in ours]
    if newer:
        raise BundleError(f"{source.label} comes from a newer schema (migration {newer[0]!r} unknown here): "
                          "upgrade investigate first")
    check_chain(source)
    new_origin_key = check_checkpoint(ws, source)
    spool = source.spool
    sizes = {t: spool.count(t) for t in TABLES + SOURCE_TABLES}
    tables = TABLES + [t for t in SOURCE_TABLES if sizes[t]]
    check_rows(ws, source, tables)
    counts = {t: 0 for t in tables}
    conflicts: list[dict] = []
    held: dict[str, int] = {}  # rows of theirs held back per table (new this merge)
    # Visits in conflict, from this merge or an earlier one not yet resolved.
    disputed = {r[0] for r in ws.db.execute("select row_id from merge_conflicts where table_name = 'visits' "
                                            "and held_for is null and resolved_at is null")}
    staged: list[tuple[Path, Path]] = []
    if total and not source.announced:
        total(sum(sizes[t] for t in tables))  # one step per row, as progress counts

    def new_rows(table: str) -> Iterator[dict]:
        """The rows of ``table`` we do not have, as they are found (``insert_many`` adds them a
        batch at a time); conflicts and held-back rows recorded on the way."""
        rows = spool.rows(table)
        for row, found, cols in ours_of(ws, table, counted(rows, progress)):
            if found is None and table in VISIT_CHILDREN and row.get("visit_id") in disputed:
                if record_conflict(ws, source, table, row, ours_hash=None, held_for=row["visit_id"]):
                    held[table] = held.get(table, 0) + 1
                continue
            if found is None:
                key = UNIQUE_KEYS.get(table)
                if key and ws.db.execute(
                        f"select 1 from [{table}] where " + " and ".join(f"[{k}] = ?" for k in key),
                        [row[k] for k in key]).fetchone():
                    if table in SAME_THING_ON_KEY:
                        continue
                    raise BundleError(
                        f"{source.label}: {table} {', '.join(str(row[k]) for k in key)} exists here under "
                        "another id; rename one of them before merging (nothing was merged)")
                if table in ("evidence", "story_documents"):
                    # Hashed even when we hold the file already: a bundle that lies is refused.
                    staged.append((source.stage(row["sha256"], staging), ws.evidence_path(row["sha256"])))
                yield row
                continue
            ours = dict(zip(cols, found))
            if ours == row:  # the same row: nothing to hash (merging a bundle again hashed each twice)
                continue
            ours_hash, theirs_hash = ws.row_hash(table, ours), ws.row_hash(table, row)
            if ours_hash != theirs_hash:
                children = None
                if table == "visits":
                    disputed.add(row["id"])
                    children = json.dumps(spool.children(row["id"], VISIT_CHILDREN))
                if record_conflict(ws, source, table, row, ours_hash=ours_hash, children=children):
                    conflicts.append({"table_name": table, "row_id": row["id"]})

    with ws.transaction():
        for table in tables:
            counts[table] = ws.insert_many(table, new_rows(table), action="merge")
        fresh = keep_foreign_chain(ws, source)
        if new_origin_key:
            record_origin_key(ws, source, new_origin_key)
        merged = sum(counts.values())
        if merged or fresh or conflicts or held:
            ws.log_event("merge", {"origin": source.origin, "source": Path(source.label).name,
                                   "chain_head": spool.chain_head(), "rows": counts, "conflicts": len(conflicts)})
    for incoming, target in staged:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(incoming, 0o444)
            os.replace(incoming, target)
    return {"origin": source.origin, "merged": counts, "conflicts": conflicts,
            "held_back": held,
            "foreign_audit_entries": fresh}


#: Rows looked up in our tables this many at a time.
_LOOKUP_BATCH = 500


def ours_of(ws: Workspace, table: str, rows: Iterable[dict]) -> Iterator[tuple[dict, tuple | None, list[str]]]:
    """Each of ``rows`` with our row of the same id (None when we have none) and our columns:
    looked up ``_LOOKUP_BATCH`` ids a query (one query a row was a tenth of a big merge)."""
    sql = f"select * from [{table}] where id in (select value from json_each(?))"
    rows = iter(rows)
    for batch in iter(lambda: list(itertools.islice(rows, _LOOKUP_BATCH)), []):
        cur = ws.db.execute(sql, [json.dumps([row["id"] for row in batch])])
        cols = [d[0] for d in cur.description]
        at = cols.index("id")
        have = {found[at]: found for found in cur}
        for row in batch:
            yield row, have.get(row["id"]), cols


#: Foreign entries compared with those kept before, and added, this many at a time.
_CHAIN_BATCH = 5000


def keep_foreign_chain(ws: Workspace, source: Source) -> int:
    """Keep the other side's chain in ``foreign_audit`` (with, for a bundle, what proves its
    entries), so that ``verify`` can recompute it later; returns how many entries were new. An
    entry kept before with another hash means the other workspace was rewritten: refused."""
    # One prepared statement (sqlite-utils' insert_all inspected every value: 2.0 of a 100,000-
    # visit merge's 22 s under the profiler); a value SQLite cannot hold is a malformed bundle.
    insert = f"insert into foreign_audit (origin, {', '.join(CHAIN_FIELDS)}) values (?{', ?' * len(CHAIN_FIELDS)})"
    fresh = 0
    entries = source.spool.chain()
    for batch in iter(lambda: list(itertools.islice(entries, _CHAIN_BATCH)), []):
        known = dict(ws.db.execute("select seq, hash from foreign_audit where origin = ? and seq in "
                                   "(select value from json_each(?))",
                                   [source.origin, json.dumps([e["seq"] for e in batch])]).fetchall())
        new = []
        for e in batch:
            if e["seq"] in known:
                if known[e["seq"]] != e["hash"]:
                    raise BundleError(f"{source.label}: its audit chain differs from the one merged before at "
                                      f"entry {e['seq']}: the other workspace was rewritten")
                continue
            new.append((source.origin, *(e[k] for k in CHAIN_FIELDS)))
        ws.db.conn.executemany(insert, new)
        fresh += len(new)
    if fresh and source.is_bundle:  # some entries of its log: what proves them, for verify
        ws.db["foreign_proofs"].insert({
            "origin": source.origin, "checkpoint": source.checkpoint, "seqs": source.spool.seqs(),
            "proof": json.dumps(encode_proof(source.proof)), "merged_at": utc_now()})
    return fresh


def record_conflict(ws: Workspace, source: Source, table: str, row: dict, *, ours_hash: str | None,
                    held_for: str | None = None, children: str | None = None) -> bool:
    """Keep the other side's version of a row in ``merge_conflicts`` (a conflicting row, or a
    row held back because its visit conflicts); False when it was kept before."""
    cur = ws.db.execute(
        "insert or ignore into merge_conflicts (origin, table_name, row_id, ours_hash, theirs_hash, theirs, "
        "detected_at, held_for, children) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source.origin, table, row["id"], ours_hash, ws.row_hash(table, row), json.dumps(row, ensure_ascii=False,
                                                                                         sort_keys=True),
         utc_now(), held_for, children])
    return bool(cur.rowcount)

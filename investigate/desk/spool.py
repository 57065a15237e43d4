"""What a merge reads, kept on disk while it is checked: a bundle's (or another workspace's)
rows and audit chain, written into a SQLite file of their own in the merge's staging folder
as they are read, and read back a table at a time.

Held as Python lists, a bundle of 100,000 visits took 440 MB before a row was merged (1.2 GB
into a workspace of a million in issue 30's measure), and a field season's bundle would not fit
a laptop at all. Here a merge holds one row at a time (and a batch of those it adds); what it
must look up across the whole bundle (the newest audit entry of each row, the findings of a
visit in conflict) is answered by the spool's indexes. Each row is kept as the JSON text it
came in, and parsed again when it is read back; the file takes about what the bundle's rows and
chain take unzipped, on the workspace's disk, for as long as the merge runs.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterable, Iterator

from ..store.audit import ENTRY_FIELDS

#: An audit entry's fields: what it links and what ``foreign_audit`` keeps of it.
CHAIN_FIELDS = ENTRY_FIELDS + ("prev_hash", "hash")
_CHAIN_KEYS = set(CHAIN_FIELDS)

#: The spool's file name inside the merge's staging folder (removed with it).
SPOOL_NAME = "source.sqlite"


class Spool:
    """The rows and chain of one merge source, in a private SQLite file: written once
    (``add_rows``, ``add_chain``, then ``finish``), then read, each read a cursor stepped as
    it goes."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path, isolation_level=None)
        # A scratch file that dies with the merge: no journal, no syncing, one writer.
        for pragma in ("journal_mode = off", "synchronous = off", "locking_mode = exclusive", "cache_size = -8192",
                       "temp_store = file"):
            self.db.execute(f"pragma {pragma}")
        self.db.execute("create table rows (tbl text not null, id text not null, visit_id text, row text not null)")
        # An entry is kept as its fields; only one that holds more, less or other than text,
        # whole numbers and nulls (a crafted bundle's) is kept as its JSON text as well, so
        # that it is read back as it came.
        self.db.execute(f"create table chain ({', '.join(CHAIN_FIELDS)}, entry text)")
        self.db.execute("begin")

    def add_rows(self, table: str, items: Iterable[tuple[dict, str]]) -> None:
        """Rows of ``table`` (each checked already, with its JSON text), in their order."""
        self.db.executemany("insert into rows values (?, ?, ?, ?)", (
            (table, row["id"], _text(row.get("visit_id")), text) for row, text in items))

    def add_chain(self, entries: Iterable[tuple[dict, str]]) -> None:
        """Audit entries (each checked already, with its JSON text), in the chain's order."""
        self.db.executemany(f"insert into chain values ({', '.join('?' * (len(CHAIN_FIELDS) + 1))})", (
            (*map(e.get, CHAIN_FIELDS), None) if _plain(e) else (*map(_looked_up(e).get, CHAIN_FIELDS), text)
            for e, text in entries))

    def finish(self) -> None:
        """Index what the merge looks up, once everything is written."""
        for sql in ("create index rows_by_table on rows (tbl)",
                    "create index chain_by_row on chain (table_name, row_id)",
                    "create index rows_by_visit on rows (visit_id) where visit_id is not null", "commit"):
            self.db.execute(sql)

    def count(self, table: str) -> int:
        return self.db.execute("select count(*) from rows where tbl = ?", [table]).fetchone()[0]

    def rows(self, table: str) -> Iterator[dict]:
        """The rows of ``table`` in the order they came."""
        for (text,) in self.db.execute("select row from rows where tbl = ? order by rowid", [table]):
            yield json.loads(text)

    def rows_with_entries(self, table: str) -> Iterator[tuple[dict, str | None]]:
        """Each row of ``table`` with the row hash of the newest audit entry naming it (None
        when no entry does)."""
        sql = ("select r.row, (select c.row_hash from chain c where c.rowid = (select max(rowid) from chain "
               "where table_name = r.tbl and row_id = r.id)) from rows r where r.tbl = ? order by r.rowid")
        for text, row_hash in self.db.execute(sql, [table]):
            yield json.loads(text), row_hash

    def chain(self) -> Iterator[dict]:
        """Every audit entry, in the chain's order."""
        for values in self.db.execute("select * from chain order by rowid"):
            yield json.loads(values[-1]) if values[-1] is not None else dict(zip(CHAIN_FIELDS, values))

    def chain_head(self) -> str | None:
        found = self.db.execute("select hash from chain order by rowid desc limit 1").fetchone()
        return found[0] if found else None

    def seqs(self) -> str:
        """The seqs of the chain's entries, in order, as a JSON list."""
        return self.db.execute("select json_group_array(seq) from (select seq from chain order by rowid)").fetchone()[0]

    def children(self, visit_id: str, tables: Iterable[str]) -> list[str]:
        """``table:id`` of the rows of ``tables`` that belong to the visit, table by table."""
        return [f"{t}:{i}" for t in tables for (i,) in self.db.execute(
            "select id from rows where visit_id = ? and tbl = ? order by rowid", [visit_id, t])]

    def close(self) -> None:
        self.db.close()


def _text(value) -> str | None:
    """A text column's value, or None: an entry naming a row by anything else (a crafted
    bundle's) names none, as it matched none when the chain was a dict."""
    return value if isinstance(value, str) and value else None


def _looked_up(entry: dict) -> dict:
    """Of an entry that is not plain, the fields the spool looks rows and the chain up by,
    each as SQLite can hold it; the entry itself is kept as its text."""
    return {"seq": entry["seq"], "table_name": _text(entry.get("table_name")), "row_id": _text(entry.get("row_id")),
            "row_hash": _text(entry.get("row_hash")), "prev_hash": entry["prev_hash"], "hash": entry["hash"]}


def _plain(entry: dict) -> bool:
    """An entry of exactly the fields, each text, a whole number SQLite holds or null: what
    SQLite gives back as it was given (a ``True`` would come back as 1)."""
    return entry.keys() == _CHAIN_KEYS and all(
        v is None or type(v) is str or type(v) is int and -(1 << 63) <= v < 1 << 63 for v in entry.values())

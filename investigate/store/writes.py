"""The one write path: every write to an audited table appends its audit entry in the same
transaction (``BEGIN IMMEDIATE``, so two processes cannot fork the chain).

``insert``/``update``/``delete`` keep the row (or the change, with its reason) in the entry;
``insert_many`` — every import — keeps only each row's hash plus an event naming the file, writes
in one transaction (all or nothing), gives SQLite a bigger page cache for it, defers the
indexes of a big import and counts its rows into the tallies once, at its end.
``update``/``delete`` refuse a row whose hash differs from its last entry: changing it would
launder a tampering into a fresh entry. A part of ``Workspace`` (a mixin): it writes through
the workspace's connection, transaction and audit view.
"""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack, contextmanager
from operator import itemgetter
from datetime import datetime
from typing import Callable, Iterable, Iterator

from .. import clock, ids
from ..errors import IntegrityError, InvestigateError
from . import audit
from .tables import (BULK_CASE_RETALLY, BULK_FINDING_RETALLY, BULK_RECOUNTS, BULK_RETALLIES, DEFERRED_INDEXES,
                     FINDING_KEY, RECOUNTED_ALONG, TALLY_NULLS, case_tally_key, finding_tally_key, tally_key)

#: Rows a bulk insert adds before it defers its table's indexes (and no fewer than the table
#: held): a small write keeps them, its rows cost little either way.
DEFER_AFTER = 10_000

#: Rows a table holds from which a bulk write gets the larger page cache (``_bulk_cache``).
BIG_TABLE = 100_000


def utc_now() -> str:
    return clock.utc_now()


class AuditedWrites:
    """The write methods of ``Workspace``."""

    def _append_audit(self, entries: list[dict]) -> None:
        at = utc_now()
        actor = self.actor
        for entry in entries:
            entry.setdefault("at", at)
            entry.setdefault("actor", actor)
        audit.append_entries(self.db.conn, entries)

    def insert(self, table: str, row: dict, *, action: str = "insert", note: str | None = None,
               savepoint: bool = True) -> dict:
        """Insert one row (an ``id`` is made if missing) with its audit entry; returns it.
        ``savepoint=False`` joins the caller's transaction (``transaction``): for many single
        inserts in one all-or-nothing transaction, where each savepoint had SQLite copy every
        page the insert touched (asking 20,000 businesses at once: 25 s of system time)."""
        row = _prepare(row)
        with self.transaction(savepoint=savepoint):
            # One prepared statement (values are plain already): sqlite-utils' insert inspects
            # the table and every value on each call, a third of asking 12,610 businesses at once.
            self.db.conn.execute(_insert_sql(table, list(row)), list(row.values()))
            stored = self.get(table, row["id"])
            logged = self.audit_view(table, stored)
            self._append_audit(
                [
                    {
                        "action": action,
                        "table_name": table,
                        "row_id": row["id"],
                        "row_hash": audit.row_hash(logged),
                        "data": audit.dumps({"row": logged, "note": note} if note else {"row": logged}),
                    }
                ]
            )
        return stored

    def insert_many(
        self,
        table: str,
        rows: Iterable[dict],
        *,
        action: str = "import",
        batch_size: int = 2000,
        on_batch=None,
        expected: int | None = None,
    ) -> int:
        """Insert many rows in one transaction, each with its audit entry.

        Values must already have their column's type (an int for an INTEGER column): that,
        and the schema having no defaults, is what lets the row hash be computed here
        without reading each row back. The audit
        entries of a bulk write keep the row hash but not a copy of the row: the rows
        themselves are the record, and the hash proves they are unchanged.
        ``on_batch(n)`` is called after each batch, for a progress bar, or to insert the rows
        the batch brings along (an importer's findings); it must not change or delete rows of
        the counted tables (``tables.BULK_RECOUNTS``): their counting triggers are dropped until
        the end, where the rows added are counted. Inside a caller's
        transaction it joins it rather than opening a savepoint (``transaction``), as
        ``update_many`` does. ``expected``: the rows the caller expects, when it knows; a big
        insert then defers its indexes before its first row rather than under way, where a
        caller streaming the rows from a query of its own would have them dropped under it
        (SQLite refuses: "database table is locked").
        """
        count = 0
        names = self.columns(table)
        columns = set(names)
        with self.transaction(savepoint=False), self._bulk(table) as defer:
            at = utc_now()
            actor = self.actor
            batch: list[dict] = []
            hash_values = self.values_hasher(table, names)
            insert_sql = _insert_sql(table, names)

            def flush():
                if not batch:
                    return
                # executemany with one prepared statement: sqlite-utils' insert_all inspects
                # every value, which is most of the cost of a million-row import.
                values = [tuple(map(r.get, names)) for r in batch]
                self.db.conn.executemany(insert_sql, values)
                # The chain head is read per batch, not once: ``on_batch`` may write audited
                # rows of its own (an importer flushing a batch's findings after its visits).
                audit.append_row_entries(self.db.conn, [(r["id"], hash_values(v)) for r, v in zip(batch, values)],
                                         at=at, actor=actor, action=action, table_name=table)
                n = len(batch)
                batch.clear()
                if on_batch:
                    on_batch(n)

            if expected:
                defer(expected)
            for row in rows:
                row = _prepare(row)
                if not row.keys() <= columns:
                    unknown = set(row) - columns
                    raise InvestigateError(f"{table}: unknown column(s) {', '.join(sorted(unknown))}")
                batch.append(row)
                count += 1
                if len(batch) >= batch_size:
                    flush()
                    defer(count)
            flush()
        return count

    @contextmanager
    def _deferred_indexes(self, table: str, before: int) -> Iterator[Callable[[int], None]]:
        """Inside a bulk insert's transaction: once it has added more rows than the table held
        and at least ``DEFER_AFTER``, the table's indexes named in ``tables.DEFERRED_INDEXES``
        are dropped, and built again at the end from the sorted keys. Inserting into the
        random-keyed ones cost a million-row import 1.5x per row what a 100k one paid (their
        pages outgrow any cache), and building an index once costs half what inserting into it
        row by row does (an import of 100,000 visits: 5.5 s of CPU instead of 6.3). A small
        import into a big table keeps them: rebuilding would read the whole table.
        Transactional DDL: nobody else sees them missing, and a failed import keeps them."""
        names = DEFERRED_INDEXES.get(table, ())
        dropped: list[str] = []

        def defer(added: int) -> None:
            if names and not dropped and added >= max(DEFER_AFTER, before):
                for name in names:
                    if ddl := self._drop("index", name):
                        dropped.append(ddl)

        yield defer
        for ddl in dropped:
            self.db.execute(ddl)

    @contextmanager
    def _bulk(self, table: str) -> Iterator[Callable[[int], None]]:
        """What a bulk insert changes for its transaction, all sized by the rows the table held
        when the transaction began (read inside it: another writer cannot add rows meanwhile)."""
        held = self._rows_held(table)
        with ExitStack() as stack:
            stack.enter_context(self._bulk_cache(held))
            for counted in (table, *RECOUNTED_ALONG.get(table, ())):
                stack.enter_context(self._recounted(counted, held if counted == table else self._rows_held(counted)))
            yield stack.enter_context(self._deferred_indexes(table, held))

    def _rows_held(self, table: str) -> int:
        return self.db.execute(f"select coalesce(max(rowid), 0) from [{table}]").fetchone()[0]

    @contextmanager
    def _recounted(self, table: str, held: int) -> Iterator[None]:
        """Inside a bulk insert's transaction: the table's counting trigger dropped, and the rows
        past ``held`` counted by one grouped query at the end (``tables.BULK_RECOUNTS``). A bulk
        insert of rows the table's trigger is already dropped for (``tables.RECOUNTED_ALONG``)
        leaves their counting to the enclosing one."""
        trigger, count = BULK_RECOUNTS.get(table, (None, None))
        ddl = trigger and self._drop("trigger", trigger)
        if not ddl:
            yield
            return
        yield
        self._add_tallies(table, self.db.execute(count, [held]))
        self.db.execute(ddl)

    @contextmanager
    def _retallied(self, table: str, names: list[str], changes: dict) -> Iterator[Callable[[list, list], None]]:
        """Inside a bulk update's transaction, when it changes a counted column: the table's
        tally trigger dropped; ``move(old_rows, new_rows)`` (values in ``names``' order) adds up
        what leaves and enters each tally, and the net counts are written once at the end
        (``tables.BULK_RETALLIES``). The visits' findings move with them in their tallies
        (``tables.BULK_FINDING_RETALLY``): each moved visit's findings are counted by batch."""
        trigger = BULK_RETALLIES.get(table, (None,))[0]
        ddl = trigger and not set(TALLY_NULLS).isdisjoint(changes) and self._drop("trigger", trigger)
        if not ddl:
            yield lambda old_rows, new_rows: None
            return
        finding_ddl = not set(FINDING_KEY).isdisjoint(changes) and self._drop("trigger", BULK_FINDING_RETALLY[0])
        moves: Counter = Counter()
        finding_moves: Counter = Counter()  # of the visits with findings: (old values, new values) → findings
        counted = itemgetter(*(names.index(c) for c in TALLY_NULLS))
        key = names.index("id")

        def move(old_rows: list, new_rows: list) -> None:
            moves.subtract(map(counted, old_rows))
            moves.update(map(counted, new_rows))
            if finding_ddl:
                found = dict(self.db.execute(
                    "select visit_id, count(*) from findings where visit_id in (select value from json_each(?)) "
                    "group by visit_id", [json.dumps([r[key] for r in old_rows])]).fetchall())
                for old, new in zip(old_rows, new_rows):
                    if old[key] in found:
                        finding_moves[counted(old), counted(new)] += found[old[key]]

        yield move
        net: Counter = Counter()
        for values, n in moves.items():  # a few per store: NULLs read as the tallies count them
            net[tally_key(values)] += n
        finding_net: Counter = Counter()
        for (old, new), n in finding_moves.items():
            finding_net[finding_tally_key(tally_key(old))] -= n
            finding_net[finding_tally_key(tally_key(new))] += n
        self._add_tallies("visits", ((*key, n) for key, n in net.items()))
        self._add_tallies("findings", ((*key, n) for key, n in finding_net.items()))
        for sql in (ddl, finding_ddl or None):
            if sql:
                self.db.execute(sql)

    def _add_tallies(self, table: str, counts: Iterable[tuple]) -> None:
        """Add ``counts`` (rows of a tally's key values and a count of ``table``'s rows, visits or
        findings, in or out) to the table's tallies, and remove those emptied; a visits' count
        moves its case's tally too, by the sums per case (``case_tally_key``), the case tallies'
        triggers dropped meanwhile. Single-row upserts, not one INSERT … SELECT: SQLite keeps a
        statement journal for a statement that writes many rows, or fires a trigger per row
        (either may abort midway), copying aside every tally page it changes: a million-visit
        import wrote 1.8 GB to a temporary file, seconds of system time. Streamed: a bulk insert's
        counts come straight from its grouped query."""
        if table != "visits":
            _, upsert, prune = BULK_FINDING_RETALLY
            self._upsert_counts(upsert, prune, counts)
            return
        _, upsert, prune = BULK_RETALLIES["visits"]
        case_triggers, case_upsert, case_prune = BULK_CASE_RETALLY
        case_net: Counter = Counter()

        def summed() -> Iterator[tuple]:
            for row in counts:
                case_net[case_tally_key(row)] += row[-1]
                yield row

        case_ddl = [sql for sql in (self._drop("trigger", name) for name in case_triggers) if sql]
        self._upsert_counts(upsert, prune, summed())
        self._upsert_counts(case_upsert, case_prune, ((*key, n) for key, n in case_net.items()))
        for sql in case_ddl:
            self.db.execute(sql)

    def _upsert_counts(self, upsert: str, prune: str, counts: Iterable[tuple]) -> None:
        """Each of ``counts`` (key values, then a count) through ``upsert``, and ``prune`` if any
        count fell."""
        fell = False

        def nonzero() -> Iterator[tuple]:
            nonlocal fell
            for row in counts:
                if row[-1]:
                    fell = fell or row[-1] < 0
                    yield row

        self.db.conn.executemany(upsert, nonzero())
        if fell:
            self.db.execute(prune)

    def _drop(self, kind: str, name: str) -> str | None:
        """Drop an index or trigger inside the caller's transaction; returns the SQL that makes it
        again (None when there is none). DDL is transactional: a failed write keeps it."""
        row = self.db.execute("select sql from sqlite_master where type = ? and name = ?", [kind, name]).fetchone()
        if not row:
            return None
        self.db.execute(f"drop {kind} [{name}]")
        return row[0]

    @contextmanager
    def _bulk_cache(self, held: int) -> Iterator[None]:
        """A larger page cache for one bulk write into a table holding ``held`` rows. The
        random-keyed indexes (store, rates, short id) of a big workspace outgrow the everyday
        32 MB, and every page evicted mid-import is written twice: 100k visits into a workspace
        holding a million ran 1.67x slower than into an empty one with 64 MB, 1.30x with 128.
        But each cached megabyte costs nearly two of memory (an import of 400k visits peaked at
        164 / 222 / 298 MB with 32 / 64 / 128 MB), and a big import into a small table builds
        those indexes afterwards anyway (``_deferred_indexes``): 128 MB where the table already
        holds ``BIG_TABLE`` rows, else 64. Given back afterwards."""
        mb = 128 if held >= BIG_TABLE else 64
        before = self.db.execute("pragma cache_size").fetchone()[0]
        self.db.execute(f"pragma cache_size = -{mb * 1024}")
        try:
            yield
        finally:
            self.db.execute(f"pragma cache_size = {before}")

    def update(self, table: str, row_id: str, changes: dict, *, reason: str | None = None,
               action: str = "update") -> dict:
        """Change columns of one row; the audit entry keeps the old and new values and the
        reason. Returns the new row. A change that changes nothing writes nothing."""
        changes = _prepare(changes, add_id=False)
        with self.transaction():
            old = self.get(table, row_id)
            self._check_untampered(table, old)
            diff = {k: v for k, v in changes.items() if audit.canonical_value(old.get(k)) != audit.canonical_value(v)}
            if not diff:
                return old
            self.db[table].update(row_id, diff)
            new = self.get(table, row_id)
            old_view, new_view = self.audit_view(table, old), self.audit_view(table, new)
            self._append_audit(
                [
                    {
                        "action": action,
                        "table_name": table,
                        "row_id": row_id,
                        "row_hash": audit.row_hash(new_view),
                        "data": audit.dumps(
                            {"old": {k: old_view.get(k) for k in diff}, "new": {k: new_view.get(k) for k in diff},
                             "reason": reason}
                        ),
                    }
                ]
            )
        return new

    def update_many(self, table: str, row_ids: Iterable[str], changes: dict, *, reason: str,
                    action: str = "update", batch_size: int = 2000, on_batch=None) -> list[str]:
        """Set the same ``changes`` on many rows in one transaction (all or nothing): an editor's
        bulk decision. As with ``insert_many``, each row gets an entry with its new hash, and one
        event keeps what changed and why, so the log proves every row without a copy of each
        (``update`` per row spent most of its time re-reading and re-encoding the same change).
        A row that already has the values is left alone; a row altered outside the audit API is
        refused, as ``update`` refuses it. Returns the ids of the rows changed. ``on_batch(n)``
        drives a bar.

        The rows are written in id order, whatever order they came in (an editor's queue comes in
        time order): each batch then updates neighbouring rows and index entries, and the audit
        entries land in order in their (table, row) index. In the queue's order the updates alone
        took 3.5 times the CPU. Counted columns move their tallies once, by the net count per tally."""
        changes = _prepare(changes, add_id=False)
        row_ids = sorted(set(row_ids))
        names = self.columns(table)
        if unknown := set(changes) - set(names):
            raise InvestigateError(f"{table}: unknown column(s) {', '.join(sorted(unknown))}")
        hash_pair = self.update_hasher(table, names, changes)
        key = names.index("id")
        new_at = [(names.index(k), v) for k, v in changes.items()]
        wanted = [(i, audit.canonical_value(v)) for i, v in new_at]
        sets = ", ".join(f"[{k}] = ?" for k in changes)
        changed: list[str] = []
        with self.transaction(savepoint=False), self._retallied(table, names, changes) as retally:
            at, actor = utc_now(), self.actor

            def flush(ids: list[str]) -> None:
                marks = ", ".join("?" for _ in ids)
                rows = self.db.execute(
                    f"select {', '.join(f'[{c}]' for c in names)} from [{table}] where id in ({marks})", ids).fetchall()
                if len(rows) < len(ids):
                    found = {r[key] for r in rows}
                    raise IntegrityError(f"no {table} row with id {next(i for i in ids if i not in found)}")
                last = dict(self.db.execute(
                    f"select row_id, row_hash from audit_log where seq in (select max(seq) from audit_log "
                    f"where table_name = ? and row_id in ({marks}) group by row_id)", [table, *ids]).fetchall())
                before, todo, hashes = [], [], []
                for row in rows:
                    old_hash, new_hash = hash_pair(row)
                    if row[key] in last and last[row[key]] != old_hash:
                        raise IntegrityError(
                            f"{table} {row[key]} differs from its last audit entry: it was altered outside "
                            "investigate; run 'investigate verify' before changing it")
                    if any(audit.canonical_value(row[i]) != v for i, v in wanted):
                        before.append(row)
                        todo.append(audit.with_changes(row, new_at))
                        hashes.append(new_hash)
                if todo:
                    moved = [r[key] for r in todo]
                    # One statement per batch, its ids as one JSON array: a quarter less CPU
                    # than a statement per row.
                    self.db.conn.execute(f"update [{table}] set {sets} where id in (select value from json_each(?))",
                                         [*changes.values(), json.dumps(moved)])
                    retally(before, todo)
                    audit.append_row_entries(self.db.conn, [(r[key], h) for r, h in zip(todo, hashes)], at=at,
                                             actor=actor, action=action, table_name=table)
                    changed.extend(moved)
                if on_batch:
                    on_batch(len(ids))

            batch: list[str] = []
            for row_id in row_ids:
                batch.append(row_id)
                if len(batch) >= batch_size:
                    flush(batch)
                    batch = []
            flush(batch)
            if changed:
                self._append_audit([{"action": action, "table_name": None, "row_id": None, "row_hash": None,
                                     "data": audit.dumps({"table": table, "rows": len(changed), "new": changes,
                                                          "reason": reason})}])
        return changed

    def delete(self, table: str, row_id: str, *, reason: str | None = None) -> dict:
        """Delete one row; the audit entry keeps the whole old row and the reason."""
        with self.transaction():
            old = self.get(table, row_id)
            self._check_untampered(table, old)
            self.db[table].delete(row_id)
            self._append_audit(
                [
                    {
                        "action": "delete",
                        "table_name": table,
                        "row_id": row_id,
                        "row_hash": None,
                        "data": audit.dumps({"old": self.audit_view(table, old), "reason": reason}),
                    }
                ]
            )
        return old

    def _check_untampered(self, table: str, row: dict) -> None:
        """Refuse to change a row that was altered outside the audit API: writing over it
        would launder the alteration into a fresh, valid-looking audit entry."""
        last = self.db.execute(
            "select seq, row_hash from audit_log where table_name = ? and row_id = ? order by seq desc limit 1",
            [table, row["id"]],
        ).fetchone()
        if last is not None and last[1] != self.row_hash(table, row):
            raise IntegrityError(
                f"{table} {row['id']} differs from audit entry {last[0]}: it was altered outside "
                "investigate; run 'investigate verify' before changing it"
            )

    def log_event(self, action: str, data: dict) -> None:
        """An audit entry that is not a row change: an import's source file, a publication."""
        with self.transaction():
            self._append_audit(
                [{"action": action, "table_name": None, "row_id": None, "row_hash": None,
                  "data": audit.dumps(data)}]
            )


_PLAIN = frozenset((str, int, float, type(None)))


def _insert_sql(table: str, columns: list[str]) -> str:
    """The one INSERT both ``insert`` and ``insert_many`` prepare, of plain values in ``columns``."""
    return (f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
            f"values ({', '.join('?' for _ in columns)})")


def _prepare(row: dict, *, add_id: bool = True) -> dict:
    """Plain SQLite values: bools as 0/1, dicts and lists as sorted JSON text. (A copy, with
    only the values that are not plain already written again: most rows have none.)"""
    out = dict(row)
    for key, value in row.items():
        if type(value) in _PLAIN:
            continue
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, (dict, list)):
            value = audit.dumps(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[key] = value
    if add_id and not out.get("id"):
        out["id"] = ids.new_id()
    return out

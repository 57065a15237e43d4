"""The audit chain: how a row's content and the log's order are fixed by hashes.

Every write to an audited table appends one ``audit_log`` row holding the SHA-256 of the
written row (``row_hash``) and a link hash over the previous link and this entry. Changing
any record afterwards — even with the sqlite3 shell — breaks either the row's hash or the
chain, and ``verify`` names the first place that does not match.

The hash of a row must not depend on how SQLite happened to store a value, so values are
canonicalised first: NULLs are left out (adding a nullable column to the schema later does
not change old hashes), integral floats become ints (a REAL column turns ``1`` into
``1.0``), and everything is hashed as text (a TEXT column turns ``5`` into ``"5"``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Iterable, Iterator, Sequence

from .. import clock

GENESIS = "0" * 64


def canonical_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)


# JSON string quoting as json.dumps(ensure_ascii=False) does it, in C.
_quote = json.encoder.encode_basestring


def row_hash(row: dict) -> str:
    """SHA-256 of a row's canonical form; see the module docstring for why it is canonical.

    The form is ``json.dumps(canon, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    of the row's non-NULL values as text (``test_row_hash_is_the_canonical_json`` holds the
    two to the same bytes)."""
    return values_hasher(list(row))(list(row.values()))


def values_hasher(columns: Sequence[str]) -> Callable[[Sequence], str]:
    """``row_hash`` for many rows with these columns, each given as its values in the columns'
    order (as SQLite returns a row, or as an insert binds it: no dict per row). The keys are
    quoted and sorted once, and the JSON text is spelt out rather than encoded, every value
    being a string. Hashing was a sixth of a million-row import with json.dumps per row."""
    spell = _values_text(columns)
    sha256 = hashlib.sha256
    return lambda values: sha256(spell(values).encode("utf-8")).hexdigest()


def _values_text(columns: Sequence[str]) -> Callable[[Sequence], str]:
    """The canonical text ``row_hash`` hashes, of a row given as its values in ``columns``' order."""
    keyed = [(i, _quote(columns[i]) + ":") for i in sorted(range(len(columns)), key=columns.__getitem__)]

    def spell(values: Sequence) -> str:
        parts = []
        for i, prefix in keyed:
            value = values[i]
            kind = type(value)
            if kind is str:  # the common cases first
                parts.append(prefix + _quote(value))
            elif value is None:
                continue
            elif kind is int:
                parts.append(prefix + '"' + str(value) + '"')
            else:
                parts.append(prefix + _quote(canonical_value(value)))
        return "{" + ",".join(parts) + "}"

    return spell


def values_text_sql(columns: Sequence[tuple[str, str, bool]], patterns: Iterable[frozenset[str]]) -> str:
    """The canonical text of ``_values_text`` as one SQL expression over a table's ``columns``
    (each as its name, declared type and whether it is NOT NULL), spelt by SQLite in C: verify
    reads every row, and spelling a million visits' texts in Python cost more than reading them.
    For each of the ``patterns`` (the columns a row holds NULL in), ``json_object`` of the other
    columns, which quotes each key and text as ``json.dumps`` does; NULL for a row of another
    pattern. (``json_patch`` onto ``{}`` leaves out NULL members too, but parses every text
    again: two seconds at a million visits.) A column not declared TEXT has its integers cast to
    their decimal text; TEXT columns hold no number (SQLite's affinity).

    Exact for text, integers and NULL, all that our tables hold. A real comes out as a JSON
    number, which no canonical text holds, and a blob makes SQLite raise. Both JSON quotings
    decode to the value they quote, so a text that matches a row's recorded hash is the text
    Python spells; one that does not is spelt again by Python before anything is called altered."""
    ordered = sorted(columns)

    def value(column: str, declared: str) -> str:
        name = _sql_name(column)
        return name if declared.upper() == "TEXT" else f"iif(typeof({name}) = 'integer', cast({name} as text), {name})"

    whens = []
    for nulls in patterns:
        held = " and ".join(f"{_sql_name(c)} is {'' if c in nulls else 'not '}null" for c, _, notnull in ordered
                            if not notnull)
        pairs = ", ".join("'{}', {}".format(c.replace("'", "''"), value(c, t)) for c, t, _ in ordered if c not in nulls)
        whens.append(f"when {held or 1} then json_object({pairs})")
    return f"case {' '.join(whens)} end" if whens else "null"


def _sql_name(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def update_hasher(columns: Sequence[str], changes: dict[str, Any]) -> Callable[[Sequence], tuple[str, str]]:
    """For a bulk update that sets ``changes`` on many rows: ``(row_hash, new_hash)`` of a row
    given as its values in ``columns``' order, the hash it must still have (its last entry's) and
    the one it has with the changes. The row is spelt once, each changed value's part
    (``"key":"value"``) then swapped for its new one in the text: in the canonical text every
    quote inside a key or value is escaped, so a key's part begins nowhere else. A change from
    or to NULL adds or removes a part, and such a row is spelt again. Spelling each approved
    visit a second time was a twelfth of a bulk review's CPU."""
    spell = _values_text(columns)
    sha256 = hashlib.sha256
    swaps = [(columns.index(key), _quote(key) + ":", value) for key, value in changes.items()]
    new_parts = [None if value is None else prefix + _quote(canonical_value(value)) for _, prefix, value in swaps]
    at = [(i, value) for i, _, value in swaps]

    def hash_pair(values: Sequence) -> tuple[str, str]:
        text = spell(values)
        new = text
        for (i, prefix, _), part in zip(swaps, new_parts):
            old = values[i]
            if old is None or part is None:
                new = spell(with_changes(values, at))
                break
            new = new.replace(prefix + _quote(canonical_value(old)), part, 1)
        return sha256(text.encode("utf-8")).hexdigest(), sha256(new.encode("utf-8")).hexdigest()

    return hash_pair


def with_changes(values: Sequence, at: Iterable[tuple[int, Any]]) -> list:
    """A row's ``values`` with the value at each index of ``at`` (index, new value) replaced: the
    row a bulk update makes of it."""
    new = list(values)
    for i, value in at:
        new[i] = value
    return new


ENTRY_FIELDS = ("seq", "at", "actor", "action", "table_name", "row_id", "row_hash", "data")


def entry_bytes(entry: dict) -> bytes:
    """Every field of an entry, in a fixed order: what the chain link and the Merkle leaf cover."""
    return values_bytes([entry.get(f) for f in ENTRY_FIELDS])


def values_bytes(values) -> bytes:
    """``entry_bytes`` of the ENTRY_FIELDS values in order (a row read straight from SQL)."""
    # The types an entry holds (text, the seq, NULL) first: verify reads every entry through here.
    return "\x1f".join([v if type(v) is str else "" if v is None else str(v) if type(v) is int
                        else (canonical_value(v) or "") for v in values]).encode("utf-8")


# The ENTRY_FIELDS as SQLite spells them for entry_bytes: the seq as text, NULL as ''.
_ENTRY_TEXT_SQL = ", ".join(["cast(seq as text)"] + [f"coalesce({f}, '')" for f in ENTRY_FIELDS[1:]])


def entries_with_bytes(conn, columns: Sequence[str], *, after: int = 0) -> Iterator[tuple[tuple, bytes]]:
    """Every audit entry after seq ``after``, in seq order, as its row and its ``entry_bytes``:
    the row holds ``columns``, then the ENTRY_FIELDS as SQLite spells them (NULL as ''; verify
    reads the row hash and the action there rather than ask for them twice). verify and a first
    checkpoint read every entry: SQLite spells the fields as text, so that Python only joins
    them; an entry holding a value of another type (a real, a blob: never written by us) raises
    TypeError in the join and is spelt by ``values_bytes``. The row is handed on as SQLite gave
    it: taking it apart into a new tuple was a tenth of verify's walk of the chain."""
    n = len(columns)
    for row in conn.execute(f"select {', '.join(columns)}, {_ENTRY_TEXT_SQL} from audit_log where seq > ? "
                            "order by seq", [after]):
        try:
            data = "\x1f".join(row[n:]).encode("utf-8")
        except TypeError:
            data = values_bytes(row[n:])
        yield row, data


def link_hash(prev_hash: str, entry: dict) -> str:
    """The chain link: the previous link and every field of this entry, in a fixed order."""
    return hashlib.sha256(prev_hash.encode("utf-8") + b"\x1f" + entry_bytes(entry)).hexdigest()


def chain_entries(
    entries: Iterable[dict], *, prev_hash: str, next_seq: int
) -> list[dict]:
    """Number and link a run of new entries after ``prev_hash``; returns them with hashes."""
    linked = []
    for offset, entry in enumerate(entries):
        entry = dict(entry, seq=next_seq + offset, prev_hash=prev_hash)
        entry["hash"] = link_hash(prev_hash, entry)
        prev_hash = entry["hash"]
        linked.append(entry)
    return linked


AUDIT_COLUMNS = ("seq", "at", "actor", "action", "table_name", "row_id", "row_hash", "data",
                 "prev_hash", "hash")
_APPEND_SQL = (f"insert into audit_log ({', '.join(AUDIT_COLUMNS)}) "
               f"values ({', '.join('?' for _ in AUDIT_COLUMNS)})")


def append_entries(conn, entries: list[dict]) -> None:
    """Link ``entries`` after the newest audit_log row and insert them, on a sqlite3
    connection inside the caller's transaction. Every chain extension comes here (single
    writes, migrations that backfill values, events) or, for a bulk write, to its fast twin
    ``append_row_entries``."""
    prev_hash, seq = _chain_head(conn)
    linked = chain_entries(entries, prev_hash=prev_hash, next_seq=seq)
    conn.executemany(_APPEND_SQL, [tuple(e.get(c) for c in AUDIT_COLUMNS) for e in linked])


def append_row_entries(conn, rows: Iterable[tuple[str, str]], *, at: str, actor: str, action: str,
                       table_name: str) -> None:
    """``append_entries`` for a bulk write: one entry per (row_id, row_hash), all else alike.
    The fields they share are joined once; the bytes hashed are the same as entry_bytes'
    (``test_bulk_entries_link_as_single_ones_do`` holds them to it)."""
    prev_hash, seq = _chain_head(conn)
    shared = values_bytes([at, actor, action, table_name]).decode("utf-8") + "\x1f"
    out = []
    sha256 = hashlib.sha256
    for row_id, row_hash in rows:
        link = sha256(f"{prev_hash}\x1f{seq}\x1f{shared}{row_id}\x1f{row_hash}\x1f".encode("utf-8")).hexdigest()
        out.append((seq, at, actor, action, table_name, row_id, row_hash, None, prev_hash, link))
        prev_hash, seq = link, seq + 1
    conn.executemany(_APPEND_SQL, out)


def _chain_head(conn) -> tuple[str, int]:
    """The newest link's hash and the next seq."""
    last = conn.execute("select hash, seq from audit_log order by seq desc limit 1").fetchone()
    return (last[0], last[1] + 1) if last else (GENESIS, 1)


def broken_link(entries: Iterable[dict], *, gaps: bool = False) -> int | None:
    """The seq of the first entry that does not follow from the one before it (a missing,
    reordered or altered entry), or None when the whole chain holds from its first link.
    With ``gaps`` (some entries of a log, proven by its Merkle tree instead: ``proof.partial``)
    an entry after a gap is held to its own link only."""
    prev, expected = GENESIS, 1
    for entry in entries:
        if gaps and isinstance(entry["seq"], int) and entry["seq"] > expected:
            prev, expected = entry["prev_hash"], entry["seq"]
        if entry["seq"] != expected or entry["prev_hash"] != prev or link_hash(prev, entry) != entry["hash"]:
            return entry["seq"]
        prev, expected = entry["hash"], entry["seq"] + 1
    return None


def dumps(data: Any) -> str | None:
    """JSON for the audit ``data`` column: sorted keys so that the same change hashes alike."""
    if data is None:
        return None
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def audited_backfill(db, table: str, values: dict, *, migration: str) -> int:
    """Fill new columns of existing rows, and log each changed row in the audit chain.

    A migration that changes stored values must say so in the chain, or ``verify`` would
    rightly call the rows altered. Rows where the columns are already set are left alone.
    """
    where = " or ".join(f"[{c}] is null" for c in values)
    rows = list(db.query(f"select * from [{table}] where {where}"))
    if not rows:
        return 0
    at = clock.utc_now()
    entries = []
    for row in rows:
        changes = {c: v for c, v in values.items() if row[c] is None}
        row.update(changes)
        entries.append(
            {
                "at": at,
                "actor": f"migration {migration}",
                "action": "migrate",
                "table_name": table,
                "row_id": row["id"],
                "row_hash": row_hash(row),
                "data": dumps({"set": changes}),
            }
        )
        db.execute(
            f"update [{table}] set " + ", ".join(f"[{c}] = ?" for c in changes) + " where id = ?",
            [*changes.values(), row["id"]],
        )
    append_entries(db.conn, entries)
    return len(rows)

"""The audit chain's hashes are a published format: an outsider recomputes them with any JSON
library. These tests hold the fast paths to the canonical definitions, over random rows."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from investigate.store import audit

# A soak run raises these with INVESTIGATE_SOAK_EXAMPLES, as for the publication property.
SOAK = int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "0"))


def examples(ci: int) -> int:
    return max(ci, SOAK)

values = st.one_of(st.none(), st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(),
                   st.binary(max_size=8), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
rows = st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=12)


def canonical_json_hash(row: dict) -> str:
    canon = {k: audit.canonical_value(v) for k, v in row.items() if v is not None}
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@settings(max_examples=examples(300))
@given(rows)
def test_row_hash_is_the_canonical_json(row):
    assert audit.row_hash(row) == canonical_json_hash(row)


def hashed_by_update_hasher(row: dict, changes: dict) -> bool:
    return audit.update_hasher(list(row), changes)(list(row.values())) == (
        audit.row_hash(row), audit.row_hash({**row, **changes}))


@settings(max_examples=examples(300))
@given(rows.filter(bool), st.data())
def test_a_bulk_update_hashes_a_row_and_its_changed_form_as_row_hash_does(row, data):
    """``update_hasher`` swaps each changed value's part in the row's text rather than spelling
    the row again: over random rows (keys and values with quotes, backslashes, colons, any script,
    every type a row holds) and random changes, from and to NULL too, both hashes are ``row_hash``'s."""
    keys = data.draw(st.lists(st.sampled_from(list(row)), min_size=1, unique=True))
    assert hashed_by_update_hasher(row, {key: data.draw(values) for key in keys})


@pytest.mark.parametrize("row, changes", [
    ({"a": '"b":"x"', "b": "x"}, {"b": "y"}),  # another value holds the changed part's text
    ({"xb": "x", "b": "x", "c": 'x","b":"x'}, {"b": "y"}),  # a key ending alike, a value faking a part
    ({"b": "x", "c": 1}, {"b": None}),  # to NULL: the part goes
    ({"b": None, "c": 1}, {"b": True, "c": 2.0}),  # from NULL; values spelt by canonical_value
])
def test_a_bulk_update_swaps_only_the_changed_keys_own_part(row, changes):
    assert hashed_by_update_hasher(row, changes)


def test_row_hash_of_a_known_row():
    # Pinned: a workspace written by any version verifies under every later one.
    row = {"id": "v1", "answers": '{"sale": true}', "round": 1, "lat": 52.0, "notes": None, "name": "Späti „Ecke“"}
    assert audit.row_hash(row) == canonical_json_hash(row)
    assert audit.row_hash(row) == hashlib.sha256(
        '{"answers":"{\\"sale\\": true}","id":"v1","lat":"52","name":"Späti „Ecke“","round":"1"}'.encode()).hexdigest()


@settings(max_examples=examples(100))
@given(st.lists(st.fixed_dictionaries({"at": st.text(), "actor": st.text(), "action": st.text(),
                                       "table_name": st.none() | st.text(), "row_id": st.none() | st.text(),
                                       "row_hash": st.none() | st.text(), "data": st.none() | st.text()}),
                max_size=5))
def test_appended_entries_link_as_chain_entries_says(entries):
    conn = sqlite3.connect(":memory:")
    conn.execute(f"create table audit_log ({', '.join(audit.AUDIT_COLUMNS)})")
    audit.append_entries(conn, entries[:2])
    audit.append_entries(conn, entries[2:])
    stored = [dict(zip(audit.AUDIT_COLUMNS, r)) for r in conn.execute("select * from audit_log order by seq")]
    assert stored == audit.chain_entries(entries, prev_hash=audit.GENESIS, next_seq=1)
    assert audit.broken_link(stored) is None


@settings(max_examples=examples(100))
@given(st.lists(st.tuples(st.text(min_size=1), st.text(min_size=1)), max_size=5), st.text(), st.text(),
       st.text(), st.text())
def test_bulk_entries_link_as_single_ones_do(rows, at, actor, action, table):
    def chain(append):
        conn = sqlite3.connect(":memory:")
        conn.execute(f"create table audit_log ({', '.join(audit.AUDIT_COLUMNS)})")
        append(conn, rows[:1])
        append(conn, rows[1:])
        return conn.execute("select * from audit_log order by seq").fetchall()

    bulk = chain(lambda conn, part: audit.append_row_entries(conn, part, at=at, actor=actor, action=action,
                                                              table_name=table))
    single = chain(lambda conn, part: audit.append_entries(conn, [
        {"at": at, "actor": actor, "action": action, "table_name": table, "row_id": i, "row_hash": h, "data": None}
        for i, h in part]))
    assert bulk == single


entry_values = st.one_of(st.none(), st.text(), st.integers(min_value=-2**63, max_value=2**63 - 1),
                         st.floats(allow_nan=False), st.binary(max_size=8))


@settings(max_examples=examples(100))
@given(st.lists(st.tuples(*[entry_values] * (len(audit.ENTRY_FIELDS) - 1)), max_size=6), st.booleans())
def test_entry_bytes_spelt_by_sqlite_are_values_bytes(entries, typed):
    # The real schema (TEXT columns: reals and integers turn to text, blobs stay) and an untyped
    # one (every value stays as it is, as in a hand-edited database).
    conn = sqlite3.connect(":memory:")
    types = ["integer primary key"] + [" text"] * (len(audit.AUDIT_COLUMNS) - 1) if typed else \
        ["integer primary key"] + [""] * (len(audit.AUDIT_COLUMNS) - 1)
    conn.execute(f"create table audit_log ({', '.join(c + ' ' + t for c, t in zip(audit.AUDIT_COLUMNS, types))})")
    conn.executemany("insert into audit_log values (?, ?, ?, ?, ?, ?, ?, ?, 'p', 'h')",
                     [(seq, *fields) for seq, fields in enumerate(entries, 1)])
    stored = conn.execute(f"select {', '.join(audit.ENTRY_FIELDS)} from audit_log order by seq").fetchall()
    assert [data for _, data in audit.entries_with_bytes(conn, ["seq"])] == [audit.values_bytes(r) for r in stored]
    assert [row[:2] for row, _ in audit.entries_with_bytes(conn, ["seq", "hash"], after=1)] == \
        [(seq, "h") for seq in range(2, len(entries) + 1)]


spelt_values = st.one_of(st.none(), st.text(), st.integers(min_value=-2**63, max_value=2**63 - 1))


@settings(max_examples=examples(200))
@given(st.lists(st.tuples(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), min_size=1,
                                  max_size=8),
                          st.sampled_from(["TEXT", "INTEGER"]), st.booleans()),
                min_size=1, max_size=8, unique_by=lambda c: c[0].lower()), st.data())
def test_the_canonical_text_spelt_by_sqlite_is_the_one_python_spells(columns, data):
    """Over random columns (any name; TEXT or INTEGER; NULL allowed or not) and rows of text
    in any script with quotes, backslashes and control characters, 64-bit integers and NULLs:
    for every NULL pattern it is given, SQLite spells the very text ``values_hasher`` hashes,
    and a row of a pattern it is not given gets NULL. (A text such as "1e5" in an INTEGER column
    is stored as a real, which SQLite must then not spell as Python does.)"""
    conn = sqlite3.connect(":memory:")
    names = [c[0] for c in columns]
    conn.execute("create table t ({})".format(", ".join(
        '"{}" {}{}'.format(n.replace('"', '""'), t, " not null" if nn else "") for n, t, nn in columns)))
    row_values = st.tuples(*[st.text() if nn else spelt_values for _, _, nn in columns])
    rows = data.draw(st.lists(row_values, min_size=1, max_size=6))
    conn.executemany(f"insert into t values ({', '.join('?' for _ in names)})", rows)
    stored = conn.execute("select * from t order by rowid").fetchall()
    patterns = [frozenset(n for n, v in zip(names, row) if v is None) for row in stored]
    given_ = data.draw(st.lists(st.sampled_from(patterns), unique=True))
    spelt = [r[0] for r in conn.execute(f"select cast({audit.values_text_sql(columns, given_)} as blob) from t "
                                        "order by rowid")]
    spell = audit._values_text(names)
    for text, row, pattern in zip(spelt, stored, patterns):
        if pattern not in given_:
            assert text is None
        elif any(isinstance(v, float) for v in row):  # a numeric text in an INTEGER column is stored as a real
            assert text != spell(row).encode("utf-8")
        else:
            assert text == spell(row).encode("utf-8")


@pytest.mark.parametrize("value, declared", [(1.5, "INTEGER"), (1.5, ""), (2.0, ""), (b"\x00", "TEXT"), (b"x", "")])
def test_a_value_sqlite_cannot_spell_as_python_does_never_gets_python_s_text(value, declared):
    """A real, which canonical texts hold as text, comes out as a JSON number: never the text
    Python spells, so its row is spelt again by Python. A blob makes SQLite raise."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"create table t (id text, v {declared})")
    conn.execute("insert into t values ('a', ?)", [value])
    sql = f"select {audit.values_text_sql([('id', 'TEXT', False), ('v', declared, False)], [frozenset()])} from t"
    if isinstance(value, bytes):
        with pytest.raises(sqlite3.OperationalError, match="BLOB"):
            conn.execute(sql).fetchall()
    else:
        stored = conn.execute("select * from t").fetchone()
        assert conn.execute(sql).fetchone()[0] != audit._values_text(["id", "v"])(stored)

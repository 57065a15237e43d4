"""verify against a plain recomputation of what it proves. verify walks the chain once, keeps
each entry's row hash by its place, has SQLite spell the rows' canonical texts and merges the
rows with their newest entries in step: fast paths, each held here to the definition, over
workspaces tampered at random the way an attacker would, with a second connection."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import timedelta
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from investigate.cases import findings, visits
from investigate.proof.verify import verify, work
from investigate.store import audit
from investigate.store import workspace as workspace_module
from investigate.store.tables import AUDITED_TABLES
from investigate.store.workspace import Workspace

from conftest import make_tobacco_case

SOAK = int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "0"))
ROW_KINDS = ("chain", "row", "unaudited", "deleted")
TAMPERED = ("visits", "findings", "stores", "cases", "testers", "promises")


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    """The tobacco case with what a real log holds besides inserts: an amended visit (an
    update, and its rule findings deleted and derived again), a finding added by hand and a
    visit whose texts hold quotes, backslashes, a control character and a line separator, and
    a visit with no observer (another NULL pattern)."""
    from investigate.store.workspace import init_workspace

    folder = tmp_path_factory.mktemp("verify") / "ws"
    ws = init_workspace(folder, newsroom="Test Newsroom", timezone_name="Europe/Berlin")
    case = make_tobacco_case(ws)
    first = ws.get("visits", case["visits"][0]["id"])
    visits.amend_visit(ws, first, reason="the receipt says so", answers={"sale": False})
    findings.add_finding(ws, ws.get("visits", case["visits"][1]["id"]), title='Sold "Marlboro"\\ without ID\x1f',
                         severity="high")
    visits.record_visit(ws, case=case["case"], store=case["stores"][1], tester=case["tester"],
                        answers={"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True},
                        visited_at=ws.now() - timedelta(days=2), observer='Olsen \u2028 „Späti“ \\ "x"')
    visits.record_visit(ws, case=case["case"], store=case["stores"][2], tester=case["tester"],
                        answers={"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True},
                        visited_at=ws.now() - timedelta(days=1), observer=None)
    ws.close()
    return folder


def plain_verify(folder) -> list[tuple[str, str, str]]:
    """What verify must find of the chain and the rows, the plain way: every entry read whole
    and linked by ``audit.link_hash``, each row held to the newest entry naming it (found in a
    dict) and hashed by ``Workspace.row_hash`` from a dict of its values. A row hash is compared
    as the SHA-256 it spells; how the entry spells it is the chain's to prove."""
    ws = Workspace(folder)
    conn = sqlite3.connect(ws.db_path)
    conn.row_factory = sqlite3.Row
    problems = []
    entries = [dict(e) for e in conn.execute("select * from audit_log order by seq")]
    before = [e for e in entries if e["seq"] < 1]
    if before:
        problems.append(("chain", f"audit_log seq {before[0]['seq']}",
                         "an entry numbered before the first: it was written around the audit log"))
    prev, expected = audit.GENESIS, 1
    for e in entries:
        if e["seq"] < 1:
            continue
        if e["seq"] != expected:
            problems.append(("chain", f"audit_log seq {e['seq']}", f"expected entry {expected}: an entry is missing"))
        if e["prev_hash"] != prev or audit.link_hash(prev, e) != e["hash"]:
            problems.append(("chain", f"audit_log seq {e['seq']}",
                             "the chain link does not match: this entry or the one before it was altered"))
        prev, expected = e["hash"], e["seq"] + 1

    def sha(value):
        try:
            digest = bytes.fromhex(value)
        except (TypeError, ValueError):
            return None
        return digest if len(digest) == 32 else None

    tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    for table in [t for t in AUDITED_TABLES if t in tables]:
        newest = {}
        for e in entries:
            if e["table_name"] == table and e["row_id"] is not None:
                newest[e["row_id"]] = max(newest.get(e["row_id"], e), e, key=lambda x: x["seq"])
        rows = [dict(r) for r in conn.execute(f"select * from [{table}]")]
        unnamed = [r for r in rows if r["id"] is None]  # SQLite sorts NULL first
        named = {r["id"]: r for r in rows if r["id"] is not None}
        for row in unnamed:
            problems.append(("unaudited", f"{table} None", "row has no audit entry: it was written around the audit log"))
        for row_id in sorted(set(named) | set(newest), key=sqlite_order):
            row, entry = named.get(row_id), newest.get(row_id)
            if row is None:
                if entry["action"] != "delete":
                    problems.append(("deleted", f"{table} {row_id}",
                                     f"row recorded in audit entry {entry['seq']} is missing"))
            elif entry is None:
                problems.append(("unaudited", f"{table} {row_id}",
                                 "row has no audit entry: it was written around the audit log"))
            elif entry["action"] == "delete":
                problems.append(("row", f"{table} {row_id}", f"row was deleted in audit entry {entry['seq']} but is present"))
            elif sha(entry["row_hash"]) is None or sha(entry["row_hash"]) != bytes.fromhex(ws.row_hash(table, row)):
                problems.append(("row", f"{table} {row_id}",
                                 f"row differs from audit entry {entry['seq']}: it was altered after it was written"))
    conn.close()
    ws.close()
    return problems


def sqlite_order(value):
    """SQLite's order of ids of any type: text before blobs (a tampered id may be either)."""
    return (1, value) if isinstance(value, str) else (2, value)


def found(folder) -> list[tuple[str, str, str]]:
    """verify's problems with the chain and the rows; its progress and its counts must cover
    every entry and every row."""
    ws = Workspace(folder)
    steps = []
    try:
        report = verify(ws, progress=steps.append)
        assert sum(steps) == report.audit_entries + report.rows_checked == work(ws)
        return [(p.kind, p.where, p.detail) for p in report.problems if p.kind in ROW_KINDS]
    finally:
        ws.close()


values = st.one_of(st.none(), st.text(max_size=20), st.integers(min_value=-2**63, max_value=2**63 - 1),
                   st.floats(allow_nan=False), st.binary(max_size=6), st.sampled_from(["delete", "1", "2.0", ""]))
log_fields = st.sampled_from(["row_hash", "action", "row_id", "table_name", "data", "prev_hash", "hash", "actor"])
attacks = st.one_of(
    st.tuples(st.just("cell"), st.sampled_from(TAMPERED), st.integers(0, 50), st.integers(0, 40), values),
    st.tuples(st.just("delete row"), st.sampled_from(TAMPERED), st.integers(0, 50)),
    st.tuples(st.just("copy row"), st.sampled_from(TAMPERED), st.integers(0, 50), st.text(min_size=1, max_size=40)),
    st.tuples(st.just("entry"), st.integers(0, 200), log_fields, values | st.just("UPPER"), st.booleans()),
    st.tuples(st.just("newest entry"), st.sampled_from(TAMPERED), st.integers(0, 50),
              st.sampled_from(["row_hash", "action"]), st.sampled_from(["delete", "insert", "UPPER", None]),
              st.booleans()),
    st.tuples(st.just("delete entry"), st.integers(0, 200)),
    st.tuples(st.just("add entry"), st.integers(0, 200), st.sampled_from([0, -3, 1, 2])),
)


def relink(conn, seq: int) -> None:
    """What an attacker who knows the format does after altering entry ``seq``: link it and
    every later entry again, so that the chain holds and only the rows can tell (and the
    signed checkpoints, which this workspace has none of)."""
    conn.row_factory = sqlite3.Row
    before = conn.execute("select hash from audit_log where seq < ? order by seq desc limit 1", [seq]).fetchone()
    prev = before["hash"] if before else audit.GENESIS
    for entry in [dict(e) for e in conn.execute("select * from audit_log where seq >= ? order by seq", [seq])]:
        try:
            link = audit.link_hash(prev, entry)
        except (TypeError, ValueError):
            return
        conn.execute("update audit_log set prev_hash = ?, hash = ? where seq = ?", [prev, link, entry["seq"]])
        prev = link
    conn.row_factory = None


def tamper(db_path, attack) -> None:
    """One attack through a second connection, around the audit API; an attack SQLite refuses
    (a NULL in a NOT NULL column, a duplicate id) changes nothing."""
    conn = sqlite3.connect(db_path)
    try:
        kind = attack[0]
        if kind in ("cell", "delete row", "copy row"):
            table = attack[1]
            rowids = [r[0] for r in conn.execute(f"select rowid from [{table}] order by rowid")]
            if not rowids:
                return
            rowid = rowids[attack[2] % len(rowids)]
            columns = [c[1] for c in conn.execute(f"pragma table_info([{table}])")]
            if kind == "cell":
                column = columns[attack[3] % len(columns)]
                conn.execute(f"update [{table}] set [{column}] = ? where rowid = ?", [attack[4], rowid])
            elif kind == "delete row":
                conn.execute(f"delete from [{table}] where rowid = ?", [rowid])
            else:
                row = conn.execute(f"select * from [{table}] where rowid = ?", [rowid]).fetchone()
                conn.execute(f"insert into [{table}] values ({', '.join('?' for _ in row)})",
                             [attack[3] if c == "id" else v for c, v in zip(columns, row)])
        else:
            seqs = [r[0] for r in conn.execute("select seq from audit_log order by seq")]
            seq = seqs[attack[1] % len(seqs)] if kind != "newest entry" else conn.execute(
                "select max(seq) from audit_log where table_name = ? and row_id = (select id from [{0}] order by "
                "rowid limit 1 offset ? % (select count(*) from [{0}]))".format(attack[1]), [attack[1], attack[2]]
            ).fetchone()[0]
            if kind in ("entry", "newest entry"):
                field, value = attack[-3], attack[-2]
                if seq is None:
                    return
                if value == "UPPER":
                    conn.execute(f"update audit_log set [{field}] = upper([{field}]) where seq = ?", [seq])
                else:
                    conn.execute(f"update audit_log set [{field}] = ? where seq = ?", [value, seq])
                if attack[-1]:
                    relink(conn, seq)
            elif kind == "delete entry":
                conn.execute("delete from audit_log where seq = ?", [seq])
            else:
                at = {0: 0, -3: -3, 1: max(seqs) + 1, 2: max(seqs) + 3}[attack[2]]
                entry = conn.execute("select * from audit_log where seq = ?", [seq]).fetchone()
                conn.execute("insert or ignore into audit_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [at, *entry[1:]])
        conn.commit()
    except sqlite3.IntegrityError:
        conn.rollback()
    finally:
        conn.close()


@settings(max_examples=max(60, SOAK), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(attacks, max_size=4), st.sampled_from([64, 1, 0]))
def test_verify_finds_what_a_plain_recomputation_finds(honest, tmp_path_factory, tampering, patterns):
    """Over random attacks on rows and on the log — any value of any type in any column, rows
    deleted and copied, entries altered, deleted and numbered out of place — verify names the
    same problems in the same order as the definition, with SQLite spelling a table's NULL
    patterns up to 64, one, or none (Python spelling the rest)."""
    folder = tmp_path_factory.mktemp("tampered") / "ws"
    shutil.copytree(honest, folder)
    for attack in tampering:
        tamper(folder / "investigate.db", attack)
    with mock.patch.object(workspace_module, "ROW_PATTERNS", patterns):
        problems = found(folder)
    for kind in sorted({p[0] for p in problems}) or ["none"]:
        event(f"problem: {kind}")
    assert problems == plain_verify(folder)


def test_an_honest_workspace_verifies_with_sqlite_spelling_every_row_of_text_and_integers(honest, monkeypatch):
    """The fast path is taken: Python spells every row only of a table with a REAL column (the
    stores' coordinates), and of the others the first row of each NULL pattern, the one that
    adds its pattern to what SQLite spells."""
    spelt = []
    hasher = Workspace.values_hasher

    def counting(self, table, columns):
        spell = hasher(self, table, columns)
        return lambda values: spelt.append(table) or spell(values)

    monkeypatch.setattr(Workspace, "values_hasher", counting)
    assert found(honest) == []
    conn = sqlite3.connect(honest / "investigate.db")
    expected = {}
    for table in AUDITED_TABLES:
        rows = conn.execute(f"select * from [{table}]").fetchall()
        real = any(c[2] == "REAL" for c in conn.execute(f"pragma table_info([{table}])"))
        expected[table] = len(rows) if real else len({tuple(v is None for v in row) for row in rows})
    conn.close()
    assert {t: spelt.count(t) for t in expected} == expected
    assert expected["stores"] == 4 and expected["visits"] == 2


@pytest.mark.parametrize("value, by_python", [
    ("plain text", False),
    (7, False),  # in a TEXT column: stored as the text "7"
    (b"\x00\xff", True),  # a blob: SQLite's JSON refuses it, Python spells its hex
])
def test_a_row_sqlite_cannot_spell_is_spelt_by_python_with_the_rest_of_its_table(honest, tmp_path, value, by_python):
    """The first visit and the last of its NULL pattern get notes: the first adds their new
    pattern, spelt by Python; the last is spelt by SQLite unless SQLite cannot spell its value."""
    folder = tmp_path / "ws"
    shutil.copytree(honest, folder)
    conn = sqlite3.connect(folder / "investigate.db")
    rows = conn.execute("select * from visits order by id").fetchall()
    alike = [r[0] for r in rows if [v is None for v in r] == [v is None for v in rows[0]]]
    ids = [alike[0], alike[-1]]  # the first visit and the last of its NULL pattern
    conn.execute("update visits set notes = 'first' where id = ?", [ids[0]])
    conn.execute("update visits set notes = ? where id = ?", [value, ids[-1]])
    conn.commit()
    conn.close()
    ws = Workspace(folder)
    spelt = []
    hasher = ws.values_hasher
    with mock.patch.object(ws, "values_hasher", lambda t, c: (lambda h: lambda v: spelt.append(v[0]) or h(v))(hasher(t, c))):
        digests = list(ws.row_digests("visits"))
    assert digests == [(r["id"], bytes.fromhex(ws.row_hash("visits", r)))
                       for r in ws.db.query("select * from visits order by id")]
    assert ids[0] in spelt and (ids[-1] in spelt) == by_python
    ws.close()


def test_a_value_sqlite_spells_otherwise_is_spelt_again_by_python_before_a_row_is_called_altered(honest, tmp_path):
    """A real in an INTEGER column (SQLite keeps 1.5 a real there) comes out of SQLite's JSON as
    a number, while the log hashed the text "1.5": the digests differ, and only Python's spelling
    may call the row altered. Written through the audit API, the row is as it was written."""
    folder = tmp_path / "ws"
    shutil.copytree(honest, folder)
    ws = Workspace(folder)
    rows = ws.db.execute("select * from visits order by id").fetchall()
    # not the first of its NULL pattern, which Python spells anyway
    visit = [r[0] for r in rows if [v is None for v in r] == [v is None for v in rows[0]]][1]
    ws.update("visits", visit, {"round": 1.5}, reason="a test of spelling")
    assert ws.db.execute("select typeof(round) from visits where id = ?", [visit]).fetchone()[0] == "real"
    assert dict(ws.row_digests("visits"))[visit] != bytes.fromhex(ws.row_hash("visits", ws.get("visits", visit)))
    assert [p for p in verify(ws).problems] == []
    ws.close()

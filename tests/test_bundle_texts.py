"""Issue 30: a bundle's rows and audit entries are spelt as JSON by SQLite (``json_object``), not
by a dict and ``json.dumps`` per row in Python. These tests hold SQLite's spelling to Python's,
byte for byte: over random rows, and over every member of a real bundle."""

from __future__ import annotations

import json
import os
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from investigate.desk import bundles

SOAK = int(os.environ.get("INVESTIGATE_SOAK_EXAMPLES", "0"))

#: Every character a text value can hold (surrogates cannot be stored), NUL and controls too.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
VALUES = st.one_of(st.none(), st.integers(min_value=-2**63, max_value=2**63 - 1), TEXT,
                   st.floats(allow_nan=False), st.sampled_from([0.1 + 0.2, 1e-7, 1e16, 52.4801, -0.0, 3.0]),
                   st.binary(max_size=4))
#: Column names SQLite keeps apart (it folds ASCII case), quotes and brackets included.
NAMES = st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
                         max_size=8).filter(lambda name: name.lower() != "id"),
                 max_size=6, unique_by=str.lower)


def spelt_by_python(ws, table: str) -> list[str] | type:
    columns = ws.columns(table)
    try:
        return [bundles._ENCODE(dict(zip(columns, row)))
                for row in ws.db.execute(f"select * from [{table}] order by id")]
    except TypeError:  # a blob: JSON holds none, in either spelling
        return TypeError


def spelt_by_sqlite(ws, table: str) -> list[str] | type:
    try:
        return [text for _, text in bundles._row_texts(ws, table, f"from [{table}] t order by t.id")]
    except TypeError:
        return TypeError


@settings(max_examples=max(300, SOAK), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NAMES, st.data())
def test_a_row_spelt_by_sqlite_is_the_text_python_spells(workspace, names, data):
    """Whatever a row holds (controls, NUL, quotes, any script, integers to 64 bits, reals that
    SQLite would print otherwise, blobs), ``_row_texts`` gives the text ``_ENCODE`` gives its
    dict: SQLite spells rows of text, integers and NULLs; a real or blob is left to Python."""
    columns = ["id", *names]
    rows = data.draw(st.lists(st.lists(VALUES, min_size=len(names), max_size=len(names)), max_size=4))
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)  # no type: values kept as given
    workspace.db.execute("drop table if exists scratch")
    workspace.db.execute(f"create table scratch ({quoted})")
    workspace.db.conn.executemany(f"insert into scratch values ({', '.join('?' for _ in columns)})",
                                  [[f"r{i}", *values] for i, values in enumerate(rows)])
    assert spelt_by_sqlite(workspace, "scratch") == spelt_by_python(workspace, "scratch")


def test_every_member_of_a_bundle_is_the_json_python_spells_of_its_rows(workspace, tobacco_case, tmp_path):
    """The bundle's bytes are what they were when Python spelt every row: each rows/TABLE.json
    is ``_ENCODE`` of the rows ``collect`` reads, and audit.json of the entries carried. A store's
    coordinates (reals) are among them."""
    case = tobacco_case["case"]
    manifest = bundles.write_bundle(workspace, [case], tmp_path / "b.zip")
    zf = zipfile.ZipFile(tmp_path / "b.zip")
    rows = {table: list(table_rows) for table, table_rows in bundles.collect(workspace, [case]).items()}
    assert any(isinstance(store["lat"], float) for store in rows["stores"]) and rows["findings"]
    for table, table_rows in rows.items():
        assert zf.read(f"rows/{table}.json").decode() == "[" + ",".join(map(bundles._ENCODE, table_rows)) + "]"
    carried = json.loads(zf.read("audit.json"))
    assert carried and manifest["counts"]["visits"] == len(tobacco_case["visits"])
    entries = [workspace.db.execute("select * from audit_log where seq = ?", [e["seq"]]).fetchone() for e in carried]
    columns = workspace.columns("audit_log")
    assert zf.read("audit.json").decode() == "[" + ",".join(bundles._ENCODE(dict(zip(columns, e)))
                                                            for e in entries) + "]"

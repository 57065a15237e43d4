"""investigate.files: reading tables below the domain, the same way for every importer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import investigate
from investigate.errors import InputFileError, InvalidInput
from investigate.files import detect_encoding, iter_csv, match_columns, norm_header, read_csv

PACKAGE = Path(investigate.__file__).resolve().parent


def test_the_domain_geo_and_files_never_import_interop_or_anything_above_them():
    # (cases/ holds geo and samples since the layer move; formats/ is what interop/ was.)
    below = [*(PACKAGE / "cases").glob("*.py"), *(PACKAGE / "files").glob("*.py")]
    assert PACKAGE / "cases" / "geo.py" in below and PACKAGE / "cases" / "samples.py" in below
    for path in below:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"from \.+formats|import investigate\.formats|from investigate\.formats", text), path
    for path in (PACKAGE / "files").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"from \.\.(cases|store|formats|cli)", text), path


def test_headings_compare_without_case_spaces_or_punctuation():
    assert norm_header(" Retailer Name ") == norm_header("RETAILER_NAME") == norm_header("retailer-name")
    assert norm_header("License #") == "license" and norm_header("Sale to Minor?") == "saletominor"


def test_the_header_row_is_found_below_a_title_preamble(tmp_path):
    f = tmp_path / "export.csv"
    f.write_text('"A title, with a comma"\n"Exported today"\n\nName,Zip\nKiosk,12045\n', encoding="utf-8")
    table = read_csv(f, header_hint=["Name", "Zip"])
    assert table.header == ["Name", "Zip"] and table.header_line == 4
    assert table.rows == [(5, {"Name": "Kiosk", "Zip": "12045"})]


def test_without_the_hinted_headings_the_first_line_stays_the_header(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    table = read_csv(f, header_hint=["Name", "Zip"])
    assert table.header == ["a", "b"] and table.header_line == 1
    with pytest.raises(InputFileError, match="x.csv:1: missing column 'Name'"):
        table.require("Name")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab_are_told_apart(tmp_path, delimiter):
    f = tmp_path / "x.csv"
    f.write_text(delimiter.join(["name", "address", "note"]) + "\n"
                 + delimiter.join(["Kiosk", '"Main St 1, 2nd floor"', '"x, y; z"']) + "\n", encoding="utf-8")
    table = read_csv(f)
    assert table.delimiter == delimiter and table.rows[0][1]["name"] == "Kiosk"


def test_cp1252_is_chosen_over_latin1_when_the_source_says_latin1(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes("name\nJoe\u2019s\n".encode("cp1252"))
    assert detect_encoding(f, fallback="iso-8859-1") == "cp1252"
    g = tmp_path / "y.csv"
    g.write_bytes(b"name\nA\x81B\n")  # 0x81 is undefined in cp1252: Latin-1 it is
    assert detect_encoding(g, fallback="iso-8859-1") == "iso-8859-1"


def test_match_columns_lists_unknown_and_ignored_columns(tmp_path):
    plan = match_columns(tmp_path / "x.csv", ["NAME", "Zip Code", "Extra", "_uuid"], ["name", "postcode"],
                         {"postcode": ["zip_code"]}, ignore=["extra"], is_metadata=lambda c: c.startswith("_"))
    assert plan.columns == {"name": "NAME", "postcode": "Zip Code"}
    assert plan.ignored == ["Extra", "_uuid"] and plan.unknown == []
    with pytest.raises(InvalidInput, match="--ignore Nope: no such column"):
        match_columns(tmp_path / "x.csv", ["NAME"], ["name"], ignore=["Nope"])


def test_a_ragged_row_is_located_and_nothing_after_it_is_read(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a;b\n1;2\n1;2;3\n", encoding="utf-8")
    _, rows = iter_csv(f)
    with pytest.raises(InputFileError, match="x.csv:3: 3 cells where the header has 2"):
        list(rows)

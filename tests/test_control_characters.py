"""Issue 17: a hostile file must not drive the reporter's terminal."""

import json

from click.testing import CliRunner

from investigate.cases import stores, visits
from investigate.cli import cli
from investigate.cli.util import escape_controls, format_table
from investigate.errors import InvalidInput

from conftest import snapshot

import pytest


def test_a_store_name_with_escape_is_refused_at_import_with_its_line_and_column(workspace, run, tmp_path):
    f = tmp_path / "stores.csv"
    f.write_text("name,address\nSpäti,Sonnenallee 1\n\x1b]0;pwned\x07Kiosk,Hermannstr. 3\n", encoding="utf-8")
    before = snapshot(workspace)
    result = run("store", "import", f)
    assert result.exit_code != 0
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert f"{f}:3" in line and "column 'name'" in line and "U+001B" in line
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert snapshot(workspace) == before


def test_a_line_break_is_refused_in_a_name_but_kept_in_notes(workspace, run, tmp_path):
    f = tmp_path / "stores.csv"
    f.write_text('name,address,notes\n"Kiosk\nZwei",Hermannstr. 3,ok\n', encoding="utf-8")
    result = run("store", "import", f)
    assert result.exit_code != 0 and "LINE FEED" in result.output and ":2" in result.output
    f.write_text('name,address,notes\nKiosk Zwei,Hermannstr. 3,"open late\nclosed Sundays"\n', encoding="utf-8")
    assert run("store", "import", f).exit_code == 0


def test_an_answer_holding_bel_is_refused(tobacco_case, workspace):
    with pytest.raises(InvalidInput, match="U\\+0007"):
        visits.record_visit(workspace, case=tobacco_case["case"], store=tobacco_case["stores"][0],
                            tester=tobacco_case["tester"], observer="O",
                            answers={"product": "cigarettes\x07", "sale": True, "id_check": "none",
                                     "id_carried": True})


def test_whatever_the_cli_prints_has_its_control_characters_escaped(workspace, run):
    # A store stored before the import check existed (or through SQL) still prints harmlessly.
    s = stores.add_store(workspace, name="Kiosk", address="Hermannstr. 3")
    workspace.db.execute("update stores set name = ? where id = ?", ["Kiosk\x1b[2J\x9b31m", s["id"]])
    workspace.db.conn.commit()
    out = run("store", "list").output
    assert "\x1b" not in out and "\x9b" not in out and "\\x1b[2J" in out
    assert escape_controls("a\tb\nc\rd\x07") == "a\tb\nc\\x0dd\\x07"
    assert "\\x1b" in format_table([{"name": "x\x1by"}])

"""Plugins for formats (issue 26): a plugin registers an importer, an exporter or a command
through the hooks, the command line offers it, and unregistering takes it away again — as
sqlite-utils' tests/test_plugins.py does. The built-ins come through the same hooks."""

from __future__ import annotations

import itertools
import json
import sqlite3
import textwrap
from pathlib import Path

import click
import pytest

from investigate.cases.store_imports import import_stores
from investigate.cases.review import review_visit
from investigate.formats.complaints import ComplaintLayout, complaint_importer
from investigate.formats.plugins import ensure_plugins_loaded, exporters, importers, pm
from investigate.hookspecs import hookimpl
from investigate.publish.public import build_public
from investigate.store.workspace import Workspace


@pytest.fixture
def plugin():
    """Register a plugin object for one test, and unregister it whatever the test did."""
    registered = []

    def register(obj, name):
        ensure_plugins_loaded()
        pm.register(obj, name=name)
        registered.append(name)
        return obj

    yield register
    for name in registered:
        pm.unregister(name=name)


class Recorder:
    """An exporter that keeps what it was given and writes one line per table."""

    def __init__(self, name="upper"):
        self.name = name
        self.calls = []

    def write(self, tables, out):
        given = {name: (table.header, list(table.rows)) for name, table in tables.items()}
        self.calls.append(given)
        (out / f"{self.name}.txt").write_text("".join(f"{n.upper()} {len(rows)}\n" for n, (_, rows) in given.items()))
        return {f"{self.name}.txt": len(given)}

    @hookimpl
    def register_exporters(self):
        return [{"name": self.name, "layout": "tables", "help": "tables in capitals", "write": self.write}]


def test_the_built_in_formats_come_through_the_hooks():
    assert list(exporters()) == ["csv", "json", "lives"]
    assert list(importers(kind="records")) == ["fda", "kobo", "lives"]
    assert list(importers(kind="tips")) == ["cfpb", "generic"]
    names = {pm.get_name(p) for p in pm.get_plugins()}
    ensure_plugins_loaded()  # once: a second call registers nothing again
    assert {pm.get_name(p) for p in pm.get_plugins()} == names
    assert "investigate.formats.export" in names


def test_a_plugin_exporter_is_a_format_choice_until_it_is_unregistered(workspace, tobacco_case, run, tmp_path,
                                                                       plugin):
    recorder = plugin(Recorder(), "test-upper")
    assert "[csv|json|lives|upper]" in run("export", "--help").output
    result = run("export", "tobacco-nk", "--format", "upper", "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"] == {"upper.txt": 8}
    assert "VISITS 4" in (tmp_path / "out" / "upper.txt").read_text()
    pm.unregister(name="test-upper")
    gone = run("export", "tobacco-nk", "--format", "upper", "--out", tmp_path / "again")
    assert gone.exit_code == 2 and "'upper' is not one of 'csv', 'json', 'lives'" in gone.output
    pm.register(recorder, name="test-upper")  # the fixture unregisters it


def test_a_public_exporter_receives_only_the_public_databases_rows(workspace, tobacco_case, run, tmp_path, plugin):
    review_visit(workspace, tobacco_case["visits"][0], "approve")
    recorder = plugin(Recorder("public"), "test-public")
    result = run("export", "tobacco-nk", "--format", "public", "--public", "--override", "test",
                 "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    (given,) = recorder.calls
    built = build_public(workspace, tmp_path / "pub", slugs=["tobacco-nk"], override="test", record=False)
    conn = sqlite3.connect(built["database"])
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
    conn.close()
    assert sorted(given) == tables
    values = [v for _, rows in given.values() for row in rows for v in row.values()]
    assert not any(isinstance(v, Workspace) for v in values)
    text = json.dumps(given, ensure_ascii=False, default=str)
    for private in ("Kiosk am Park", "Späti Eins", "Sonnenallee", "T-07", "Olsen", "2010-03"):
        assert private not in text


class StoreList:
    """An importer of records through the audited path: a one-column list of store names."""

    @hookimpl
    def register_importers(self):
        def run(ws, path, *, case_ref=None, encoding=None, **options):
            return import_stores(ws, path, encoding=encoding, source=options.get("source"))

        return [{"name": "storelist", "kind": "records", "help": "a list of store names", "run": run}]


def test_a_plugin_importer_gets_an_import_command_and_is_audited(workspace, run, tmp_path, plugin):
    plugin(StoreList(), "test-storelist")
    assert "storelist" in run("import", "--help").output
    path = tmp_path / "names.csv"
    path.write_text("name\nEck-Kiosk\nSpäti Drei\n", encoding="utf-8")
    result = run("import", "storelist", path, "--option", "source=list", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["inserted"] == 2
    assert [r["name"] for r in workspace.db.query("select name from stores order by name")] == ["Eck-Kiosk",
                                                                                                "Späti Drei"]
    audited = workspace.db.execute("select count(*) from audit_log where table_name = 'stores'").fetchone()[0]
    assert audited == 2
    pm.unregister(name="test-storelist")
    assert run("import", "storelist", path).exit_code == 2
    pm.register(StoreList(), name="test-storelist")


class FccLayout:
    """A newsroom's complaint layout: the FCC's consumer complaints export
    (tests/data/layouts/fcc-complaints.csv, see layouts/ORIGIN.md), read without any --map."""

    @hookimpl
    def register_importers(self):
        layout = ComplaintLayout(
            "fcc", ("id", "received_at", "channel", "narrative", "company_response", "state", "postcode"),
            {"id": ["ticket"], "narrative": ["customer_complaint"], "received_at": ["date"],
             "channel": ["received_via"], "company_response": ["status"], "postcode": ["zip_code"]},
            ("received_at", "narrative"), channels={"customer care call": "phone", "internet": "web_form"},
            date_format="%d-%m-%y")
        return [complaint_importer(layout, "the FCC's consumer complaints export")]


def test_a_plugin_complaint_layout_is_a_tip_import_format(workspace, run, plugin):
    plugin(FccLayout(), "test-fcc")
    fcc = Path(__file__).parent / "data" / "layouts" / "fcc-complaints.csv"
    assert "[cfpb|fcc|generic]" in run("tip", "import", "--help").output
    result = run("tip", "import", fcc, "--format", "fcc", "--company", "Comcast", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["added"] == 4 and summary["unknown_columns"] == ["Time", "City", "Filing on Behalf of Someone"]
    (first,) = workspace.db.query("select * from tips where external_id = '250635'")
    assert (first["received_at"], first["channel"], first["company"], first["state"], first["source"]) == (
        "2015-04-22", "phone", "Comcast", "Maryland", "file:fcc-complaints.csv")
    pm.unregister(name="test-fcc")
    assert run("tip", "import", fcc, "--format", "fcc").exit_code == 2
    pm.register(FccLayout(), name="test-fcc")


class Hello:
    @hookimpl
    def register_commands(self, cli):
        @cli.command()
        @click.argument("name")
        def hello(name):
            """Say hello."""
            click.echo(f"Hello, {name}!")


def test_a_plugin_command_runs_and_leaves_with_its_plugin(workspace, run, plugin):
    plugin(Hello(), "test-hello")
    assert "hello" in run("--help").output
    assert run("hello", "desk").output == "Hello, desk!\n"
    pm.unregister(name="test-hello")
    gone = run("hello", "desk")
    assert gone.exit_code == 2 and "No such command 'hello'" in gone.output
    pm.register(Hello(), name="test-hello")


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_plugin() -> str:
    """The README's example plugin (``# plugins/slugs.py``), as a newsroom would copy it."""
    lines = README.read_text(encoding="utf-8").split("    # plugins/slugs.py\n", 1)[1].splitlines()
    block = itertools.takewhile(lambda line: line.startswith("    ") or not line.strip(), lines)
    return textwrap.dedent("\n".join(block)) + "\n"


def test_the_readmes_plugin_in_the_workspace_plugins_folder_adds_its_format(workspace, tobacco_case, run, tmp_path):
    folder = workspace.root / "plugins"
    folder.mkdir()
    (folder / "slugs.py").write_text(readme_plugin(), encoding="utf-8")
    name = f"investigate-plugin:{(folder / 'slugs.py').resolve()}"
    try:
        result = run("export", "tobacco-nk", "--format", "slugs", "--out", tmp_path / "out")
        assert result.exit_code == 0, result.output
        assert (tmp_path / "out" / "slugs.txt").read_text() == "tobacco-nk\n"
        assert "slugs" not in exporters()  # another workspace (none) does not see it
    finally:
        pm.unregister(name=name)


def test_a_plugin_file_that_does_not_load_is_one_line_naming_it(workspace, run):
    folder = workspace.root / "plugins"
    folder.mkdir()
    (folder / "broken.py").write_text("def register_exporters(:\n", encoding="utf-8")
    result = run("export", "--help")
    assert result.exit_code == 1
    assert "broken.py: the plugin does not load: SyntaxError" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1

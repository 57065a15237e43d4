"""What the CLI prints for people: tables as wide as the terminal that wrap rather than cut,
one percent format, and help listings whose lines are whole sentences."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner

from investigate.cases import stores
from investigate.cli import cli
from investigate.cli.util import format_table

LONG = "Getränkehandel und Spätkauf am Landwehrkanal Ecke Hobrechtstraße, Inhaber Yilmaz"


def run_wide(workspace, *args, columns: int):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), *args], env={"COLUMNS": str(columns)},
                              catch_exceptions=False)


def test_a_list_shows_whole_names_on_a_wide_terminal_and_wraps_them_on_a_narrow_one(workspace):
    stores.add_store(workspace, name=LONG, address="Hobrechtstraße 1", city="Berlin")
    wide = run_wide(workspace, "store", "list", columns=200).output
    assert LONG in wide
    narrow = run_wide(workspace, "store", "list", columns=100).output
    assert LONG not in narrow and "…" not in narrow
    assert all(len(line) <= 100 for line in narrow.splitlines())
    assert set(LONG.split()) <= set(narrow.split()), "every word of the name is printed"


def test_format_table_wraps_a_cell_inside_its_column():
    text = format_table([{"id": "ab12", "comment": "x " * 60}], width=40)
    lines = text.splitlines()
    assert len(lines) > 3 and all(len(line) <= 40 for line in lines)
    assert text.count("x") == 60


def test_fieldwork_and_stats_print_shares_the_same_way(workspace, tobacco_case, run):
    fieldwork = run("fieldwork", "tobacco-nk").output
    stats = run("stats", "tobacco-nk").output
    assert re.search(r"\b100\.0 %", fieldwork) and re.search(r"\b50\.0 %", stats)
    assert not re.search(r"\b0\.\d{3,}", fieldwork + stats), "no bare fractions such as 0.952381"


def commands(group, ctx, path=()):
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None:
            continue
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from commands(cmd, ctx, (*path, name))


def test_every_help_listing_shows_a_whole_first_sentence():
    ctx = click.Context(cli)
    checked = 0
    for path, cmd in commands(cli, ctx):
        first = " ".join((cmd.help or "").split("\n\n")[0].split())
        short = cmd.get_short_help_str(limit=66)
        assert not short.endswith("..."), f"{' '.join(path)}: {short!r} is cut"
        assert first.startswith(short), f"{' '.join(path)}: {short!r} is not the start of its help"
        assert "e.g." not in short
        checked += 1
    assert checked > 40

"""What the CLI prints for people: tables as wide as the terminal that wrap rather than cut,
one percent format, and help listings whose lines are whole sentences."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- tables at 80 columns (issue 22): whole words, short local times, nothing wider -----------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from investigate.cli.util import short_time  # noqa: E402

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß", min_size=1, max_size=12)
CELL = st.lists(WORD, min_size=1, max_size=8).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.lists(
    st.fixed_dictionaries({f"column_{i}": CELL for i in range(n)}), min_size=1, max_size=6)))
def test_a_table_at_80_columns_never_breaks_a_word_and_never_runs_past_the_edge(rows):
    text = format_table(rows, width=80)
    assert all(len(line) <= 80 for line in text.splitlines()), text
    printed = text.split()
    cut = [token[:-1] for token in printed if token.endswith("…")]
    for row in rows:
        for cell in row.values():
            for word in cell.split():
                # Whole, or (only where the longest words of every column cannot fit side by
                # side) visibly cut on its own line: never its end carried onto the next line.
                assert word in printed or any(word.startswith(c) for c in cut), f"{word!r} was broken:\n{text}"


def test_a_table_with_more_long_words_than_room_cuts_them_visibly_and_stays_inside():
    rows = [{f"c{i}": "Donaudampfschifffahrtsgesellschaft" for i in range(4)}]
    text = format_table(rows, width=80)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" in text  # cut, and says so: never silently broken onto the next line


def test_codes_stay_whole_while_names_break_after_their_hyphens():
    text = format_table([{"store": "Späti24 Karl-Marx-Straße", "tester": "T-01", "licence": "BE-21000"}], width=30)
    assert "T-01" in text.split() and "BE-21000" in text.split()
    assert "Straße" in text.split() and all(len(line) <= 30 for line in text.splitlines())
    assert "Karl-Marx-Straße" not in text  # broken after a hyphen, not inside a word


@pytest.mark.parametrize("lang, expected", [("en", "Nov 20 14:35"), ("de", "20.11. 14:35"), ("da", "20.11. 14.35")])
def test_times_in_tables_are_short_and_local(lang, expected):
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    assert short_time("2026-11-20T14:35:00+01:00", (lang, berlin, 2026)) == expected
    assert short_time("2026-11-20T13:35:00+00:00", (lang, berlin, 2026)) == expected  # UTC read in Berlin
    assert "2025" in short_time("2025-11-20T14:35:00+01:00", (lang, berlin, 2026)) or \
        "25" in short_time("2025-11-20T14:35:00+01:00", (lang, berlin, 2026))
    assert short_time("T-07", (lang, berlin, 2026)) == "T-07"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_a_cell_s_short_cut_reads_as_the_general_text(text):
    """Issue 30: a printable cell without doubled or outer spaces is taken as it is; it must read
    as the general path reads it (controls escaped, whitespace runs joined), or a terminal could
    be driven by a name."""
    from investigate.cli.util import _any_text, _text

    assert _text(text) == _any_text(text)


def test_a_later_longer_time_in_a_streamed_table_stays_on_its_row():
    """Issue 30: widths come from the first rows; "Oct 1 10:00" there and "Oct 10 10:00" later
    wrapped every later row onto two lines (and formatting those lines was most of a long list)."""
    from investigate import clock
    from investigate.cli.util import table_lines

    year = clock.now().year
    rows = [{"id": "a1", "visited_at": f"{year}-10-01T10:00:00+00:00"},
            {"id": "b2", "visited_at": f"{year}-10-10T10:00:00+00:00"}]
    lines = list(table_lines(rows, width=80, sizing=1))
    assert len(lines) == 4 and lines[3].split() == ["b2", "Oct", "10", "10:00"]


def test_a_visit_list_prints_its_times_in_the_workspaces_language(workspace, tobacco_case, run):
    visit = tobacco_case["visits"][0]
    listed = run_wide(workspace, "visit", "list", columns=200).output
    assert workspace.language == "en"
    assert short_time(visit["visited_at"], ("en", workspace.tz, workspace.now().year)) in listed  # "Nov 15 16:40"
    assert visit["visited_at"] not in listed  # never the full ISO stamp


def test_a_table_of_visits_reads_only_the_columns_it_shows_with_the_same_values(workspace, tobacco_case):
    """Issue 30: a table of visits no longer reads every column of each visit (answers, notes…);
    what it reads is what the full rows hold, row for row."""
    from investigate.cases.visits import BRIEF_COLUMNS, list_visits

    case = tobacco_case["case"]
    full, brief = list(list_visits(workspace, case=case)), list(list_visits(workspace, case=case, brief=True))
    assert set(brief[0]) == {*BRIEF_COLUMNS, "store_name", "store_address", "case_slug", "tester_code", "findings"}
    assert [{k: row[k] for k in brief[0]} for row in full] == brief and len(brief) == len(tobacco_case["visits"])


def test_at_80_columns_a_heading_wraps_before_any_cell_does():
    """Issue 30, seen at an 80-column terminal: `visit list` put every visit on two lines
    ("Oct 1" over "10:00", "Store" over "6365") to keep "tester code" and "review state" on one
    line each. A heading wraps first: only it takes two lines, each row keeps one."""
    rows = [{"id": "6eddf573", "visited_at": "Oct 10 10:00", "store_name": f"Store {13560 + i}", "tester_code": None,
             "outcome": "inconclusive", "findings": i % 3, "review_state": "approved"} for i in range(30)]
    lines = format_table(rows, width=80).splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "})
    assert rule == 2 and len(lines) == rule + 1 + len(rows), "\n".join(lines)  # a heading of two lines, a line a row
    assert all(len(line) <= 80 for line in lines)
    assert "tester" in lines[0].split() and "code" in lines[1].split() and "Oct 10 10:00" in lines[3]
    # Where there is room, nothing wraps at all.
    assert len(format_table(rows, width=120).splitlines()) == 2 + len(rows)


VALUE = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 1.0, 1.5, float("nan")]),
                  st.sampled_from(["1", "True", "", " a", "x\x1by", "Späti  Eins", "2026-10-01T10:00:00+00:00"]),
                  st.lists(st.integers(0, 2), max_size=2))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries({"a": VALUE, "b": VALUE, "c": st.sampled_from(["x", "y"])}), min_size=1,
                max_size=12))
def test_a_row_prints_the_same_among_the_first_rows_and_after_them(rows):
    """Issue 30: after the rows that size the columns, a column remembers the cells it made (a
    million visits name twenty thousand stores). True equals 1 and 1.0 equals 1, but each prints
    as itself: every row of the second pass must print as it did in the first."""
    from investigate.cli.util import table_lines

    lines = list(table_lines(rows + rows, width=80, sizing=len(rows)))
    body = lines[lines.index(next(line for line in lines if set(line) <= {"-", " "})) + 1:]
    assert body[:len(body) // 2] == body[len(body) // 2:]


def test_at_80_columns_a_time_stays_whole_while_names_wrap():
    """Issue 30, seen in the demo at 80 columns: "12.10." over "15:04" on every row of a visit list,
    to give a store's name two letters more. Where the columns' floors leave room, a time stays
    on one line; the names wrap, each on its own row."""
    from datetime import timezone

    from investigate import clock
    from investigate.cli.util import table_lines

    year = clock.now().year
    rows = [{"id": f"{i:08x}", "visited_at": f"{year}-10-{12 + i % 9}T15:04:00+00:00",
             "store_name": ["Späti24 Karl-Marx-Straße", "Stromfix Kundenservice", "Kiosk"][i % 3],
             "tester_code": "T-01", "outcome": ["violation", "not_completed", "compliant"][i % 3],
             "findings": i % 4, "review_state": "has_issues"} for i in range(12)]
    lines = list(table_lines(rows, width=80))
    assert all(len(line) <= 80 for line in lines)
    for row in rows:
        when = short_time(row["visited_at"], ("en", timezone.utc, year))
        assert any(line.startswith(row["id"]) and when in line for line in lines), "\n".join(lines)
    assert any(line.split()[:1] == ["Marx-Straße"] for line in lines)  # the name wrapped instead

"""The installed ``investigate`` in a real pseudo-terminal, 80 columns wide, on files of
100,000 rows: what a reporter sees at a terminal, where the test runner and pipes see nothing.

Every long command must show a bar that reaches 100 % and end with its summary, exit 0, and
never print a traceback. Before this suite, every import longer than a second crashed at a
terminal (click's bar had its start time overwritten) while every other test passed.

The subprocesses run on the test run's system clock (CI runs the suite a second time with it
moved a year ahead, in another time zone: ``screen.environment`` passes the move on); the files
hold fixed dates long past, so that they read the same on any day.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

import bigfiles
from nominatim_server import FakeNominatim
from screen import COLUMNS, Screen, assert_bar_then_summary, spawn, terminal

ROWS = 100_000


@dataclass
class Field:
    root: Path
    ws: Path
    store_import: Screen


@pytest.fixture(scope="module")
def field(tmp_path_factory) -> Field:
    """A workspace built as a reporter builds it, at the terminal, with 100,000 stores."""
    root = tmp_path_factory.mktemp("terminal")
    assert terminal(root, "init", "ws", "--newsroom", "Tagesblatt", "--timezone", "Europe/Berlin").exit_code == 0
    ws = root / "ws"
    for args in (["case", "new", "tob", "--title", "Tobacco sales to minors", "--protocol", "tobacco-minors",
                  "--legal-basis", "JuSchG § 10", "--jurisdiction", "Berlin, DE"],
                 ["tester", "add", "T-07", "--birth-month", "2010-03", "--consent", "--consent-held-by", "desk safe",
                  "--consent-date", "2025-09-01"]):
        screen = terminal(ws, *args)
        assert screen.exit_code == 0, screen.text
    stores = bigfiles.stores_csv(root / "stores.csv", ROWS)
    return Field(root, ws, terminal(ws, "store", "import", str(stores), "--case", "tob"))


def test_store_import_of_100000_rows_shows_its_bar_to_100_percent(field):
    assert_bar_then_summary(field.store_import, "Importing stores", rf"{ROWS} rows: {ROWS} new stores")


#: Each long import as a reporter or a data desk types it: the file it reads (made by
#: ``bigfiles``), the arguments after it, the bar's label, and the summary that must follow.
IMPORTS = {
    "visits": (bigfiles.visits_csv, "visits.csv", ["visit", "import", "{}", "--case", "tob"],
               "Importing visits", rf"Imported {ROWS} undercover visits"),
    "kobo": (bigfiles.kobo_csv, "kobo.csv", ["import", "kobo", "{}", "--case", "tob", "--ignore-unknown"],
             "Importing form submissions", rf"{ROWS} submissions → case tob"),
    "tips": (bigfiles.cfpb_csv, "cfpb.csv", ["tip", "import", "{}", "--format", "cfpb"],
             "Importing complaints", rf"{ROWS} rows: {ROWS} new tips"),
    "lives": (bigfiles.lives_feed, "lives", ["import", "lives", "{}"], "Importing LIVES", rf"visits:\s+{ROWS} added"),
    "fda": (bigfiles.fda_csv, "fda.csv", ["import", "fda", "{}"], "Importing FDA checks", rf"rows:\s+{ROWS} "),
}


@pytest.mark.parametrize("kind", IMPORTS)
def test_an_import_of_100000_rows_shows_its_bar_to_100_percent(field, kind):
    make, name, args, label, summary = IMPORTS[kind]
    path = make(field.root / name, ROWS)
    assert_bar_then_summary(terminal(field.ws, *[a.format(path) for a in args]), label, summary)


def test_near_measures_100000_stores_with_its_bar_to_100_percent(field):
    places = bigfiles.places_csv(field.root / "schools.csv")
    assert_bar_then_summary(terminal(field.ws, "near", str(places), "--radius", "200m", "--case", "tob"),
                            "Measuring distances", r"within 200")


def test_bundle_and_merge_of_a_200000_visit_case_show_their_bars_to_100_percent(field):
    bundle = field.root / "tob.zip"
    assert_bar_then_summary(terminal(field.ws, "bundle", "tob", "--out", str(bundle)), "Bundling",
                            r"Wrote .*tob\.zip: 200000 visits")
    assert terminal(field.root, "init", "desk", "--newsroom", "Tagesblatt").exit_code == 0
    assert_bar_then_summary(terminal(field.root / "desk", "merge", str(bundle)), "Merging",
                            r"Merged .*200000 visits")


def test_geocoding_against_a_local_nominatim_shows_its_bar_to_100_percent(tmp_path):
    """Sixty stores without coordinates, a geocoder on 127.0.0.1 answering every 50 ms."""
    places = {f"Sonnenallee {i}": (52.48 + i / 10_000, 13.43, "house") for i in range(1, 61)}
    rows = "".join(f"Späti {i},Sonnenallee {i},Berlin\n" for i in range(1, 61))
    (tmp_path / "shops.csv").write_text("name,address,city\n" + rows, encoding="utf-8")
    assert terminal(tmp_path, "init", "ws", "--newsroom", "T").exit_code == 0
    assert terminal(tmp_path / "ws", "store", "import", str(tmp_path / "shops.csv")).exit_code == 0
    with FakeNominatim(places) as server:
        screen = terminal(tmp_path / "ws", "store", "geocode", "--domain", server.domain, "--scheme", "http",
                          "--min-delay", "0.05", "--user-agent", "investigate-tests (test@example.org)")
    assert_bar_then_summary(screen, "Geocoding stores", r"60")


def test_a_report_with_its_visits_in_an_annex_shows_a_bar_part_by_part(tmp_path):
    """600 visits at 40 a part: the report and 15 parts, each laid out and written in turn
    (issue 30), the bar moving as each is written; the PDF holds the report and every part."""
    from pypdf import PdfReader

    assert terminal(tmp_path, "init", "ws", "--newsroom", "Tagesblatt", "--timezone", "Europe/Berlin").exit_code == 0
    ws = tmp_path / "ws"
    # A registry without coordinates: the report's own pages stay short (no map, no key of 600 stores).
    stores = bigfiles.write_rows(tmp_path / "stores.csv", ["name", "address", "licence_number"],
                                 ((f"Späti {i}", f"Sonnenallee {i}", f"L-{i}") for i in range(600)))
    for args in (["case", "new", "tob", "--title", "Tobacco sales to minors", "--protocol", "tobacco-minors",
                  "--legal-basis", "JuSchG § 10"],
                 ["tester", "add", "T-07", "--birth-month", "2010-03", "--consent", "--consent-held-by", "desk safe",
                  "--consent-date", "2025-09-01"],
                 ["store", "import", str(stores), "--case", "tob"],
                 ["visit", "import", str(bigfiles.visits_csv(tmp_path / "visits.csv", 600)), "--case", "tob"]):
        screen = terminal(ws, *args)
        assert screen.exit_code == 0, screen.text[-2000:]
    with open(ws / "investigate.toml", "a", encoding="utf-8") as fp:
        fp.write("\n[report]\nannex_rows = 40\n")
    out = tmp_path / "internal.pdf"
    screen = terminal(ws, "report", "tob", "--edition", "internal", "--lang", "en", "--out", str(out))
    assert_bar_then_summary(screen, "Rendering the report", r"Wrote\s+.*internal\.pdf\s+\(internal edition, en\)")
    assert not [line for line in screen.lines if len(line) > COLUMNS and " " in line.strip()], screen.text[-2000:]
    pages = [page.extract_text() for page in PdfReader(out).pages]
    assert "The 600 visits are listed in the annex" in " ".join(" ".join(pages).split())
    assert [n for n in range(1, 16) if any(f"Annex, part {n} of 15 ·" in page for page in pages)] == list(range(1, 16))


def test_asking_every_business_shows_a_bar_then_a_page_of_requests_not_every_one(tmp_path):
    """`reply request --all` of 2,000 businesses (a sale at every fifth of 10,000 stores): a bar
    while they are asked (at a million visits it had run silent for over a minute), then the
    first twenty requests, the rest counted, and one deadline for all: one act of asking."""
    import json

    assert terminal(tmp_path, "init", "ws", "--newsroom", "T", "--timezone", "Europe/Berlin").exit_code == 0
    ws, n = tmp_path / "ws", 10_000
    for args in (["case", "new", "tob", "--title", "Tobacco", "--protocol", "tobacco-minors", "--legal-basis", "x"],
                 ["tester", "add", "T-07", "--birth-month", "2010-03", "--consent", "--consent-held-by", "desk",
                  "--consent-date", "2025-09-01"],
                 ["store", "import", str(bigfiles.stores_csv(tmp_path / "stores.csv", n)), "--case", "tob"],
                 ["visit", "import", str(bigfiles.visits_csv(tmp_path / "visits.csv", n)), "--case", "tob"]):
        screen = terminal(ws, *args)
        assert screen.exit_code == 0, screen.text[-2000:]
    screen = terminal(ws, "reply", "request", "tob", "--all")
    assert_bar_then_summary(screen, "Asking for comment", r"2000 request\(s\), deadline \S+; every business with")
    requested = [line for line in screen.lines if line.startswith("Reply requested (")]
    assert len(requested) == 20 and "… and 1980 more (investigate reply list --case tob lists them all)." in screen.lines
    assert not [line for line in screen.lines if len(line) > COLUMNS], screen.text[-2000:]
    listed = terminal(ws, "reply", "list", "--case", "tob", "--json")
    replies = json.loads(listed.text)
    assert len(replies) == 2000 and len({(r["requested_at"], r["deadline"]) for r in replies}) == 1
    assert [r["store_name"] for r in replies] == sorted(r["store_name"] for r in replies)  # one deadline: by name
    again = terminal(ws, "reply", "request", "tob", "--all")
    assert again.exit_code == 0 and "Every business with findings in tob was asked already." in again.lines


def test_nothing_is_wider_than_the_terminal_after_a_long_import(field):
    wide = [line for line in field.store_import.lines if len(line) > COLUMNS]
    assert not wide, wide


def test_ctrl_c_during_an_import_writes_nothing_and_says_so_in_one_line(tmp_path):
    stores = bigfiles.stores_csv(tmp_path / "stores.csv", ROWS)
    assert terminal(tmp_path, "init", "ws", "--newsroom", "T").exit_code == 0
    child = spawn(tmp_path / "ws", "store", "import", str(stores), timeout=120)
    child.expect(r"Importing stores\s+\[#+-+\]\s+[1-9]\d?%")  # under way, not yet done
    child.sendintr()
    rest = child.read()
    child.close()
    assert child.exitstatus == 130, rest
    assert "Traceback" not in rest
    # The terminal itself echoes the key as "^C"; the bar's line is left as it stood.
    messages = [line for line in Screen(rest, 130).lines if line.strip() not in ("", "^C") and "Importing" not in line]
    assert messages == ["Error: interrupted: what was not yet committed is rolled back, nothing is half-written"]
    listed = terminal(tmp_path / "ws", "store", "list", "--json")
    assert listed.exit_code == 0 and listed.text.strip() == "[]", listed.text[-500:]


def test_visit_record_is_answered_key_by_key_at_a_terminal(tmp_path):
    """The reporter's most typed command, as typed: store by name, a numbered choice, tester,
    time, observer, then each of the protocol's questions, and the judgement."""
    assert terminal(tmp_path, "init", "ws", "--newsroom", "T", "--timezone", "Europe/Berlin").exit_code == 0
    ws = tmp_path / "ws"
    for args in (["case", "new", "tob", "--title", "Tobacco", "--protocol", "tobacco-minors", "--legal-basis", "x"],
                 ["tester", "add", "T-07", "--birth-month", "2010-03", "--consent", "--consent-held-by", "desk",
                  "--consent-date", "2025-09-01"],
                 ["store", "add", "Späti Eins", "--address", "Sonnenallee 1", "--case", "tob"],
                 ["store", "add", "Späti Zwei", "--address", "Sonnenallee 50", "--case", "tob"]):
        assert terminal(ws, *args).exit_code == 0, args
    child = spawn(ws, "visit", "record", timeout=60)
    steps = [(r"Store \(name", "späti"), (r"2 stores match 'späti'.*Which one", "2"), (r"Tester code", "T-07"),
             (r"Visit time .*\[now\]", ""), (r"Adult observer", "M. Olsen"),
             (r"Which product did the tester ask for\?", "cigarettes"), (r"Was the product sold", "yes"),
             (r"How did the clerk check age\?", "none")]
    for prompt, answer in steps:
        child.expect(prompt)
        child.sendline(answer)
    # The rest of the questions, whatever they are: Enter where optional, "yes" where asked.
    while True:
        index = child.expect([r"\(optional, Enter skips\)", r"\[yes/no\]: ", r"Recorded visit \w+ at (.+): (\w+)"])
        if index == 2:
            break
        child.sendline("" if index == 0 else "yes")
    assert child.match.group(1).strip() == "Späti Zwei" and child.match.group(2) == "VIOLATION"
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_every_command_the_demo_suggests_works_at_a_terminal_on_any_day(tmp_path):
    """`investigate demo` ends with the commands to try next. Each runs at an 80-column terminal,
    exits 0, prints no traceback and nothing wider than the terminal — on whatever day the suite
    runs (CI runs it again a year ahead): the demo is dated relative to the day it is built."""
    built = terminal(tmp_path, "demo", "ws", timeout=900)
    assert built.exit_code == 0, built.text[-2000:]
    lines = built.lines
    suggested = [line.strip() for line in lines[lines.index("Try next:") + 1:] if line.strip().startswith("investigate ")]
    assert len(suggested) >= 10, suggested
    ran = 0
    for line in suggested:
        args = line.split("#")[0].split()[1:]
        if args[0] == "serve":
            args = [*args, "--check"]  # starts nothing: checks it could serve
        screen = terminal(tmp_path / "ws", *args, timeout=600)
        assert screen.exit_code == 0 and "Traceback" not in screen.text, f"{line}\n{screen.text[-2000:]}"
        # A path or URL longer than the terminal stands alone on its line, whole (to copy it).
        wide = [row for row in screen.lines if len(row) > COLUMNS and " " in row.strip()]
        assert not wide, f"{line}: {wide[:3]}"
        ran += 1
    assert ran == len(suggested)

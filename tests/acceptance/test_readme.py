"""The README's tour is the script: every command it prints runs, in its order, at an 80-column
pseudo-terminal, as a new user would type it in a fresh home folder.

A command in the README that this test does not run is a defect (the last test counts them).
What the test adds is only what a user would have in hand: the files the tour names (each made
here in the layout the tour says it has), the ids the tables showed them (the README's "3f2a"
is whatever short id the store got), the answers they type at a prompt, and the days between
the steps. The tour tells of fieldwork on 20 November and of a report weeks later, after the
reply windows closed; its commands run on those days (libfaketime) in the newsroom's time zone.

Three commands cannot run here as printed and get a stand-in that does what they do on this
machine: ``serve`` and ``publish --serve`` are started, asked for a page, and stopped with
Ctrl-C; ``datasette publish cloudrun`` and ``datasette package`` need Google Cloud and Docker,
so the public files are served the way their container serves them (``datasette serve -i …
--inspect-file …``).
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pytest

from conftest import need_tool
from investigate.ids import short
from nominatim_server import FakeNominatim
from screen import COLUMNS, Screen, environment, exit_code, finish, spawn

import readme_files

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: The days the tour's sections happen on, in the newsroom's time zone.
DAYS = {
    "In the field": "2026-11-20 15:00:00",
    "Back in the newsroom": "2026-11-21 10:00:00",
    "Customer-service tests": "2026-11-22 10:00:00",
    "One person's story": "2026-11-23 10:00:00",
    "Publishing": "2026-12-15 10:00:00",
    "Witnesses: newsrooms vouching for each other's logs": "2026-12-15 16:00:00",
    "Working as a team, and official records": "2026-12-16 10:00:00",
}
TIME_ZONE = "Europe/Berlin"
#: What each editor types when `editor add` asks for a password.
PASSWORD = "a long passphrase of the desk"


@dataclass
class Command:
    section: str
    line: int
    words: list[str]

    @property
    def text(self) -> str:
        return shlex.join(self.words)


def readme_commands(text: str) -> list[Command]:
    """Every command of the README's indented blocks, in order: continuation lines joined,
    comments dropped, ``a && b`` as two commands, ``cd`` kept (it moves the user)."""
    out, section = [], ""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("# ").strip()
        elif re.match(r" {4}(investigate|datasette|cd) ", line):
            start, joined = i + 1, line.strip()
            while _code(joined).endswith("\\"):
                i += 1
                joined = _code(joined)[:-1] + " " + lines[i].strip()
            for part in _code(joined).split(" && "):
                out.append(Command(section, start, shlex.split(part)))
        i += 1
    return out


def _code(line: str) -> str:
    """A README line without its comment (a "#" after two spaces, never inside quotes)."""
    return re.split(r"\s{2,}#", line)[0].rstrip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Tour:
    """The user's home, where they are, and what the tables showed them."""

    home: Path
    libfaketime: str
    cwd: Path = None
    ran: list[str] = field(default_factory=list)
    geocoder: FakeNominatim | None = None
    witness_port: int = field(default_factory=lambda: free_port())
    background: list = field(default_factory=list)
    witness_key: str = ""

    def __post_init__(self):
        self.cwd = self.home

    # -- what the user knows from the tables ----------------------------------------------
    def query(self, sql: str, *params) -> list[tuple]:
        db = sqlite3.connect(f"file:{self.cwd / 'investigate.db'}?mode=ro", uri=True)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def one(self, sql: str, *params) -> str:
        rows = self.query(sql, *params)
        assert rows, f"nothing for {sql} {params}"
        return rows[0][0]

    def placeholder(self, word: str) -> str | None:
        """The real short id behind one of the README's example ids, looked up as the user would
        read it off the table the step before printed; the keys a newsroom hands another (read
        where the README says they are), and the witness's port (8130 may be taken here)."""
        if word.startswith("investigate.log/…"):  # the Berlin log: its origin, or its whole key
            key = re.search(r'^public_key = "([^"]+)"', (self.home / "cases/berlin/investigate.toml").read_text(
                encoding="utf-8"), re.M).group(1)
            return key if "+" in word else key.split("+")[0]
        if word == "investigate.witness/…+…":  # what `witness key` printed at the partner
            return self.witness_key
        if word == "8130" or word.endswith("127.0.0.1:8130"):
            return word.replace("8130", str(self.witness_port))
        ids = {
            "3f2a": "select id from stores where name = 'Späti 24'",
            "77b1": "select id from stores where name = 'Kiosk am Park'",
            "9c1e": "select v.id from visits v join stores s on s.id = v.store_id where s.name = 'Späti 24' "
                    "order by v.rowid limit 1",
            # The visit typed at the prompt, which the tour then voids as typed twice.
            "4b7d": "select v.id from visits v join testers t on t.id = v.tester_id where t.code = 'T-08' "
                    "order by v.visited_at desc limit 1",
            "5d0e": "select id from replies order by rowid desc limit 1",
            "7c1d": "select id from stores where channel = 'phone' order by rowid limit 1",
            "9e2a": "select id from stores where channel = 'email' order by rowid limit 1",
            "3b4c": "select id from stores where channel = 'in_person' and company_id is not null order by rowid limit 1",
            "4f1c": "select id from tips order by rowid desc limit 1",  # the tip the story starts from
        }
        if word in ids:
            return short(self.one(ids[word]))
        if word == "4711":  # an audit entry: the one that recorded the first visit
            return str(self.one("select seq from audit_log where table_name = 'visits' order by seq limit 1"))
        return None

    def words(self, command: Command) -> list[str]:
        out = []
        for word in command.words:
            word = self.placeholder(word) or word
            if word.startswith("~/"):
                word = str(self.home / word[2:])
            readme_files.make(word, self.cwd)
            out.append(word)
        return out

    # -- running ---------------------------------------------------------------------------
    def start(self, section: str, program: str, args: list[str], timeout: int = 600):
        """Start a program of the PATH on the section's day, in the newsroom's time zone."""
        # Each section is on its own day whatever the machine's clock (CI's second run moves it):
        # libfaketime preloaded with the day ("@": starts there and runs on). Not the faketime
        # wrapper: it names a semaphore after its process id, and one left behind by a killed
        # process of the same id (a PID reused hours later) made it refuse ("sem_open: File exists").
        env = environment(self.home, moved_clock=False, TZ=TIME_ZONE, LD_PRELOAD=self.libfaketime,
                          FAKETIME=f"@{DAYS[section]}")
        path = shutil.which(program, path=env["PATH"])
        assert path, f"{program} is not on {env['PATH']}"
        return spawn(self.cwd, *args, program=path, timeout=timeout, env=env)

    def run(self, command: Command) -> Screen:
        words = self.words(command)
        self.ran.append(command.text)
        if words[0] == "cd":
            self.cwd = Path(words[1])
            return Screen("", 0)
        program, args = words[0], words[1:]
        if program == "datasette":
            screen = finish(self.start(command.section, "datasette", stand_in_for_datasette_publishers(args)))
            # Served as published, the copy suggests no facets (each counts a column of every row).
            assert '"suggested_facets": []' in screen.text, screen.text[-2000:]
            return screen
        if args[:1] == ["serve"] or "--serve" in args:
            return self.serve(command.section, args)
        if args == ["visit", "record"]:
            return self.record_at_the_prompts(command.section)
        if args[:2] == ["witness", "serve"]:
            return self.serve_in_background(command.section, args)
        if args[:2] == ["witness", "key"]:
            screen = unattended(self.start(command.section, "investigate", args))
            self.witness_key = screen.text.strip().splitlines()[-1].strip() if screen.text.strip() else ""
            return screen
        if args[:2] == ["editor", "add"]:  # the password typed twice, as asked
            return self.answer_prompts(command.section, args, [(r"Password for [^\n]*: $", PASSWORD),
                                                               (r"Repeat for confirmation: $", PASSWORD)],
                                       ends=[r"(Added|Changed) \w+ \(\w+\)\.", r"Error: .*"])
        if args[:2] == ["store", "geocode"]:
            self.configure_geocoder()
        return unattended(self.start(command.section, "investigate", args))

    def configure_geocoder(self) -> None:
        """What the README's comment before ``store geocode`` asks the user to do once: its
        [geocoder] block, as printed, into investigate.toml. This machine has no internet, so
        the block also points at a Nominatim on 127.0.0.1 that knows the tour's addresses (a
        stand-in configured as a newsroom's own Nominatim would be)."""
        if self.geocoder is None:
            places = {address: (lat, lon, "house") for _, address, _, _, lat, lon in readme_files.SHOPS}
            places.update({"Sonnenallee 1": (52.4862, 13.4262, "house"), "Sonnenallee 2": (52.4863, 13.4264, "house")})
            self.geocoder = FakeNominatim(places).__enter__()
        block = README.read_text(encoding="utf-8").split("once, in investigate.toml —\n", 1)[1]
        lines = []
        for line in block.split("\n"):
            if not line.strip().startswith("#"):
                break
            lines.append(line.strip()[1:].strip())
        printed = "\n".join(lines)
        assert printed.startswith("[geocoder]\n") and "user_agent" in printed, printed
        # The user sets the block's values in the [geocoder] section `init` wrote.
        values = dict(line.split(" = ", 1) for line in printed.split("\n")[1:])
        values.update(domain=f'"{self.geocoder.domain}"', scheme='"http"')
        config = self.cwd / "investigate.toml"
        text = config.read_text(encoding="utf-8")
        for key, value in values.items():
            text, found = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
            assert found, f"investigate.toml has no {key} to set"
        config.write_text(text, encoding="utf-8")

    def close(self) -> None:
        if self.geocoder is not None:
            self.geocoder.__exit__(None, None, None)
        for child in self.background:  # stopped as its user stops it, Ctrl-C; never waited on forever
            child.sendintr()
            try:
                child.expect(pexpect.EOF, timeout=30)
            except pexpect.TIMEOUT:
                child.terminate(force=True)
                raise AssertionError(f"{child.args}: still running 30 s after Ctrl-C:\n{child.before[-2000:]}")
            finish(child)

    def serve_in_background(self, section: str, args: list[str]) -> Screen:
        """`witness serve`, which the README runs "in a terminal of its own": started, and left
        serving (for every checkpoint the log makes from then on) until the tour ends."""
        child = self.start(section, "investigate", args)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.isalive():
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.witness_port)) == 0:
                    self.background.append(child)
                    return Screen("", 0)
            time.sleep(0.2)
        return finish(child)

    def serve(self, section: str, args: list[str]) -> Screen:
        """A server the user starts, looks at in the browser, and stops with Ctrl-C."""
        port = free_port()
        child = self.start(section, "investigate", [*args, "--port", str(port)])
        deadline, page = time.monotonic() + 120, None
        while time.monotonic() < deadline and child.isalive():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = (response.status, response.geturl(), response.read().decode("utf-8"))
                    break
            except urllib.error.HTTPError as ex:
                page = (ex.code, ex.url, ex.read().decode("utf-8", "replace"))
                break
            except OSError:
                time.sleep(0.3)
        child.sendintr()
        screen = finish(child)
        assert page and page[0] == 200, f"{args}: no page on port {port}: {page}\n{screen.text[-2000:]}"
        # The workspace's home; once editors have accounts, the page to log in first.
        home = "tobacco-nk" in page[2] or "Tobacco" in page[2]
        login = page[1].endswith("/-/login") or 'type="password"' in page[2]
        assert home or login, page[2][:2000]
        # Stopped by the user: what counts is that it served and printed no traceback.
        return Screen(screen.text, 0 if "Traceback" not in screen.text else 1)

    def record_at_the_prompts(self, section: str) -> Screen:
        """`visit record` with no options: every answer typed at its prompt, as the comment
        beside it in the README says ("späti" → a numbered choice)."""
        # Each prompt as it comes (the case is asked only when there are several): its answer.
        answers = [(r"Case [^\n]*: $", "tobacco-nk"), (r"Store \(name[^\n]*: $", "späti"), (r"Which one[^\n]*: $", "1"),
                   (r"Tester code[^\n]*: $", "T-08"), (r"Visit time [^\n]*\[now\][^\n]*: $", ""),
                   (r"Adult observer[^\n]*: $", "M. Olsen"),
                   (r"Which product did the tester ask for\?[^\n]*: $", "cigarettes"),
                   (r"Was the product sold[^\n]*: $", "no"), (r"How did the clerk check age\?[^\n]*: $", "scanned"),
                   (r"\(optional, Enter skips\): $", ""), (r"\[yes/no\]: $", "yes")]
        return self.answer_prompts(section, ["visit", "record"], answers,
                                   ends=[r"Recorded visit \w+ at (.+): (\w+)", r"Error: .*"])

    def answer_prompts(self, section: str, args: list[str], answers: list[tuple[str, str]],
                       ends: list[str]) -> Screen:
        """A command the user answers key by key: each prompt (a pattern) gets its answer,
        until one of ``ends`` is printed."""
        child = self.start(section, "investigate", args, timeout=60)
        transcript = []
        while True:
            index = child.expect([pattern for pattern, _ in answers] + ends)
            transcript.append(child.before + child.after)
            if index >= len(answers):
                break
            child.sendline(answers[index][1])
        screen = finish(child)
        return Screen("".join(transcript) + screen.text, screen.exit_code)


#: How a prompt ends on the screen: "[yes/no]: ", "[now]: ", "(optional, Enter skips): ", "? ".
PROMPT = r"(\]|\)|\?|[a-z]): $"


def unattended(child) -> Screen:
    """A command printed without answers runs to its end unasked: one that stops at a prompt
    fails at once, with the prompt on the screen, rather than waiting out the timeout."""
    import pexpect

    text = ""
    while child.expect([pexpect.EOF, PROMPT]) == 1:
        text += child.before + child.after
        # A line that merely ends in ": " for now goes on; a prompt stays silent, waiting.
        if child.expect([pexpect.EOF, pexpect.TIMEOUT, r"[^\n]+|\n"], timeout=3) == 1:
            child.terminate(force=True)
            return Screen(text + "\n(the command waits at this prompt; the README gives no answer)", 1)
        text += child.before + (child.after if isinstance(child.after, str) else "")
        if child.after is pexpect.EOF:
            break
    else:
        text += child.before
    child.close()
    return Screen(text, exit_code(child))


def stand_in_for_datasette_publishers(args: list[str]) -> list[str]:
    """``datasette publish cloudrun DB -m M --extra-options O …`` and ``datasette package …``
    build a container that runs ``datasette serve -i DB -m M --inspect-file inspect-data.json O``:
    that command, asked for the visits table, is what this machine can check of them."""
    assert args[0] in ("publish", "package"), args
    database = next(a for a in args if a.endswith(".db"))
    metadata = args[args.index("-m") + 1]
    inspect = str(Path(database).with_name("inspect-data.json"))
    extra = shlex.split(args[args.index("--extra-options") + 1]) if "--extra-options" in args else []
    return ["serve", "-i", database, "-m", metadata, "--inspect-file", inspect, *extra, "--get", "/public/visits.json"]


def need_libfaketime() -> str:
    """The path of libfaketime, which the faketime package installs beside its wrapper."""
    wrapper = need_tool("faketime", package="faketime")
    for pattern in ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                    "/usr/local/lib/faketime/libfaketime.so.1"):
        if found := sorted(glob.glob(pattern)):
            return found[0]
    pytest.fail(f"libfaketime.so.1 is not beside {wrapper} (apt-get install faketime)", pytrace=False)


@pytest.fixture(scope="module")
def tour(tmp_path_factory) -> list[tuple[Command, Screen]]:
    """The whole tour, command by command, until the first that fails."""
    home = tmp_path_factory.mktemp("home")
    walker = Tour(home, need_libfaketime())
    done = []
    try:
        for command in readme_commands(README.read_text(encoding="utf-8")):
            screen = walker.run(command)
            done.append((command, screen))
            if screen.exit_code != 0 or "Traceback" in screen.text:
                break
    finally:
        walker.close()
    return done


def test_every_command_of_the_readme_tour_runs_as_printed(tour):
    command, screen = tour[-1]
    failed = screen.exit_code != 0 or "Traceback" in screen.text
    assert not failed, f"README line {command.line} ({command.section}): {command.text}\n{screen.text[-3000:]}"


def test_nothing_the_tour_prints_is_wider_than_the_terminal(tour):
    """A path or URL longer than the terminal stands alone on its line, whole (to copy it)."""
    # JSON (--json, and the pages the stand-in for Datasette's publishers fetches) is for
    # programs: a wrapped string would not be JSON any more.
    wide = [(c.line, row) for c, s in tour if "--json" not in c.words and c.words[0] != "datasette"
            for row in s.lines if len(row) > COLUMNS and " " in row.strip()]
    assert not wide, "\n".join(f"README line {line}: {row}" for line, row in wide[:8])


def test_the_tour_runs_every_command_the_readme_prints(tour):
    """Counted independently of the parser: each line of an indented block that starts a
    command, and each "&&" inside one."""
    text = README.read_text(encoding="utf-8")
    starts = [line for line in text.split("\n") if re.match(r" {4}(investigate|datasette|cd) ", line)]
    printed = len(starts) + sum(_code(line).count(" && ") for line in starts)
    assert len(tour) == printed, f"ran {len(tour)} of {printed}: stopped at {tour[-1][0].text}"

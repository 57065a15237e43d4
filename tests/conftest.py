"""Shared fixtures. Workspaces are built through the public API, never by writing SQL."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from investigate.cases import cases, replies, stores, testers, visits
from investigate.cli import cli
from investigate.store.workspace import Workspace, init_workspace

#: Every file a test reads lives here, inside the repository (each folder notes its origin),
#: so that a clean clone passes with nothing beside it.
DATA = Path(__file__).resolve().parent / "data"
LIVES_DIR = DATA / "lives-lexington"

#: The suite's one clock: every test starts at this instant (and time then runs on, so that
#: timeouts still expire). An afternoon, so that a 12-hour clock cannot pass for a 24-hour one;
#: CI runs the suite a second time with the system clock a year ahead and in another time zone
#: (libfaketime), so a test that reads the wall clock instead fails there. Expected strings are
#: derived from this clock and the case's locale, never typed as today's date.
CLOCK = datetime(2026, 11, 25, 16, 40, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture(scope="session", autouse=True)
def session_clock():
    """What is built once per module or session (a demo workspace) runs on the suite's clock
    too: module fixtures are made before any test's own ``clock``."""
    with time_machine.travel(CLOCK, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def clock(session_clock):
    """Every test runs on ``CLOCK``; a test may move it (``clock.move_to(...)``, ``clock.shift(...)``)."""
    with time_machine.travel(CLOCK, tick=True) as traveller:
        yield traveller


def need_tool(*names: str, package: str) -> str:
    """The path of the first of ``names`` on the PATH. A missing tool skips the test on a
    developer's machine but fails it under ``CI=true``, where ``.ci/run`` installs it: a CI that
    skips what it cannot run stays green while the PDFs or pages go unchecked."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = f"{names[0]} is not installed (apt-get install {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must run this test, not skip it", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    ws = init_workspace(tmp_path / "ws", newsroom="Test Newsroom", timezone_name="Europe/Berlin")
    yield ws
    ws.close()


@pytest.fixture
def run(workspace):
    """Run the CLI against the test workspace: ``run("visit", "list", "--json")``."""

    def invoke(*args, input=None):
        runner = CliRunner()
        return runner.invoke(cli, ["-w", str(workspace.root), *map(str, args)], input=input,
                             catch_exceptions=False)

    return invoke


def with_setting(ws: Workspace, text: str) -> Workspace:
    """The workspace opened again after ``text`` (a TOML table) was added to its investigate.toml."""
    with open(ws.config_path, "a", encoding="utf-8") as fp:
        fp.write(f"\n{text}\n")
    return Workspace(ws.root)


def counted_tallies(ws: Workspace) -> tuple[list[tuple], list[tuple]]:
    """The visit tallies and the case tallies as counting the visits gives them (a NULL review
    state is 'received', a NULL round the first, a NULL attempt a completed one): what the
    triggers must keep."""
    counted = "coalesce(review_state, 'received'), coalesce(round, 1), coalesce(attempt, 'completed'), count(*)"
    return (sorted(ws.db.execute(f"select case_id, kind, store_id, outcome, {counted} from visits "
                                 "group by 1, 2, 3, 4, 5, 6, 7").fetchall()),
            sorted(ws.db.execute(f"select case_id, kind, outcome, {counted} from visits "
                                 "group by 1, 2, 3, 4, 5, 6").fetchall()))


def kept_tallies(ws: Workspace) -> tuple[list[tuple], list[tuple]]:
    return (sorted(ws.db.execute("select * from visit_tallies").fetchall()),
            sorted(ws.db.execute("select * from case_tallies").fetchall()))


@contextmanager
def statements(ws: Workspace):
    """The SQL statements run on the workspace's connection inside the block, in order (sqlite3's
    trace callback: parameters filled in)."""
    seen: list[str] = []
    ws.db.conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        ws.db.conn.set_trace_callback(None)


def bulk_writes_under_a_savepoint(statements: list[str], tables: tuple[str, ...]) -> list[str]:
    """Of the statements run (``statements``), the bulk writes to ``tables`` (``insert_many``'s
    ``insert into [t]``, ``update_many``'s ``update [t]``) made while a savepoint was open: SQLite
    copies every page such a write changes aside, for the savepoint's sake. (A single audited
    insert elsewhere, a protocol version's, is written the same way, under its own savepoint.)"""
    open_: list[str] = []
    found = []
    for sql in statements:
        words, low = sql.split(), sql.lstrip().lower()
        if low.startswith("savepoint"):
            open_.append(words[1].strip(';"'))
        elif low.startswith("release") and (name := words[-1].strip(';"')) in open_:
            del open_[open_.index(name):]
        elif open_ and low.startswith(tuple(f"{verb} [{t}]" for verb in ("insert into", "update") for t in tables)):
            found.append(sql)
    return found


def snapshot(ws: Workspace) -> list[str]:
    """Every row of every table: compare before and after to prove nothing was written."""
    return list(ws.db.conn.iterdump())


@pytest.fixture
def tobacco_case(workspace):
    """A small tobacco case: four stores in two chains, one tester, four visits."""
    return make_tobacco_case(workspace)


def make_tobacco_case(ws: Workspace) -> dict:
    """The ``tobacco_case`` fixture's case, in any workspace (a module's shared one, say)."""
    case = cases.create_case(ws, slug="tobacco-nk", title="Tobacco sales to minors, Neukölln",
                             protocol="tobacco-minors", jurisdiction="Berlin, DE",
                             legal_basis="JuSchG § 10")
    shops = [
        stores.add_store(ws, name="Späti Eins", chain="Späti24", address="Sonnenallee 1",
                         city="Berlin", district="Neukölln", lat=52.4801, lon=13.4301, licence_number="L-1"),
        stores.add_store(ws, name="Späti Zwei", chain="Späti24", address="Sonnenallee 50",
                         city="Berlin", district="Neukölln", lat=52.4790, lon=13.4350, licence_number="L-2"),
        stores.add_store(ws, name="Kiosk am Park", chain="KioskCo", address="Hermannstr. 3",
                         city="Berlin", district="Neukölln", lat=52.4750, lon=13.4240, licence_number="L-3"),
        stores.add_store(ws, name="Tabak Müller", chain=None, address="Karl-Marx-Str. 9",
                         city="Berlin", district="Kreuzberg", lat=52.4870, lon=13.4250, licence_number="L-4"),
    ]
    stores.add_to_frame(ws, case, shops)
    tester = testers.add_tester(ws, code="T-07", birth_month="2010-03", consent=True,
                                consent_date="2026-01-10")
    base = ws.now() - timedelta(days=10)
    answers = [
        {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True},
        {"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True},
        {"product": "e-cigarette", "sale": True, "id_check": "glance", "id_carried": True},
        {"product": "cigarettes", "sale": False, "id_check": "asked_age_only", "id_carried": False},
    ]
    recorded = [
        visits.record_visit(ws, case=case, store=shop, tester=tester, answers=a,
                            visited_at=base + timedelta(hours=i * 2), observer="Observer Olsen")
        for i, (shop, a) in enumerate(zip(shops, answers))
    ]
    return {"case": case, "stores": shops, "tester": tester, "visits": [r["visit"] for r in recorded]}


@pytest.fixture
def frame_case(workspace):
    """A frame of twenty stores in two districts (12 North, 8 South), no visit yet."""
    case = cases.create_case(workspace, slug="frame", title="Frame", protocol="tobacco-minors")
    shops = [stores.add_store(workspace, name=f"Shop {i:02d}", district="North" if i < 12 else "South")
             for i in range(20)]
    stores.add_to_frame(workspace, case, shops)
    return case

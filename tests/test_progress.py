"""Issue 17: progress bars that move for every row, on stderr, silent with --json."""

import os
import pty
import re
import subprocess
import sys
import time

from investigate.store.workspace import init_workspace


def _run_on_a_terminal(args, cwd, columns: int = 100) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout a pipe); what the terminal saw."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "investigate", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=follower, stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": str(columns)})
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the process is done
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(leader)
    return proc.returncode, seen.decode("utf-8", "replace")


def test_a_progress_bar_reaches_100_percent_on_10000_new_stores(tmp_path):
    ws = init_workspace(tmp_path / "ws", newsroom="T")
    ws.close()
    f = tmp_path / "stores.csv"
    f.write_text("name,address\n" + "".join(f"Kiosk {i},Straße {i}\n" for i in range(10_000)), encoding="utf-8")
    start = time.monotonic()
    code, seen = _run_on_a_terminal(["-w", str(tmp_path / "ws"), "store", "import", str(f)], tmp_path)
    assert code == 0, seen
    assert "Importing stores" in seen and "100%" in seen, seen[-500:]
    assert time.monotonic() - start < 120
    # With --json the terminal sees nothing at all.
    f2 = tmp_path / "more.csv"
    f2.write_text("name,address\n" + "".join(f"Späti {i},Weg {i}\n" for i in range(2_000)), encoding="utf-8")
    code, seen = _run_on_a_terminal(["-w", str(tmp_path / "ws"), "store", "import", str(f2), "--json"], tmp_path)
    assert code == 0 and seen.strip() == "", seen[-300:]


def test_bundle_and_merge_show_a_bar_that_reaches_100_percent(tmp_path):
    from datetime import timedelta

    from investigate.cases import cases, evidence, stores, testers, visits

    ws = init_workspace(tmp_path / "a", newsroom="T", timezone_name="Europe/Berlin")
    case = cases.create_case(ws, slug="c", title="C", protocol="tobacco-minors", legal_basis="x")
    tester = testers.add_tester(ws, code="T-1", birth_month="2010-03", consent=True)
    for i in range(3):
        shop = stores.add_store(ws, name=f"Shop {i}")
        v = visits.record_visit(ws, case=case, store=shop, tester=tester, observer="O",
                                visited_at=ws.now() - timedelta(days=2, hours=i),
                                answers={"product": "snus", "sale": False, "id_check": "scanned", "id_carried": True})
        photo = tmp_path / f"p{i}.jpg"
        photo.write_bytes(f"receipt {i}".encode())
        evidence.add_evidence(ws, v["visit"], [photo])
    ws.close()
    bundle = tmp_path / "c.zip"
    code, seen = _run_on_a_terminal(["-w", str(tmp_path / "a"), "bundle", "c", "--out", str(bundle)], tmp_path)
    assert code == 0 and "Bundling" in seen and "100%" in seen, seen[-400:]
    init_workspace(tmp_path / "b", newsroom="T").close()
    code, seen = _run_on_a_terminal(["-w", str(tmp_path / "b"), "merge", str(bundle)], tmp_path)
    assert code == 0 and "Merging" in seen and "100%" in seen, seen[-400:]


def test_verify_draws_one_bar_over_the_chain_and_the_rows_that_reaches_100_percent(tmp_path):
    """verify spends over half its time on the rows after the chain: its bar counts both, so
    it does not sit at 100% while the rows are read."""
    ws = init_workspace(tmp_path / "ws", newsroom="T")
    ws.close()
    f = tmp_path / "stores.csv"
    f.write_text("name,address\n" + "".join(f"Kiosk {i},Straße {i}\n" for i in range(12_000)), encoding="utf-8")
    code, _ = _run_on_a_terminal(["-w", str(tmp_path / "ws"), "store", "import", str(f), "--json"], tmp_path)
    assert code == 0
    code, seen = _run_on_a_terminal(["-w", str(tmp_path / "ws"), "verify"], tmp_path, columns=80)
    assert code == 0, seen
    assert "Checking audit chain and rows" in seen and "100%" in seen, seen[-500:]
    # Halfway, the chain walked and the rows to come, the bar says so: as many entries as rows.
    assert " 50%" in seen, seen[-800:]
    # Each redraw fits 80 columns with room for the time left ("  00:00:00"), which click adds
    # once the bar has lived a second: its bar is 36 wide whatever the label, and this one's ran
    # to 85 columns, the terminal wrapping every redraw onto a line of its own.
    drawn = re.split(r"[\r\n]+", re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", seen))
    bars = [line[:line.index("%") + 1] for line in drawn if "%" in line]
    assert bars and max(len(bar) + len("  00:00:00") for bar in bars) < 80, max(bars, key=len)

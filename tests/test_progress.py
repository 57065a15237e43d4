"""Issue 17: progress bars that move for every row, on stderr, silent with --json."""

import os
import pty
import subprocess
import sys
import time

from investigate.workspace import init_workspace


def _run_on_a_terminal(args, cwd) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout a pipe); what the terminal saw."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "investigate", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=follower, stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "100"})
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

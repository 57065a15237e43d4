"""Issue 26 moves the package into layers with behaviour unchanged: the demo's public outputs
must be what they were before the move (tests/data/golden/, made by tests/golden.py)."""

from __future__ import annotations

import difflib

import golden


def test_the_demo_publishes_the_same_bytes_as_before_the_move(monkeypatch):
    monkeypatch.delenv("INVESTIGATE_HOME", raising=False)
    monkeypatch.delenv("INVESTIGATE_KEY_PASSPHRASE", raising=False)
    now = golden.snapshot()
    before = {path.name: path.read_text(encoding="utf-8") for path in golden.GOLDEN.iterdir()
              if path.name != "README.md"}
    assert sorted(now) == sorted(before)
    for name in sorted(before):
        if now[name] != before[name]:
            diff = "".join(difflib.unified_diff(before[name].splitlines(True), now[name].splitlines(True),
                                                f"before/{name}", f"now/{name}", n=2))
            raise AssertionError(f"{name} differs from the golden snapshot:\n{diff[:6000]}")

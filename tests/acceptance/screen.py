"""The installed ``investigate`` at a real pseudo-terminal, 80 columns wide: what the acceptance
tests drive and read back.

Subprocesses inherit the test run's clock: under libfaketime (CI's second run moves the system
clock a year ahead, in another time zone) the preload and its settings are passed on, so that
the commands run on the moved clock too, not on the real one behind it.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pexpect

COLUMNS = 80
INVESTIGATE = Path(sys.executable).with_name("investigate")
#: What a moved clock is made of (libfaketime's preload and settings) and the time zone.
CLOCK_ENV = ("LD_PRELOAD", "FAKETIME", "FAKETIME_NO_CACHE", "FAKETIME_DONT_RESET", "DONT_FAKE_MONOTONIC", "TZ")


def environment(home: Path, *, moved_clock: bool = True, **extra: str) -> dict[str, str]:
    """A user's plain environment: the PATH with the installed command, a terminal, UTF-8, a
    home of their own, and the clock the tests run on (``moved_clock=False``: the real one, for
    a caller that preloads libfaketime with a day of its own)."""
    env = {"PATH": str(INVESTIGATE.parent) + ":/usr/bin:/bin", "TERM": "xterm", "LANG": "C.UTF-8",
           "HOME": str(home)}
    if moved_clock:
        env.update({name: os.environ[name] for name in CLOCK_ENV if name in os.environ})
    env.update(extra)
    return env


@dataclass
class Screen:
    """What the terminal received, and how the command ended."""

    text: str
    exit_code: int

    @property
    def lines(self) -> list[str]:
        """The lines as left on the screen: each carriage return starts the line again."""
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.text)
        return [line.split("\r")[-1] for line in plain.replace("\r\n", "\n").split("\n")]


def spawn(cwd: Path, *args: str, program: Path | str = INVESTIGATE, timeout: int = 600, home: Path | None = None,
          env: dict[str, str] | None = None) -> pexpect.spawn:
    """Start a command on an 80-column pseudo-terminal."""
    assert INVESTIGATE.exists(), f"{INVESTIGATE} is not installed (pip install -e .)"
    return pexpect.spawn(str(program), list(args), cwd=str(cwd), dimensions=(50, COLUMNS), encoding="utf-8",
                         codec_errors="replace", timeout=timeout, env=env or environment(home or cwd))


def finish(child: pexpect.spawn) -> Screen:
    """Read a started command to its end."""
    text = child.read()
    child.close()
    return Screen(text, exit_code(child))


def exit_code(child: pexpect.spawn) -> int:
    """A closed command's exit code, as a shell gives it: 128 + the signal that ended it."""
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)


def terminal(cwd: Path, *args: str, timeout: int = 600, **kwargs) -> Screen:
    """Run the installed command on an 80-column pseudo-terminal until it ends."""
    return finish(spawn(cwd, *args, timeout=timeout, **kwargs))


def assert_bar_then_summary(screen: Screen, label: str, summary: str) -> None:
    """The bar was drawn under its label, reached 100 %, and the summary follows it."""
    assert "Traceback" not in screen.text, screen.text[-3000:]
    assert screen.exit_code == 0, screen.text[-3000:]
    drawn = [m.group(1) for m in re.finditer(re.escape(label) + r"\s+\[[#-]+\]\s+(\d+)%", screen.text)]
    assert drawn, f"no bar labelled {label!r}:\n{screen.text[-2000:]}"
    assert len(set(drawn)) > 2, f"the bar never moved: {sorted(set(drawn))}"
    assert drawn[-1] == "100", f"the bar stopped at {drawn[-1]} %:\n{screen.text[-2000:]}"
    after = screen.text[screen.text.rindex("100%"):]
    assert re.search(summary, after, re.S), f"no summary {summary!r} after the bar:\n{after[-2000:]}"

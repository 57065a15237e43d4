"""Mojibake: text that was already garbled before the file reached us.

A file can decode cleanly and still hold "CafÃ©" — an agency's system read UTF-8 as
Windows-1252 once and saved the result. Decoding cannot see that; ``ftfy`` can, and can undo
it. A cell holding U+FFFD ("Priv�") lost its characters for good: nothing can repair it, but
the reporter must hear that the names are damaged before they are published.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

#: Control characters no imported text may hold: C0 but tab, line feed and carriage return
#: (a quoted CSV cell may span lines), DEL and C1. ESC or BEL in a store's name would drive the
#: terminal of whoever lists it.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: The same, for a field that is one line (a name, an address, a code).
_CONTROLS_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def remove_controls(text: str) -> tuple[str, int]:
    """``text`` without the control characters no imported text may hold, and how many went:
    ``--fix-text`` on a cell that carries, say, the DOS end-of-file byte U+001A."""
    return _CONTROLS.subn("", text)


def control_character(text: str, *, multiline: bool = True) -> str | None:
    """The first control character in ``text`` that a field may not hold, described
    ("U+001B ESCAPE"), or None. ``multiline`` allows tab and line breaks."""
    m = (_CONTROLS if multiline else _CONTROLS_ONE_LINE).search(text)
    if not m:
        return None
    ch = m.group()
    return f"U+{ord(ch):04X} {unicodedata.name(ch, '') or _C0_NAMES.get(ord(ch), 'control character')}".strip()


_C0_NAMES = {0x07: "BELL", 0x08: "BACKSPACE", 0x09: "TAB", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN",
             0x1B: "ESCAPE", 0x7F: "DELETE", 0x9B: "CONTROL SEQUENCE INTRODUCER"}


#: How many damaged lines a summary quotes.
SHOWN = 5


@dataclass
class TextCheck:
    """Counts damaged cells as a file is read; with ``fix`` on, repairs what ftfy can.

    ``check`` is called on each cell; it returns the text to keep. ASCII cells (most of any
    file) are skipped without a look, so the check costs little on a national export."""

    fix: bool = False
    garbled: int = 0  # cells ftfy judges to be mojibake
    controls_removed: int = 0  # control characters taken out of read cells (with fix on)
    fixed: int = 0  # of those, cells repaired (with fix on)
    lost: int = 0  # cells holding U+FFFD: characters lost before the file reached us
    lines: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, text) first few garbled
    lost_lines: list[tuple[int, str, str]] = field(default_factory=list)  # the same for U+FFFD

    def check(self, text: str, line: int, column: str) -> str:
        if text.isascii():
            return text
        if "\ufffd" in text:
            self.lost += 1
            if len(self.lost_lines) < SHOWN:
                self.lost_lines.append((line, column, text))
            return text
        from ftfy import badness, fix_encoding

        if not badness.is_bad(text):
            return text
        self.garbled += 1
        if len(self.lines) < SHOWN:
            self.lines.append((line, column, text))
        if not self.fix:
            return text
        # fix_encoding undoes the wrong decoding only: curly quotes, ligatures and widths stay
        # as the agency wrote them.
        repaired = fix_encoding(text)
        if repaired != text:
            self.fixed += 1
        return repaired

    @property
    def damaged(self) -> int:
        return self.garbled + self.lost

    def summary(self) -> dict:
        """Plain counts for an import summary (and its --json)."""
        first = lambda rows: [{"line": ln, "column": c, "text": t} for ln, c, t in rows]  # noqa: E731
        return {"garbled_cells": self.garbled, "fixed_cells": self.fixed, "lost_characters_cells": self.lost,
                "control_characters_removed": self.controls_removed,
                "first_damaged": first(self.lines), "first_lost": first(self.lost_lines)}

    def warnings(self) -> list[str]:
        """One line per kind of damage, naming the first lines, for the import summary."""
        out = []

        def where(rows):
            return ", ".join(f"line {ln} ({c}: {t!r})" for ln, c, t in rows[:3])

        def cells(n):
            return f"{n} cell holds" if n == 1 else f"{n} cells hold"

        if self.garbled:
            done = f"{self.fixed} repaired (--fix-text)" if self.fix else "repair with --fix-text"
            out.append(f"{cells(self.garbled)} mojibake (text decoded wrongly before export): {done}; "
                       f"first: {where(self.lines)}")
        if self.controls_removed:
            out.append(f"{self.controls_removed} control character{'s' if self.controls_removed != 1 else ''} "
                       "removed from the columns read (--fix-text)")
        if self.lost:
            out.append(f"{cells(self.lost)} U+FFFD (characters lost before export; check by hand): "
                       f"first: {where(self.lost_lines)}")
        return out

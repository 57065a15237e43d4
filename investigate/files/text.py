"""Mojibake: text that was already garbled before the file reached us.

A file can decode cleanly and still hold "CafÃ©" — an agency's system read UTF-8 as
Windows-1252 once and saved the result. Decoding cannot see that; ``ftfy`` can, and can undo
it. A cell holding U+FFFD ("Priv�") lost its characters for good: nothing can repair it, but
the reporter must hear that the names are damaged before they are published.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: How many damaged lines a summary quotes.
SHOWN = 5


@dataclass
class TextCheck:
    """Counts damaged cells as a file is read; with ``fix`` on, repairs what ftfy can.

    ``check`` is called on each cell; it returns the text to keep. ASCII cells (most of any
    file) are skipped without a look, so the check costs little on a national export."""

    fix: bool = False
    garbled: int = 0  # cells ftfy judges to be mojibake
    fixed: int = 0  # of those, cells repaired (with fix on)
    lost: int = 0  # cells holding U+FFFD: characters lost before the file reached us
    lines: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, text) first few

    def check(self, text: str, line: int, column: str) -> str:
        if text.isascii():
            return text
        if "\ufffd" in text:
            self.lost += 1
            self._note(line, column, text)
            return text
        from ftfy import badness, fix_encoding

        if not badness.is_bad(text):
            return text
        self.garbled += 1
        self._note(line, column, text)
        if not self.fix:
            return text
        # fix_encoding undoes the wrong decoding only: curly quotes, ligatures and widths stay
        # as the agency wrote them.
        repaired = fix_encoding(text)
        if repaired != text:
            self.fixed += 1
        return repaired

    def _note(self, line: int, column: str, text: str) -> None:
        if len(self.lines) < SHOWN:
            self.lines.append((line, column, text))

    @property
    def damaged(self) -> int:
        return self.garbled + self.lost

    def summary(self) -> dict:
        """Plain counts for an import summary (and its --json)."""
        return {"garbled_cells": self.garbled, "fixed_cells": self.fixed, "lost_characters_cells": self.lost,
                "first_damaged": [{"line": ln, "column": c, "text": t} for ln, c, t in self.lines]}

    def warnings(self) -> list[str]:
        """One line per kind of damage, naming the first lines, for the import summary."""
        out = []
        where = ", ".join(f"line {ln} ({c}: {t!r})" for ln, c, t in self.lines[:3])
        if self.garbled:
            done = f"{self.fixed} repaired (--fix-text)" if self.fix else "repair them with --fix-text"
            out.append(f"{self.garbled} cell{'s' if self.garbled != 1 else ''} hold mojibake "
                       f"(text decoded wrongly before export): {done}; first: {where}")
        if self.lost:
            out.append(f"{self.lost} cell{'s' if self.lost != 1 else ''} hold U+FFFD: characters lost "
                       f"before export, check these names by hand; first: {where}")
        return out

"""CSV files as they come: encoding, delimiter and header row found, rows streamed with the
line each starts on, every problem raised as an ``InputFileError`` naming file, line and column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import InputFileError, InvalidInput
from .headers import find_column, norm_header
from .text import TextCheck, control_character, remove_controls

CHUNK = 1 << 20
#: Delimiters sniffed by default: comma, semicolon (usual in Germany, Denmark, and Kobo's
#: default), tab.
DELIMITERS = ",;\t"
#: The most columns a table is read with: official exports have a few hundred at most; a
#: "CSV" of 100,000 columns is a mistake or an attack, refused in one line.
MAX_COLUMNS = 5_000
#: How far down a title preamble may push the header row.
PREAMBLE_RECORDS = 30
# The csv module refuses fields over 128 KiB with a cryptic error; importers set their own,
# explained limits (a complaint narrative of 1 MB, say), so let the reader pass up to 64 MiB.
csv.field_size_limit(max(csv.field_size_limit(), 64 << 20))


@dataclass
class CsvTable:
    """A CSV file's header, how it was read, and (from ``read_csv``) its rows, each with the
    line it starts on. ``text`` counts mojibake as the rows are read."""

    path: Path
    encoding: str
    header: list[str]
    rows: list[tuple[int, dict]] = field(default_factory=list)
    delimiter: str = ","
    header_line: int = 1  # > 1 when a title preamble sits above the header
    text: TextCheck = field(default_factory=TextCheck)
    #: The columns an import reads: only these are checked for control characters and
    #: mojibake (None: every column). A column nobody imports cannot block a file.
    checked: set[str] | None = None
    #: Placeholder words per column ("See Complaint" where a date should be), casefolded: such
    #: a cell is read as blank — unknown — and counted in ``null_counts``.
    nulls: dict[str, set[str]] = field(default_factory=dict)
    null_counts: Counter = field(default_factory=Counter)

    def check_only(self, columns) -> None:
        """Check only ``columns`` (the file's spellings) as the rows are read: set between
        planning the columns and reading the first row."""
        self.checked = {c for c in columns if c}

    def null_summary(self) -> dict[str, int]:
        """Cells read as unknown per column, for the import summary."""
        return dict(sorted(self.null_counts.items()))

    def placeholder_advice(self, column: str, value: str) -> str:
        """For an error on a cell that is a word where a value should be ("See Complaint" in
        a date column): how many rows carry it and the ``--null-value`` that would accept it.
        Empty for a value with digits, which is a typo rather than a placeholder."""
        value = value.strip()
        if not value or re.search(r"\d", value):
            return ""
        again, rows = iter_csv(self.path, encoding=self.encoding, delimiters=self.delimiter,
                               header_hint=self.header)
        again.check_only([column])
        n = sum(1 for _, row in rows if row.get(column, "").casefold() == value.casefold())
        return (f"; {n} row{'s' if n != 1 else ''} carr{'y' if n != 1 else 'ies'} it. If it means "
                f"\"unknown\", say --null-value \"{column}={value}\"")

    def column(self, name: str) -> str | None:
        """The file's spelling of a heading ("Score" for "score"), or None."""
        return find_column(self.header, name)

    def require(self, *columns: str) -> dict[str, str]:
        """Each wanted heading → the file's spelling; a missing one is an error listing what
        the file has."""
        found = {c: self.column(c) for c in columns}
        missing = [c for c, col in found.items() if col is None]
        if missing:
            raise InputFileError(
                self.path,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)} "
                f"(found: {', '.join(self.header) or 'no header'})",
                line=self.header_line,
            )
        return found


def open_binary(path: Path | str):
    """Open for reading; a missing, unreadable or folder path is a one-line error."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputFileError(path, "no such file")
    except IsADirectoryError:
        raise InputFileError(path, "is a folder, not a file")
    except OSError as ex:
        raise InputFileError(path, f"cannot read: {ex.strerror}")


def _decodes(path: Path, encoding: str) -> tuple[int, int] | None:
    """None when the whole file decodes in ``encoding``, else (line, value) of the first bad byte.
    Read in chunks, so that a national export is never held in memory whole."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    with open_binary(path) as fp:
        while True:
            chunk = fp.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as ex:
                at = max(ex.start, 0)  # may point into an earlier chunk's undecoded tail
                return lines + chunk[:at].count(b"\n"), ex.object[ex.start] if ex.object else 0
            if not chunk:
                return None
            lines += chunk.count(b"\n")


LATIN_1 = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "8859", "l1"}


def detect_encoding(path: Path | str, encoding: str | None = None, fallback: str = "cp1252") -> str:
    """The encoding to read ``path`` with: ``encoding`` when forced (an undecodable byte is an
    error naming its line), else UTF-8 (with or without BOM) when the bytes are valid UTF-8,
    else ``fallback`` — the encoding the source documents for its exports.

    A source that says ISO-8859-1 is read as cp1252 whenever that decodes: the two agree on
    every byte but 0x80–0x9F, where Latin-1 has control characters no export means and
    Windows wrote ’ “ ” – € (the FDA's 0x92 is an apostrophe, not U+0092)."""
    path = Path(path)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InvalidInput(f"unknown encoding {encoding!r}")
        bad = _decodes(path, encoding)
        if bad is not None:
            raise InputFileError(path, f"not valid {encoding} (byte 0x{bad[1]:02x}); try another --encoding",
                                 line=bad[0])
        return encoding
    if _decodes(path, "utf-8") is None:
        return "utf-8-sig"
    candidates = ["cp1252", fallback] if fallback.lower() in LATIN_1 else [fallback]
    for candidate in candidates:
        if _decodes(path, candidate) is None:
            return candidate
    raise InputFileError(path, f"neither UTF-8 nor {fallback}: give the file's --encoding")


def _sniff_delimiter(sample: str, delimiters: str) -> str:
    """csv.Sniffer's guess among ``delimiters``; when it cannot tell (one column, a preamble
    that confuses it), the delimiter the most lines agree on."""
    if len(delimiters) == 1:
        return delimiters
    lines = [ln for ln in sample.splitlines() if ln.strip()][:20]
    by_lines = max(delimiters, key=lambda d: (sum(d in ln for ln in lines), sum(ln.count(d) for ln in lines)))
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=delimiters).delimiter
    except csv.Error:
        return by_lines
    # A guess that none of the first lines contains (a header among them) is no guess.
    return sniffed if any(sniffed in ln for ln in lines[:PREAMBLE_RECORDS]) else by_lines


def _has_control(cells: list[str]) -> bool:
    return control_character("".join(cells)) is not None


def iter_csv(path: Path | str, *, encoding: str | None = None, fallback: str = "cp1252",
             delimiters: str = DELIMITERS, header_hint: Iterable[str] = (), fix_text: bool = False,
             text: TextCheck | None = None, null_values: Iterable[tuple[str, str]] = (),
             known_nulls: dict[str, Iterable[str]] | None = None):
    """(table, rows): rows is a generator of (line, {column: value}) — the line a record
    starts on — read as it goes. Header cells and values are stripped of surrounding blanks;
    blank lines are skipped; broken quoting and ragged rows raise with their line.

    ``header_hint`` names headings the layout has: when the first record holds none of them,
    the first record within ``PREAMBLE_RECORDS`` that holds two (or all, if fewer) is the header
    and the lines above it a title preamble, skipped. Every non-ASCII cell goes through
    ``table.text`` (mojibake counted, repaired with ``fix_text``); pass ``text`` to count
    several files of one feed together.

    ``null_values`` are (column, word) pairs the reporter declared (``--null-value``; a column
    the file lacks is an error), ``known_nulls`` a layout's own placeholders (column → words,
    used where the file has the column): a cell holding one, in any case, is read as blank and
    counted in ``table.null_counts``. Only the columns in ``table.checked`` (when set) are
    checked, cleaned (``fix_text`` also removes control characters, counted) and nulled."""
    path = Path(path)
    used = detect_encoding(path, encoding, fallback)
    fp = io.TextIOWrapper(open_binary(path), encoding=used, newline="")
    sample = fp.read(64 << 10)
    fp.seek(0)
    if "\x00" in sample:
        fp.close()
        raise InputFileError(path, "contains NUL bytes: not a CSV text file (or a UTF-16 file)", line=1)
    if len(sample) == (64 << 10) and "\n" in sample:
        sample = sample[:sample.rindex("\n")]
    delimiter = _sniff_delimiter(sample, delimiters)
    reader = csv.reader(fp, delimiter=delimiter, strict=True)
    hint = {norm_header(h) for h in header_hint}
    need = min(2, len(hint))
    header_line = 1
    try:
        header = next(reader, None)
        if hint and header is not None and len(hint & {norm_header(h) for h in header}) < need:
            for _ in range(PREAMBLE_RECORDS):
                line = reader.line_num + 1
                candidate = next(reader, None)
                if candidate is None:
                    break
                if len(hint & {norm_header(h) for h in candidate}) >= need:
                    header, header_line = candidate, line
                    break
    except csv.Error as ex:
        fp.close()
        raise InputFileError(path, f"broken CSV header: {ex}", line=reader.line_num or 1)
    if header is None:
        fp.close()
        raise InputFileError(path, "the file is empty (expected a header row)", line=1)
    if header_line == 1 and hint and len(hint & {norm_header(h) for h in header}) < need:
        # No header found below either: start again, so require() names the first line's cells.
        fp.seek(0)
        reader = csv.reader(fp, delimiter=delimiter, strict=True)
        header = next(reader)
    if len(header) > MAX_COLUMNS:
        fp.close()
        raise InputFileError(path, f"{len(header):,} columns, more than the {MAX_COLUMNS:,} a table is read with "
                                   "(is it a table?)", line=header_line)
    header = [h.strip().lstrip("\ufeff") for h in header]
    seen = Counter(header)  # counted once: header.count per column was quadratic (100,000 columns: 90 s)
    dupes = {h for h, n in seen.items() if h and n > 1}
    if dupes:
        fp.close()
        raise InputFileError(path, f"column {sorted(dupes)[0]!r} appears twice in the header", line=header_line)
    table = CsvTable(path=path, encoding=used, header=header, delimiter=delimiter, header_line=header_line,
                     text=text or TextCheck(fix=fix_text))
    check = table.text.check
    for column, words in (known_nulls or {}).items():
        if (col := find_column(header, column)) is not None:
            table.nulls.setdefault(col, set()).update(w.strip().casefold() for w in words)
    for column, word in null_values:
        col = find_column(header, column)
        if col is None:
            fp.close()
            raise InvalidInput(f"--null-value {column}={word}: no column {column!r} in {path.name} "
                               f"(found: {', '.join(header)})")
        table.nulls.setdefault(col, set()).add(word.strip().casefold())

    def cell(h: str, c: str, line: int, has_control: bool) -> str:
        """One read cell: control characters refused (or removed with --fix-text), mojibake
        counted, a placeholder made blank."""
        c = c.strip()
        if has_control and (bad := control_character(c)):
            if not table.text.fix:
                raise InputFileError(path, f"{bad} in {h!r}: control characters are not allowed in "
                                           "imported text (--fix-text removes them)", line=line, column=h)
            c, n = remove_controls(c)
            table.text.controls_removed += n
        c = check(c, line, h)
        if h in table.nulls and c.casefold() in table.nulls[h]:
            table.null_counts[h] += 1
            return ""
        return c

    def rows():
        with fp:
            # Read at the first row: the importer has planned its columns by then.
            checked = table.checked
            start = reader.line_num + 1
            try:
                for cells in reader:
                    line = start
                    start = reader.line_num + 1
                    if not cells or all(not c.strip() for c in cells):
                        continue
                    if "\x00" in "".join(cells):
                        raise InputFileError(path, "contains a NUL byte: not a CSV text file", line=line)
                    if len(cells) != len(header):
                        raise InputFileError(path, f"{len(cells)} cells where the header has {len(header)} "
                                                   "(a stray delimiter or quote?)", line=line)
                    has_control = _has_control(cells)
                    if not table.nulls and not has_control:  # most rows: no per-cell function call
                        yield line, ({h: check(c.strip(), line, h) for h, c in zip(header, cells)} if checked is None
                                     else {h: check(c.strip(), line, h) if h in checked else c.strip()
                                           for h, c in zip(header, cells)})
                        continue
                    yield line, {h: cell(h, c, line, has_control) if checked is None or h in checked
                                 else c.strip() for h, c in zip(header, cells)}
            except csv.Error as ex:
                # The record that breaks starts at ``start``: an unclosed quote there swallows
                # every line after it, so the line where reading failed is the wrong one to name.
                raise InputFileError(path, f"broken CSV in the record starting here: {ex} "
                                           "(an unclosed quote?)", line=start)

    return table, rows()


def read_csv(path: Path | str, **options) -> CsvTable:
    """Read a whole CSV file into a CsvTable (see ``iter_csv``); for files of a city's size."""
    table, rows = iter_csv(path, **options)
    table.rows = list(rows)
    return table


def file_summary(table, plan) -> dict:
    """What every import summary says about the file itself: how it was read, the columns
    left out, the text damage found — and the warnings a reporter must see."""
    return {"encoding": table.encoding, "delimiter": table.delimiter, "header_line": table.header_line,
            **plan.summary(), "text": table.text.summary(), "null_cells": table.null_summary(),
            "warnings": plan.warnings() + table.text.warnings()}


def count_lines(path: Path | str) -> int:
    """Data lines of a file (newlines less the header's): the length of a progress bar."""
    n = 0
    with open_binary(path) as fp:
        while chunk := fp.read(CHUNK):
            n += chunk.count(b"\n")
    return max(n - 1, 0)


def file_sha256(path: Path | str) -> str:
    """The file's SHA-256 (``hashlib.file_digest``, which reads it in chunks): the one file
    hasher — an import's audit event names exactly what came in, evidence is stored under it,
    verify and merge check files against it."""
    with open_binary(path) as fp:
        return hashlib.file_digest(fp, "sha256").hexdigest()

"""What the official-record importers share: reading a CSV with line numbers, the case that
official visits belong to, and turning a date-only record into a visit time.

Every reader here works on plain values and raises ``InputFileError`` naming the file, the
line and the column, so that a reporter can fix the file without reading code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..cases.cases import create_case, get_case
from ..cases.visits import parse_visit_time
from ..errors import InputFileError, InvalidInput, NotFound
from ..workspace import Workspace


@dataclass
class CsvTable:
    """A CSV file read whole: its header and its rows, each with the line it starts on."""

    path: Path
    encoding: str
    header: list[str]
    rows: list[tuple[int, dict]] = field(default_factory=list)
    delimiter: str = ","

    def require(self, *columns: str) -> None:
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise InputFileError(
                self.path,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)} "
                f"(found: {', '.join(self.header) or 'no header'})",
                line=1,
            )


CHUNK = 1 << 20
# The csv module refuses fields over 128 KiB with a cryptic error; importers set their own,
# explained limits (a complaint narrative of 1 MB, say), so let the reader pass up to 64 MiB.
csv.field_size_limit(max(csv.field_size_limit(), 64 << 20))


def _open(path: Path):
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
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    with _open(path) as fp:
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


def detect_encoding(path: Path | str, encoding: str | None = None, fallback: str = "cp1252") -> str:
    """The encoding to read ``path`` with: ``encoding`` when forced (an undecodable byte is an
    error naming its line), else UTF-8 (with or without BOM) when the bytes are valid UTF-8,
    else ``fallback`` — the encoding the source documents for its exports."""
    path = Path(path)
    if encoding:
        import codecs

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
    if _decodes(path, fallback) is not None:
        raise InputFileError(path, f"neither UTF-8 nor {fallback}: give the file's --encoding")
    return fallback


def iter_csv(path: Path | str, *, encoding: str | None = None, fallback: str = "cp1252",
             delimiters: str = ","):
    """(header, rows): rows is a generator of (line, {column: value}) — the line a record
    starts on — read as it goes. Header cells and values are stripped of surrounding blanks;
    blank lines are skipped; broken quoting and ragged rows raise with their line."""
    path = Path(path)
    used = detect_encoding(path, encoding, fallback)
    fp = io.TextIOWrapper(_open(path), encoding=used, newline="")
    first = fp.readline()
    fp.seek(0)
    if "\x00" in first:
        fp.close()
        raise InputFileError(path, "contains NUL bytes: not a CSV text file (or a UTF-16 file)", line=1)
    delimiter = max(delimiters, key=first.count) if len(delimiters) > 1 else delimiters
    reader = csv.reader(fp, delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as ex:
        fp.close()
        raise InputFileError(path, f"broken CSV header: {ex}", line=1)
    if header is None:
        fp.close()
        raise InputFileError(path, "the file is empty (expected a header row)", line=1)
    header = [h.strip().lstrip("\ufeff") for h in header]
    dupes = {h for h in header if h and header.count(h) > 1}
    if dupes:
        fp.close()
        raise InputFileError(path, f"column {sorted(dupes)[0]!r} appears twice in the header", line=1)

    def rows():
        with fp:
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
                    yield line, {h: c.strip() for h, c in zip(header, cells)}
            except csv.Error as ex:
                # The record that breaks starts at ``start``: an unclosed quote there swallows
                # every line after it, so the line where reading failed is the wrong one to name.
                raise InputFileError(path, f"broken CSV in the record starting here: {ex} "
                                           "(an unclosed quote?)", line=start)

    return CsvTable(path=path, encoding=used, header=header, delimiter=delimiter), rows()


def read_csv(path: Path | str, *, encoding: str | None = None, fallback: str = "cp1252",
             delimiters: str = ",") -> CsvTable:
    """Read a whole CSV file into a CsvTable (see ``iter_csv``); for files of a city's size."""
    table, rows = iter_csv(path, encoding=encoding, fallback=fallback, delimiters=delimiters)
    table.rows = list(rows)
    return table


def count_lines(path: Path | str) -> int:
    """Data lines of a file (newlines less the header's): the length of a progress bar."""
    n = 0
    with _open(Path(path)) as fp:
        while chunk := fp.read(CHUNK):
            n += chunk.count(b"\n")
    return max(n - 1, 0)


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with _open(Path(path)) as fp:
        while chunk := fp.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def slugify(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:50].strip("-")


def official_case(ws: Workspace, case_ref: str | None, *, slug: str, title: str, protocol: str,
                  jurisdiction: str = "", legal_basis: str = "", description: str = "") -> tuple[dict, bool]:
    """The case official visits go into: the one named, or the source's own case (found by
    its slug, made on first import). Returns (case, created)."""
    if case_ref:
        return get_case(ws, case_ref), False
    try:
        return get_case(ws, slug), False
    except NotFound:
        return create_case(ws, slug=slug, title=title, protocol=protocol, jurisdiction=jurisdiction,
                           legal_basis=legal_basis, description=description), True


def date_visit_time(ws: Workspace, day: date, *, path, line: int, column: str) -> datetime:
    """A record that has a date and no time is stored at local midnight of that date in the
    workspace's time zone (visited_date is the date itself); future dates are refused."""
    try:
        return parse_visit_time(ws, datetime(day.year, day.month, day.day, tzinfo=ws.tz))
    except InvalidInput as ex:
        raise InputFileError(path, str(ex).replace("visit time", "date"), line=line, column=column)


def parse_date(text: str, fmt: str, *, path, line: int, column: str, example: str) -> date:
    try:
        return datetime.strptime(text.strip(), fmt).date()
    except ValueError:
        raise InputFileError(path, f"{text!r} is not a valid date (expected {example})", line=line, column=column)

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


def decode(path: Path, data: bytes, encoding: str | None, fallback: str) -> tuple[str, str]:
    """The file's text and the encoding used: ``encoding`` when forced (an undecodable byte
    is an error naming its line), else UTF-8 (with or without BOM) when the bytes are valid
    UTF-8, else ``fallback`` — the encoding the source documents for its exports."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise InvalidInput(f"unknown encoding {encoding!r}")
        except UnicodeDecodeError as ex:
            line = data[: ex.start].count(b"\n") + 1
            raise InputFileError(path, f"not valid {encoding} (byte 0x{data[ex.start]:02x}); "
                                       "try another --encoding", line=line)
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode(fallback), fallback


def read_csv(path: Path | str, *, encoding: str | None = None, fallback: str = "cp1252",
             delimiters: str = ",") -> CsvTable:
    """Read a whole CSV file. Header cells are stripped; cell values are kept as given
    (stripped of surrounding blanks). Broken quoting and ragged rows name their line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "no such file")
    except OSError as ex:
        raise InputFileError(path, f"cannot read: {ex.strerror}")
    text, used = decode(path, data, encoding, fallback)
    if "\x00" in text:
        raise InputFileError(path, "contains NUL bytes: not a CSV text file (or a UTF-16 file)")
    first = text.split("\n", 1)[0]
    delimiter = max(delimiters, key=first.count) if len(delimiters) > 1 else delimiters
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table = CsvTable(path=path, encoding=used, header=[], delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise InputFileError(path, "the file is empty (expected a header row)", line=1)
        table.header = [h.strip() for h in header]
        dupes = {h for h in table.header if h and table.header.count(h) > 1}
        if dupes:
            raise InputFileError(path, f"column {sorted(dupes)[0]!r} appears twice in the header", line=1)
        start = reader.line_num + 1
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(table.header):
                raise InputFileError(path, f"{len(cells)} cells where the header has {len(table.header)} "
                                           "(a stray delimiter or quote?)", line=line)
            table.rows.append((line, {h: c.strip() for h, c in zip(table.header, cells)}))
    except csv.Error as ex:
        raise InputFileError(path, f"broken CSV: {ex}", line=reader.line_num)
    return table


def file_sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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

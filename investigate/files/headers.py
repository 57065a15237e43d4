"""Which column of a file is which of our fields.

Agencies spell the same heading many ways ("Retailer Name", "RETAILER_NAME", "retailer name ",
"Score", "score"), so headings are compared after ``norm_header``: case, spaces, underscores
and punctuation do not count. Each layout names its aliases; ``--map FIELD=COLUMN`` overrides
them. Every column that is neither used nor known is reported — a column is never dropped
without the reporter hearing of it — and ``--ignore COLUMN`` / ``--ignore-unknown`` say that
leaving it out is intended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..errors import InputFileError, InvalidInput


def norm_header(text: str) -> str:
    """"Retailer Name", "retailer_name" and " RETAILER-NAME?" all → "retailername"."""
    return re.sub(r"[\W_]+", "", str(text).lstrip("\ufeff").casefold())


def find_column(header: Iterable[str], name: str) -> str | None:
    """The file's own spelling of ``name`` (exact first, then by ``norm_header``), or None."""
    header = list(header)
    if name in header:
        return name
    want = norm_header(name)
    return next((h for h in header if norm_header(h) == want), None)


@dataclass
class ColumnPlan:
    """What each column of a file is for.

    ``columns`` maps our field → the file's column; ``ignored`` lists the columns left out on
    purpose (``--ignore``, ``--ignore-unknown``, a form's metadata); ``unknown`` the columns
    nobody asked for — the importer reports them (or refuses them, where a column would carry
    answers)."""

    columns: dict[str, str]
    ignored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: Every column the import reads (mapped, or read by the caller itself): the only ones
    #: checked for damage (``CsvTable.check_only``).
    read: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {"ignored_columns": list(self.ignored), "unknown_columns": list(self.unknown)}

    def warnings(self) -> list[str]:
        if not self.unknown:
            return []
        n = len(self.unknown)
        return [f"{n} column{'s' if n != 1 else ''} not imported (unknown): "
                f"{', '.join(self.unknown)}; say --ignore COLUMN or --ignore-unknown to leave "
                f"{'them' if n != 1 else 'it'} out on purpose"]


def match_columns(path: Path | str, header: list[str], fields: Iterable[str], aliases: dict | None = None, *,
                  mapping: dict | None = None, ignore: Iterable[str] = (), ignore_unknown: bool = False,
                  known: Iterable[str] = (), is_metadata: Callable[[str], bool] | None = None) -> ColumnPlan:
    """Plan a file's columns: ``mapping`` (field → column) first, then each field's
    ``aliases`` (and its own name), all compared with ``norm_header``.

    ``known`` are columns the caller reads itself; ``is_metadata`` recognises columns ignored
    by default (a Kobo form's ``_uuid``, ``start``…); ``ignore`` names columns to leave out
    (an --ignore naming no column is an error: it is a typo). A mapped column missing from the
    file is an error listing the columns found."""
    path = Path(path)
    fields = list(fields)
    mapping = dict(mapping or {})
    aliases = aliases or {}
    bad = [f for f in mapping if f not in fields]
    if bad:
        raise InvalidInput(f"--map {bad[0]}=…: no such field (fields: {', '.join(fields)})")
    ignored_names = list(ignore)
    ignored: list[str] = []
    for name in ignored_names:
        col = find_column(header, name)
        if col is None:
            raise InvalidInput(f"--ignore {name}: no such column in {path.name} (found: {', '.join(header)})")
        ignored.append(col)
    columns: dict[str, str] = {}
    for f in fields:
        if f in mapping:
            col = find_column(header, mapping[f])
            if col is None:
                raise InputFileError(path, f"--map {f}={mapping[f]}: no column {mapping[f]!r} "
                                           f"(found: {', '.join(header)})", line=1)
            columns[f] = col
            continue
        taken = set(columns.values()) | set(ignored) | {find_column(header, c) for c in mapping.values()}
        for alias in [f, *aliases.get(f, [])]:
            col = find_column(header, alias)
            if col is not None and col not in taken:
                columns[f] = col
                break
    used = set(columns.values()) | {c for k in known if (c := find_column(header, k))}
    unknown = []
    for col in header:
        if col in used or col in ignored or not col:
            continue
        if is_metadata and is_metadata(col):
            ignored.append(col)
        elif ignore_unknown:
            ignored.append(col)
        else:
            unknown.append(col)
    return ColumnPlan(columns=columns, ignored=ignored, unknown=unknown, read=[c for c in header if c in used])

"""Writing a workbook (an XLSForm is one): sheets of rows through openpyxl, which pyxform
itself reads them with, written to a temporary file and renamed, so that a failed write never
leaves half a form under the name asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .atomic import written_whole


def write_workbook(path: Path | str, sheets: dict[str, list[dict]], columns: dict[str, list[str]], *,
                   check: Callable[[Path], None] | None = None) -> Path:
    """Write ``sheets`` (name → rows) with each sheet's ``columns`` as its header row; a row's
    missing column is an empty cell. ``check`` reads the written file before it takes its
    name (and may raise: then nothing is left). Returns the path written."""
    from openpyxl import Workbook

    path = Path(path)
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(columns[name])
        for row in rows:
            sheet.append([row.get(c) for c in columns[name]])
    with written_whole(path) as tmp:
        book.save(tmp)
        if check is not None:
            check(tmp)
    return path


def read_workbook(path: Path | str) -> dict[str, list[dict]]:
    """Every sheet of a workbook as rows keyed by its header row (empty cells left out)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    out = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(h) if h is not None else "" for h in (rows[0] if rows else ())]
        out[sheet.title] = [{h: v for h, v in zip(header, r) if h and v is not None} for r in rows[1:]]
    book.close()
    return out

"""What the official-record importers share: the case that official visits belong to, and
turning a date-only record into a visit time. Reading the files themselves is
``investigate.files``' work.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ..cases.cases import create_case, get_case
from ..cases.visits import parse_visit_time
from ..errors import InputFileError, InvalidInput, NotFound
from ..store.workspace import Workspace


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


def parse_date(text: str, fmt: str, *, path, line: int, column: str, example: str, table=None) -> date:
    """A date cell; an error names it, and, given the ``table``, counts the rows carrying a
    word there and says which ``--null-value`` would read it as unknown."""
    try:
        return datetime.strptime(text.strip(), fmt).date()
    except ValueError:
        advice = table.placeholder_advice(column, text) if table is not None else ""
        raise InputFileError(path, f"{text!r} is not a valid date (expected {example}){advice}", line=line,
                             column=column)

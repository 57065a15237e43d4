"""A JSON array written as its rows come: what ``json.dumps(list(rows), indent=…)`` would
write, piece by piece, so that a million rows are never held. The CLI's ``--json``, the
exports and the bundles all write their tables through here."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator


def json_array(rows: Iterable[Any], encode: Callable[[Any], str], *, indent: int | None = None) -> Iterator[str]:
    """The array's text in pieces, one per row. ``encode`` is json.dumps of one row with the
    same ``indent`` (the row's own lines are indented once more here); ``None``: compact."""
    sep = "\n" + " " * indent if indent else ""
    first = True
    for row in rows:
        text = encode(row)
        yield ("[" if first else ",") + sep + (text.replace("\n", sep) if indent else text)
        first = False
    yield "[]" if first else ("\n]" if indent else "]")

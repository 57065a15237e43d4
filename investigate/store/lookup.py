"""Find a row by a unique prefix of its id, as git finds a commit by a prefix of its hash.

Some nouns also answer to a human key: a case to its slug, a tester to its code, a store to
its licence number. An exact id or key wins; otherwise the prefix must match exactly one row,
and when it matches several the error lists them. A typed short form (``ids.short``) is found
through the index on the id's last group (``ids.TAIL``).
"""

from __future__ import annotations

import re

from ..errors import AmbiguousPrefix, InvalidInput, NotFound
from ..ids import TAIL, is_v7, short
from .workspace import Workspace

_HEX = re.compile(r"^[0-9a-f]{4,12}$")

#: Nouns whose label is a name people type as the tables print it ("KioskCo Sonnenallee"):
#: an exact name (case aside) finds the row, as the slug finds a case.
NAMED = {"stores", "companies", "testers", "cases"}

#: table -> (noun used in messages, human key column or None, label column)
NOUNS = {
    "cases": ("case", "slug", "slug"),
    "stores": ("store", "licence_number", "name"),
    "testers": ("tester", "code", "code"),
    "visits": ("visit", None, "visited_at"),
    "findings": ("finding", None, "title"),
    "evidence": ("evidence", None, "sha256"),
    "promises": ("promise", None, "what"),
    "story_events": ("event", None, "what"),
    "replies": ("reply", None, "deadline"),
    "tips": ("tip", None, "company"),
    "companies": ("company", "name_key", "name"),
}


def resolve(ws: Workspace, table: str, ref: str, *, where: str | None = None,
            params: list | None = None) -> dict:
    """The one row that ``ref`` names: an exact id, the human key, or a unique id prefix.

    ``where``/``params`` narrow the candidates (e.g. visits of one case), so that a prefix
    that collides with a row of another case is not taken for it."""
    noun, key_col, label_col = NOUNS[table]
    ref = (ref or "").strip()
    if not ref:
        raise InvalidInput(f"empty {noun} reference")
    extra = f" and ({where})" if where else ""
    params = list(params or [])
    rows = list(ws.db.query(f"select * from [{table}] where id = ?{extra}", [ref, *params]))
    if rows:
        return rows[0]
    if key_col:
        rows = list(ws.db.query(f"select * from [{table}] where [{key_col}] = ?{extra}", [ref, *params]))
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise AmbiguousPrefix(noun, ref, [f"{short(r['id'])} {r[label_col]}" for r in rows])
    if table in NAMED and label_col != key_col:
        rows = list(ws.db.query(f"select * from [{table}] where lower([{label_col}]) = lower(?){extra} limit 50",
                                [ref, *params]))
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise AmbiguousPrefix(noun, ref, [f"{short(r['id'])} {_where(r)}".strip() for r in rows])
    low = ref.lower()
    rows = list(ws.db.query(
        f"select * from [{table}] where id >= ? and id < ?{extra} order by id limit 50",
        [low, low + "\uffff", *params],
    ))
    if _HEX.match(low):
        seen = {r["id"] for r in rows}
        rows += [r for r in ws.db.query(
            f"select * from [{table}] where {TAIL} >= ? and {TAIL} < ? and substr(id, 15, 1) = '7'{extra} "
            "order by id limit 50", [low, low + "g", *params]) if r["id"] not in seen]
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        if all(is_v7(r["id"]) and r["id"].startswith(low) for r in rows):
            # The start of a UUIDv7 is its time: every row made that minute shares it.
            raise AmbiguousPrefix(noun, ref, [f"{short(r['id'])} {r[label_col] or ''}".strip() for r in rows],
                                  hint="the start of an id is when it was made; type the short id the "
                                       "tables show (its random end)")
        raise AmbiguousPrefix(noun, ref, [f"{short(r['id'], 12)} {r[label_col] or ''}".strip() for r in rows])
    raise NotFound(f"no {noun} matches {ref!r}" + _nearest(ws, table, ref, where=extra, params=params))


def _where(row: dict) -> str:
    """A store's name with where it is, so that two shops of one name can be told apart."""
    return ", ".join(str(row[k]) for k in ("name", "address", "code", "slug") if row.get(k))


def _nearest(ws: Workspace, table: str, ref: str, *, where: str, params: list) -> str:
    """"; did you mean …" with the keys or names closest to a mistyped ``ref`` (rapidfuzz, as
    ``stores.find_stores`` matches a mistyped name), or the few there are."""
    noun, key_col, label_col = NOUNS[table]
    if table not in NAMED:
        return ""
    from rapidfuzz import fuzz, process, utils  # only on this error path: start-up stays quick

    column = key_col if table in ("cases", "testers") else label_col
    known = [r[0] for r in ws.db.execute(f"select [{column}] from [{table}] where [{column}] is not null{where} "
                                         f"order by [{column}] limit 5000", params)]
    if not known:
        return f" (there are no {noun} records yet)"
    close = [m[0] for m in process.extract(ref, known, scorer=fuzz.WRatio, processor=utils.default_process,
                                           limit=3, score_cutoff=60)]
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    if len(known) <= 8:
        return f"; known: {', '.join(known)}"
    return ""

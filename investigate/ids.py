"""Find a row by a unique prefix of its id, as git finds a commit by a prefix of its hash.

Some nouns also answer to a human key: a case to its slug, a tester to its code, a store to
its licence number. An exact id or key wins; otherwise the prefix must match exactly one row,
and when it matches several the error lists them.
"""

from __future__ import annotations

from .errors import AmbiguousPrefix, InvalidInput, NotFound
from .workspace import Workspace

#: table -> (noun used in messages, human key column or None, label column)
NOUNS = {
    "cases": ("case", "slug", "slug"),
    "stores": ("store", "licence_number", "name"),
    "testers": ("tester", "code", "code"),
    "visits": ("visit", None, "visited_at"),
    "findings": ("finding", None, "title"),
    "evidence": ("evidence", None, "sha256"),
    "promises": ("promise", None, "what"),
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
            raise AmbiguousPrefix(noun, ref, [f"{r['id'][:8]} {r[label_col]}" for r in rows])
    low = ref.lower()
    rows = list(ws.db.query(
        f"select * from [{table}] where id >= ? and id < ?{extra} order by id limit 50",
        [low, low + "\uffff", *params],
    ))
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise AmbiguousPrefix(noun, ref, [f"{r['id'][:12]} {r[label_col] or ''}".strip() for r in rows])
    raise NotFound(f"no {noun} matches {ref!r}")


def short(row_id: str) -> str:
    """The short form shown in tables; the CLI accepts it back as a prefix."""
    return row_id[:8]

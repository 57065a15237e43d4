"""Merge conflicts that an editor settles: two reporters amended the same record differently.

A merge never overwrites and never mixes: our version stays, theirs is kept in
``merge_conflicts``, and what follows from their version of a visit (its findings and
promises) is held back beside it rather than attached to ours. Until an editor picks one
(``merge resolve ROW --keep ours|theirs``) the conflict is open and the case's checklist
says so. Picking theirs writes their version through the audited write path: the record
takes their values, our findings and promises of the visit that their version does not have
are deleted, theirs held back are added.
"""

from __future__ import annotations

import json

from ..errors import AmbiguousPrefix, InvalidInput, NotFound
from ..ids import short
from ..store.workspace import Workspace
from .merge import VISIT_CHILDREN

KEEP = ("ours", "theirs")


def open_conflicts(ws: Workspace) -> list[dict]:
    """Conflicts no editor has settled, oldest first, each with how many rows of theirs are
    held back beside it."""
    return list(ws.db.query(
        "select c.id, c.origin, c.table_name, c.row_id, c.detected_at, "
        "(select count(*) from merge_conflicts h where h.held_for = c.row_id and h.resolved_at is null) as held "
        "from merge_conflicts c where c.held_for is null and c.resolved_at is null order by c.id"))


def find_conflict(ws: Workspace, ref: str) -> dict:
    """An open conflict by its number or by (a prefix of) the id of the row in conflict."""
    ref = (ref or "").strip()
    rows = [c for c in open_conflicts(ws) if str(c["id"]) == ref or c["row_id"].startswith(ref.lower())
            or c["row_id"].endswith(ref.lower()) and len(ref) >= 8]
    if not rows:
        raise NotFound(f"no open merge conflict {ref!r} (see investigate merge conflicts)")
    if len(rows) > 1:
        raise AmbiguousPrefix("merge conflict", ref, [f"{c['id']} ({c['table_name']} {short(c['row_id'])})"
                                                     for c in rows])
    return next(ws.db.query("select * from merge_conflicts where id = ?", [rows[0]["id"]]))


def resolve_conflict(ws: Workspace, ref: str, *, keep: str) -> dict:
    """Settle an open conflict: keep ours (their version and held rows are set aside, still
    in ``merge_conflicts``) or theirs (written through the audited path). One transaction."""
    if keep not in KEEP:
        raise InvalidInput(f"--keep {keep!r} is not ours or theirs")
    conflict = find_conflict(ws, ref)
    table, row_id = conflict["table_name"], conflict["row_id"]
    held = list(ws.db.query("select * from merge_conflicts where held_for = ? and resolved_at is null "
                            "order by id", [row_id]))
    reason = f"merge resolve: kept the version of workspace {short(conflict['origin'])}" if keep == "theirs" \
        else "merge resolve: kept ours"
    with ws.transaction():
        if keep == "theirs":
            theirs = json.loads(conflict["theirs"])
            ws.update(table, row_id, {k: v for k, v in theirs.items() if k != "id"}, reason=reason,
                      action="merge_resolve")
            if table == "visits":
                children = set(json.loads(conflict["children"] or "[]"))
                for child in VISIT_CHILDREN:
                    for (child_id,) in ws.db.execute(f"select id from [{child}] where visit_id = ?", [row_id]):
                        if f"{child}:{child_id}" not in children:
                            ws.delete(child, child_id, reason=reason)
                for h in held:
                    ws.insert(h["table_name"], json.loads(h["theirs"]), action="merge_resolve", note=reason)
        ws.db.execute("update merge_conflicts set resolved_at = ?, resolution = ?, resolved_by = ? "
                      "where id = ? or (held_for = ? and resolved_at is null)",
                      [ws.now().isoformat(), keep, ws.actor, conflict["id"], row_id])
    return {"conflict": conflict["id"], "table_name": table, "row_id": row_id, "kept": keep, "held": len(held)}


__all__ = ["open_conflicts", "find_conflict", "resolve_conflict", "KEEP"]

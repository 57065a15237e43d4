"""Protocol versions: the rules that judged a visit stay the rules of that visit.

A protocol file declares a ``version``. The first visit judged by a version stores that
version's TOML text in ``protocol_versions`` under its content hash (see
``protocols.content_hash``), and the visit names key, version and hash. From then on:

- the file may not change under the same version number: ``current_protocol`` refuses an
  edited-in-place protocol until its version is raised above every version already used;
- a visit is shown, amended and judged again by its own version (``protocol_of_visit``),
  read back from the workspace, whatever the file says today;
- ``show`` and ``diff`` read any version used, or the file's current one.

Visits recorded before versions were kept name no hash; they follow the current file.
"""

from __future__ import annotations

import difflib

from ..errors import NotFound, ProtocolError
from ..store.workspace import Workspace
from .model import Protocol
from .parse import protocol_from_text
from .protocols import get_protocol


def used_versions(ws: Workspace, key: str) -> list[dict]:
    """The versions of ``key`` that visits were judged by, oldest first."""
    return list(ws.db.query("select * from protocol_versions where key = ? order by version", [key]))


def current_protocol(ws: Workspace, key: str) -> Protocol:
    """The protocol file as it is now, for judging new visits — refused when it was edited
    in place: same version as one already used, different content."""
    proto = get_protocol(key, ws.root)
    used = used_versions(ws, key)
    if not used or any(u["content_hash"] == proto.content_hash for u in used):
        return proto
    newest = used[-1]["version"]
    if proto.version <= newest:
        same = next((u for u in used if u["version"] == proto.version), None)
        what = (f"was changed since visits were judged by version {proto.version}" if same else
                f"declares version {proto.version}, but version {newest} is already in use")
        raise ProtocolError(
            f"{proto.source or key}: protocol {key} {what}; raise its version to {newest + 1} to use the new "
            f"rules (old visits keep theirs), or undo the edit (see: investigate protocol diff {key} "
            f"{proto.version} current)")
    return proto


def remember(ws: Workspace, proto: Protocol) -> None:
    """Keep this protocol version in the workspace (once, by hash); call inside the visit's
    transaction so that no visit names a version the workspace does not hold."""
    if not proto.content_hash:
        return
    if ws.db.execute("select 1 from protocol_versions where id = ?", [proto.content_hash]).fetchone():
        return
    # When it was first used is in the audit log; the row holds only the content, so that two
    # workspaces keeping the same version hold the same row (a merge adds nothing).
    ws.insert("protocol_versions", {"id": proto.content_hash, "key": proto.key, "version": proto.version,
                                    "content_hash": proto.content_hash, "text": proto.text})


def stamp(row: dict, proto: Protocol) -> dict:
    """The visit row's protocol version and hash."""
    row["protocol_version"] = proto.version
    row["protocol_hash"] = proto.content_hash or None
    return row


def protocol_of_visit(ws: Workspace, visit: dict) -> Protocol:
    """The protocol version that judged this visit, read from the workspace; the current file
    for a visit recorded before versions were kept."""
    return judging_protocol(ws.db.execute, visit["protocol"], visit.get("protocol_hash"), ws.root)


def judging_protocol(execute, key: str, protocol_hash: str | None, root) -> Protocol:
    """``protocol_of_visit`` for a visit given by its protocol's key and hash, ``execute``
    running SQL on the workspace's database (a sqlite3 connection's, as Datasette's SQL
    functions have, or sqlite-utils'), ``root`` its folder (None: the built-ins only)."""
    if protocol_hash:
        row = execute("select text, key, version from protocol_versions where id = ?", [protocol_hash]).fetchone()
        if row:
            return protocol_from_text(row[0], source=f"{row[1]} version {row[2]} (kept in the workspace)")
    return get_protocol(key, root)


def version_of(ws: Workspace, key: str, version: int | str | None) -> Protocol:
    """Version ``version`` of ``key``: one kept in the workspace, or the file's current one
    (``None`` or ``"current"``)."""
    if version in (None, "current"):
        return get_protocol(key, ws.root if ws else None)
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise NotFound(f"{version!r} is not a version number (or 'current')")
    if ws is not None:
        row = ws.db.execute("select text from protocol_versions where key = ? and version = ?",
                            [key, number]).fetchone()
        if row:
            return protocol_from_text(row[0], source=f"{key} version {number} (kept in the workspace)")
    current = get_protocol(key, ws.root if ws else None)
    if current.version == number:
        return current
    known = [str(u["version"]) for u in used_versions(ws, key)] if ws is not None else []
    raise NotFound(f"protocol {key} has no version {number} (kept: {', '.join(known) or 'none'}; "
                   f"the file is version {current.version})")


def diff(ws: Workspace, key: str, a: int | str, b: int | str) -> str:
    """A unified diff of two versions' TOML texts (``current`` for the file as it is)."""
    pa, pb = version_of(ws, key, a), version_of(ws, key, b)
    lines = difflib.unified_diff(pa.text.splitlines(keepends=True), pb.text.splitlines(keepends=True),
                                 fromfile=f"{key} version {pa.version}" + (" (current)" if a == "current" else ""),
                                 tofile=f"{key} version {pb.version}" + (" (current)" if b == "current" else ""))
    return "".join(lines)


__all__ = ["current_protocol", "diff", "protocol_of_visit", "remember", "stamp", "used_versions", "version_of",
]

"""Where protocols come from: the built-ins that ship in ``investigate/protocols/`` and a
workspace's own in its ``protocols/`` folder (a workspace protocol with a built-in's key
replaces it). ``get_protocol`` loads the one asked for; a broken file is an error only when it
is (or declares, by its ``key = "…"`` line) that protocol.

The model and the parser are imported when a protocol is loaded: a command that only asks
where one comes from (the checklist: is this protocol the newsroom's own?) does not import
them, 16 ms of its start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import NotFound, ProtocolError

if TYPE_CHECKING:
    from .model import Protocol

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "protocols"


def protocol_files(workspace_root: Path | None = None, *, builtins: bool = True) -> list[tuple[Path, bool]]:
    """(path, whether it is a built-in) of every protocol file: the built-ins (unless not
    ``builtins``), then the workspace's own."""
    files = [(p, True) for p in sorted(BUILTIN_DIR.glob("*.toml"))] if builtins else []
    if workspace_root is not None:
        files += [(p, False) for p in sorted((Path(workspace_root) / "protocols").glob("*.toml"))]
    return files


def all_protocols(workspace_root: Path | None = None) -> dict[str, Protocol]:
    """Built-ins, then the workspace's own (which replace a built-in of the same key)."""
    from .parse import load_protocol

    found: dict[str, Protocol] = {}
    for path, builtin in protocol_files(workspace_root):
        proto = load_protocol(path, builtin=builtin)
        found[proto.key] = proto
    return found


def scan_protocols(workspace_root: Path | None = None) -> tuple[dict[str, Protocol], list[tuple[Path, str | None, ProtocolError]]]:
    """Like ``all_protocols`` but a broken file does not stop the others: (protocols by key,
    broken files as (path, the key it seems to declare or None, the error))."""
    from .parse import load_protocol

    found: dict[str, Protocol] = {}
    broken = []
    for path, builtin in protocol_files(workspace_root):
        try:
            proto = load_protocol(path, builtin=builtin)
        except ProtocolError as ex:
            broken.append((path, _declared_key(path), ex))
            continue
        found[proto.key] = proto
    return found, broken


def _declared_key(path: Path) -> str | None:
    """The key a broken file seems to be for: its ``key = "…"`` line, else None."""
    try:
        m = re.search(r'^\s*key\s*=\s*["\']([^"\']+)["\']', path.read_text(encoding="utf-8", errors="replace"), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


#: A file's top-level ``key = "…"`` line: TOML puts top-level keys before the first table.
_TOP_KEY = re.compile(r"""^[ \t]*(?:key|"key"|'key')[ \t]*=[ \t]*(?:"([^"\\\n]*)"|'([^'\n]*)')[ \t]*(?:#.*)?$""", re.M)
_TABLE = re.compile(r"^[ \t]*\[", re.M)
_MULTILINE = re.compile("\"\"\"|'''")


def _top_level_key(text: str) -> str | None:
    """The key a protocol file declares, read from its text without parsing it, or None when
    it cannot be read so (no such line before the first table and the first multi-line string,
    or an escaped string). A line inside a multi-line string may look like the key's, so only
    the text before the first one is read: every built-in declares its key above its
    multi-line description."""
    ends = [m.start() for m in (_TABLE.search(text), _MULTILINE.search(text)) if m is not None]
    head = text[:min(ends)] if ends else text
    match = _TOP_KEY.search(head)
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _files_for(key: str, files: list[tuple[Path, bool]]) -> list[tuple[Path, bool]]:
    """Those of ``files`` (``protocol_files``) that may be protocol ``key``: their top-level
    ``key`` line says so, their name is the key, or their key cannot be read without parsing."""
    maybe = []
    for path, builtin in files:
        try:
            declared = _top_level_key(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            declared = None  # unreadable: load_protocol says so, if it may be this one
        if declared is None or declared == key or path.stem == key:
            maybe.append((path, builtin))
    return maybe


def may_be_the_workspaces(key: str, workspace_root: Path) -> bool:
    """Whether a file of the workspace's own may be protocol ``key``; if not, ``key`` is a
    built-in or none, and nothing needs loading to know that it is not the workspace's."""
    return bool(_files_for(key, protocol_files(workspace_root, builtins=False)))


def get_protocol(key: str, workspace_root: Path | None = None) -> Protocol:
    """One protocol by key. A broken file of another protocol is no concern here; a broken
    file that is (or may be) this one is the error, rather than an older built-in of the key.

    Only the files that may be this protocol are parsed — those whose top-level ``key`` line
    says so, whose name is the key, or whose key cannot be read without parsing: parsing all
    thirteen built-ins was 0.07 s of every command that looks one protocol up."""
    from .parse import load_protocol

    protocols: dict[str, Protocol] = {}
    for path, builtin in _files_for(key, protocol_files(workspace_root)):
        try:
            proto = load_protocol(path, builtin=builtin)
        except ProtocolError as error:
            declared = _declared_key(path)
            if declared == key or (declared is None and path.stem == key):
                raise error
            continue
        protocols[proto.key] = proto
    if key not in protocols:
        known = sorted(scan_protocols(workspace_root)[0])  # the message lists them all
        raise NotFound(f"no protocol {key!r} (known: {', '.join(known)})")
    return protocols[key]

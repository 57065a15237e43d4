"""Where protocols come from: the built-ins that ship in ``investigate/protocols/`` and a
workspace's own in its ``protocols/`` folder (a workspace protocol with a built-in's key
replaces it). ``get_protocol`` loads the one asked for; a broken file is an error only when it
is (or declares, by its ``key = "…"`` line) that protocol.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import NotFound, ProtocolError
from .model import Protocol
from .parse import load_protocol

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "protocols"


def protocol_files(workspace_root: Path | None = None) -> list[tuple[Path, bool]]:
    files = [(p, True) for p in sorted(BUILTIN_DIR.glob("*.toml"))]
    if workspace_root is not None:
        files += [(p, False) for p in sorted((Path(workspace_root) / "protocols").glob("*.toml"))]
    return files


def all_protocols(workspace_root: Path | None = None) -> dict[str, Protocol]:
    """Built-ins, then the workspace's own (which replace a built-in of the same key)."""
    found: dict[str, Protocol] = {}
    for path, builtin in protocol_files(workspace_root):
        proto = load_protocol(path, builtin=builtin)
        found[proto.key] = proto
    return found


def scan_protocols(workspace_root: Path | None = None) -> tuple[dict[str, Protocol], list[tuple[Path, str | None, ProtocolError]]]:
    """Like ``all_protocols`` but a broken file does not stop the others: (protocols by key,
    broken files as (path, the key it seems to declare or None, the error))."""
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


def get_protocol(key: str, workspace_root: Path | None = None) -> Protocol:
    """One protocol by key. A broken file of another protocol is no concern here; a broken
    file that is (or may be) this one is the error, rather than an older built-in of the key."""
    protocols, broken = scan_protocols(workspace_root)
    for path, declared, error in broken:
        if declared == key or (declared is None and path.stem == key):
            raise error
    if key not in protocols:
        raise NotFound(f"no protocol {key!r} (known: {', '.join(sorted(protocols))})")
    return protocols[key]

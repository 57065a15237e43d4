"""Each editor under their own name: the accounts kept by ``store.accounts`` as the editors'
instance's logins, and what each role may do there.

Three Datasette hooks, registered with the plugin only on the editors' instance:

- ``get_metadata`` hands datasette-auth-passwords the accounts as they are on disk at each
  login (``<name>_password_hash``), so an account added while the server runs can log in,
  and a removed one cannot;
- ``permission_allowed`` answers our own actions (``DECISIONS``) from the account's role *now*
  (the signed cookie only says who logged in), and refuses every page to a cookie whose
  account was removed;
- nothing else: the login form, its cookie and the CSRF check are Datasette's and the auth
  plugin's own.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from datasette import hookimpl

from ..store.accounts import accounts_path, read_accounts

#: Our permissions, and the roles that hold each: every write made through the editors'
#: instance asks for one of them.
DECISIONS = {
    "investigate-review": ("editor",),
    "investigate-request-replies": ("editor",),
    "investigate-signoff": ("legal",),
}
#: The shared password of earlier versions logs in as this name; it reads, and decides nothing.
LEGACY_LOGIN = "editor"

#: The workspace each editors' instance serves (set by ``server.editors_datasette``): hooks
#: that build metadata cannot ask the metadata where the workspace is.
_ROOTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_CACHE: dict[Path, tuple[tuple, dict]] = {}


def serve_accounts_of(datasette, root: Path) -> None:
    """Let ``datasette`` log in the accounts of the workspace at ``root``."""
    _ROOTS[datasette] = Path(root)


def accounts(datasette) -> dict[str, dict] | None:
    """The accounts of the instance's workspace, read again whenever the file changed; None on
    an instance that serves no workspace (the public copy)."""
    root = _ROOTS.get(datasette)
    if root is None:
        return None
    path = accounts_path(root)
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    except FileNotFoundError:
        return {}
    cached = _CACHE.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, read_accounts(root))
        _CACHE[path] = cached
    return cached[1]


def actor_role(datasette, actor: dict | None) -> str | None:
    """The role of the account behind ``actor`` as it is now; None for anyone else."""
    if not actor or not isinstance(actor.get("id"), str):
        return None
    account = (accounts(datasette) or {}).get(actor["id"])
    return account["role"] if account else None


@hookimpl
def get_metadata(datasette, key, database, table):
    found = accounts(datasette)
    if not found or key not in (None, "plugins"):
        return {}
    config = {f"{name}_password_hash": a["password_hash"] for name, a in found.items()}
    config["actors"] = {name: {"id": name} for name in found}
    return {"plugins": {"datasette-auth-passwords": config}}


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    if action in DECISIONS:
        return actor_role(datasette, actor) in DECISIONS[action]
    found = accounts(datasette)
    # A cookie signed for an account since removed opens nothing (the legacy shared login
    # stays what it was: a reader).
    if found and actor and actor.get("id") not in found and actor.get("id") != LEGACY_LOGIN:
        return False
    return None

"""The people who may log in to the editors' Datasette: a name, a role (``ACCOUNT_ROLES``) and
a password hash in datasette-auth-passwords' own format, so that its login form checks them.

Kept in ``keys/editors.json`` beside the workspace's other secrets, never in the database: the
editors' instance lets a logged-in reader run SQL, and a bundle carries the database's rows —
neither may carry a password hash. Adding or removing an account is an audited event (name and
role, never the hash), so the log says who could decide what, and since when.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..errors import InvalidInput, IntegrityError, NotFound
from ..keys import KEYS_DIR
from ..vocabulary import ACCOUNT_ROLES
from .workspace import Workspace

ACCOUNTS_FILE = "editors.json"
#: A login name: what the audit log and the reviews record as the person. No "_" (the login
#: plugin reads ``<name>_password_hash``), no spaces, at most 40 characters.
NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,39}")
MIN_PASSWORD = 10


def accounts_path(root: Path | str) -> Path:
    return Path(root) / KEYS_DIR / ACCOUNTS_FILE


def read_accounts(root: Path | str) -> dict[str, dict]:
    """Every account by name: ``{"role", "password_hash", "added_at"}``. None kept: empty."""
    path = accounts_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as ex:
        raise IntegrityError(f"{path}: the editors' accounts cannot be read ({ex})")
    if not isinstance(data, dict) or not all(isinstance(v, dict) and v.get("role") in ACCOUNT_ROLES
                                             for v in data.values()):
        raise IntegrityError(f"{path}: not a file of editors' accounts (name → role and password hash)")
    return data


def list_accounts(root: Path | str) -> list[dict]:
    """Names, roles and when each was added, by name; never a hash."""
    return [{"name": name, "role": a["role"], "added_at": a.get("added_at")}
            for name, a in sorted(read_accounts(root).items())]


def role_of(root: Path | str, name: str | None) -> str | None:
    """The role an account has now (None: no such account, or removed since it logged in)."""
    account = read_accounts(root).get(name or "")
    return account["role"] if account else None


def _write(root: Path, accounts: dict) -> None:
    """Replace the file whole (a crash leaves the old one or the new one), readable by its owner only."""
    path = accounts_path(root)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fp:
        json.dump(accounts, fp, indent=2, sort_keys=True)
    os.replace(tmp, path)


def _logged_write(ws: Workspace, action: str, event: dict, accounts: dict) -> None:
    """The file and its audit event together: a file that cannot be written rolls the event back."""
    with ws.transaction():
        ws.log_event(action, event)
        _write(ws.root, accounts)


def add_account(ws: Workspace, name: str, *, role: str, password: str) -> dict:
    """Add a person's account, or give an existing one a new role and password."""
    from datasette_auth_passwords.utils import hash_password

    name = (name or "").strip().lower()
    if not NAME.fullmatch(name):
        raise InvalidInput(f"account name {name!r}: use 1–40 lower-case letters, digits, '.' or '-' "
                           "(it is what the audit log records)")
    if role not in ACCOUNT_ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ACCOUNT_ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD} characters")
    accounts = read_accounts(ws.root)
    existed = name in accounts
    accounts[name] = {"role": role, "password_hash": hash_password(password),
                      "added_at": accounts.get(name, {}).get("added_at") or ws.now().isoformat()}
    _logged_write(ws, "editor change" if existed else "editor add", {"name": name, "role": role}, accounts)
    return {"name": name, "role": role, "added_at": accounts[name]["added_at"], "changed": existed}


def remove_account(ws: Workspace, name: str) -> dict:
    """Remove an account: its person can no longer log in, and a session already open loses
    every permission at its next request."""
    accounts = read_accounts(ws.root)
    name = (name or "").strip().lower()
    if name not in accounts:
        raise NotFound(f"no editor account named {name!r} (investigate editor list)")
    removed = accounts.pop(name)
    _logged_write(ws, "editor remove", {"name": name, "role": removed["role"]}, accounts)
    return {"name": name, "role": removed["role"]}

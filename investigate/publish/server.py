"""Starting Datasette: the editors' instance over the live workspace, and the public copy.

The editors' instance binds 127.0.0.1 unless told otherwise. On any other address it will
not start without editors' accounts (``investigate editor add``), and wherever there are
accounts every page, the SQL editor and every decision need a person logged in under their
own name (datasette-auth-passwords' login, fed by ``publish.accounts``). The workspace database is opened read-write in
WAL mode, so the CLI keeps recording while editors browse.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

from ..errors import InvestigateError, PolicyError
from ..store.workspace import Workspace
from .guard import LOOPBACK, allowed_hosts, guard
from .metadata import editors_metadata
from .public import PUBLIC_SETTINGS
from ..store.accounts import list_accounts

#: What ``datasette hash-password`` prints (datasette-auth-passwords' format): any other string
#: as a "hash" would make a login that no password opens, or one a typo opens.
HASH_FORMAT = re.compile(r"pbkdf2_sha256\$[1-9][0-9]{4,}\$[A-Za-z0-9+/=._-]{8,}\$[A-Za-z0-9+/=._-]{20,}")

PASSWORD_ENV = "INVESTIGATE_EDITOR_PASSWORD_HASH"
TEMPLATES = "datasette"


def templates_dir() -> Path:
    """templates/datasette inside the installed package, or in the repository checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "templates" / TEMPLATES, here.parent / "templates" / TEMPLATES):
        if candidate.is_dir():
            return candidate
    raise InvestigateError("the Datasette templates are missing from this installation")


def password_hash(ws: Workspace) -> str | None:
    """A hashed editor password (from ``datasette hash-password``): the environment wins over
    investigate.toml's [serve] editor_password_hash. A string that is not such a hash is refused."""
    hashed = os.environ.get(PASSWORD_ENV) or ws.setting("serve", "editor_password_hash") or None
    if hashed and not HASH_FORMAT.fullmatch(hashed.strip()):
        raise PolicyError(f"the editor password hash ({PASSWORD_ENV} or [serve] editor_password_hash) is not "
                          "one `datasette hash-password` makes (pbkdf2_sha256$…): refusing to serve")
    return hashed.strip() if hashed else None


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as ex:
            raise InvestigateError(f"cannot listen on {host}:{port}: {ex.strerror or ex}")


def login_required(ws: Workspace, host: str) -> bool:
    """Whether the editors' instance on ``host`` asks everyone to log in: beyond loopback
    always, and wherever the workspace has editors' accounts or the older shared password."""
    return host not in LOOPBACK or bool(list_accounts(ws.root)) or bool(password_hash(ws))


def editors_datasette(ws: Workspace, *, host: str = "127.0.0.1", write_letter=None):
    """A configured Datasette for editors. Refuses a non-loopback host without accounts.
    ``write_letter(ws, case_id, store_id) -> (name, PDF bytes)`` lets the case page link each
    reply request's letter (the CLI passes the reports' renderer)."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from . import accounts, decisions, desk_pages, facets, plugin

    hashed = password_hash(ws)
    if host not in LOOPBACK and not list_accounts(ws.root):
        raise PolicyError(f"refusing to serve on {host} without editors' accounts: add one per person with "
                          "`investigate editor add NAME --role editor|legal|reporter`")
    require_login = login_required(ws, host)
    if hashed:
        os.environ.setdefault(PASSWORD_ENV, hashed)
    for module, name in ((plugin, "investigate"), (accounts, "investigate-accounts"),
                         (decisions, "investigate-decisions"), (desk_pages, "investigate-desk"),
                         (facets, "investigate-facets")):
        if not pm.is_registered(module):
            pm.register(module, name=name)
    metadata = editors_metadata(ws, require_login=require_login, legacy_password=bool(hashed))
    hosts = allowed_hosts(host)  # the plugin checks every request's Host header against them
    metadata["plugins"]["investigate"]["hosts"] = sorted(hosts) if hosts is not None else None
    # Editors get curated default facets; Datasette's suggested facets would probe every
    # column of a million-row table on each page load.
    settings = {"allow_download": False, "sql_time_limit_ms": 3000, "facet_time_limit_ms": 500,
                "default_page_size": 50, "suggest_facets": False}
    datasette = Datasette([str(ws.db_path)], metadata=metadata, settings=settings,
                          template_dir=str(templates_dir()), cors=False,
                          static_mounts=[(plugin.STATIC_MOUNT, str(templates_dir() / "static"))])
    accounts.serve_accounts_of(datasette, ws.root)
    if write_letter is not None:
        decisions.serve_letters_with(datasette, write_letter)
    return datasette


def public_datasette(out_dir: Path, **settings):
    """The public copy, immutable, with its inspected counts and metadata. ``settings`` add to
    or override Datasette's (tests turn on ``trace_debug``)."""
    from datasette.app import Datasette

    out_dir = Path(out_dir)
    metadata = json.loads((out_dir / "metadata.json").read_text(encoding="utf-8"))
    inspect = json.loads((out_dir / "inspect-data.json").read_text(encoding="utf-8"))
    return Datasette(immutables=[str(out_dir / "public.db")], metadata=metadata, inspect_data=inspect,
                     settings={**PUBLIC_SETTINGS, **settings})


def run(datasette, host: str, port: int) -> None:
    """Serve until interrupted (uvicorn, as `datasette serve` does)."""
    import asyncio

    import uvicorn

    check_port_free(host, port)
    asyncio.run(datasette.invoke_startup())
    # The public copy too: behind the Host check, and no page shows where its file lies.
    uvicorn.run(guard(datasette.app(), allowed_hosts(host)), host=host, port=port, log_level="warning",
                lifespan="on")

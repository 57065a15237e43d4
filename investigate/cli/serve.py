"""``investigate serve``: Datasette for editors over the live workspace."""

from __future__ import annotations

import click

from ..publish.server import LOOPBACK, check_port_free, editors_datasette, password_hash, run
from .util import echo, echo_json, json_option, pass_workspace


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs an editor password.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--check", is_flag=True, help="Check the configuration and port, print it, and exit.")
@json_option
@pass_workspace
def serve(ws, host, port, check, as_json):
    """Browse every case, visit and evidence file in Datasette.

    The CLI keeps writing while it runs.

    On 127.0.0.1 no password is needed. On any other address set
    INVESTIGATE_EDITOR_PASSWORD_HASH (from `datasette hash-password`) or [serve]
    editor_password_hash in investigate.toml: every page, SQL and downloads then need login
    as user "editor".
    """
    datasette = editors_datasette(ws, host=host)
    check_port_free(host, port)
    info = {"url": f"http://{host}:{port}/", "workspace": str(ws.root),
            "login_required": host not in LOOPBACK or bool(password_hash(ws))}
    if as_json or check:
        echo_json(info) if as_json else echo(f"OK: would serve {info['url']}")
        if check:
            return
    echo(f"Serving {ws.db_path.name} for editors at {info['url']} (Ctrl-C to stop)", err=True)
    run(datasette, host, port)

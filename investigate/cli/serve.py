"""``investigate serve``: Datasette for editors over the live workspace."""

from __future__ import annotations

from pathlib import Path

import click

from ..publish.server import check_port_free, editors_datasette, login_required, run
from .util import echo, echo_json, json_option, pass_workspace


def letter_pdf(ws, case_id: str, store_id: str) -> tuple[str, bytes]:
    """The reply letter as `investigate reply letter` writes it (into reports/), for the
    editors' case page to link: this face joins the reports to Datasette."""
    from ..reports.build import build_letter

    path = Path(build_letter(ws, ws.get("cases", case_id), ws.get("stores", store_id))["pdf"])
    return path.name, path.read_bytes()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs editors' accounts.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--check", is_flag=True, help="Check the configuration and port, print it, and exit.")
@json_option
@pass_workspace
def serve(ws, host, port, check, as_json):
    """Browse every case, visit and evidence file in Datasette.

    The CLI keeps writing while it runs.

    Editors approve or reject visits, sign off and ask businesses for comment in the
    pages, each logged in under their own name (`investigate editor add NAME --role …`):
    the audit log records that person for every decision. With no accounts it opens on
    127.0.0.1 only, to read; on any other address it needs accounts.
    """
    datasette = editors_datasette(ws, host=host, write_letter=letter_pdf)
    check_port_free(host, port)
    info = {"url": f"http://{host}:{port}/", "workspace": str(ws.root),
            "login_required": login_required(ws, host)}
    if as_json or check:
        echo_json(info) if as_json else echo(f"OK: would serve {info['url']}")
        if check:
            return
    echo(f"Serving {ws.db_path.name} for editors at {info['url']} (Ctrl-C to stop)", err=True)
    run(datasette, host, port)

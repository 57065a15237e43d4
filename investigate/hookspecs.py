"""The hooks a plugin implements to bring a newsroom's own formats and commands.

As in sqlite-utils and Datasette: a plugin is a module (or an installed package with an
``investigate`` entry point, or a ``*.py`` file in a workspace's ``plugins/`` folder) holding
functions marked ``@hookimpl``. The built-in importers and exporters are registered through
these same hooks (``formats.plugins.DEFAULT_PLUGINS``), so a newsroom's format is a peer of
LIVES, not a fork of the code.
"""

from __future__ import annotations

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("investigate")
hookimpl = HookimplMarker("investigate")


@hookspec
def register_importers():
    """Return a list of importers, each a dict: ``name`` (what ``--format`` or ``import NAME``
    says), ``kind`` ("tips" for complaint files, "records" for stores and visits), ``help`` (one
    line), and ``run(ws, path, **options) -> dict``, which writes only through the workspace's
    audited bulk path (``ws.insert_many`` inside ``ws.transaction()``) and returns a summary."""


@hookspec
def register_exporters():
    """Return a list of exporters, each a dict: ``name``, ``help`` (one line), ``layout`` (which
    rows it is given: "tables", the case's tables, or "lives", the LIVES files) and
    ``write(tables, out) -> {file name: rows written}``. ``tables`` maps a table's name to a
    ``formats.plugins.Table`` (header and rows); an exporter never sees the workspace, and with
    ``--public`` the rows are the ones the publication policy let out."""


@hookspec
def register_commands(cli):
    """Add click commands to the ``investigate`` group ``cli`` (``@cli.command()``)."""

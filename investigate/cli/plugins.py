"""The command line's side of the plugin registry: ``--format`` choices read from it, a
generic ``import NAME`` for a plugin's importer, and a plugin's own commands.

The registry is asked only when a command needs it (``formats.plugins.ensure_plugins_loaded``
on first need), and with the workspace the command runs in, so the plugins in its
``plugins/`` folder are offered too.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import NotAWorkspace
from ..store.workspace import find_workspace
from .util import State, echo_import_summary, json_option, pass_workspace
from .types import KeyValueType


def workspace_root(ctx: click.Context | None) -> Path | None:
    """The folder of the workspace this command runs in, without opening it (``--help``
    works anywhere); None outside a workspace."""
    state = ctx.find_object(State) if ctx is not None else None
    path = state.path if state is not None else None
    if path is None and ctx is not None:
        path = ctx.find_root().params.get("workspace_path")
    if path:
        return Path(path)
    try:
        return find_workspace()
    except NotAWorkspace:
        return None


class FormatType(click.ParamType):
    """A ``--format`` whose choices are the registry's: the built-in formats and every
    plugin's, offered in ``--help`` and checked alike."""

    name = "format"

    def __init__(self, what: str, kind: str | None = None):
        self.what = what  # "exporter" or "importer"
        self.kind = kind

    def names(self, ctx: click.Context | None) -> list[str]:
        from ..formats.plugins import exporters, importers

        root = workspace_root(ctx)
        return list(exporters(root) if self.what == "exporter" else importers(root, kind=self.kind))

    def get_metavar(self, param, ctx):
        return "[" + "|".join(self.names(ctx)) + "]"

    def convert(self, value, param, ctx):
        names = self.names(ctx)
        if value not in names:
            self.fail(f"{value!r} is not one of {', '.join(repr(n) for n in names)}.", param, ctx)
        return value

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in self.names(ctx) if n.startswith(incomplete)]


def plugin_commands(ctx: click.Context) -> dict[str, click.Command]:
    """The commands the plugins add (``register_commands``), gathered afresh into a group of
    their own, so that a plugin unregistered takes its commands with it."""
    from ..formats.plugins import hook_caller

    holder = click.Group()
    hook_caller("register_commands", workspace_root(ctx))(cli=holder)
    return dict(holder.commands)


def import_command(name: str, importer: dict) -> click.Command:
    """``investigate import NAME FILE`` for an importer that brings no command of its own:
    the options every importer takes, and ``--option KEY=VALUE`` for its own."""

    @click.command(name, help=f"Import {importer.get('help') or name} (a plugin's importer).")
    @click.argument("path", type=click.Path(exists=True))
    @click.option("--case", "case_ref", help="The case the records go into.")
    @click.option("--encoding", help="Force the file's encoding.")
    @click.option("--option", "options", multiple=True, type=KeyValueType(),
                  help="KEY=VALUE: an option of this importer (repeatable).")
    @json_option
    @pass_workspace
    def command(ws, path, case_ref, encoding, options, as_json):
        summary = importer["run"](ws, path, case_ref=case_ref, encoding=encoding, **dict(options))
        echo_import_summary(summary, as_json, [f"{name}: " + ", ".join(
            f"{k} {v}" for k, v in summary.items() if isinstance(v, (int, str)))])

    return command


__all__ = ["FormatType", "workspace_root", "plugin_commands", "import_command"]

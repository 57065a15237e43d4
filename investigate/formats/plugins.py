"""The registry of importers and exporters, filled through the plugin hooks.

Like sqlite-utils' ``plugins.py`` and Datasette's ``DEFAULT_PLUGINS``: the built-in formats are
modules registered with the plugin manager exactly as a newsroom's own are, installed plugins
(the ``investigate`` entry point) are loaded once, on first need, and a workspace's
``plugins/`` folder (Datasette's ``--plugins-dir``) adds every ``*.py`` in it. ``--format``
choices are read from here, so a new format needs no edit of the command line.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import pluggy

from .. import hookspecs
from ..errors import InvalidInput

#: The built-in formats, registered through the same hooks as any plugin.
DEFAULT_PLUGINS = (
    "investigate.formats.lives",
    "investigate.formats.fda",
    "investigate.formats.kobo",
    "investigate.formats.complaints",
    "investigate.formats.export",
)
PLUGINS_FOLDER = "plugins"
FOLDER_PLUGIN = "investigate-plugin:"  # the name a folder's file is registered under, before its path

pm = pluggy.PluginManager("investigate")
pm.add_hookspecs(hookspecs)
_loaded = False


class Table(NamedTuple):
    """What an exporter is given per table: the column names and the rows (dicts, streamed).
    ``json_columns`` hold JSON text that a JSON writer gives as objects.

    ``values``, when given, are the same rows as tuples in the header's order, from the same
    stream: an exporter reads one or the other, never both. A writer that wants no dict (the
    CSV one) takes them: a dict per row was a sixth of exporting a million visits."""

    header: list[str]
    rows: Iterable[dict]
    json_columns: tuple[str, ...] = ()
    values: Iterable[Sequence] | None = None


def ensure_plugins_loaded() -> None:
    """Register the built-ins and the installed plugins, once per process."""
    global _loaded
    if _loaded:
        return
    for name in DEFAULT_PLUGINS:
        module = importlib.import_module(name)
        if not pm.is_registered(module):
            pm.register(module, name=name)
    pm.load_setuptools_entrypoints("investigate")
    _loaded = True


def load_plugins_folder(root: Path | str | None) -> None:
    """Register every ``*.py`` in the workspace's ``plugins/`` folder (once per file). A file
    that does not load is a one-line error naming it: a newsroom's plugin is its own code,
    and a typo in it must not read as a bug of ours."""
    if root is None:
        return
    for path in sorted((Path(root) / PLUGINS_FOLDER).glob("*.py")):
        name = f"{FOLDER_PLUGIN}{path.resolve()}"
        if pm.get_plugin(name) is not None or not path.is_file():
            continue
        spec = importlib.util.spec_from_file_location(f"investigate_plugin_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            pm.register(module, name=name)
        except Exception as ex:
            raise InvalidInput(f"{path}: the plugin does not load: {type(ex).__name__}: {ex}") from ex


def hook_caller(hook_name: str, root: Path | str | None):
    """The hook as the workspace at ``root`` sees it: the built-ins, the installed plugins and
    its own ``plugins/`` folder — not another workspace's folder loaded in this process."""
    ensure_plugins_loaded()
    load_plugins_folder(root)
    own = f"{FOLDER_PLUGIN}{(Path(root) / PLUGINS_FOLDER).resolve()}/" if root is not None else None
    others = [plugin for name, plugin in pm.list_name_plugin()
              if name.startswith(FOLDER_PLUGIN) and not (own and name.startswith(own))]
    return pm.subset_hook_caller(hook_name, remove_plugins=others)


def _registry(hook_name: str, root, what: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for entries in hook_caller(hook_name, root)():
        for entry in entries or ():
            if entry["name"] in found:
                raise InvalidInput(f"two plugins register the {what} {entry['name']!r}")
            found[entry["name"]] = entry
    return dict(sorted(found.items()))


def importers(root: Path | str | None = None, *, kind: str | None = None) -> dict[str, dict]:
    """Every registered importer by name (of one ``kind`` if given), with the plugins of the
    workspace at ``root``."""
    found = _registry("register_importers", root, "importer")
    return {n: e for n, e in found.items() if kind is None or e.get("kind") == kind}


def exporters(root: Path | str | None = None) -> dict[str, dict]:
    """Every registered exporter by name, with the plugins of the workspace at ``root``."""
    return _registry("register_exporters", root, "exporter")


def lookup(found: dict[str, dict], name: str, what: str) -> dict:
    """The entry called ``name``, or a one-line error listing the names there are."""
    if name not in found:
        raise InvalidInput(f"no {what} {name!r} (there are: {', '.join(found) or 'none'})")
    return found[name]


def write_export(exporter: dict, tables: dict[str, Table], out: Path | str) -> dict[str, int]:
    """Hand the rows to the exporter: the folder is made, the exporter gets rows and a
    folder, never the workspace."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return exporter["write"](tables, out)


__all__ = ["DEFAULT_PLUGINS", "Table", "ensure_plugins_loaded", "load_plugins_folder", "importers",
           "exporters", "hook_caller", "lookup", "write_export", "pm"]

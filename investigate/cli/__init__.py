"""The command line: a thin skin over the library. Parse, call, print — no SQL here.

Commands live one noun per module and are imported only when used (``LazyGroup``), so that
``investigate visit record`` in the field does not pay for importing Datasette or WeasyPrint.
Every ``InvestigateError`` becomes a one-line ``Error: …`` and its exit code here, in one place.
"""

from __future__ import annotations

import gc
import importlib
import sqlite3
import sys

import click

from ..errors import InvestigateError
from .util import State


class InvestigateClickError(click.ClickException):
    def __init__(self, message: str, exit_code: int = 1):
        from .util import escape_controls

        # An error quotes what was typed or read: escaped like everything else printed.
        super().__init__(escape_controls(message))
        self.exit_code = exit_code


_FILE_PROBLEMS = ("does not exist", "No such file", "Permission denied", "is not readable", "is a directory")


def translate_errors(invoke):
    """Turn domain and database errors into one-line click errors with the right exit code."""

    def wrapped(self, ctx):
        try:
            return invoke(self, ctx)
        except InvestigateError as ex:
            raise InvestigateClickError(str(ex), ex.exit_code) from ex
        except KeyboardInterrupt as ex:
            # Ctrl-C: the open transaction has rolled back on its way here. One line, the
            # shell's exit code for an interrupt, and never a traceback.
            raise InvestigateClickError("interrupted: what was not yet committed is rolled back, "
                                        "nothing is half-written", 130) from ex
        except click.BadParameter as ex:
            # A missing or unreadable file, or a value that is not what the option takes
            # ("prove abc"), is bad input, not a forgotten argument: one line, as for every
            # other bad input, without the usage block (a missing argument keeps it).
            message = ex.format_message()
            if any(s in message for s in _FILE_PROBLEMS):
                raise InvestigateClickError(message, 2) from ex
            if isinstance(ex, click.MissingParameter):
                raise
            command = ex.ctx.command_path if ex.ctx else "investigate"
            raise InvestigateClickError(f"{message} (see {command} --help)", 2) from ex
        except sqlite3.OperationalError as ex:
            if "readonly" in str(ex) or "read-only" in str(ex):
                raise InvestigateClickError(f"the workspace database is read-only: {ex}", 1) from ex
            if "locked" in str(ex):
                raise InvestigateClickError(f"the workspace database is busy (another process is writing): {ex}", 1) from ex
            raise InvestigateClickError(f"database error: {ex}", 1) from ex

    return wrapped


class LazyGroup(click.Group):
    """A group whose subcommands are ``"module:attribute"`` strings, imported on first use."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx):
        names = set(super().list_commands(ctx))
        names |= {n for n in self.lazy_commands if self._load(n) is not None}
        names |= set(self.extra_commands(ctx))
        return sorted(names)

    def get_command(self, ctx, name):
        return super().get_command(ctx, name) or self._load(name) or self.extra_commands(ctx).get(name)

    def extra_commands(self, ctx) -> dict[str, click.Command]:
        """Commands that come from elsewhere than this package (the plugins'); none here."""
        return {}

    def resolve_command(self, ctx, args):
        # click says only "No such command"; a reporter who typed "reprot" is told "report".
        name = click.utils.make_str(args[0]) if args else ""
        if args and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib  # only for a mistyped command: 5 ms of every start-up otherwise

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def _load(self, name):
        target = self.lazy_commands.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as ex:
            if ex.name == module_name:  # that feature is not built (yet)
                return None
            raise
        return getattr(module, attr, None)

    invoke = translate_errors(click.Group.invoke)


class RootGroup(LazyGroup):
    """``investigate`` itself: its own commands, then those the plugins add."""

    def extra_commands(self, ctx):
        from .plugins import plugin_commands

        try:
            return plugin_commands(ctx)
        except InvestigateError as ex:  # a broken plugin is shown like any bad input, even under --help
            raise InvestigateClickError(str(ex), ex.exit_code) from ex


COMMANDS = {
    "init": "investigate.cli.workspace:init",
    "verify": "investigate.cli.workspace:verify",
    "protocol": "investigate.cli.workspace:protocol",
    "demo": "investigate.cli.demo:demo",
    "export": "investigate.cli.export:export",
    "case": "investigate.cli.case:case",
    "store": "investigate.cli.store:store",
    "tester": "investigate.cli.tester:tester",
    "visit": "investigate.cli.visit:visit",
    "finding": "investigate.cli.finding:finding",
    "evidence": "investigate.cli.evidence:evidence",
    "promise": "investigate.cli.promise:promise",
    "reply": "investigate.cli.reply:reply",
    # issue 3: geography, sampling, rates
    "near": "investigate.cli.geo:near",
    "sample": "investigate.cli.sample:sample",
    "stats": "investigate.cli.stats:stats",
    # issue 4: PDF reports
    "report": "investigate.cli.report:report",
    # issue 5: Datasette
    "serve": "investigate.cli.serve:serve",
    "publish": "investigate.cli.publish:publish",
    # issue 27: editors decide in the browser
    "editor": "investigate.cli.editor:editor",
    # issue 6: teamwork and interop
    "bundle": "investigate.cli.merge:bundle",
    "merge": "investigate.cli.merge:merge",
    "import": "investigate.cli.official:import_",
    # issue 7: tips and leads
    "tip": "investigate.cli.tips:tip",
    "leads": "investigate.cli.tips:leads",
    # issue 8: editorial workflow
    "review": "investigate.cli.review:review",
    "retest": "investigate.cli.review:retest",
    "checklist": "investigate.cli.checklist:checklist",
    "correct": "investigate.cli.review:correct",
    "versions": "investigate.cli.review:versions",
    "fieldwork": "investigate.cli.review:fieldwork",
    # issue 12: the provable log
    "checkpoint": "investigate.cli.workspace:checkpoint",
    "prove": "investigate.cli.workspace:prove",
    "certify": "investigate.cli.report:certify",
    # issue 13: customer-service tests
    "scorecard": "investigate.cli.scorecard:scorecard",
    "company": "investigate.cli.company:company",
    # issue 18: one person's story
    "story": "investigate.cli.story:story",
    # issue 28: logs that vouch for each other
    "witness": "investigate.cli.witness:witness",
    "network": "investigate.cli.network:network",
}


@click.group(
    cls=RootGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "-w",
    "--workspace",
    "workspace_path",
    type=click.Path(file_okay=False, path_type=str),
    envvar="INVESTIGATE_HOME",
    help="Workspace folder (default: found from the current directory upwards, or $INVESTIGATE_HOME).",
)
@click.version_option(package_name="investigate")
@click.pass_context
def cli(ctx, workspace_path):
    """Record undercover consumer tests, check them, and publish them fairly.

    \b
    Start:    investigate init NEWSROOM-FOLDER   (or: investigate demo)
    Record:   investigate case new, store add, tester add, visit record
    Check:    investigate verify, visit list, promise list --overdue
    """
    ctx.obj = State(workspace_path, tidy=ctx.invoked_subcommand != "verify")
    ctx.call_on_close(ctx.obj.close)


#: New objects between two runs of Python's cyclic garbage collector (its default is 700).
GC_EVERY = 10_000


def main(argv=None):
    """Console-script entry point.

    A command is a short process that builds what it prints or writes, and exits. At Python's
    default threshold the collector walked the young objects again after every 700 allocations.
    That was 17 % of the CPU of a 1,000-visit report, most of it while WeasyPrint's modules
    were imported and while it laid the pages out. Bare WeasyPrint on the same rows spends
    20 % there (py-spy). Garbage in cycles is still collected, in rounds 14 times as far
    apart, and the report's peak did not move (205 MB). Imports, verify and the checklist
    were unchanged. Set here, for a command's process, not in the library: a test run and
    the editors' Datasette keep Python's default."""
    gc.set_threshold(GC_EVERY, *gc.get_threshold()[1:])
    return cli.main(args=argv, prog_name="investigate")


__all__ = ["cli", "main", "LazyGroup"]

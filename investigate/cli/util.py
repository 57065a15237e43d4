"""What every command shares: the workspace, ``--json``, printing, and parameter types."""

from __future__ import annotations

import functools
import itertools
import json
import re
import shutil
import sys
import textwrap
from typing import Any, Callable, Iterable, Iterator

import click

from ..ids import short
from ..files.json_array import json_array
from ..errors import InvalidInput
from ..store.workspace import Workspace


class State:
    """The context object: opens the workspace on first use, so ``init`` and ``--help``
    work anywhere."""

    def __init__(self, path: str | None):
        self.path = path
        self._workspace: Workspace | None = None

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(self.path) if self.path else Workspace.find()
        return self._workspace

    def close(self):
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


def get_workspace(ctx: click.Context | None = None) -> Workspace:
    ctx = ctx or click.get_current_context()
    return ctx.find_object(State).workspace


def pass_workspace(f: Callable) -> Callable:
    """Give the command the open workspace as its first argument."""

    @click.pass_context
    @functools.wraps(f)
    def wrapper(ctx, *args, **kwargs):
        return ctx.invoke(f, get_workspace(ctx), *args, **kwargs)

    return wrapper


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


#: C0 controls (but tab and line feed), DEL and C1 controls: what a hostile file could use to
#: drive a terminal (ESC starts a sequence, BEL rings, CR overwrites a line, U+009B is CSI).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """``text`` with every control character a terminal would act on written as ``\\xNN``;
    tab and line feed stay. Everything the CLI prints goes through here (``echo``)."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def echo(message: Any = None, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` with control characters escaped: names and answers come from files
    and people, and must not reach the reporter's terminal as commands."""
    click.echo(None if message is None else escape_controls(str(message)), err=err, nl=nl)


def pct(value: float | None) -> str:
    """The one way the CLI prints a share: ``15.8 %``."""
    return "" if value is None else f"{value * 100:.1f} %"


def _text(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return " ".join(escape_controls(text).split())


def _fit(natural: list[int], floor: list[int], room: int) -> list[int]:
    """Column widths that fit ``room``: the widest columns give way first, none below its floor."""
    widths = list(natural)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
        if widths[widest] <= floor[widest]:
            break
        widths[widest] -= 1
    return widths


#: Rows a streamed table reads before it fixes its column widths.
SIZING_ROWS = 500
#: Lines written to the terminal at once.
_CHUNK = 2000


def format_table(rows: list[dict], columns: list[str] | None = None, *, width: int | None = None) -> str:
    """A plain-text table as wide as the terminal (``width``): long cells wrap onto further
    lines instead of being cut, so a store's whole name and a reviewer's whole comment show."""
    return "\n".join(table_lines(rows, columns, width=width))


def table_lines(rows: Iterable[dict], columns: list[str] | None = None, *, width: int | None = None,
                sizing: int = SIZING_ROWS) -> Iterator[str]:
    """``format_table``'s lines, one at a time: the widths come from the first ``sizing`` rows
    (a later, longer cell wraps), so a million visits print without being held in memory."""
    rows = iter(rows)
    head = list(itertools.islice(rows, sizing))
    if not head:
        return
    columns = columns or list(head[0].keys())
    width = width or shutil.get_terminal_size((120, 20)).columns
    cells = [[_text(r.get(c)) for c in columns] for r in head]
    natural = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    room = width - 2 * (len(columns) - 1)
    # Keep whole words (a slug, a timestamp) where the terminal has room for them; else only
    # the headings' width.
    longest = [max([len(w) for row in cells for w in row[i].split()] or [0]) for i in range(len(columns))]
    floor = [min(n, max(8, len(c), min(w, 24))) for n, c, w in zip(natural, columns, longest)]
    if sum(floor) > room:
        floor = [min(n, max(8, len(c))) for n, c in zip(natural, columns)]
    widths = _fit(natural, floor, room)

    def lines_of(values: list[str]) -> list[str]:
        if all(len(v) <= w for v, w in zip(values, widths)):  # most rows: one line, nothing to wrap
            return ["  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()]
        wrapped = [textwrap.wrap(v, w, break_long_words=True, break_on_hyphens=False) or [""]
                   for v, w in zip(values, widths)]
        return ["  ".join((col[i] if i < len(col) else "").ljust(w) for col, w in zip(wrapped, widths)).rstrip()
                for i in range(max(len(col) for col in wrapped))]

    yield from lines_of(columns)
    yield "  ".join("-" * w for w in widths)
    for row in cells:
        yield from lines_of(row)
    for r in rows:
        yield from lines_of([_text(r.get(c)) for c in columns])


def echo_lines(lines: Iterable[str]) -> None:
    """Print lines as they come, a chunk at a time."""
    for chunk in iter(lambda: list(itertools.islice(lines, _CHUNK)), []):
        echo("\n".join(chunk))


def echo_json(data: Any) -> None:
    """JSON for scripts. A list or generator of rows is written row by row (the same text as
    ``json.dumps(list(rows), indent=2)``), so a million rows never sit in memory at once."""
    if isinstance(data, (dict, str, int, float)) or data is None:
        click.echo(_json_text(data))
        return
    for piece in json_array(data, _json_text, indent=2):
        click.echo(piece, nl=False)
    click.echo()


def _json_text(data: Any) -> str:
    # JSON escapes C0 itself; DEL and C1 get JSON's own \\u escape, so the output stays JSON.
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo_result(data: Any, *, as_json: bool = False, columns: list[str] | None = None,
                empty: str = "Nothing to show.", title: str | None = None) -> None:
    """One way to print every result: a table (or key/value block) for people, JSON for scripts.
    Rows may come from a generator: they are printed as they come."""
    if as_json:
        echo_json(data)
        return
    if isinstance(data, dict):
        width = max((len(k) for k in data), default=0)
        room = max(20, shutil.get_terminal_size((120, 20)).columns - width - 2)
        for k, v in data.items():
            if isinstance(v, (list, dict)) and v and isinstance(v, list) and isinstance(v[0], dict):
                continue
            lines = textwrap.wrap(_text(v), room, break_long_words=True) or [""]
            echo(f"{k.ljust(width)}  {lines[0]}".rstrip())
            for line in lines[1:]:
                echo(f"{'':{width}}  {line}")
        return
    if title:
        echo(title)
    lines = table_lines(data, columns)
    first = next(lines, None)
    if first is None:
        echo(empty)
        return
    echo_lines(itertools.chain([first], lines))


def short_ids(rows: Iterable[dict], *keys: str) -> Iterator[dict]:
    """Shorten UUIDs for tables; the CLI accepts the short form back. Rows pass one by one."""
    for r in rows:
        r = dict(r)
        for k in keys or ("id",):
            if r.get(k):
                r[k] = short(r[k])
        yield r


class RadiusType(click.ParamType):
    """A distance with its unit: ``200m``, ``1.5km``. A bare number is refused: "200" read
    as metres when feet or kilometres were meant would count the wrong shops."""

    name = "radius"
    _re = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|km)\s*$", re.I)

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            metres = float(value)
        else:
            m = self._re.match(str(value))
            if not m:
                bare = re.match(r"^\s*\d+(?:\.\d+)?\s*$", str(value))
                self.fail(f"{value!r} has no unit: write {str(value).strip()}m or {str(value).strip()}km" if bare else
                          f"{value!r} is not a distance like 200m or 1.5km", param, ctx)
            metres = float(m.group(1)) * (1000 if m.group(2).lower() == "km" else 1)
        if metres <= 0:
            self.fail(f"{value!r}: the radius must be more than 0", param, ctx)
        return metres


class KeyValueType(click.ParamType):
    """``key=value`` (for ``--answer`` and ``--map``)."""

    name = "key=value"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        if "=" not in value:
            self.fail(f"{value!r} is not key=value", param, ctx)
        key, _, val = value.partition("=")
        if not key.strip():
            self.fail(f"{value!r} has an empty key", param, ctx)
        return key.strip().replace("-", "_"), val


class AnswerType(click.ParamType):
    """Validates an answer at the prompt with the protocol question's own parser, so that a
    bad answer is asked again (click re-prompts on BadParameter)."""

    def __init__(self, question, tz=None):
        self.question = question
        self.name = question.type
        self.tz = tz

    def convert(self, value, param, ctx):
        try:
            return self.question.parse(value, tz=self.tz)
        except InvalidInput as ex:
            self.fail(str(ex), param, ctx)


class _Quiet:
    """Stands in for a progress bar when stderr is not a terminal (CI, pipes, --json)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int = 1) -> None:
        pass

    def start(self, length: int) -> None:
        pass


class _LengthLater:
    """A bar for work that learns its length once under way (a bundle knows its files after
    collecting its rows): drawn from ``start(length)`` on, silent before."""

    def __init__(self, label: str, stream):
        self.label, self.stream, self.bar = label, stream, None

    def __enter__(self):
        return self

    def start(self, length: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=length, label=self.label, file=self.stream)
            self.bar.__enter__()

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


def progress(length: int | None, label: str, *, quiet: bool | None = None):
    """A progress bar on stderr for long work, or nothing when stderr is not a terminal:
    click's bar would print just its label there, with no newline. Silent with ``--json``
    (``quiet``; by default read from the command's own --json option)."""
    stream = sys.stderr  # CliRunner swaps sys.stderr, so tests see what a user would
    if quiet is None:
        ctx = click.get_current_context(silent=True)
        quiet = bool(ctx and ctx.params.get("as_json"))
    if quiet or not stream.isatty():
        return _Quiet()
    if length is None:
        # Without a length click's bar cannot show progress: nothing until the work says how
        # much there is (``bar.start(n)``), rather than a bare label.
        return _LengthLater(label, stream)
    bar = click.progressbar(length=length, label=label, file=stream)
    bar.start = lambda n: None  # the length is known already
    return bar


class ValueMapType(click.ParamType):
    """``COLUMN:VALUE=ANSWER`` (for ``--map-value``): an agency's word for our answer."""

    name = "column:value=answer"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        column, colon, rest = value.partition(":")
        word, eq, answer = rest.rpartition("=")
        if not colon or not eq or not column.strip() or not word.strip():
            self.fail(f"{value!r} is not COLUMN:VALUE=ANSWER, e.g. \"Results:Pass w/ Conditions=conditional\"",
                      param, ctx)
        return column.strip(), word.strip(), answer.strip()


def table_options(f: Callable) -> Callable:
    """--ignore, --ignore-unknown and --fix-text: what every importer of a table offers."""
    f = click.option("--fix-text", is_flag=True,
                     help="Repair mojibake found in the file (\"CafÃ©\" → \"Café\"); without it the "
                          "summary only warns, with a count and the first lines.")(f)
    f = click.option("--ignore-unknown", is_flag=True,
                     help="Leave out every column that is neither mapped nor known (listed in the summary).")(f)
    f = click.option("--ignore", "ignore", multiple=True, metavar="COLUMN",
                     help="Leave out this column of the file (repeatable).")(f)
    return f


def echo_import_summary(summary: dict, as_json: bool, lines: list[str]) -> None:
    """An import's summary: JSON, or the lines given followed by the columns left out and
    every warning (unknown columns, damaged text) — nothing is dropped without a word."""
    if as_json:
        echo_json(summary)
        return
    for line in lines:
        echo(line)
    if summary.get("ignored_columns"):
        echo(f"  ignored columns: {', '.join(summary['ignored_columns'])}")
    if summary.get("header_line", 1) > 1:
        echo(f"  header found on line {summary['header_line']} (the lines above it skipped)")
    for warning in summary.get("warnings", []):
        echo(f"Warning: {warning}", err=True)

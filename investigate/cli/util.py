"""What every command shares: the workspace, ``--json``, printing, and parameter types."""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import shutil
import sys
import textwrap
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Iterator

import click

from .. import clock
from ..ids import short
from ..store.leftovers import remove_killed_runs
from ..store.workspace import Workspace


class State:
    """The context object: opens the workspace on first use, so ``init`` and ``--help``
    work anywhere."""

    def __init__(self, path: str | None, *, tidy: bool = True):
        self.path = path
        self._workspace: Workspace | None = None
        #: Remove what killed runs left outside the workspace when it is opened: every command
        #: but ``verify``, which lists it.
        self.tidy = tidy

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(self.path) if self.path else Workspace.find()
            if self.tidy:
                for path in remove_killed_runs(self._workspace.root):
                    echo(f"Removed {path}: left by a run that was killed.", err=True)
        return self._workspace

    @property
    def opened(self) -> Workspace | None:
        """The workspace if a command has opened it; never opens one (tables ask it for its
        language and time zone, and a table is printed outside a workspace too)."""
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
    and people, and must not reach the reporter's terminal as commands. At a terminal, a line
    longer than the terminal is wrapped at spaces rather than cut inside a word by its edge."""
    if message is None:
        click.echo(None, err=err, nl=nl)
        return
    text = escape_controls(str(message))
    stream = sys.stderr if err else sys.stdout
    if nl and stream.isatty():
        text = "\n".join(part for line in text.split("\n") for part in fit_line(line, stream))
    click.echo(text, err=err, nl=nl)


def pct(value: float | None) -> str:
    """The one way the CLI prints a share: ``15.8 %``."""
    return "" if value is None else f"{value * 100:.1f} %"


def _text(value: Any) -> str:
    """A value as one line of a cell: controls escaped, every run of whitespace one space."""
    if type(value) is str and value.isprintable() and "  " not in value and value[:1] != " " != value[-1:]:
        # Most cells (names, codes, states): nothing to escape (a control character or any
        # whitespace but a space is not printable), nothing to join. A tenth of a long list.
        return value
    return _any_text(value)


def _any_text(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return " ".join(escape_controls(text).split())


#: A stored time stamp (ISO 8601, with or without seconds and offset) or a date.
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")

#: Short local forms, as people write a time in a table of the day's work: the year only when
#: it is not this one. Danish writes the clock with a dot.
_SHORT_TIMES = {
    "en": ("MMM d HH:mm", "MMM d yyyy HH:mm", "MMM d", "MMM d yyyy"),
    "de": ("dd.MM. HH:mm", "dd.MM.yy HH:mm", "dd.MM.", "dd.MM.yyyy"),
    "da": ("dd.MM. HH.mm", "dd.MM.yy HH.mm", "dd.MM.", "dd.MM.yyyy"),
}


def _table_clock() -> tuple:
    """The language, zone and year that times in a table are written in: the open workspace's,
    else English and UTC."""
    ctx = click.get_current_context(silent=True)
    state = ctx.find_object(State) if ctx else None
    ws = state.opened if state else None
    if ws is None:
        return "en", timezone.utc, clock.now().year
    return ws.language, ws.tz, ws.now().year


def short_time(text: str, style: tuple | None = None) -> str:
    """A stored time as a table shows it: "Nov 20 14:35", "20.11. 14:35" (de), "20.11. 14.35"
    (da), in the workspace's zone; text that is no time comes back as it was."""
    m = _ISO.match(text)
    if not m:
        return text
    from babel.dates import format_date, format_datetime  # only where a table has times

    lang, tz, year = style or _table_clock()
    with_time, other_year, day_only, day_other_year = _SHORT_TIMES.get(lang, _SHORT_TIMES["en"])
    if m.group(4) is None:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return format_date(day, day_only if day.year == year else day_other_year, locale=lang)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone(tz)
    return format_datetime(when, with_time if when.year == year else other_year, locale=lang)


#: Where a cell may go onto the next line besides spaces: after a hyphen that follows a word
#: of three letters or more ("Karl-|Marx-|Straße", "tobacco-|neukoelln-|2026", but never inside
#: a code such as "T-01" or "BE-21000"), and after an underscore ("not_|completed").
_BREAKS = re.compile(r"(?<=[^\W\d_]{3}-)(?=\w)|(?<=_)(?=\w)")


def _pieces(text: str) -> list[tuple[str, str]]:
    """``text`` as (separator, piece) pairs: the pieces a line may break between, never inside.
    A sign standing alone stays with the word before it: "15.8 %" and "5.5 % –" never part."""
    out: list[tuple[str, str]] = []
    for word in text.split():
        if out and len(word) <= 2 and not any(ch.isalnum() for ch in word):
            out[-1] = (out[-1][0], f"{out[-1][1]} {word}")
            continue
        for i, piece in enumerate(_BREAKS.split(word)):
            if piece:
                out.append(("" if i else " ", piece))
    return out


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``, broken only between pieces; a piece longer than
    the column (only when the terminal cannot hold every column's longest word) is cut with "…"."""
    lines: list[str] = []
    line = ""
    for sep, piece in _pieces(text):
        if len(piece) > width:
            piece = piece[:max(width - 1, 0)] + "…"
        if line and len(line) + len(sep) + len(piece) <= width:
            line += sep + piece
        else:
            if line:
                lines.append(line)
            line = piece
    return lines + [line] if line or not lines else lines


def _fit(natural: list[int], floor: list[int], room: int, free: list[bool] | None = None) -> list[int]:
    """Column widths that fit ``room``: free text (``free``: cells of several words) gives way
    first, then the columns with most to spare, none below its floor (its longest word); if the
    floors alone do not fit, the widest floors give way too, and their longest words are cut
    with "…". A key such as a slug stays on one line while a name or a comment can wrap."""
    widths = list(natural)
    floor = list(floor)
    free = free or [True] * len(widths)
    while sum(floor) > room and max(floor) > 4:
        widest = max(range(len(floor)), key=lambda i: floor[i])
        floor[widest] -= 1
    # Free text first, then long tokens (paths, hashes), and only then a key people type.
    for candidates in ([i for i in range(len(widths)) if free[i]], [i for i in range(len(widths)) if widths[i] > 24],
                       list(range(len(widths)))):
        while sum(widths) > room and candidates:
            widest = max(candidates, key=lambda i: widths[i] - floor[i])
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
                sizing: int = SIZING_ROWS, optional: Iterable[str] = ()) -> Iterator[str]:
    """``format_table``'s lines, one at a time: the widths come from the first ``sizing`` rows
    (a later, longer cell wraps), so a million visits print without being held in memory.

    Never wider than the terminal, never a break inside a word: cells wrap at spaces (and after
    hyphens and underscores), free text gives way first, times are short and local. Where the
    longest words of every column cannot stand side by side, the ``optional`` columns are left
    out first, in their order, and a last line says which (--json has them all)."""
    rows = iter(rows)
    head = list(itertools.islice(rows, sizing))
    if not head:
        return
    columns = list(columns or head[0].keys())
    width = width or shutil.get_terminal_size((120, 20)).columns
    style = _table_clock()

    # A listing's times repeat (a visit time per row, a few thousand distinct in a million
    # rows): each distinct one is formatted once. Babel's formatting was a third of a long list.
    timed = functools.lru_cache(maxsize=1 << 16)(lambda text: short_time(text, style))

    def cell(value: Any) -> str:
        text = _text(value)
        return timed(text) if text[:1].isdigit() else text

    # Each column of the sizing rows read once: its texts, its longest word (the floor: a word
    # is never broken), its longest cell, and whether it is free text that may wrap.
    read = {c: [cell(r.get(c)) for r in head] for c in columns}
    floor_of = {c: max(len(p) for text in [c.replace("_", " "), *read[c]] for _, p in _pieces(text) or [("", "")])
                for c in columns}
    longest_of = {c: max(len(t) for t in read[c]) for c in columns}
    # A column of times is as wide as its widest time ("Oct 1 10:00" in the first rows, "Oct 10
    # 10:00" later): otherwise every later, longer time wrapped, the row printing on two lines.
    widest_time = len(timed(f"{style[2]}-12-28T23:59"))
    timed_columns = {c for c in columns
                     if any(isinstance(r.get(c), str) and (m := _ISO.match(r[c])) and m.group(4) for r in head)}
    for c in timed_columns:
        longest_of[c] = max(longest_of[c], widest_time)
    free_of = {c: c not in timed_columns and any(" " in t for t in read[c]) for c in columns}

    def needed(names: list[str]) -> int:
        """The width the columns need with every key (a short single word: a slug, a code)
        whole on one line and everything else at its longest word."""
        return 2 * (len(names) - 1) + sum(
            max(floor_of[c], longest_of[c]) if longest_of[c] <= 24 and not free_of[c] else floor_of[c] for c in names)

    left_out = []
    for name in optional:
        if needed(columns) <= width:
            break
        if name in columns:
            columns.remove(name)
            left_out.append(name.replace("_", " "))
    headings = [c.replace("_", " ") for c in columns]

    cells = [list(values) for values in zip(*(read[c] for c in columns))]
    room = width - 2 * (len(columns) - 1)
    # A time stays whole where the columns' floors leave room for it: broken over two lines
    # ("12.10." over "15:04") it put every row of a German list at 80 columns on two lines, where
    # a long name wraps only on its own row and a rare "not_completed" only where it occurs.
    floors = [floor_of[c] for c in columns]
    whole_times = [longest_of[c] if c in timed_columns else floor_of[c] for c in columns]
    widths = _fit(_heading_room(headings, [longest_of[c] for c in columns], room),
                  whole_times if sum(whole_times) <= room else floors, room, [free_of[c] for c in columns])
    # A row whose every cell fits is one format call: each cell padded to its width, so the
    # line is exactly ``fitted`` long unless a cell is longer than its column (then it wraps).
    layout = "  ".join(f"{{:<{w}}}" for w in widths)
    fitted = sum(widths) + 2 * (len(widths) - 1)

    def lines_of(values: list[str]) -> list[str]:
        line = layout.format(*values)
        if len(line) == fitted:  # most rows: one line, nothing to wrap
            return [line.rstrip()]
        wrapped = [_wrap(v, w) for v, w in zip(values, widths)]
        return ["  ".join((col[i] if i < len(col) else "").ljust(w) for col, w in zip(wrapped, widths)).rstrip()
                for i in range(max(len(col) for col in wrapped))]

    yield from lines_of(headings)
    yield "  ".join("-" * w for w in widths)
    for row in cells:
        yield from lines_of(row)
    # A listing's stores, states, codes and counts repeat over a million rows: a column whose
    # first rows repeat keeps the cells it has made, by value; one whose first rows do not (ids,
    # comments) makes each. Only values whose equals print alike are keys: True equals 1.
    plan = [(c, {} if len({r.get(c) for r in head if type(r.get(c)) in _REMEMBERED}) < len(head) / 2 else None)
            for c in columns]
    for r in rows:
        values = []
        for c, seen in plan:
            value = r.get(c)
            if seen is None or type(value) not in _REMEMBERED:
                values.append(cell(value))
                continue
            text = seen.get(value)
            if text is None:
                text = cell(value)
                if len(seen) < _CELLS_KEPT:
                    seen[value] = text
            values.append(text)
        yield from lines_of(values)
    if left_out:
        yield f"(left out at {width} columns: {', '.join(left_out)}; --json shows every column)"


#: Values whose cell text a table remembers: the types whose equal values print alike (1 and
#: 1.0 are equal keys but a float prints otherwise; a list cannot be a key).
_REMEMBERED = frozenset({str, int, type(None)})
#: Cells a column remembers at most.
_CELLS_KEPT = 1 << 15


def _heading_room(headings: list[str], longest: list[int], room: int) -> list[int]:
    """Each column's natural width: its longest cell, or its heading if longer — unless the
    columns then need more than ``room``: a heading then wraps at its spaces ("tester" over
    "code") before any cell does, for a cell that wraps puts every row of a long list on two
    lines, a heading only itself. Room left over goes back to the headings, left to right."""
    natural = [max(len(h), n) for h, n in zip(headings, longest)]
    if sum(natural) <= room:
        return natural
    snug = [max([n, *(len(word) for word in h.split())]) for h, n in zip(headings, longest)]
    spare = room - sum(snug)
    for i, want in enumerate(natural):
        give = min(max(spare, 0), want - snug[i])
        snug[i] += give
        spare -= give
    return snug


def echo_lines(lines: Iterable[str]) -> None:
    """Print lines as they come, a chunk at a time."""
    for chunk in iter(lambda: list(itertools.islice(lines, _CHUNK)), []):
        echo("\n".join(chunk))


def echo_queued_stamp(stamp: dict | None) -> None:
    """Say, on stderr, that a checkpoint's timestamp was not had in time and waits in the queue:
    the command went on without it (issue 31), and the reporter should know to send it later."""
    if stamp and stamp.get("queued"):
        echo(f"Note: the checkpoint's timestamp is queued ({stamp['reason']}); "
             "send it later: investigate checkpoint --stamp", err=True)


def echo_witnesses(results: list[dict] | None) -> None:
    """Say, on stderr, which witnesses cosigned a checkpoint and why the others did not (issue
    28): one that was down does not stop the command, but the reporter should know."""
    for w in results or []:
        echo(f"Cosigned by {w['witness']} ({w['url']})." if w["cosigned"] else
             f"Not cosigned by {w['witness']} ({w['url']}): " + (f"{w['status']} " if w["status"] else "")
             + w["reason"], err=True)


def echo_json(data: Any) -> None:
    """JSON for scripts. A list or generator of rows is written row by row (the same text as
    ``json.dumps(list(rows), indent=2)``), so a million rows never sit in memory at once."""
    if isinstance(data, (dict, str, int, float)) or data is None:
        click.echo(_json_text(data))
        return
    # Imported here: it loads the file readers' package, 8 ms that a command printing text never needs.
    from ..files.json_array import json_array

    for piece in json_array(data, _json_text, indent=2):
        click.echo(piece, nl=False)
    click.echo()


def _json_text(data: Any) -> str:
    # JSON escapes C0 itself; DEL and C1 get JSON's own \\u escape, so the output stays JSON.
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo_result(data: Any, *, as_json: bool = False, columns: list[str] | None = None,
                empty: str = "Nothing to show.", title: str | None = None, optional: Iterable[str] = ()) -> None:
    """One way to print every result: a table (or key/value block) for people, JSON for scripts.
    Rows may come from a generator: they are printed as they come. ``optional`` columns give
    way, in their order, on a terminal too narrow for every column's longest word."""
    if as_json:
        echo_json(data)
        return
    if isinstance(data, dict):
        width = max((len(k) for k in data), default=0)
        room = max(20, shutil.get_terminal_size((120, 20)).columns - width - 2)
        for k, v in data.items():
            if isinstance(v, (list, dict)) and v and isinstance(v, list) and isinstance(v[0], dict):
                continue
            lines = _wrap(_text(v), room)
            echo(f"{k.ljust(width)}  {lines[0]}".rstrip())
            for line in lines[1:]:
                echo(f"{'':{width}}  {line}")
        return
    if title:
        echo(title)
    lines = table_lines(data, columns, optional=optional)
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


class _Quiet:
    """Stands in for a progress bar when stderr is not a terminal (CI, pipes, --json)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int = 1) -> None:
        pass

    def start(self, length) -> None:
        pass


def _columns(stream) -> int:
    """What COLUMNS says, else the width of the terminal ``stream`` is on (stderr, for a bar:
    shutil asks stdout's, which may be a pipe)."""
    if "COLUMNS" not in os.environ:
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            pass
    return shutil.get_terminal_size((80, 20)).columns


class _Bar:
    """click's progress bar behind the two calls the library makes: ``update(n)`` as work is
    done, and ``start(length)`` from work that learns its length under way (a bundle knows
    its files after collecting its rows) — drawn from then on, silent before. Only click's
    public API: an assignment to the bar's ``start`` once replaced click's start *time* and
    crashed every import that ran longer than a second at a terminal."""

    def __init__(self, label: str, stream, length: int | None):
        self.label, self.stream, self.length, self.bar = label, stream, length, None

    def __enter__(self):
        if self.length is not None:
            self._open(self.length)
        return self

    def _open(self, length: int) -> None:
        # As wide as fits beside the label and "100%  00:00:00" (click's default is 36 whatever
        # the label: a long label's bar ran past 80 columns once the time left showed, and the
        # terminal wrapped every redraw onto a new line).
        width = max(10, min(36, _columns(self.stream) - len(self.label) - 21))
        self.bar = click.progressbar(length=length, label=self.label, file=self.stream, width=width)
        self.bar.__enter__()

    def start(self, length: int | Callable[[], int]) -> None:
        """``length``, or what counts it: counted only where a bar is drawn (counting every
        row of a million visits is not free, and a pipe draws nothing)."""
        if self.bar is None:
            self._open(length() if callable(length) else length)

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
    (``quiet``; by default read from the command's own --json option). Without a length,
    nothing is drawn until the work says how much there is (``bar.start(n)``)."""
    stream = sys.stderr  # CliRunner swaps sys.stderr, so tests see what a user would
    if quiet is None:
        ctx = click.get_current_context(silent=True)
        quiet = bool(ctx and ctx.params.get("as_json"))
    if quiet or not stream.isatty():
        return _Quiet()
    return _Bar(label, stream, length)


def fit_line(line: str, stream=None) -> list[str]:
    """``line`` wrapped at spaces to the terminal's width, continued two spaces further in
    than it starts; as it is when the stream (stdout) is not a terminal (a pipe or a file
    keeps one line per fact, for grep)."""
    stream = stream or sys.stdout
    width = shutil.get_terminal_size((80, 20)).columns
    if not stream.isatty() or len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip(" ")))
    return textwrap.wrap(line, width=width, subsequent_indent=indent + "  ", break_long_words=False,
                         break_on_hyphens=False) or [line]


def fit_prompt(question: str, choices: list[str] | tuple[str, ...] = (), tail: str = "") -> str:
    """The prompt for ``question`` with its ``choices`` and a ``tail`` ("(optional, Enter
    skips)"), on one line when that line leaves room to type on an 80-column terminal; when it
    does not, the choices are printed first on their own lines, wrapped at spaces, and the
    prompt says where they are, so that nothing runs past the edge or breaks inside a word. As
    one line when stdout is not a terminal (a script reads the prompt as it always was)."""
    hint = f"[{'/'.join(choices)}]" if choices else ""
    whole = " ".join(part for part in (question, hint, tail) if part)
    width = shutil.get_terminal_size((80, 20)).columns
    room = 12  # for the answer typed after the prompt
    if not choices or not sys.stdout.isatty() or len(whole) + room <= width:
        return whole
    for line in textwrap.wrap(" / ".join(choices), width=width - 1, initial_indent="  ", subsequent_indent="  ",
                              break_long_words=False, break_on_hyphens=False):
        echo(line)
    short = " ".join(part for part in (question, "[choices above]", tail) if part)
    return short if len(short) + room <= width else " ".join(part for part in (question, tail) if part)


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
    if summary.get("null_cells"):
        echo("  read as unknown (placeholders): "
             + ", ".join(f"{column} {n}" for column, n in summary["null_cells"].items()))
    for warning in summary.get("warnings", []):
        echo(f"Warning: {warning}", err=True)

"""A JSON array written as its rows come: what ``json.dumps(list(rows), indent=…)`` would
write, piece by piece, so that a million rows are never held. The CLI's ``--json``, the
exports and the bundles all write their tables through here; a merge reads a bundle's back
the same way, item by item (``read_json_array``)."""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, Callable, Iterable, Iterator

from .nesting import MAX_DEPTH, TooDeep, depth_of


def json_array(rows: Iterable[Any], encode: Callable[[Any], str], *, indent: int | None = None) -> Iterator[str]:
    """The array's text in pieces, one per row. ``encode`` is json.dumps of one row with the
    same ``indent`` (the row's own lines are indented once more here); ``None``: compact."""
    sep = "\n" + " " * indent if indent else ""
    first = True
    for row in rows:
        text = encode(row)
        yield ("[" if first else ",") + sep + (text.replace("\n", sep) if indent else text)
        first = False
    yield "[]" if first else ("\n]" if indent else "]")


class NotAList(ValueError):
    """A JSON document that is not an array where an array of rows was expected."""


#: Characters a JSON value other than an array can open with: such a document is JSON, but
#: not a list (told apart from text that is no JSON at all).
_OTHER_VALUES = tuple('{"-0123456789') + ("true", "false", "null")
_BLANK = " \t\n\r"
_SPACE = re.compile(f"[{_BLANK}]*")
#: A parse error this near the end of what has been read may be the text cut by a read, not
#: an error in it (``"\\u12`` or ``tru`` at the end of a chunk).
_SLACK = 8


def read_json_array(chunks: Iterable[bytes], *, limit: int = MAX_DEPTH) -> Iterator[tuple[Any, str]]:
    """The items of a JSON array in UTF-8, read from ``chunks`` of bytes as they come, each as
    its value and its own text: a bundle's 400 MB of rows are never held, only the item being
    read. An item is parsed when the text read so far holds it whole; one cut by a chunk waits
    for the next. Raises ValueError (``JSONFault``, ``UnicodeDecodeError``,
    ``TooDeep`` past ``limit`` levels, ``NotAList``) at the first fault, as ``json.loads``
    of the whole text would have."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    raw_decode = json.JSONDecoder().raw_decode
    source = iter(chunks)
    buf, pos, eof = "", 0, False
    dropped = 0  # characters read and let go: where ``buf`` begins in the whole text

    def more(twice: bool = False) -> bool:
        """Read the next chunk; with ``twice``, chunks until the text from ``pos`` on is twice as
        long (or the text ends): an item longer than a chunk (a story document's text of a few
        hundred MB) is then parsed again a handful of times, not once a chunk, and the text is
        joined once, not copied again for every chunk. False at the end of the text."""
        nonlocal buf, pos, eof, dropped
        if eof:
            return False
        parts, have = [buf[pos:]], len(buf) - pos
        wanted = 2 * have if twice else 0
        dropped, pos = dropped + pos, 0
        while True:
            chunk = next(source, None)
            eof = chunk is None
            parts.append(decoder.decode(chunk or b"", final=eof))
            have += len(parts[-1])
            if eof or have >= wanted:
                break
        buf = "".join(parts)
        return True

    def skip_space() -> str:
        """The next character that is not white space ('' at the end)."""
        nonlocal pos
        while True:
            pos = _SPACE.match(buf, pos).end()
            if pos < len(buf) or not more():
                return buf[pos:pos + 1]

    first = skip_space()
    if first != "[":
        while not eof and len(buf) - pos < 5:
            more()
        if buf.startswith(_OTHER_VALUES, pos):
            raise NotAList("it is not a JSON list")
        raise _fault("Expecting '['" if first else "Expecting value", dropped + pos)
    pos += 1
    after_item = False
    while True:
        # Compact text (a bundle's) has no space to skip: looked at before the loop that would.
        char = buf[pos] if pos < len(buf) and buf[pos] not in _BLANK else skip_space()
        if char == "]":
            pos += 1
            break
        if after_item:
            if char != ",":
                raise _fault("Expecting ',' delimiter", dropped + pos)
            pos += 1
            if pos >= len(buf) or buf[pos] in _BLANK:
                skip_space()
        while True:
            try:
                value, end = raw_decode(buf, pos)
            except json.JSONDecodeError as ex:
                cut = ex.pos >= len(buf) - _SLACK or ex.msg.startswith("Unterminated string")
                if cut and more(twice=True):
                    continue
                raise _fault(ex.msg, dropped + ex.pos) from None
            except RecursionError:
                raise TooDeep(f"nested more than {limit} levels deep") from None
            if end >= len(buf) - _SLACK and more():  # a number may go on in the next chunk
                continue
            break
        text = buf[pos:end]
        if text.count("[") + text.count("{") >= limit:  # else it cannot nest that deep: not walked
            depth_of([value], limit)  # within the array, as json.loads of the whole would see it
        yield value, text
        pos, after_item = end, True
    if skip_space():
        raise _fault("Extra data", dropped + pos)


class JSONFault(ValueError):
    """Text that is not JSON, and where: the character counted from the start of the whole
    text (a chunk's own line and column would mislead)."""


def _fault(message: str, at: int) -> JSONFault:
    return JSONFault(f"{message}: character {at + 1:,}")

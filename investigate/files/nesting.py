"""Nested files other people wrote, read within a depth budget.

JSON (a bundle's members, a map's boundaries), TOML (a workspace's protocols) and MIME (an
e-mail a person forwards) nest; Python's parsers recurse, and a file nested a few thousand
levels deep ends in a ``RecursionError`` — a traceback, or a broken protocol file that stops
every command using protocols. No file of ours nests more than a dozen levels (a GeoJSON
MultiPolygon is five), so ``MAX_DEPTH`` levels is generous, and deeper is refused in one line
by the reader that asked, in its own words (``TooDeep`` carries the reason).
"""

from __future__ import annotations

import json
import tomllib

#: More levels than any file this program reads has a reason for.
MAX_DEPTH = 64


class TooDeep(ValueError):
    """A file nested deeper than its reader allows; a ``ValueError`` so readers that already
    refuse malformed files refuse this one the same way."""


def depth_of(value, limit: int = MAX_DEPTH) -> int:
    """How deep lists and dicts nest in ``value`` (a scalar is 0), walked without recursion;
    raises TooDeep as soon as it passes ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            raise TooDeep(f"nested more than {limit} levels deep")
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _within(parse, text, limit: int):
    try:
        value = parse(text)
    except RecursionError:  # the parser recursed past Python's own limit, far past ours
        raise TooDeep(f"nested more than {limit} levels deep") from None
    depth_of(value, limit)
    return value


def load_json(text: str | bytes, limit: int = MAX_DEPTH):
    """``json.loads`` within ``limit`` levels: TooDeep (a ValueError) past it."""
    return _within(json.loads, text, limit)


def load_toml(text: str, limit: int = MAX_DEPTH) -> dict:
    """``tomllib.loads`` within ``limit`` levels: TooDeep (a ValueError) past it; a TOML error
    stays a ``tomllib.TOMLDecodeError``."""
    return _within(tomllib.loads, text, limit)


def check_mime_nesting(data: bytes, limit: int = MAX_DEPTH) -> None:
    """Refuse (TooDeep) an e-mail whose multipart parts nest deeper than ``limit``, before the
    ``email`` package's recursive parser sees it: each level declares its own boundary, so
    counting the declared multipart boundaries bounds the depth, in one pass over the bytes."""
    declared = data.lower().count(b"multipart/")
    if declared > limit:
        raise TooDeep(f"{declared} multipart parts, more than the {limit} an e-mail may nest")

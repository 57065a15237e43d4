"""The command line's parameter types, as click's ``types.py``: each value checked and converted
in one place, so every command reads a radius, a ``--map`` or an answer the same way and a bad
one is the same one-line error (or, at a prompt, asked again)."""

from __future__ import annotations

import re
from typing import Callable

import click

from ..errors import InvalidInput
from ..protocol.values import describe_minutes
from .util import echo


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
            parsed = self.question.parse(value, tz=self.tz)
        except InvalidInput as ex:
            self.fail(str(ex), param, ctx)
        if self.question.type == "duration" and isinstance(value, str) and isinstance(parsed, (int, float)):
            say_how_read(self.question, value, parsed)
        return parsed


def say_how_read(question, typed: str, minutes: float) -> None:
    """A typed duration said back, "wait: 1:05 read as 1 min 5 s", so that a stopwatch's
    reading taken for hours (or the other way round) is seen before the visit is saved."""
    echo(f"{question.option.lstrip('-')}: {typed.strip()} read as {describe_minutes(minutes)}", err=True)


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


def value_maps_by_column(value_maps) -> dict[str, dict[str, str]]:
    """``--map-value`` options, (column, word, answer) each, as {column: {word: answer}}."""
    out: dict[str, dict[str, str]] = {}
    for column, word, answer in value_maps:
        out.setdefault(column, {})[word] = answer
    return out


class NullValueType(click.ParamType):
    """``COLUMN=WORD``: a placeholder the file writes where it has no value; the column is the
    file's own heading, kept as typed (a heading may hold '-' or spaces)."""

    name = "column=word"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        column, eq, word = value.partition("=")
        if not eq or not column.strip() or not word.strip():
            self.fail(f"{value!r} is not COLUMN=WORD, e.g. \"Inspection Date=See Complaint\"", param, ctx)
        return column.strip(), word.strip()


def table_options(f: Callable) -> Callable:
    """--ignore, --ignore-unknown, --fix-text and --null-value: what every importer of a
    table offers."""
    f = click.option("--null-value", "null_values", multiple=True, type=NullValueType(), metavar="COLUMN=WORD",
                     help="A word the file writes in COLUMN where it has no value, e.g. "
                          "\"Inspection Date=See Complaint\": such cells are read as unknown and counted "
                          "(repeatable).")(f)
    f = click.option("--fix-text", is_flag=True,
                     help="Repair mojibake found in the columns read (\"CafÃ©\" → \"Café\") and remove "
                          "control characters from them; without it the summary only warns, with a count "
                          "and the first lines.")(f)
    f = click.option("--ignore-unknown", is_flag=True,
                     help="Leave out every column that is neither mapped nor known (listed in the summary).")(f)
    f = click.option("--ignore", "ignore", multiple=True, metavar="COLUMN",
                     help="Leave out this column of the file (repeatable).")(f)
    return f


__all__ = ["RadiusType", "KeyValueType", "AnswerType", "say_how_read", "ValueMapType", "value_maps_by_column", "NullValueType", "table_options"]

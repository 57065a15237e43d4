"""The values answers take, and the conditions rules hold over them.

How a typed answer reads: yes/no words, "n/a", durations ("48h", "4 min", "1:30"), money
("EUR 39.90"), ISO 4217 currencies. A condition (``when``) is declarative: the only operators
are the ones in ``OPERATORS``; no ``eval``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..errors import InvalidInput

QUESTION_TYPES = ("bool", "choice", "int", "number", "text", "date", "datetime", "duration", "money", "rating")
#: The service dimensions a scored question may belong to (SERVQUAL-like, plus resolution).
DIMENSIONS = ("courtesy", "respect", "commitment", "honesty", "resolution")
#: The answer that says "does not apply": it leaves the question out of the points possible.
NA = "n/a"
NA_WORDS = {"n/a", "na", "not applicable", "entfällt", "ikke relevant"}
#: How a derived value is computed from two answers; the only operations there are.
DERIVATIONS = ("minutes_between", "difference")
OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "present")

TRUE_WORDS = {"y", "yes", "true", "1", "ja", "j", "sold", "on"}
FALSE_WORDS = {"n", "no", "false", "0", "nein", "nej", "off"}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|hours?|d|days?|w|weeks?)\s*$", re.I)
_MINUTES = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)?\s*$", re.I)
_CLOCK = re.compile(r"^\s*(\d+):([0-5]\d)(?::([0-5]\d))?\s*$")
#: One part of a compound duration: "1 min", "5 s", "1h" in "1 h 30 min", "1 min 5 s", "1m5s".
_PART = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)(?=\d|\s|$)\s*",
                   re.I)
_UNIT_MINUTES = {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}
#: An amount typed with its ISO 4217 currency before or after it ("EUR 39.90", "39,90 EUR").
MONEY = re.compile(r"^\s*(?:([A-Za-z]{3})\s*)?(-?\d+(?:[.,]\d{1,2})?)\s*(?:([A-Za-z]{3}))?\s*$")


def parse_minutes(text: Any) -> float:
    """A duration typed by a person, in minutes: ``90s``, ``4 min``, ``1.5h``, ``2d``, a bare
    number = minutes; several parts ``1 min 5 s``, ``1 h 30 min``; and a stopwatch's or a
    phone's call timer as it reads, ``1:05`` = m:ss and ``1:02:05`` = h:mm:ss (what a tester
    holding one types; "1 h 5 min" is how to write an hour). ``describe_minutes`` says back
    how it was read."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        clock = _CLOCK.match(str(text))
        if clock:
            a, b, c = int(clock.group(1)), int(clock.group(2)), clock.group(3)
            return a * 60 + b + int(c) / 60 if c is not None else a + b / 60
        m = _MINUTES.match(str(text))
        if m:
            value = float(m.group(1).replace(",", ".")) * _UNIT_MINUTES[(m.group(2) or "min").lower()[0]]
        else:
            parts = list(_PART.finditer(str(text)))
            if len(parts) < 2 or "".join(p.group(0) for p in parts) != str(text):
                raise ValueError(text)
            value = sum(float(p.group(1).replace(",", ".")) * _UNIT_MINUTES[p.group(2).lower()[0]] for p in parts)
    if value < 0:
        raise ValueError(text)
    return value


def describe_minutes(minutes: float) -> str:
    """A duration in words a person checks at a glance: "1 min 5 s", "1 h 30 min", "45 s"."""
    seconds = round(minutes * 60)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    mins, seconds = divmod(seconds, 60)
    shown = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "min"), (seconds, "s")) if n]
    return " ".join(shown) or "0 s"


def known_currency(code: str) -> bool:
    """ISO 4217 codes as Babel knows them (no list of our own)."""
    from babel.numbers import list_currencies

    return code.upper() in list_currencies()


def money_amount(value: dict) -> Decimal:
    return Decimal(value["amount"])


def is_na(value: Any) -> bool:
    return isinstance(value, str) and value == NA


def parse_duration(text: str) -> timedelta:
    """``48h``, ``14d``, ``2w`` → a timedelta."""
    m = _DURATION.match(str(text))
    if not m:
        raise InvalidInput(f"{text!r} is not a duration like 48h, 14d or 2w")
    amount, unit = float(m.group(1)), m.group(2)[0].lower()
    return {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]


def condition_holds(value: Any, cond: Any) -> bool:
    if is_na(value) and cond != NA:
        value = None  # "does not apply" satisfies no condition but "absent"
    if isinstance(value, dict) and "amount" in value:
        value = money_amount(value)  # money compares by its amount
        if not isinstance(cond, dict):
            return value == Decimal(str(cond))
        cond = {op: ([Decimal(str(a)) for a in arg] if isinstance(arg, list) else
                     arg if op == "present" else Decimal(str(arg))) for op, arg in cond.items()}
    if not isinstance(cond, dict):
        return value == cond
    for op, arg in cond.items():
        if op == "present":
            ok = (value is not None) == bool(arg)
        elif value is None:
            ok = op in ("ne", "not_in")
        elif op == "eq":
            ok = value == arg
        elif op == "ne":
            ok = value != arg
        elif op == "in":
            ok = value in arg
        elif op == "not_in":
            ok = value not in arg
        elif op == "gt":
            ok = value > arg
        elif op == "gte":
            ok = value >= arg
        elif op == "lt":
            ok = value < arg
        else:  # lte
            ok = value <= arg
        if not ok:
            return False
    return True

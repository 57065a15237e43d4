"""The shape of a protocol file, declared for ``msgspec``: which tables and keys there are,
what type each holds, which are required, which words a key may take. ``check_shape`` runs it
and turns msgspec's error into ours, with the path of what is wrong (``questions[2].type``).

Only the shape lives here. What one part of a file says about another (a rule's question
exists, a choice's points cover every choice, a derived value's inputs are datetimes) is
checked in ``parse`` as code.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta

from ..errors import ProtocolError
from ..vocabulary import OUTCOMES, SEVERITIES, STORE_CHANNELS
from .values import DERIVATIONS, DIMENSIONS, QUESTION_TYPES

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]*$", description="must be lowercase letters, digits and dashes")]
Key = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*$",
                          description="must be lowercase letters, digits and underscores")]
Lang = Annotated[str, Meta(pattern=r"^[a-z]{2}$", description="expected a two-letter language code such as de or da")]
Age = Annotated[int, Meta(ge=10, le=99, description="is not an age in years")]
Points = Annotated[float, Meta(ge=0, description="is not a number of points (0 or more)")]
Weight = Annotated[float, Meta(ge=0, description="is below zero or not a number")]
Section = Literal[DIMENSIONS]  # type: ignore[valid-type]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]


class Table(msgspec.Struct, forbid_unknown_fields=True):
    """A TOML table whose keys are all known: a typo is an error, never a silently ignored key."""


class Tester(Table):
    min_age: Age | None = None
    max_age: Age | None = None
    id_policy: str = ""
    observer_required: bool = False


class Finding(Table):
    title: str
    code: str | None = None
    statute: str | None = None
    severity: Severity | None = None
    description: str | None = None


class Band(Table):
    points: Points
    max: float | None = None


class Fatal(Table):
    when: Any
    finding: Finding | None = None


class Question(Table):
    key: Key
    type: Literal[QUESTION_TYPES]  # type: ignore[valid-type]
    prompt: str
    required: bool = True
    choices: list[str] = []
    min: float | None = None
    max: float | None = None
    help: str = ""
    section: Section | None = None
    weight: Weight = 1
    points: Union[dict[str, Points], list[Band], None] = None
    na: bool = False
    fatal: Fatal | None = None


Pair = Annotated[list[str], Meta(min_length=2, max_length=2, description="expected two question keys")]
#: A derived value names exactly one derivation as a key of its own (``minutes_between = [a, b]``).
Derived = msgspec.defstruct(
    "Derived",
    [("key", Key), ("prompt", str, ""), ("section", Union[Section, None], None), ("weight", Weight, 1),
     ("points", Union[dict[str, Points], list[Band], None], None), *((op, Union[Pair, None], None) for op in DERIVATIONS)],
    bases=(Table,), module=__name__)


class Response(Table):
    minutes: str | None = None
    open_since: str | None = None
    open_when: dict[str, Any] = {}


class PromiseScore(Table):
    section: Section
    points: dict[str, Points]
    weight: Weight = 1


class Translation(Table):
    title: str = ""
    description: str = ""
    prompts: dict[str, str] = {}


class Texts(Table):
    title: str = ""
    description: str = ""
    id_policy: str = ""
    lede: str = ""
    questions: dict[str, str] = {}
    choices: dict[str, dict[str, str]] = {}
    findings: dict[str, Any] = {}


class Promise(Table):
    what: str
    due_after: str | None = None
    due_after_answer: str | None = None
    due_at_answer: str | None = None
    unit: Literal["hours", "days"] = "days"


class Rule(Table):
    when: Annotated[dict[str, Any], Meta(min_length=1, description="expected a table of conditions on answers")]
    outcome: Literal[OUTCOMES] | None = None  # type: ignore[valid-type]
    finding: Finding | None = None
    promise: Promise | None = None


class ProtocolFile(Table):
    key: Slug
    title: str
    questions: Annotated[list[Question], Meta(min_length=1, description="expected a non-empty list of [[questions]]")]
    version: int = 1
    channel: Literal[STORE_CHANNELS] = "in_person"  # type: ignore[valid-type]
    description: str = ""
    default_outcome: Literal[OUTCOMES] = "inconclusive"  # type: ignore[valid-type]
    tester: Tester | None = None
    rules: list[Rule] = []
    promise_broken: Finding | None = None
    derived: list[Derived] = []  # type: ignore[valid-type]
    response: Response | None = None
    promise_score: PromiseScore | None = None
    overcharge: str | None = None
    translations: dict[str, Translation] = {}
    text: dict[Lang, Texts] = {}
    lede: str = ""
    rotation: dict[str, Any] = {}


_ERROR = re.compile(r"^(?P<message>.*?)(?: - at (?P<in_key>`key` in )?`\$(?P<path>[^`]*)`)?$", re.S)
_SEGMENT = re.compile(r"\.(\w+)|\[(\d+|\.\.\.)\]")


def check_shape(data: dict, source: str) -> None:
    """Hold ``data`` (a parsed protocol file) to ``ProtocolFile``; a ProtocolError names the
    file, the path and what was expected there."""
    try:
        msgspec.convert(data, ProtocolFile)
    except msgspec.ValidationError as ex:
        where, message = describe(str(ex), data)
        raise ProtocolError(f"{source}: {where}: {message}" if where else f"{source}: {message}") from None


def describe(error: str, data: dict) -> tuple[str, str]:
    """msgspec's message as (path, our words): ``questions[0].type``, ``'boool' is not one of …``."""
    m = _ERROR.match(error)
    message = m["message"]
    steps = [name or (int(index) if index.isdigit() else ...) for name, index in _SEGMENT.findall(m["path"] or "")]
    kind, value, steps = _walk(ProtocolFile, data, steps)
    if m["in_key"]:  # a key of a table that may hold any key of its kind (a language code)
        key_kind = typing.get_args(_container(kind, dict))[0]
        bad = next((k for k in value if not _fits(k, key_kind)), None) if isinstance(value, dict) else None
        kind, value, steps = key_kind, _MISSING, steps + ([bad] if bad is not None else [])
    where = "".join(f".{s}" if isinstance(s, str) else f"[{s}]" for s in steps).lstrip(".")
    if field := re.match(r"Object contains unknown field `(.+)`", message):
        struct = _struct(kind)
        allowed = ", ".join(sorted(f.name for f in msgspec.structs.fields(struct))) if struct else ""
        return _join(where, field[1]), "unknown key" + (f" (expected one of {allowed})" if allowed else "")
    if field := re.match(r"Object missing required field `(.+)`", message):
        return _join(where, field[1]), "missing"
    base, description = _strip(kind)
    if message.startswith("Invalid enum value"):
        return where, f"{message.split(' ', 3)[3]} is not one of {', '.join(typing.get_args(base))}"
    if description:
        return where, description if value is _MISSING else f"{value!r} {description}"
    for word, ours in _TYPE_WORDS.items():
        message = message.replace(f"`{word}`", ours)
    return where, message[:1].lower() + message[1:]


#: msgspec's names of types, in the words of a TOML file.
_TYPE_WORDS = {"object": "a table", "array": "a list", "str": "text", "int": "a whole number", "float": "a number",
               "bool": "true or false", "null": "nothing"}
_MISSING = object()
_UNIONS = (Union, types.UnionType)


def _strip(kind) -> tuple[Any, str | None]:
    """A type without ``None`` beside it and without its ``Annotated`` wrapper, and the
    wrapper's description."""
    description = None
    while True:
        if typing.get_origin(kind) in _UNIONS:
            options = [o for o in typing.get_args(kind) if o is not type(None)]
            if len(options) != 1:
                return kind, description
            kind = options[0]
        elif typing.get_origin(kind) is Annotated:
            kind, *metas = typing.get_args(kind)
            description = next((m.description for m in metas if isinstance(m, Meta) and m.description), description)
        else:
            return kind, description


def _options(kind) -> list:
    base, _ = _strip(kind)
    return list(typing.get_args(base)) if typing.get_origin(base) in _UNIONS else [base]


def _struct(kind):
    return next((o for o in map(lambda o: _strip(o)[0], _options(kind))
                 if isinstance(o, type) and issubclass(o, msgspec.Struct)), None)


def _container(kind, origin):
    return next((_strip(o)[0] for o in _options(kind) if typing.get_origin(_strip(o)[0]) is origin), None)


def _fits(value, kind) -> bool:
    try:
        msgspec.convert(value, kind)
        return True
    except msgspec.ValidationError:
        return False


def _walk(kind, value, steps):
    """The declared type and the value at ``steps``, and the steps with each table entry that
    msgspec wrote as ``[...]`` named: the first entry that does not fit."""
    named = []
    for step in steps:
        if isinstance(step, str):
            struct = _struct(kind)
            fields = {f.name: f.type for f in msgspec.structs.fields(struct)} if struct else {}
            kind = fields.get(step, Any)
            value = value.get(step, _MISSING) if isinstance(value, dict) else _MISSING
        elif step is ...:
            kind = typing.get_args(_container(kind, dict))[-1]
            step = next((k for k, v in value.items() if not _fits(v, kind)), None) if isinstance(value, dict) else None
            value = value[step] if step is not None else _MISSING
        else:
            kind = typing.get_args(_container(kind, list))[0]
            value = value[step] if isinstance(value, list) and step < len(value) else _MISSING
        if step is not None:
            named.append(step)
    return kind, value, named


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


__all__ = ["ProtocolFile", "check_shape", "describe"]

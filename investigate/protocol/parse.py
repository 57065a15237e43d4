"""Reading a protocol file: its shape held to ``shape.ProtocolFile`` by msgspec (every table
and key, with the path of what is wrong: ``questions[2].type``), then what one part says about
another checked here as code; the content hash that says whether two files judge visits alike."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from ..errors import InvalidInput, ProtocolError
from ..files.nesting import TooDeep, load_toml
from .rotation import check_rules
from .model import Protocol, Rule
from .questions import Derived, Question
from .shape import check_shape
from .values import DERIVATIONS, OPERATORS, parse_duration


def load_protocol(path: Path | str, *, builtin: bool = False) -> Protocol:
    """Read and validate one protocol file; a ProtocolError names the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise ProtocolError(f"{path}: cannot read: {getattr(ex, 'strerror', None) or ex}")
    return protocol_from_text(text, source=str(path), builtin=builtin)


@functools.lru_cache(maxsize=256)
def protocol_from_text(text: str, *, source: str = "<protocol>", builtin: bool = False) -> Protocol:
    """A protocol from its TOML text, carrying that text and its content hash (see
    ``content_hash``) so that a visit can name exactly the rules that judged it.

    Remembered by its text (a Protocol is frozen): every lookup of a protocol reads the files of
    all of them, and parsing the thirteen built-ins again was 0.16 s of a `fieldwork` that asks
    twice. A changed file is new text, parsed anew; an invalid one raises each time."""
    try:
        data = load_toml(text)
    except (tomllib.TOMLDecodeError, TooDeep) as ex:
        raise ProtocolError(f"{source}: not valid TOML: {ex}")
    from dataclasses import replace

    return replace(parse_protocol(data, source=source, builtin=builtin), text=text,
                   content_hash=content_hash(data))


#: Top-level keys that do not change how a visit is judged: texts in other languages
#: (``translations``, and issue 14's ``text`` tables and ``lede``), or how often a store may be
#: visited (``rotation``), are not a new version of the rules.
_UNHASHED_KEYS = {"translations", "text", "lede", "rotation"}


def content_hash(data: dict) -> str:
    """SHA-256 of the protocol's meaning, not its bytes: the parsed TOML as canonical JSON
    (sorted keys), without texts in other languages. Comments, spacing and key order may
    change freely; a changed question, choice, rule or point changes the hash."""
    import hashlib
    import json

    meaning = {k: v for k, v in data.items() if k not in _UNHASHED_KEYS}
    blob = json.dumps(meaning, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def parse_protocol(data: dict, *, source: str = "<protocol>", builtin: bool = False) -> Protocol:
    """A ``Protocol`` from a parsed file: its shape checked by ``shape.check_shape``, then the
    rules between its parts (what a rule, a derived value or a text names must exist and fit)."""
    def fail(where: str, msg: str):
        raise ProtocolError(f"{source}: {where}: {msg}")

    def check_keys(obj: dict, allowed: set, where: str):
        for k in obj:
            if k not in allowed:
                fail(f"{where}.{k}", f"unknown key (expected one of {', '.join(sorted(allowed))})")

    check_shape(data, source)
    key = data["key"]
    channel = data.get("channel", "in_person")
    default_outcome = data.get("default_outcome", "inconclusive")
    tester = data.get("tester", {})
    if "min_age" in tester and "max_age" in tester and tester["min_age"] > tester["max_age"]:
        fail("tester", "min_age is above max_age")

    questions = []
    for i, q in enumerate(data["questions"]):
        where = f"questions[{i}]"
        choices = q.get("choices", [])
        if q["type"] == "choice" and not choices:
            fail(f"{where}.choices", "a choice question needs choices")
        if choices and q["type"] != "choice":
            fail(f"{where}.choices", "only choice questions have choices")
        if q["key"] in {x.key for x in questions}:
            fail(f"{where}.key", f"{q['key']!r} is used twice")
        if q["type"] == "rating":
            if not all(isinstance(q.get(k), int) and not isinstance(q.get(k), bool) for k in ("min", "max")) \
                    or q["min"] >= q["max"]:
                fail(f"{where}.min", "a rating needs a whole-number scale: min below max")
        scoring = _check_scoring(q, choices, where, fail)
        questions.append(Question(key=q["key"], type=q["type"], prompt=q["prompt"],
                                  required=bool(q.get("required", True)), choices=tuple(choices),
                                  min=q.get("min"), max=q.get("max"), help=q.get("help", ""), **scoring))
    by_key = {q.key: q for q in questions}

    derived, derived_scores = [], []
    for i, d in enumerate(data.get("derived", [])):
        where = f"derived[{i}]"
        if d["key"] in by_key or d["key"] in {x.key for x in derived}:
            fail(f"{where}.key", f"{d['key']!r} is already a question or a derived value")
        ops = [op for op in DERIVATIONS if op in d]
        if len(ops) != 1:
            fail(where, f"give exactly one of {', '.join(DERIVATIONS)}")
        op, args = ops[0], d[ops[0]]
        known = {**{k: q.type for k, q in by_key.items()}, **{x.key: x.type for x in derived}}
        for arg in args:
            if arg not in known:
                fail(f"{where}.{op}", f"{arg!r} is no question or derived value of this protocol")
        types = {known[a] for a in args}
        if op == "minutes_between" and types != {"datetime"}:
            fail(f"{where}.{op}", "both must be datetime questions")
        if op == "difference" and not (types <= {"money"} or types <= {"int", "number", "duration"}):
            fail(f"{where}.{op}", "both must be money, or both numbers")
        result_type = "duration" if op == "minutes_between" else known[args[0]]
        derived.append(Derived(key=d["key"], op=op, args=tuple(args), prompt=d.get("prompt", ""),
                               type=result_type))
        if "section" in d:
            # A derived value scores like a number question with bands (money by its amount).
            scoring = _check_scoring({**d, "type": "number"}, [], where, fail)
            derived_scores.append(Question(key=d["key"], type="number", prompt=d.get("prompt") or d["key"],
                                           required=False, derived=True, **scoring))
    value_types = {**{k: q.type for k, q in by_key.items()}, **{x.key: x.type for x in derived}}

    response = data.get("response")
    if response is not None:
        if value_types.get(response.get("minutes")) not in ("duration", "int", "number"):
            fail("response.minutes", "must name a duration question or a minutes_between value")
        if "open_since" in response and value_types.get(response["open_since"]) != "datetime":
            fail("response.open_since", "must name a datetime question")
        for k in response.get("open_when", {}):
            if k not in value_types:
                fail(f"response.open_when.{k}", "no such question")

    promise_score = data.get("promise_score")
    if promise_score is not None and set(promise_score["points"]) != {"kept", "late", "broken"}:
        fail("promise_score.points", "expected points (0 or more) for kept, late and broken")

    overcharge = data.get("overcharge")
    if overcharge is not None and value_types.get(overcharge) not in ("money", "int", "number"):
        fail("overcharge", f"{overcharge!r} is no money or number value of this protocol")

    translations = data.get("translations", {})
    for lang, t in translations.items():
        for k in t.get("prompts", {}):
            if k not in by_key:
                fail(f"translations.{lang}.prompts.{k}", "no such question")

    rules = []
    for i, r in enumerate(data.get("rules", [])):
        where = f"rules[{i}]"
        when = r["when"]
        for qkey, cond in when.items():
            if qkey not in value_types:
                fail(f"{where}.when.{qkey}", "no such question")
            if qkey not in by_key:
                continue  # a derived value: compared as a number or an amount
            q = by_key[qkey]
            if isinstance(cond, dict):
                for op, arg in cond.items():
                    if op not in OPERATORS:
                        fail(f"{where}.when.{qkey}.{op}", f"unknown operator (expected one of {', '.join(OPERATORS)})")
                    values = arg if op in ("in", "not_in") else [arg]
                    if op in ("in", "not_in") and not isinstance(arg, list):
                        fail(f"{where}.when.{qkey}.{op}", "expected a list")
                    if q.type == "choice" and op != "present":
                        for v in values:
                            if v not in q.choices:
                                fail(f"{where}.when.{qkey}", f"{v!r} is not one of the question's choices")
            elif q.type == "choice" and cond not in q.choices:
                fail(f"{where}.when.{qkey}", f"{cond!r} is not one of the question's choices")
        if "promise" in r:
            p = r["promise"]
            if sum(k in p for k in ("due_after", "due_after_answer", "due_at_answer")) != 1:
                fail(f"{where}.promise", "give exactly one of due_after, due_after_answer or due_at_answer")
            if "due_after" in p:
                try:
                    parse_duration(p["due_after"])
                except InvalidInput as ex:
                    fail(f"{where}.promise.due_after", str(ex))
            elif "due_at_answer" in p:
                if p["due_at_answer"] not in by_key or by_key[p["due_at_answer"]].type != "datetime":
                    fail(f"{where}.promise.due_at_answer", "must name a datetime question")
            elif p["due_after_answer"] not in by_key or by_key[p["due_after_answer"]].type not in ("int", "number"):
                fail(f"{where}.promise.due_after_answer", "must name a number question")
        if not any(k in r for k in ("outcome", "finding", "promise")):
            fail(where, "a rule needs an outcome, a finding or a promise")
        rules.append(Rule(when=when, outcome=r.get("outcome"), finding=r.get("finding"),
                          promise=r.get("promise")))

    promise_broken = data.get("promise_broken")

    codes = {r.finding["code"] for r in rules if r.finding and r.finding.get("code")}
    codes |= {q.fatal["finding"]["code"] for q in questions if q.fatal and q.fatal.get("finding", {}).get("code")}
    if promise_broken and promise_broken.get("code"):
        codes.add(promise_broken["code"])
    text_tables = data.get("text", {})
    for lang, given in text_tables.items():
        where = f"text.{lang}"
        check_keys(given.get("questions", {}), set(by_key), f"{where}.questions")
        check_keys(given.get("choices", {}), {q.key for q in questions if q.choices}, f"{where}.choices")
        for qkey, labels in given.get("choices", {}).items():
            check_keys(labels, set(by_key[qkey].choices), f"{where}.choices.{qkey}")
        check_keys(given.get("findings", {}), codes, f"{where}.findings")

    for where, lede in [("lede", data.get("lede"))] + [(f"text.{lang}.lede", given.get("lede"))
                                                       for lang, given in text_tables.items()]:
        try:
            lede and lede % {"violations": 1, "eligible": 2, "ages": "16–17"}
        except (KeyError, ValueError, TypeError) as ex:
            fail(where, f"may use only %(violations)s, %(eligible)s and %(ages)s ({ex})")

    # One table of texts per language: [text.LANG] (issue 14: everything a report prints) and
    # the older [translations.LANG] (title, description, prompts) of the service protocols.
    merged: dict[str, dict] = {}
    for lang, t in translations.items():
        merged[lang] = {**({"questions": dict(t["prompts"])} if "prompts" in t else {}),
                        **{k: v for k, v in t.items() if k != "prompts"}}
    for lang, given in text_tables.items():
        merged.setdefault(lang, {}).update(given)
    for t in merged.values():
        if "questions" in t:
            t["prompts"] = t["questions"]
    translations = merged

    version = data.get("version", 1)
    extra = {}
    if "rotation" in data:
        try:
            extra["rotation"] = check_rules(data["rotation"])
        except InvalidInput as ex:
            fail("rotation", str(ex).removeprefix("rotation."))
    return Protocol(
        key=key,
        title=data["title"],
        version=version,
        channel=channel,
        description=data.get("description", ""),
        questions=tuple(questions),
        rules=tuple(rules),
        default_outcome=default_outcome,
        observer_required=bool(tester.get("observer_required", False)),
        tester_min_age=tester.get("min_age"),
        tester_max_age=tester.get("max_age"),
        id_policy=tester.get("id_policy", ""),
        promise_broken=promise_broken,
        source=source,
        builtin=builtin,
        derived=tuple(derived),
        response=response,
        promise_score=promise_score,
        translations=translations,
        overcharge=overcharge,
        derived_scores=tuple(derived_scores),
        lede=data.get("lede", ""),
        extra=extra,
    )


def _check_scoring(q: dict, choices: list, where: str, fail) -> dict:
    """Validate a question's section, weight, points, n/a and fatal answer; the Question fields."""
    scoring_keys = {"weight", "points", "na", "fatal"} & set(q)
    if "section" not in q:
        if scoring_keys - {"na"}:
            fail(f"{where}.section", f"a question with {', '.join(sorted(scoring_keys))} needs a section")
        return {"na": bool(q.get("na", False))}
    section = q["section"]
    weight = q.get("weight", 1)
    points = q.get("points")
    kind = q["type"]
    if kind == "choice":
        if not isinstance(points, dict):
            fail(f"{where}.points", "expected a table of points per choice")
        missing = [c for c in choices if c not in points]
        extra = [c for c in points if c not in choices]
        if missing or extra:
            fail(f"{where}.points", (f"no points for {', '.join(map(repr, missing))}" if missing else
                                     f"{', '.join(map(repr, extra))} is not one of the choices {', '.join(choices)}"))
    elif kind == "bool":
        if not isinstance(points, dict) or set(points) != {"yes", "no"}:
            fail(f"{where}.points", "expected points for yes and no")
    elif kind in ("int", "number", "duration"):
        if not isinstance(points, list) or not points or not all(isinstance(b, dict) for b in points):
            fail(f"{where}.points", "expected bands: [{ max = 1, points = 2 }, …, { points = 0 }]")
        for j, band in enumerate(points):
            if "max" not in band and j != len(points) - 1:
                fail(f"{where}.points[{j}]", "only the last band may leave out max")
        points = [dict(b) for b in points]
    elif kind == "rating":
        if points is not None:
            fail(f"{where}.points", "a rating scores its scale (value − min); leave out points")
    else:
        fail(f"{where}.section", f"a {kind} question cannot be scored")
    fatal = q.get("fatal")
    if fatal is not None:
        if kind == "choice" and not isinstance(fatal["when"], dict) and fatal["when"] not in choices:
            fail(f"{where}.fatal.when", f"{fatal['when']!r} is not one of the choices")
        # Without a finding of its own the section is zeroed and a rule says what was found.
        if "finding" in fatal:
            fatal = {"when": fatal["when"], "finding": {"severity": "high", **fatal["finding"]}}
    return {"section": section, "weight": float(weight), "points": points, "na": bool(q.get("na", False)),
            "fatal": fatal}

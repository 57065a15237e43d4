"""Protocols are data: TOML files that say what a visit records and how its outcome follows.

A protocol declares its questions (key, type, prompt, required, choices), the tester age
range where minors test, and rules. A rule is declarative — ``when`` holds conditions on
answers, all of which must hold — and says which outcome, finding and promise follow. No
``eval``: the only operators are the ones in ``OPERATORS``.

Texts are in English in the protocol's own fields; ``[text.de]`` / ``[text.da]`` (and
``[text.en]`` for English choice labels) give the title, description, ID policy, question
prompts, choice labels and finding titles in another language. ``Protocol.texts(lang)`` returns
them all, or raises ``MissingTranslation`` naming every text the language lacks — a report in
German must not fall back to English.

Built-ins ship in ``investigate/protocols/``; a workspace adds its own in its
``protocols/`` folder (a workspace protocol with a built-in's key replaces it).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, MissingTranslation, NotFound, ProtocolError

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "protocols"

QUESTION_TYPES = ("bool", "choice", "int", "number", "text", "date")
OUTCOMES = ("violation", "inconclusive", "compliant")  # most to least severe
SEVERITIES = ("observation", "low", "medium", "high", "critical")
CHANNELS = ("in_person", "phone", "email", "web", "mail")
OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "present")

#: Why an attempt could not be made (Synar/STARS): never compliant, never a violation.
ATTEMPT_STATUSES = (
    "completed",
    "closed",
    "not_found",
    "minors_not_admitted",
    "members_only",
    "unsafe",
    "other",
)

TRUE_WORDS = {"y", "yes", "true", "1", "ja", "j", "sold", "on"}
FALSE_WORDS = {"n", "no", "false", "0", "nein", "nej", "off"}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|hours?|d|days?|w|weeks?)\s*$", re.I)


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    prompt: str
    required: bool = True
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    help: str = ""

    @property
    def option(self) -> str:
        """The command-line option that answers this question: ``id_check`` → ``--id-check``."""
        return "--" + self.key.replace("_", "-")

    def parse(self, raw: Any) -> Any:
        """Turn a typed or imported answer into its value, or raise InvalidInput saying why."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.required:
                raise InvalidInput(f"{self.key}: an answer is required")
            return None
        if self.type == "bool":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise InvalidInput(f"{self.key}: {raw!r} is not yes or no")
        if self.type == "choice":
            word = str(raw).strip()
            for choice in self.choices:
                if word.lower() == choice.lower():
                    return choice
            raise InvalidInput(f"{self.key}: {raw!r} is not one of {', '.join(self.choices)}")
        if self.type in ("int", "number"):
            try:
                value = int(str(raw).strip()) if self.type == "int" else float(str(raw).strip().replace(",", "."))
            except ValueError:
                raise InvalidInput(f"{self.key}: {raw!r} is not a{'n whole' if self.type == 'int' else ''} number")
            if self.min is not None and value < self.min:
                raise InvalidInput(f"{self.key}: {value} is below the minimum {self.min:g}")
            if self.max is not None and value > self.max:
                raise InvalidInput(f"{self.key}: {value} is above the maximum {self.max:g}")
            return value
        if self.type == "date":
            if isinstance(raw, date):
                return raw.isoformat()
            try:
                return date.fromisoformat(str(raw).strip()).isoformat()
            except ValueError:
                raise InvalidInput(f"{self.key}: {raw!r} is not a date (YYYY-MM-DD)")
        return str(raw).strip()

    def as_dict(self) -> dict:
        d = {"key": self.key, "type": self.type, "prompt": self.prompt, "required": self.required,
             "option": self.option}
        if self.choices:
            d["choices"] = list(self.choices)
        if self.min is not None:
            d["min"] = self.min
        if self.max is not None:
            d["max"] = self.max
        if self.help:
            d["help"] = self.help
        return d


@dataclass(frozen=True)
class Rule:
    when: dict
    outcome: str | None = None
    finding: dict | None = None
    promise: dict | None = None

    def matches(self, answers: dict) -> bool:
        return all(_condition_holds(answers.get(key), cond) for key, cond in self.when.items())


LANGUAGE_NAMES = {"en": "English", "de": "German", "da": "Danish"}


@dataclass(frozen=True)
class ProtocolText:
    """A protocol's printed texts in one language."""

    lang: str
    title: str
    description: str
    id_policy: str
    lede: str
    prompts: dict[str, str]
    choices: dict[str, dict[str, str]]
    findings: dict[str, str]

    def finding_title(self, code: str | None, recorded: str) -> str:
        """The title of a finding the protocol gives, in this language; a finding added by hand
        (a code the protocol does not know) keeps the words its author wrote."""
        return self.findings.get(code, recorded) if code else recorded

    def choice(self, question: str, value) -> str:
        return self.choices.get(question, {}).get(value, str(value))


@dataclass(frozen=True)
class Protocol:
    key: str
    title: str
    version: int
    channel: str
    description: str
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    default_outcome: str = "inconclusive"
    tester_min_age: int | None = None
    tester_max_age: int | None = None
    id_policy: str = ""
    promise_broken: dict | None = None
    source: str = ""
    builtin: bool = True
    extra: dict = field(default_factory=dict)
    translations: dict = field(default_factory=dict)
    #: The report's first sentence, from its figures: %(violations)s, %(eligible)s, %(ages)s.
    lede: str = ""

    def finding_codes(self) -> dict[str, str]:
        """Every finding the protocol can give, code → English title."""
        found = {r.finding["code"]: r.finding["title"] for r in self.rules if r.finding and r.finding.get("code")}
        if self.promise_broken and self.promise_broken.get("code"):
            found[self.promise_broken["code"]] = self.promise_broken["title"]
        return found

    def texts(self, lang: str) -> "ProtocolText":
        """Every text a report or letter prints about this protocol, in ``lang``.

        English comes from the protocol's own fields (a choice without an English label reads as
        its key in words). Any other language must be complete: a missing text raises
        ``MissingTranslation`` naming each one, so that no report mixes languages."""
        given = self.translations.get(lang, {})
        if lang == "en":
            choices = {q.key: {c: given.get("choices", {}).get(q.key, {}).get(c, c.replace("_", " "))
                               for c in q.choices} for q in self.questions if q.choices}
            return ProtocolText(lang=lang, title=given.get("title", self.title),
                                description=given.get("description", self.description).strip(),
                                id_policy=given.get("id_policy", self.id_policy),
                                lede=given.get("lede", self.lede),
                                prompts={q.key: given.get("questions", {}).get(q.key, q.prompt) for q in self.questions},
                                choices=choices,
                                findings={**self.finding_codes(), **given.get("findings", {})})
        missing = [k for k in ("title", "description") if not given.get(k)]
        missing += [k for k in ("id_policy", "lede") if getattr(self, k) and not given.get(k)]
        missing += [f"questions.{q.key}" for q in self.questions if q.key not in given.get("questions", {})]
        missing += [f"choices.{q.key}.{c}" for q in self.questions for c in q.choices
                    if c not in given.get("choices", {}).get(q.key, {})]
        missing += [f"findings.{code}" for code in self.finding_codes() if code not in given.get("findings", {})]
        if missing:
            shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
            raise MissingTranslation(f"protocol {self.key} has no {LANGUAGE_NAMES.get(lang, lang)} ({lang}) text for "
                                     f"{shown}: add them under [text.{lang}] in {self.source}")
        return ProtocolText(lang=lang, title=given["title"], description=given["description"].strip(),
                            id_policy=given.get("id_policy", ""), lede=given.get("lede", ""),
                            prompts=dict(given["questions"]),
                            choices={q.key: dict(given["choices"][q.key]) for q in self.questions if q.choices},
                            findings=dict(given.get("findings", {})))

    def question(self, key: str) -> Question:
        for q in self.questions:
            if q.key == key:
                return q
        raise InvalidInput(f"protocol {self.key} has no question {key!r}")

    @property
    def uses_testers(self) -> bool:
        return self.tester_min_age is not None or self.tester_max_age is not None

    def validate_answers(self, raw: dict) -> dict:
        """Every answer parsed, every required one present, no unknown keys."""
        known = {q.key for q in self.questions}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidInput(
                f"protocol {self.key} has no question {unknown[0]!r} (questions: {', '.join(sorted(known))})"
            )
        return {q.key: q.parse(raw.get(q.key)) for q in self.questions if q.key in raw or q.required}

    def evaluate(self, answers: dict, *, visited_at: datetime) -> dict:
        """Outcome, findings and promises that follow from the answers by the rules.

        The outcome is the most severe one any matching rule names (violation over
        inconclusive over compliant), or the protocol's default when none matches."""
        matched = [r for r in self.rules if r.matches(answers)]
        outcomes = [r.outcome for r in matched if r.outcome]
        outcome = min(outcomes, key=OUTCOMES.index) if outcomes else self.default_outcome
        findings = [dict(r.finding) for r in matched if r.finding]
        promises = []
        for r in matched:
            if not r.promise:
                continue
            due = promise_due(r.promise, answers, visited_at)
            if due is not None:
                promises.append({"what": r.promise["what"], "due_at": due.isoformat()})
        return {"outcome": outcome, "findings": findings, "promises": promises}

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "version": self.version,
            "channel": self.channel,
            "description": self.description,
            "tester_min_age": self.tester_min_age,
            "tester_max_age": self.tester_max_age,
            "id_policy": self.id_policy,
            "default_outcome": self.default_outcome,
            "questions": [q.as_dict() for q in self.questions],
            "rules": [
                {k: v for k, v in {"when": r.when, "outcome": r.outcome, "finding": r.finding,
                                   "promise": r.promise}.items() if v}
                for r in self.rules
            ],
            "promise_broken": self.promise_broken,
            "source": self.source,
            "builtin": self.builtin,
        }


def parse_duration(text: str) -> timedelta:
    """``48h``, ``14d``, ``2w`` → a timedelta."""
    m = _DURATION.match(str(text))
    if not m:
        raise InvalidInput(f"{text!r} is not a duration like 48h, 14d or 2w")
    amount, unit = float(m.group(1)), m.group(2)[0].lower()
    return {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]


def promise_due(spec: dict, answers: dict, visited_at: datetime) -> datetime | None:
    if "due_after" in spec:
        return visited_at + parse_duration(spec["due_after"])
    amount = answers.get(spec["due_after_answer"])
    if amount is None:
        return None
    unit = spec.get("unit", "days")
    return visited_at + (timedelta(hours=amount) if unit == "hours" else timedelta(days=amount))


def _condition_holds(value: Any, cond: Any) -> bool:
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


# -- loading and validation ------------------------------------------------------------------

_TOP_KEYS = {"key", "title", "version", "channel", "description", "default_outcome", "tester",
             "questions", "rules", "promise_broken", "text", "lede"}
_TEXT_KEYS = {"title", "description", "id_policy", "lede", "questions", "choices", "findings"}
_LANG_RE = re.compile(r"^[a-z]{2}$")
_TESTER_KEYS = {"min_age", "max_age", "id_policy"}
_QUESTION_KEYS = {"key", "type", "prompt", "required", "choices", "min", "max", "help"}
_RULE_KEYS = {"when", "outcome", "finding", "promise"}
_FINDING_KEYS = {"code", "title", "statute", "severity", "description"}
_PROMISE_KEYS = {"what", "due_after", "due_after_answer", "unit"}
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_protocol(path: Path | str, *, builtin: bool = False) -> Protocol:
    """Read and validate one protocol file; a ProtocolError names the file and the key."""
    path = Path(path)
    try:
        with open(path, "rb") as fp:
            data = tomllib.load(fp)
    except tomllib.TOMLDecodeError as ex:
        raise ProtocolError(f"{path}: not valid TOML: {ex}")
    except OSError as ex:
        raise ProtocolError(f"{path}: cannot read: {ex.strerror}")
    return parse_protocol(data, source=str(path), builtin=builtin)


def parse_protocol(data: dict, *, source: str = "<protocol>", builtin: bool = False) -> Protocol:
    def fail(where: str, msg: str):
        raise ProtocolError(f"{source}: {where}: {msg}")

    def check_keys(obj: Any, allowed: set, where: str):
        if not isinstance(obj, dict):
            fail(where, "expected a table")
        for k in obj:
            if k not in allowed:
                fail(f"{where}.{k}" if where else k, f"unknown key (expected one of {', '.join(sorted(allowed))})")

    check_keys(data, _TOP_KEYS, "")
    for required in ("key", "title", "questions"):
        if required not in data:
            fail(required, "missing")
    key = data["key"]
    if not isinstance(key, str) or not _SLUG_RE.match(key):
        fail("key", f"{key!r} must be lowercase letters, digits and dashes")
    channel = data.get("channel", "in_person")
    if channel not in CHANNELS:
        fail("channel", f"{channel!r} is not one of {', '.join(CHANNELS)}")
    default_outcome = data.get("default_outcome", "inconclusive")
    if default_outcome not in OUTCOMES:
        fail("default_outcome", f"{default_outcome!r} is not one of {', '.join(OUTCOMES)}")

    tester = data.get("tester", {})
    check_keys(tester, _TESTER_KEYS, "tester")
    for k in ("min_age", "max_age"):
        if k in tester and (not isinstance(tester[k], int) or not 10 <= tester[k] <= 99):
            fail(f"tester.{k}", f"{tester[k]!r} is not an age in years")
    if "min_age" in tester and "max_age" in tester and tester["min_age"] > tester["max_age"]:
        fail("tester", "min_age is above max_age")

    questions = []
    if not isinstance(data["questions"], list) or not data["questions"]:
        fail("questions", "expected a non-empty list of [[questions]]")
    for i, q in enumerate(data["questions"]):
        where = f"questions[{i}]"
        check_keys(q, _QUESTION_KEYS, where)
        for required in ("key", "type", "prompt"):
            if required not in q:
                fail(f"{where}.{required}", "missing")
        if not _KEY_RE.match(str(q["key"])):
            fail(f"{where}.key", f"{q['key']!r} must be lowercase letters, digits and underscores")
        if q["type"] not in QUESTION_TYPES:
            fail(f"{where}.type", f"unknown type {q['type']!r} (expected one of {', '.join(QUESTION_TYPES)})")
        choices = q.get("choices", [])
        if q["type"] == "choice" and not choices:
            fail(f"{where}.choices", "a choice question needs choices")
        if choices and q["type"] != "choice":
            fail(f"{where}.choices", "only choice questions have choices")
        if q["key"] in {x.key for x in questions}:
            fail(f"{where}.key", f"{q['key']!r} is used twice")
        questions.append(Question(key=q["key"], type=q["type"], prompt=q["prompt"],
                                  required=bool(q.get("required", True)), choices=tuple(choices),
                                  min=q.get("min"), max=q.get("max"), help=q.get("help", "")))
    by_key = {q.key: q for q in questions}

    def check_finding(f: Any, where: str):
        check_keys(f, _FINDING_KEYS, where)
        if "title" not in f:
            fail(f"{where}.title", "missing")
        if f.get("severity", "medium") not in SEVERITIES:
            fail(f"{where}.severity", f"{f.get('severity')!r} is not one of {', '.join(SEVERITIES)}")

    rules = []
    for i, r in enumerate(data.get("rules", [])):
        where = f"rules[{i}]"
        check_keys(r, _RULE_KEYS, where)
        when = r.get("when")
        if not isinstance(when, dict) or not when:
            fail(f"{where}.when", "expected a table of conditions on answers")
        for qkey, cond in when.items():
            if qkey not in by_key:
                fail(f"{where}.when.{qkey}", "no such question")
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
        if r.get("outcome") is not None and r["outcome"] not in OUTCOMES:
            fail(f"{where}.outcome", f"{r['outcome']!r} is not one of {', '.join(OUTCOMES)}")
        if "finding" in r:
            check_finding(r["finding"], f"{where}.finding")
        if "promise" in r:
            p = r["promise"]
            check_keys(p, _PROMISE_KEYS, f"{where}.promise")
            if "what" not in p:
                fail(f"{where}.promise.what", "missing")
            if ("due_after" in p) == ("due_after_answer" in p):
                fail(f"{where}.promise", "give exactly one of due_after or due_after_answer")
            if "due_after" in p:
                try:
                    parse_duration(p["due_after"])
                except InvalidInput as ex:
                    fail(f"{where}.promise.due_after", str(ex))
            elif p["due_after_answer"] not in by_key or by_key[p["due_after_answer"]].type not in ("int", "number"):
                fail(f"{where}.promise.due_after_answer", "must name a number question")
            if p.get("unit", "days") not in ("hours", "days"):
                fail(f"{where}.promise.unit", "expected hours or days")
        if not any(k in r for k in ("outcome", "finding", "promise")):
            fail(where, "a rule needs an outcome, a finding or a promise")
        rules.append(Rule(when=when, outcome=r.get("outcome"), finding=r.get("finding"),
                          promise=r.get("promise")))

    promise_broken = data.get("promise_broken")
    if promise_broken is not None:
        check_finding(promise_broken, "promise_broken")

    codes = {r.finding["code"] for r in rules if r.finding and r.finding.get("code")}
    if promise_broken and promise_broken.get("code"):
        codes.add(promise_broken["code"])
    translations = data.get("text", {})
    check_keys(translations, set(translations), "text")
    for lang, given in translations.items():
        where = f"text.{lang}"
        if not _LANG_RE.match(lang):
            fail(where, "expected a two-letter language code such as de or da")
        check_keys(given, _TEXT_KEYS, where)
        for k in ("title", "description", "id_policy", "lede"):
            if k in given and not isinstance(given[k], str):
                fail(f"{where}.{k}", "expected text")
        check_keys(given.get("questions", {}), set(by_key), f"{where}.questions")
        check_keys(given.get("choices", {}), {q.key for q in questions if q.choices}, f"{where}.choices")
        for qkey, labels in given.get("choices", {}).items():
            check_keys(labels, set(by_key[qkey].choices), f"{where}.choices.{qkey}")
        check_keys(given.get("findings", {}), codes, f"{where}.findings")

    for where, lede in [("lede", data.get("lede"))] + [(f"text.{lang}.lede", given.get("lede"))
                                                       for lang, given in translations.items()]:
        try:
            lede and lede % {"violations": 1, "eligible": 2, "ages": "16–17"}
        except (KeyError, ValueError, TypeError) as ex:
            fail(where, f"may use only %(violations)s, %(eligible)s and %(ages)s ({ex})")

    version = data.get("version", 1)
    if not isinstance(version, int):
        fail("version", "expected a whole number")
    return Protocol(
        key=key,
        title=data["title"],
        version=version,
        channel=channel,
        description=data.get("description", ""),
        questions=tuple(questions),
        rules=tuple(rules),
        default_outcome=default_outcome,
        tester_min_age=tester.get("min_age"),
        tester_max_age=tester.get("max_age"),
        id_policy=tester.get("id_policy", ""),
        promise_broken=promise_broken,
        source=source,
        builtin=builtin,
        translations=translations,
        lede=data.get("lede", ""),
    )


def protocol_files(workspace_root: Path | None = None) -> list[tuple[Path, bool]]:
    files = [(p, True) for p in sorted(BUILTIN_DIR.glob("*.toml"))]
    if workspace_root is not None:
        files += [(p, False) for p in sorted((Path(workspace_root) / "protocols").glob("*.toml"))]
    return files


def all_protocols(workspace_root: Path | None = None) -> dict[str, Protocol]:
    """Built-ins, then the workspace's own (which replace a built-in of the same key)."""
    found: dict[str, Protocol] = {}
    for path, builtin in protocol_files(workspace_root):
        proto = load_protocol(path, builtin=builtin)
        found[proto.key] = proto
    return found


def get_protocol(key: str, workspace_root: Path | None = None) -> Protocol:
    protocols = all_protocols(workspace_root)
    if key not in protocols:
        raise NotFound(f"no protocol {key!r} (known: {', '.join(sorted(protocols))})")
    return protocols[key]

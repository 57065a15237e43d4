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
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, MissingTranslation, NotFound, ProtocolError
from ..vocabulary import OUTCOMES, SCORED_PROMISE_STATES, SEVERITIES, STORE_CHANNELS
from .rotation import check_rules

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "protocols"

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
_MONEY = re.compile(r"^\s*(?:([A-Za-z]{3})\s*)?(-?\d+(?:[.,]\d{1,2})?)\s*(?:([A-Za-z]{3}))?\s*$")


def parse_minutes(text: Any) -> float:
    """A duration typed by a person, in minutes: ``90s``, ``4 min``, ``1.5h``, ``2d``,
    ``1:30`` (read as h:mm or h:mm:ss, never as m:ss), a bare number = minutes."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        clock = _CLOCK.match(str(text))
        if clock:
            h, m, sec = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
            return h * 60 + m + sec / 60
        m = _MINUTES.match(str(text))
        if not m:
            raise ValueError(text)
        value = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "min").lower()[0]
        value *= {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}[unit]
    if value < 0:
        raise ValueError(text)
    return value


def known_currency(code: str) -> bool:
    """ISO 4217 codes as Babel knows them (no list of our own)."""
    from babel.numbers import list_currencies

    return code.upper() in list_currencies()


def money_amount(value: dict) -> Decimal:
    return Decimal(value["amount"])


def is_na(value: Any) -> bool:
    return isinstance(value, str) and value == NA


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
    #: Scoring: the dimension (section) this question counts towards, its weight, the points
    #: per answer (a choice → points table, yes/no for bools, or bands for numbers), whether
    #: "n/a" is an allowed answer, and an answer that is fatal to its section.
    section: str | None = None
    weight: float = 1.0
    points: Any = None
    na: bool = False
    fatal: dict | None = None
    #: A derived value scored like a question (not asked, never typed).
    derived: bool = False

    @property
    def scored(self) -> bool:
        return self.section is not None

    @property
    def option(self) -> str:
        """The command-line option that answers this question: ``id_check`` → ``--id-check``."""
        return "--" + self.key.replace("_", "-")

    def parse(self, raw: Any, *, tz: tzinfo | None = None) -> Any:
        """Turn a typed or imported answer into its value, or raise InvalidInput saying why.
        ``tz`` places a date-time typed without an offset (the workspace's zone)."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.required:
                raise InvalidInput(f"{self.key}: an answer is required")
            return None
        if self.na and isinstance(raw, str) and raw.strip().lower() in NA_WORDS:
            return NA
        if self.type == "datetime":
            if isinstance(raw, datetime):
                value = raw
            else:
                try:
                    value = datetime.fromisoformat(str(raw).strip())
                except ValueError:
                    raise InvalidInput(f"{self.key}: {raw!r} is not a date and time (YYYY-MM-DD HH:MM)")
            if value.tzinfo is None and tz is not None:
                value = value.replace(tzinfo=tz)
            return value.isoformat()
        if self.type == "duration":
            try:
                return round(parse_minutes(raw), 4)
            except ValueError:
                raise InvalidInput(f"{self.key}: {raw!r} is not a duration (minutes, or 90s, 4 min, 1.5h, 0:45)")
        if self.type == "money":
            if isinstance(raw, dict):
                raw = f"{raw.get('amount', '')} {raw.get('currency') or ''}"
            m = _MONEY.match(str(raw).replace("\u00a0", " "))
            if not m:
                raise InvalidInput(f"{self.key}: {raw!r} is not an amount with a currency, like 39.90 EUR")
            currency = (m.group(1) or m.group(3) or "").upper()
            if not currency:
                raise InvalidInput(f"{self.key}: {raw!r} has no currency (write it as 39.90 EUR)")
            if (m.group(1) and m.group(3)) or not known_currency(currency):
                raise InvalidInput(f"{self.key}: {currency!r} is not an ISO 4217 currency code")
            amount = Decimal(m.group(2).replace(",", ".")).quantize(Decimal("0.01"))
            return {"amount": str(amount), "currency": currency}
        if self.type == "rating":
            try:
                value = int(str(raw).strip())
            except ValueError:
                raise InvalidInput(f"{self.key}: {raw!r} is not a whole number from {self.min:g} to {self.max:g}")
            if not self.min <= value <= self.max:
                raise InvalidInput(f"{self.key}: {value} is not on the scale {self.min:g}–{self.max:g}")
            return value
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
        if self.scored:
            d.update(section=self.section, weight=self.weight, points=self.points, na=self.na)
            if self.fatal:
                d["fatal"] = self.fatal
        return d

    def earned(self, value: Any) -> float | None:
        """Points this answer earns before weighting; None when it does not count (no answer,
        n/a, a number outside every band)."""
        if value is None or is_na(value):
            return None
        if isinstance(value, dict) and "amount" in value:
            value = float(money_amount(value))
        if self.type == "rating" and self.points is None:
            return float(value - self.min)
        if self.type == "bool":
            return float(self.points["yes" if value else "no"])
        if self.type == "choice":
            return float(self.points[value])
        if isinstance(self.points, list):  # bands over a number or a duration
            for band in self.points:
                if "max" not in band or value <= band["max"]:
                    return float(band["points"])
            return None
        return None

    @property
    def possible(self) -> float:
        """The most points an answer can earn, before weighting."""
        if self.type == "rating" and self.points is None:
            return float(self.max - self.min)
        if isinstance(self.points, list):
            return float(max(b["points"] for b in self.points))
        return float(max(self.points.values()))


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
class Derived:
    """A value computed from two answers, declared in the protocol: ``minutes_between``
    (to − from, in minutes, of two date-times) or ``difference`` (first − second, of two
    numbers or two amounts of money in the same currency)."""

    key: str
    op: str
    args: tuple[str, str]
    prompt: str = ""
    #: The result's type, like a question's: duration for minutes_between, else the inputs'.
    type: str = "number"

    def compute(self, answers: dict) -> Any:
        a, b = (answers.get(k) for k in self.args)
        if a is None or b is None or is_na(a) or is_na(b):
            return None
        if self.op == "minutes_between":
            start, end = datetime.fromisoformat(a), datetime.fromisoformat(b)
            if (start.tzinfo is None) != (end.tzinfo is None):
                raise InvalidInput(f"{self.args[1]}: {b!r} and {self.args[0]} {a!r} must both have a time "
                                   "zone or both have none")
            if end < start:
                raise InvalidInput(f"{self.args[1]}: {b} is before {self.args[0]} {a}")
            return round((end - start).total_seconds() / 60, 4)
        if isinstance(a, dict):
            if a["currency"] != b["currency"]:
                raise InvalidInput(f"{self.key}: {self.args[0]} is in {a['currency']} but {self.args[1]} "
                                   f"in {b['currency']}")
            return {"amount": str(money_amount(a) - money_amount(b)), "currency": a["currency"]}
        return a - b


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
    derived: tuple[Derived, ...] = ()
    #: The response clock: which value is the time to a reply in minutes, and when it is
    #: still open (censored) — ``{"minutes": key, "open_since": datetime key}`` or
    #: ``{"minutes": key, "open_when": {conditions}}`` (the value is then a time waited in vain).
    response: dict | None = None
    #: How a promise's fate scores: ``{"section", "weight", "points": {kept, late, broken}}``.
    promise_score: dict | None = None
    #: Titles, descriptions and prompts in other languages: {"de": {"title", "prompts": {...}}}.
    translations: dict = field(default_factory=dict)
    #: The value that says how much more was charged than quoted (a derived difference).
    overcharge: str | None = None
    #: Derived values that score like questions (bands over minutes or an amount).
    derived_scores: tuple[Question, ...] = ()
    #: An adult observer must be named for every visit made (minors test: Synar/STARS practice).
    observer_required: bool = False
    #: The TOML text it was read from and the hash of its content (``content_hash``).
    text: str = ""
    content_hash: str = ""

    @property
    def scored_items(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.scored) + self.derived_scores

    def overcharge_of(self, answers: dict) -> float | None:
        """How much more was charged than agreed, as a number (None when not asked)."""
        if not self.overcharge:
            return None
        value = {**answers, **self.derive(answers)}.get(self.overcharge)
        if value is None or is_na(value):
            return None
        return float(money_amount(value)) if isinstance(value, dict) else float(value)

    @property
    def scored(self) -> bool:
        return bool(self.scored_items) or self.promise_score is not None

    @property
    def sections(self) -> list[str]:
        """The dimensions this protocol scores, in the canonical order."""
        used = {q.section for q in self.scored_items}
        if self.promise_score:
            used.add(self.promise_score["section"])
        return [d for d in DIMENSIONS if d in used]

    def localized(self, lang: str | None) -> "Protocol":
        """The same protocol with title, description and prompts in ``lang`` where given."""
        t = self.translations.get(lang or "") if lang else None
        if not t:
            return self
        from dataclasses import replace

        prompts = t.get("prompts", {})
        return replace(self, title=t.get("title", self.title), description=t.get("description", self.description),
                       questions=tuple(replace(q, prompt=prompts.get(q.key, q.prompt)) for q in self.questions))

    def derive(self, answers: dict) -> dict:
        """The protocol's derived values over parsed answers (None where an input is missing)."""
        out = {}
        for d in self.derived:
            value = d.compute({**answers, **out})
            if value is not None:
                out[d.key] = value
        return out

    def score(self, answers: dict, promise_states: list[str] | tuple = (), *, now: datetime | None = None) -> dict:
        """Points per section and overall, as percent of the points possible.

        An unanswered or "n/a" question leaves the denominator. A fatal answer sets its
        section's earned points to zero (the points possible stay, so the section reads 0 %).
        ``promise_states`` are the visit's promises as the clock sees them (kept, late, broken,
        overdue; one not yet due is left out): overdue scores as broken. With ``now``, a scored
        time still running (no reply yet) scores its last band as soon as it has outgrown every
        better one: an e-mail unanswered for a week cannot reach "within a day" any more."""
        sections = {s: {"earned": 0.0, "possible": 0.0, "fatal": False, "items": 0} for s in self.sections}
        values = {**answers, **self.derive(answers)}
        for q in self.scored_items:
            value = values.get(q.key)
            got = q.earned(value)
            if got is None and value is None and now is not None and q.derived:
                got = self._outgrown(q, values, now)
            sec = sections[q.section]
            if q.fatal and value is not None and not is_na(value) and _condition_holds(value, q.fatal["when"]):
                sec["fatal"] = True
            if got is None or q.weight == 0:
                continue
            sec["earned"] += got * q.weight
            sec["possible"] += q.possible * q.weight
            sec["items"] += 1
        if self.promise_score:
            spec = self.promise_score
            sec = sections[spec["section"]]
            weight = spec.get("weight", 1.0)
            best = max(spec["points"].values())
            for state in promise_states:
                if state not in SCORED_PROMISE_STATES:
                    continue
                sec["earned"] += spec["points"]["broken" if state == "overdue" else state] * weight
                sec["possible"] += best * weight
                sec["items"] += 1
        earned = possible = 0.0
        out = {}
        for name, sec in sections.items():
            if sec["fatal"]:
                sec["earned"] = 0.0
            sec["percent"] = 100 * sec["earned"] / sec["possible"] if sec["possible"] else None
            earned += sec["earned"]
            possible += sec["possible"]
            out[name] = sec
        return {"sections": out, "overall": {"earned": earned, "possible": possible,
                                             "percent": 100 * earned / possible if possible else None},
                "fatal": [n for n, sec in out.items() if sec["fatal"]]}

    def _outgrown(self, q: Question, values: dict, now: datetime) -> float | None:
        """The points a running minutes_between clock has certainly earned at ``now``: the
        fallback band's, once the time elapsed is past every band's upper bound; else None."""
        spec = next((d for d in self.derived if d.key == q.key), None)
        if spec is None or spec.op != "minutes_between" or not isinstance(q.points, list):
            return None
        start, end = (values.get(k) for k in spec.args)
        if not start or is_na(start) or end is not None:
            return None
        begun = datetime.fromisoformat(start)
        elapsed = ((now if begun.tzinfo else now.replace(tzinfo=None)) - begun).total_seconds() / 60
        bounds = [b["max"] for b in q.points if "max" in b]
        if len(bounds) == len(q.points) or elapsed <= max(bounds, default=0):
            return None
        return float(q.points[-1]["points"])

    def response_time(self, answers: dict, *, now: datetime) -> tuple[float, bool] | None:
        """(minutes, observed) for the response clock: observed False means still open
        (a censored time: waited this long without a reply). None when the protocol has no
        clock or the visit gives no time at all."""
        if not self.response:
            return None
        values = {**answers, **self.derive(answers)}
        minutes = values.get(self.response["minutes"])
        open_when = self.response.get("open_when")
        if minutes is not None and not is_na(minutes):
            observed = not (open_when and all(_condition_holds(values.get(k), c) for k, c in open_when.items()))
            return float(minutes), observed
        since = values.get(self.response.get("open_since") or "")
        if since and not is_na(since):
            start = datetime.fromisoformat(since)
            if start.tzinfo is None:
                now = now.replace(tzinfo=None)
            return max(0.0, (now - start).total_seconds() / 60), False
        return None
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
    def promise_rules(self) -> bool:
        """Whether a rule sets a promise, whose due time follows from the visit's time."""
        return any(r.promise for r in self.rules)

    @property
    def uses_testers(self) -> bool:
        return self.tester_min_age is not None or self.tester_max_age is not None

    def validate_answers(self, raw: dict, *, tz: tzinfo | None = None) -> dict:
        """Every answer parsed, every required one present, no unknown keys."""
        known = {q.key for q in self.questions}
        # Derived values are recomputed from the answers, never taken as typed.
        raw = {k: v for k, v in raw.items() if k not in {d.key for d in self.derived}}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidInput(
                f"protocol {self.key} has no question {unknown[0]!r} (questions: {', '.join(sorted(known))})"
            )
        return {q.key: q.parse(raw.get(q.key), tz=tz) for q in self.questions if q.key in raw or q.required}

    def evaluate(self, answers: dict, *, visited_at: datetime) -> dict:
        """Outcome, findings and promises that follow from the answers by the rules.

        The outcome is the most severe one any matching rule names (violation over
        inconclusive over compliant), or the protocol's default when none matches."""
        answers = {**answers, **self.derive(answers)}
        matched = [r for r in self.rules if r.matches(answers)]
        outcomes = [r.outcome for r in matched if r.outcome]
        findings = [dict(r.finding) for r in matched if r.finding]
        for q in self.questions:
            value = answers.get(q.key)
            if q.fatal and q.fatal.get("finding") and value is not None and not is_na(value) \
                    and _condition_holds(value, q.fatal["when"]):
                outcomes.append("violation")
                findings.append(dict(q.fatal["finding"]))
        outcome = min(outcomes, key=OUTCOMES.index) if outcomes else self.default_outcome
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
            "derived": [{"key": d.key, d.op: list(d.args)} for d in self.derived],
            "response": self.response,
            "promise_score": self.promise_score,
            "sections": self.sections,
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
    if "due_at_answer" in spec:
        at = answers.get(spec["due_at_answer"])
        return datetime.fromisoformat(at) if at and not is_na(at) else None
    if "due_after" in spec:
        return visited_at + parse_duration(spec["due_after"])
    amount = answers.get(spec["due_after_answer"])
    if amount is None:
        return None
    unit = spec.get("unit", "days")
    return visited_at + (timedelta(hours=amount) if unit == "hours" else timedelta(days=amount))


def _condition_holds(value: Any, cond: Any) -> bool:
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


# -- loading and validation ------------------------------------------------------------------

_TOP_KEYS = {"key", "title", "version", "channel", "description", "default_outcome", "tester",
             "questions", "rules", "promise_broken", "derived", "response", "promise_score", "translations",
             "overcharge", "text", "lede", "rotation"}
_TEXT_KEYS = {"title", "description", "id_policy", "lede", "questions", "choices", "findings"}
_LANG_RE = re.compile(r"^[a-z]{2}$")
_TESTER_KEYS = {"min_age", "max_age", "id_policy", "observer_required"}
_QUESTION_KEYS = {"key", "type", "prompt", "required", "choices", "min", "max", "help",
                  "section", "weight", "points", "na", "fatal"}
_DERIVED_KEYS = {"key", "prompt", "section", "weight", "points", *DERIVATIONS}
_RESPONSE_KEYS = {"minutes", "open_since", "open_when"}
_PROMISE_SCORE_KEYS = {"section", "weight", "points"}
_TRANSLATION_KEYS = {"title", "description", "prompts"}
_RULE_KEYS = {"when", "outcome", "finding", "promise"}
_FINDING_KEYS = {"code", "title", "statute", "severity", "description"}
_PROMISE_KEYS = {"what", "due_after", "due_after_answer", "due_at_answer", "unit"}
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_protocol(path: Path | str, *, builtin: bool = False) -> Protocol:
    """Read and validate one protocol file; a ProtocolError names the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise ProtocolError(f"{path}: cannot read: {getattr(ex, 'strerror', None) or ex}")
    return protocol_from_text(text, source=str(path), builtin=builtin)


def protocol_from_text(text: str, *, source: str = "<protocol>", builtin: bool = False) -> Protocol:
    """A protocol from its TOML text, carrying that text and its content hash (see
    ``content_hash``) so that a visit can name exactly the rules that judged it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as ex:
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
    if channel not in STORE_CHANNELS:
        fail("channel", f"{channel!r} is not one of {', '.join(STORE_CHANNELS)}")
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
        if q["type"] == "rating":
            if not all(isinstance(q.get(k), int) and not isinstance(q.get(k), bool) for k in ("min", "max")) \
                    or q["min"] >= q["max"]:
                fail(f"{where}.min", "a rating needs a whole-number scale: min below max")
        scoring = _check_scoring(q, choices, where, fail)
        questions.append(Question(key=q["key"], type=q["type"], prompt=q["prompt"],
                                  required=bool(q.get("required", True)), choices=tuple(choices),
                                  min=q.get("min"), max=q.get("max"), help=q.get("help", ""), **scoring))
    by_key = {q.key: q for q in questions}

    def check_finding(f: Any, where: str):
        check_keys(f, _FINDING_KEYS, where)
        if "title" not in f:
            fail(f"{where}.title", "missing")
        if f.get("severity", "medium") not in SEVERITIES:
            fail(f"{where}.severity", f"{f.get('severity')!r} is not one of {', '.join(SEVERITIES)}")

    derived, derived_scores = [], []
    for i, d in enumerate(data.get("derived", [])):
        where = f"derived[{i}]"
        check_keys(d, _DERIVED_KEYS, where)
        if not _KEY_RE.match(str(d.get("key", ""))):
            fail(f"{where}.key", f"{d.get('key')!r} must be lowercase letters, digits and underscores")
        if d["key"] in by_key or d["key"] in {x.key for x in derived}:
            fail(f"{where}.key", f"{d['key']!r} is already a question or a derived value")
        ops = [op for op in DERIVATIONS if op in d]
        if len(ops) != 1:
            fail(where, f"give exactly one of {', '.join(DERIVATIONS)}")
        op, args = ops[0], d[ops[0]]
        if not isinstance(args, list) or len(args) != 2:
            fail(f"{where}.{op}", "expected two question keys")
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
        check_keys(response, _RESPONSE_KEYS, "response")
        if value_types.get(response.get("minutes")) not in ("duration", "int", "number"):
            fail("response.minutes", "must name a duration question or a minutes_between value")
        if "open_since" in response and value_types.get(response["open_since"]) != "datetime":
            fail("response.open_since", "must name a datetime question")
        for k in response.get("open_when", {}):
            if k not in value_types:
                fail(f"response.open_when.{k}", "no such question")

    promise_score = data.get("promise_score")
    if promise_score is not None:
        check_keys(promise_score, _PROMISE_SCORE_KEYS, "promise_score")
        if promise_score.get("section") not in DIMENSIONS:
            fail("promise_score.section", f"expected one of {', '.join(DIMENSIONS)}")
        pts = promise_score.get("points")
        if not isinstance(pts, dict) or set(pts) != {"kept", "late", "broken"} or not all(
                _is_points(v) for v in pts.values()):
            fail("promise_score.points", "expected points (0 or more) for kept, late and broken")
        if not _is_points(promise_score.get("weight", 1)):
            fail("promise_score.weight", f"{promise_score.get('weight')!r} is below zero or not a number")

    overcharge = data.get("overcharge")
    if overcharge is not None and value_types.get(overcharge) not in ("money", "int", "number"):
        fail("overcharge", f"{overcharge!r} is no money or number value of this protocol")

    translations = data.get("translations", {})
    if not isinstance(translations, dict):
        fail("translations", "expected a table per language")
    for lang, t in translations.items():
        check_keys(t, _TRANSLATION_KEYS, f"translations.{lang}")
        for k in t.get("prompts", {}):
            if k not in by_key:
                fail(f"translations.{lang}.prompts.{k}", "no such question")

    rules = []
    for i, r in enumerate(data.get("rules", [])):
        where = f"rules[{i}]"
        check_keys(r, _RULE_KEYS, where)
        when = r.get("when")
        if not isinstance(when, dict) or not when:
            fail(f"{where}.when", "expected a table of conditions on answers")
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
        if r.get("outcome") is not None and r["outcome"] not in OUTCOMES:
            fail(f"{where}.outcome", f"{r['outcome']!r} is not one of {', '.join(OUTCOMES)}")
        if "finding" in r:
            check_finding(r["finding"], f"{where}.finding")
        if "promise" in r:
            p = r["promise"]
            check_keys(p, _PROMISE_KEYS, f"{where}.promise")
            if "what" not in p:
                fail(f"{where}.promise.what", "missing")
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
    text_tables = data.get("text", {})
    check_keys(text_tables, set(text_tables), "text")
    for lang, given in text_tables.items():
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
    if not isinstance(version, int):
        fail("version", "expected a whole number")
    extra = {}
    if "rotation" in data:
        try:
            extra["rotation"] = check_rules(data["rotation"]) if isinstance(data["rotation"], dict) else fail(
                "rotation", "expected a table")
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


def _is_points(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _check_scoring(q: dict, choices: list, where: str, fail) -> dict:
    """Validate a question's section, weight, points, n/a and fatal answer; the Question fields."""
    scoring_keys = {"weight", "points", "na", "fatal"} & set(q)
    if "section" not in q:
        if scoring_keys - {"na"}:
            fail(f"{where}.section", f"a question with {', '.join(sorted(scoring_keys))} needs a section")
        return {"na": bool(q.get("na", False))}
    section = q["section"]
    if section not in DIMENSIONS:
        fail(f"{where}.section", f"{section!r} is not one of {', '.join(DIMENSIONS)}")
    weight = q.get("weight", 1)
    if not _is_points(weight):
        fail(f"{where}.weight", f"{weight!r} is below zero or not a number")
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
            if set(band) - {"max", "points"} or "points" not in band:
                fail(f"{where}.points[{j}]", "a band has points and an upper bound max (none on the last)")
            if "max" not in band and j != len(points) - 1:
                fail(f"{where}.points[{j}]", "only the last band may leave out max")
        values = points
        points = [dict(b) for b in values]
        if not all(_is_points(b["points"]) for b in points):
            fail(f"{where}.points", "points must be numbers, 0 or more")
    elif kind == "rating":
        if points is not None:
            fail(f"{where}.points", "a rating scores its scale (value − min); leave out points")
    else:
        fail(f"{where}.section", f"a {kind} question cannot be scored")
    if isinstance(points, dict) and not all(_is_points(v) for v in points.values()):
        bad = next(k for k, v in points.items() if not _is_points(v))
        fail(f"{where}.points.{bad}", f"{points[bad]!r} is not a number of points (0 or more)")
    fatal = q.get("fatal")
    if fatal is not None:
        if not isinstance(fatal, dict) or "when" not in fatal or set(fatal) - {"when", "finding"}:
            fail(f"{where}.fatal", "expected { when = <answer or condition>, finding = { title = … } }")
        if kind == "choice" and not isinstance(fatal["when"], dict) and fatal["when"] not in choices:
            fail(f"{where}.fatal.when", f"{fatal['when']!r} is not one of the choices")
        # Without a finding of its own the section is zeroed and a rule says what was found.
        if "finding" in fatal:
            if not isinstance(fatal["finding"], dict) or "title" not in fatal["finding"]:
                fail(f"{where}.fatal.finding.title", "missing")
            if fatal["finding"].get("severity", "high") not in SEVERITIES:
                fail(f"{where}.fatal.finding.severity", f"expected one of {', '.join(SEVERITIES)}")
            fatal = {"when": fatal["when"], "finding": {"severity": "high", **fatal["finding"]}}
    return {"section": section, "weight": float(weight), "points": points, "na": bool(q.get("na", False)),
            "fatal": fatal}


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


def scan_protocols(workspace_root: Path | None = None) -> tuple[dict[str, Protocol], list[tuple[Path, str | None, ProtocolError]]]:
    """Like ``all_protocols`` but a broken file does not stop the others: (protocols by key,
    broken files as (path, the key it seems to declare or None, the error))."""
    found: dict[str, Protocol] = {}
    broken = []
    for path, builtin in protocol_files(workspace_root):
        try:
            proto = load_protocol(path, builtin=builtin)
        except ProtocolError as ex:
            broken.append((path, _declared_key(path), ex))
            continue
        found[proto.key] = proto
    return found, broken


def _declared_key(path: Path) -> str | None:
    """The key a broken file seems to be for: its ``key = "…"`` line, else None."""
    try:
        m = re.search(r'^\s*key\s*=\s*["\']([^"\']+)["\']', path.read_text(encoding="utf-8", errors="replace"), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


def get_protocol(key: str, workspace_root: Path | None = None) -> Protocol:
    """One protocol by key. A broken file of another protocol is no concern here; a broken
    file that is (or may be) this one is the error, rather than an older built-in of the key."""
    protocols, broken = scan_protocols(workspace_root)
    for path, declared, error in broken:
        if declared == key or (declared is None and path.stem == key):
            raise error
    if key not in protocols:
        raise NotFound(f"no protocol {key!r} (known: {', '.join(sorted(protocols))})")
    return protocols[key]

"""The protocol as the code holds it: its rules, its printed texts in each language, and the
``Protocol`` that judges a visit — outcome, findings, promises and scores follow from its
declared rules alone."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Callable

from ..clock import TICK
from ..errors import InvalidInput, MissingTranslation
from ..vocabulary import OUTCOMES, SCORED_PROMISE_STATES
from .questions import Derived, Question
from .values import DIMENSIONS, condition_holds, is_na, money_amount, parse_duration

@dataclass(frozen=True)
class Rule:
    when: dict
    outcome: str | None = None
    finding: dict | None = None
    promise: dict | None = None

    def matches(self, answers: dict) -> bool:
        return all(condition_holds(answers.get(key), cond) for key, cond in self.when.items())


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
    #: What every printed text passes through: the identity, or a public output's redaction.
    printed: Callable[[str], str] = field(default=lambda text: text, compare=False, repr=False)

    def finding_title(self, code: str | None, recorded: str) -> str:
        """The title of a finding the protocol gives, in this language; a finding added by hand
        (a code the protocol does not know) keeps the words its author wrote."""
        return self.printed(self.findings.get(code, recorded) if code else recorded)

    def through(self, printed: Callable[[str], str]) -> ProtocolText:
        """These texts as a public output prints them: a workspace's own protocol is written by
        people and may name a tester or a business, so every text passes ``printed`` (the
        output's redaction), the titles of findings added by hand too."""
        return replace(self, title=printed(self.title), description=printed(self.description),
                       id_policy=printed(self.id_policy), lede=printed(self.lede),
                       prompts={k: printed(v) for k, v in self.prompts.items()},
                       choices={q: {k: printed(v) for k, v in c.items()} for q, c in self.choices.items()},
                       findings={k: printed(v) for k, v in self.findings.items()}, printed=printed)

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
    derived: tuple[Derived, ...] = ()
    #: The response clock: which value is the time to a reply in minutes, and when it is
    #: still open (censored) — ``{"minutes": key, "open_since": datetime key}`` or
    #: ``{"minutes": key, "open_when": {conditions}}`` (the value is then a time waited in vain).
    response: dict | None = None
    #: How a promise's fate scores: ``{"section", "weight", "points": {kept, late, broken}}``.
    promise_score: dict | None = None
    #: Every text in other languages, [text.LANG] and [translations.LANG] merged: read them
    #: through ``texts(lang)``, which refuses a language with one missing.
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
    def outcome_hash(self) -> str:
        """SHA-256 of what a visit under this protocol tests and what decides its outcome — the
        protocol's key, each rule's conditions and outcome in order, and the default — and
        nothing else: two newsrooms' cases may be combined into one figure (``network
        combine``) only when this agrees, whatever their texts, findings or versions say
        (tobacco and alcohol judge a sale alike, but are not one figure)."""
        import hashlib
        import json

        meaning = {"protocol": self.key, "rules": [{"when": r.when, "outcome": r.outcome} for r in self.rules if r.outcome],
                   "default": self.default_outcome}
        blob = json.dumps(meaning, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    # Kept on the (frozen) protocol once asked: a scorecard asks for every visit it scores.
    @functools.cached_property
    def scored_items(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.scored) + self.derived_scores

    def values_of(self, answers: dict) -> dict:
        """The answers with the protocol's derived values: what the scores, the response clock
        and the price read. A caller asking all three derives once and passes ``values``."""
        values = dict(answers)
        self._derive(values, values)
        return values

    def overcharge_of(self, answers: dict, *, values: dict | None = None) -> float | None:
        """How much more was charged than agreed, as a number (None when not asked)."""
        if not self.overcharge:
            return None
        value = (values if values is not None else self.values_of(answers)).get(self.overcharge)
        if value is None or is_na(value):
            return None
        return float(money_amount(value)) if isinstance(value, dict) else float(value)

    @property
    def scored(self) -> bool:
        return bool(self.scored_items) or self.promise_score is not None

    @functools.cached_property
    def sections(self) -> list[str]:
        """The dimensions this protocol scores, in the canonical order."""
        used = {q.section for q in self.scored_items}
        if self.promise_score:
            used.add(self.promise_score["section"])
        return [d for d in DIMENSIONS if d in used]

    def derive(self, answers: dict) -> dict:
        """The protocol's derived values over parsed answers (None where an input is missing)."""
        out: dict = {}
        self._derive(dict(answers), out)
        return out

    def _derive(self, values: dict, out: dict) -> None:
        """Each derived value in turn, computed over ``values`` (the answers and the derived
        values before it), set in ``values`` and in ``out`` unless it is None. One dict filled as
        it goes: ``derive`` merged the answers afresh for each value, and ``values_of`` once more."""
        for d in self.derived:
            value = d.compute(values)
            if value is not None:
                values[d.key] = out[d.key] = value

    def score(self, answers: dict, promise_states: list[str] | tuple = (), *, now: datetime | None = None,
              values: dict | None = None) -> dict:
        """Points per section and overall, as percent of the points possible.

        An unanswered or "n/a" question leaves the denominator. A fatal answer sets its
        section's earned points to zero (the points possible stay, so the section reads 0 %).
        ``promise_states`` are the visit's promises as the clock sees them (kept, late, broken,
        overdue; one not yet due is left out): overdue scores as broken. With ``now``, a scored
        time still running (no reply yet) scores its last band as soon as it has outgrown every
        better one: an e-mail unanswered for a week cannot reach "within a day" any more."""
        values = values if values is not None else self.values_of(answers)
        # [earned, possible, fatal, items] per section, as lists: a scorecard scores every test.
        sums = {s: [0.0, 0.0, False, 0] for s in self.sections}
        get = values.get
        for key, section, weight, possible, earned, fatal, q in self._scoring:
            value = get(key)
            got = earned(value)
            if got is None and value is None and now is not None and q.derived:
                got = self._outgrown(q, values, now)
            sec = sums[section]
            if fatal is not None and value is not None and not is_na(value) and condition_holds(value, fatal):
                sec[2] = True
            if got is None or weight == 0:
                continue
            sec[0] += got * weight
            sec[1] += possible
            sec[3] += 1
        if self.promise_score:
            spec = self.promise_score
            sec = sums[spec["section"]]
            weight = spec.get("weight", 1.0)
            best = max(spec["points"].values())
            for state in promise_states:
                if state not in SCORED_PROMISE_STATES:
                    continue
                sec[0] += spec["points"]["broken" if state == "overdue" else state] * weight
                sec[1] += best * weight
                sec[3] += 1
        earned = possible = 0.0
        out = {}
        for name, (got, most, fatal, items) in sums.items():
            if fatal:
                got = 0.0
            out[name] = {"earned": got, "possible": most, "fatal": fatal, "items": items,
                         "percent": 100 * got / most if most else None}
            earned += got
            possible += most
        return {"sections": out, "overall": {"earned": earned, "possible": possible,
                                             "percent": 100 * earned / possible if possible else None},
                "fatal": [n for n, sec in out.items() if sec["fatal"]]}

    @functools.cached_property
    def _scoring(self) -> tuple[tuple, ...]:
        """What ``score`` reads of each scored item, looked up once per protocol: its key,
        section, weight, weighted points possible, the function ``earned`` calls, its fatal
        condition (None if none) and the item. Asking each item for them was half of scoring a
        test (11 µs for seven items)."""
        return tuple((q.key, q.section, q.weight, q.possible * q.weight, q._earn,
                      q.fatal["when"] if q.fatal else None, q) for q in self.scored_items)

    def _outgrown(self, q: Question, values: dict, now: datetime) -> float | None:
        """The points a running minutes_between clock has certainly earned at ``now``: the
        fallback band's, once the time elapsed is past every band's upper bound; else None."""
        running = self._running_clock(q, values)
        if running is None:
            return None
        begun, bound = running
        elapsed = ((now if begun.tzinfo else now.replace(tzinfo=None)) - begun).total_seconds() / 60
        return float(q.points[-1]["points"]) if elapsed > bound else None

    @functools.cached_property
    def clock_items(self) -> dict[str, tuple[Question, Derived]]:
        """key → (item, its minutes_between) of each scored item whose points a running clock
        moves on its own (``_outgrown``): a derived duration scored in bands that end in a
        fallback band (one without a bound). Most protocols have none."""
        spec_of = {d.key: d for d in self.derived}
        return {q.key: (q, spec_of[q.key]) for q in self.scored_items
                if q.derived and q.key in spec_of and spec_of[q.key].op == "minutes_between"
                and isinstance(q.points, list) and any("max" not in band for band in q.points)}

    def _running_clock(self, q: Question, values: dict) -> tuple[datetime, float] | None:
        """(its start, its last band's upper bound in minutes) when ``q`` is one of the
        ``clock_items`` and its clock is still running (started, no end). Else None."""
        item = self.clock_items.get(q.key)
        if item is None:
            return None
        start, end = (values.get(k) for k in item[1].args)
        if not start or is_na(start) or end is not None:
            return None
        return datetime.fromisoformat(start), max((band["max"] for band in q.points if "max" in band), default=0)

    def score_turns_at(self, values: dict) -> list[datetime]:
        """The moments at which the clock alone changes the score of a test with these
        ``values`` (``values_of``): each running clock's first instant past its last band, when
        ``_outgrown`` starts to give its fallback band's points (UTC, as the library's clock
        reads a start without an offset). A reader that keeps scores (the editors' Datasette)
        knows from them until when they hold; a promise falling due is the other such moment
        (``numbers.clock.promise_turns_at``)."""
        moments = []
        for key, (q, _) in self.clock_items.items():
            if values.get(key) is None and (running := self._running_clock(q, values)):
                begun, bound = running
                moment = begun + timedelta(minutes=bound) + TICK
                moments.append(moment if begun.tzinfo else moment.replace(tzinfo=timezone.utc))
        return moments

    def response_time(self, answers: dict, *, now: datetime, values: dict | None = None) -> tuple[float, bool] | None:
        """(minutes, observed) for the response clock: observed False means still open
        (a censored time: waited this long without a reply). None when the protocol has no
        clock or the visit gives no time at all."""
        if not self.response:
            return None
        values = values if values is not None else self.values_of(answers)
        minutes = values.get(self.response["minutes"])
        open_when = self.response.get("open_when")
        if minutes is not None and not is_na(minutes):
            observed = not (open_when and all(condition_holds(values.get(k), c) for k, c in open_when.items()))
            return float(minutes), observed
        start = self.response_started(values)
        if start is not None:
            if start.tzinfo is None:
                now = now.replace(tzinfo=None)
            return max(0.0, (now - start).total_seconds() / 60), False
        return None

    def response_started(self, values: dict) -> datetime | None:
        """When the response clock of a contact still open started (``open_since``), whose
        time ``response_time`` gives as the time waited so far: the one time that grows on its
        own. None when the contact's time is known (answered, or closed unanswered)."""
        if not self.response:
            return None
        minutes = values.get(self.response["minutes"])
        if minutes is not None and not is_na(minutes):
            return None
        since = values.get(self.response.get("open_since") or "")
        return datetime.fromisoformat(since) if since and not is_na(since) else None

    #: The report's first sentence, from its figures: %(violations)s, %(eligible)s, %(ages)s.
    lede: str = ""

    def finding_codes(self) -> dict[str, str]:
        """Every finding the protocol can give, code → English title: its rules', its fatal
        answers' and its broken promise's."""
        found = {r.finding["code"]: r.finding["title"] for r in self.rules if r.finding and r.finding.get("code")}
        found.update({q.fatal["finding"]["code"]: q.fatal["finding"]["title"] for q in self.questions
                      if q.fatal and q.fatal.get("finding", {}).get("code")})
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
                    and condition_holds(value, q.fatal["when"]):
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

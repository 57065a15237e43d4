"""A protocol's questions and derived values: what a visit records, how a typed answer is
checked and stored, and how it scores (sections, weights, points, bands, n/a, fatal answers)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any, Callable

from ..errors import InvalidInput
from .values import FALSE_WORDS, MONEY, NA, NA_WORDS, TRUE_WORDS, is_na, known_currency, money_amount, parse_minutes

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
                raise InvalidInput(f"{self.key}: {raw!r} is not a duration (minutes, or 90s, 4 min, "
                                   "1 min 5 s, 1.5h, a stopwatch's 1:05)")
        if self.type == "money":
            if isinstance(raw, dict):
                raw = f"{raw.get('amount', '')} {raw.get('currency') or ''}"
            m = MONEY.match(str(raw).replace("\u00a0", " "))
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
        n/a, a number outside every band). Money counts by its amount; a rating scores its scale
        (value − min); yes/no and choices their points; a number or a duration the first band
        whose max it does not pass."""
        return self._earn(value)

    @functools.cached_property
    def _earn(self) -> Callable[[Any], float | None]:
        """``earned`` for this question's kind of points, chosen once and with its points as
        floats: a scorecard asks it of every scored answer of every test, and choosing again each
        time was most of it."""
        points, low = self.points, self.min
        if self.type == "rating" and points is None:
            def pick(v):
                return float(v - low)
        elif self.type == "bool":
            yes, no = float(points["yes"]), float(points["no"])

            def pick(v):
                return yes if v else no
        elif self.type == "choice":
            pick = {choice: float(got) for choice, got in points.items()}.__getitem__
        elif isinstance(points, list):  # bands over a number or a duration
            bands = [(band.get("max"), float(band["points"])) for band in points]

            def pick(v):
                for most, got in bands:
                    if most is None or v <= most:
                        return got
                return None
        else:
            def pick(v):
                return None

        def earn(value: Any) -> float | None:
            if value is None or (isinstance(value, str) and value == NA):  # is_na, spelt out: a call per answer
                return None
            if isinstance(value, dict) and "amount" in value:
                value = float(money_amount(value))
            return pick(value)

        return earn

    @functools.cached_property
    def possible(self) -> float:
        """The most points an answer can earn, before weighting (kept once asked: a scorecard
        asks for every scored answer of every visit)."""
        if self.type == "rating" and self.points is None:
            return float(self.max - self.min)
        if isinstance(self.points, list):
            return float(max(b["points"] for b in self.points))
        return float(max(self.points.values()))


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

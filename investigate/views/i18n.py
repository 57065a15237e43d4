"""Translations with Babel: gettext catalogues (.po) compiled when first used, and numbers and
dates formatted for the language ("12,5 %" in German, "12.5%" in English).

The catalogues live in investigate/locale/<lang>/LC_MESSAGES/messages.po. They are compiled in
memory on first use, so a fresh clone and an installed wheel need no build step.
"""

from __future__ import annotations

import functools
import gettext
import io
from datetime import date, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

LANGUAGES = ("en", "de", "da")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@functools.lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po.exists():
        return gettext.NullTranslations()
    with open(po, "rb") as fp:
        catalog = read_po(fp, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def place_locale(lang: str, timezone_name: str | None = None) -> Locale:
    """The language as written where the newsroom is: English for a Berlin case is ``en_DE``,
    whose clock has 24 hours ("15:04", not "3:04 PM"). The territory comes from the
    workspace's time zone (CLDR's zone territories); without one, or where CLDR has no such
    locale, the language alone."""
    territory = get_global("zone_territories").get(timezone_name or "")
    if territory and territory != "001":
        try:
            return Locale.parse(f"{lang}_{territory}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse(lang)


class Formatter:
    """Numbers, percentages and dates in one language; handed to the templates."""

    def __init__(self, lang: str, timezone_name: str | None = None):
        self.lang = lang
        self.locale = Locale.parse(lang)
        # Numbers and dates as the language writes them; the clock as the place reads it.
        self.clock = place_locale(lang, timezone_name)
        pattern = self.locale.percent_formats[None].pattern
        self._pct = pattern.replace("#,##0", "#,##0.0", 1)
        self._whole_pct = pattern

    def pct(self, value: float | None, n: int | None = None) -> str:
        """A share as a percentage: one decimal, or whole percent when it rests on fewer than
        100 cases (``n``), where a decimal would claim a precision the count does not have."""
        if value is None:
            return "–"
        pattern = self._whole_pct if n is not None and n < 100 else self._pct
        return format_percent(value, format=pattern, locale=self.locale)

    def interval(self, low: float | None, high: float | None, n: int | None = None) -> str:
        return "–" if low is None else f"{self.pct(low, n)} – {self.pct(high, n)}"

    def num(self, value) -> str:
        return "–" if value is None else format_decimal(value, locale=self.locale)

    def day(self, value: str | date | None) -> str:
        if not value:
            return "–"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, "medium", locale=self.locale)

    def long_day(self, value: str | date | None) -> str:
        if not value:
            return "–"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, "long", locale=self.locale)

    def day_time(self, value: str | None) -> str:
        """Date and time to the minute, in the time of the place it happened."""
        if not value:
            return "–"
        when = datetime.fromisoformat(value)
        return f"{format_date(when.date(), 'medium', locale=self.locale)}, {format_time(when, 'short', tzinfo=when.tzinfo, locale=self.clock)}"

    def moment(self, value: str | None) -> str:
        return self.day_time(value)

    def names(self, names: str | list[str]) -> str:
        """A list of names joined as the language does ("A, B and C", "A, B und C")."""
        return format_list(list(names), locale=self.locale) if isinstance(names, list) else names

    def quote(self, text: str | None) -> str:
        """Text in the language's quotation marks: “…” in English, „…“ in German."""
        return translations(self.lang).gettext("“%(text)s”") % {"text": text or ""}

    def language_name(self, lang: str) -> str:
        """A language's name as this language writes it: German, Deutsch, tysk."""
        return Locale.parse(lang).get_display_name(self.locale)

    def written_in(self, text: str | None, lang: str | None) -> str | None:
        """A text as this edition prints it: as it is when written in this language, else as a
        quotation marked with the language it was written in — never as if translated."""
        if not text or not lang or lang == self.lang:
            return text
        return translations(self.lang).gettext("%(quote)s (in %(language)s)") % {
            "quote": self.quote(text), "language": self.language_name(lang)}


def labels(lang: str) -> dict[str, dict[str, str]]:
    """The words for the values the records hold (outcomes, severities, review states, attempt
    statuses, how a sample was drawn) in ``lang``: a report never prints a stored key."""
    _ = translations(lang).gettext
    return {
        "outcome": {"violation": _("violation"), "compliant": _("compliant"), "inconclusive": _("inconclusive"),
                    "not_completed": _("not completed")},
        "severity": {"critical": _("very serious"), "high": _("serious"), "medium": _("medium"), "low": _("minor"),
                     "observation": _("observation (no breach of law claimed)")},
        "review": {"received": _("received"), "has_issues": _("has issues"), "approved": _("approved"),
                   "rejected": _("rejected")},
        "channel": {"email": _("by e-mail"), "letter": _("by letter"), "phone": _("by phone"),
                    "in_person": _("in person"), "web_form": _("through our web form")},
        "attempt": {"completed": _("completed"), "closed": _("store closed"), "not_found": _("store not found"),
                    "minors_not_admitted": _("minors not admitted"), "members_only": _("members only"),
                    "unsafe": _("unsafe"), "other": _("other reason")},
        "sample": {"stratified": _("stratified"), "simple random": _("simple random")},
    }


def answer_language(fmt: Formatter, reply: dict, case: dict) -> dict:
    """How an edition marks a company's answer: the language it was written in when that is
    not the edition's ("Answer in German:"), and its code for the quotation's lang attribute."""
    lang = reply.get("answer_language") or case.get("language") or fmt.lang
    return {"answer_lang": lang, "answer_language": fmt.language_name(lang) if lang != fmt.lang else None}

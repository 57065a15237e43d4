"""What every report gatherer starts from: one edition of one case in one language.

The case report, the service report and the story report each began with the same seven
lines (language, public or internal, the catalogue, the formatter on the place's clock, now,
the case's title and method in that language); one place keeps them alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Callable

from ..cases.cases import case_text
from ..store.workspace import Workspace
from .i18n import Formatter, translations


@dataclass
class Edition:
    case: dict
    lang: str
    public: bool
    gettext: Callable[[str], str]
    fmt: Formatter
    now: datetime

    @cached_property
    def text(self) -> dict:
        """The case's title and method in ``lang``, or an error naming what is missing: asked
        when the gatherer reaches it, so each report refuses in the order it always did."""
        return case_text(self.case, self.lang)


def edition_of(ws: Workspace, case: dict, *, edition: str, lang: str | None, now: datetime | None) -> Edition:
    """The edition a gatherer renders: ``lang`` defaults to the case's, ``now`` to the clock's."""
    lang = lang or case["language"] or ws.language
    return Edition(case=case, lang=lang, public=edition == "public", gettext=translations(lang).gettext,
                   fmt=Formatter(lang, ws.setting("newsroom", "timezone", None)), now=now or ws.now())

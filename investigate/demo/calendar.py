"""The demo's calendar: its autumn dated relative to the day the demo is built.

The demo tells one autumn: fieldwork in October, reply requests early in November, a refund
paid in the middle of it, written to be looked at on ``WRITTEN_FOR``. Built on another day,
every date moves by whole weeks so that the story still ends just behind today: reply windows
closed as written, promises overdue as written, the one open window still open, and weekdays
(so working-day reply windows) as written. Month names in titles follow the moved dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from babel.dates import format_date

#: The day the demo's dates were written for (a Wednesday, like every day a week on from it).
WRITTEN_FOR = date(2026, 11, 25)


#: When a company's staff act on a promise (a callback, a refund booked): its working day.
OFFICE_HOURS = (8, 18)


def in_office_hours(at: datetime, tz: tzinfo, *, earlier: bool, not_before: datetime | None = None) -> datetime:
    """``at`` moved into office hours, in the place's clock: to the working day before or
    earlier the same day (``earlier``: a promise kept on time stays on time), or later that day
    or the next (a late one stays late); never before ``not_before`` (the call that made the
    promise). A callback "kept" at 03:09 is not how a hotline works, and a reader of the demo
    would stop at it."""
    opens, closes = OFFICE_HOURS
    at = at.astimezone(tz)  # the hours of the place's clock (summer time ends in the demo's October)
    if opens <= at.hour < closes:
        return max(at, not_before + timedelta(hours=1)) if not_before else at
    # Spread over the working day by the hour it would have been, not all at one time.
    hour = opens + at.hour % (closes - opens)
    if at.hour >= closes:
        at = at.replace(hour=hour) + (timedelta(days=1) if not earlier else timedelta(0))
    else:
        at = at.replace(hour=hour) - (timedelta(days=1) if earlier else timedelta(0))
    return max(at, not_before + timedelta(hours=1)) if not_before else at


class DemoCalendar:
    """The demo's dates moved to the day it is built, by whole weeks."""

    def __init__(self, today: date, tz: tzinfo):
        self.shift = timedelta(weeks=(today - WRITTEN_FOR).days // 7)
        self.tz = tz

    @classmethod
    def of(cls, ws) -> "DemoCalendar":
        return cls(ws.now().date(), ws.tz)

    def at(self, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
        """A written date and time, moved; the wall-clock time stays as written."""
        return datetime(year, month, day, hour, minute, tzinfo=self.tz) + self.shift

    def day(self, text: str) -> str:
        """A written ISO date ("2026-09-30"), moved."""
        return (date.fromisoformat(text) + self.shift).isoformat()

    def month(self, text: str) -> str:
        """A written year and month ("2009-05", a birth month), moved with the rest: a tester's
        age on each visit stays as written."""
        return (date.fromisoformat(f"{text}-15") + self.shift).strftime("%Y-%m")

    def month_year(self, year: int, month: int, lang: str) -> str:
        """"Oktober 2026", "October 2026", "oktober 2026": the month a title names, moved."""
        return format_date(self.at(year, month, 15).date(), "MMMM y", locale=lang)

    def long_day(self, year: int, month: int, day: int, lang: str) -> str:
        """"18. November 2026": a date written in a sentence, moved."""
        return format_date(self.at(year, month, day).date(), "long", locale=lang)

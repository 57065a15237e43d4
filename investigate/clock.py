"""The one clock: every "now" of the library is asked here.

Time is an input. A reply window, a promise's due date, a tester's age and a checkpoint's
time all follow from it, so it is read in one place: tests freeze it with ``time-machine``
(which moves ``datetime.now`` beneath this module), and the editors' Datasette asks the same
clock from SQL (``investigate_now()``) instead of SQLite's own ``'now'``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo

#: The clock's resolution as the rules compare times: a promise due at 10:00:00 is overdue from
#: 10:00:00.000001, and a reply clock outgrows its last band the first instant past it.
TICK = timedelta(microseconds=1)


def now(tz: tzinfo = timezone.utc) -> datetime:
    """The current time in ``tz``, to the second."""
    return datetime.now(tz).replace(microsecond=0)


def utc_now() -> str:
    """Now in UTC as ISO 8601 text, to the second: the form every stored time stamp takes."""
    return now().isoformat(timespec="seconds")


def today(tz: tzinfo = timezone.utc) -> date:
    """Today's date in ``tz``."""
    return now(tz).date()

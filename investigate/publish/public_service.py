"""The public copy's service tables: a customer-service case's scorecard and its response times.

A reader who wants to check the service report's figures gets them here, computed by the same
code (``views.scorecard``) from the same approved tests, and labelled as the report labels them:
a company is named only when every contact point of it that was tested may be named, otherwise
it is "Company A" (``views.scorecard.printed_labels``); groups with fewer tests than the smallest
cell are folded into "other groups" before any figure is made (``policy.protect_groups``), and a
case below it shows no figure at all (one row, ``withheld``).

``response_times`` holds one row per test with a time to a response: the minutes, and whether
the response is still open (a right-censored time), so that the Kaplan–Meier curves and
medians of the report can be recomputed. Day precision and the stores' public pseudonyms, as
in ``visits``; nothing of the tester, the observer or the notes.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from ..policy import min_cell
from ..policy.naming import Naming, public_store_id
from ..protocol.values import DIMENSIONS
from ..store.workspace import Workspace
from ..views.i18n import translations
from ..views.scorecard import is_service_case, printed_labels, scorecard, scored_visits
from ..views.service import labels

#: The groupings published, as the report shows them: the whole case, per company (the
#: ranking), per channel (the response times), per company and channel (the scorecard grid).
GROUPINGS = ((), ("company",), ("channel",), ("company", "channel"))

SCHEMA = f"""
create table scorecard (
  id integer primary key, case_slug text references cases(slug), grouping text, company text, channel text,
  tests integer, overall real, overall_ci_low real, overall_ci_high real,
  {", ".join(f"{d} real, {d}_ci_low real, {d}_ci_high real" for d in DIMENSIONS)},
  promises_due integer, promises_kept integer, promises_late integer, promises_broken integer,
  price_checks integer, overcharged integer, response_median real, response_ci_low real, response_ci_high real,
  responses_open integer, no_response_days real, no_response integer, no_response_of integer, withheld integer
);
create table response_times (
  id integer primary key, case_slug text references cases(slug), store_id text, company text, channel text,
  visit_date text, minutes real, still_open integer
);
"""

INDEXES = """
create index scorecard_case_grouping on scorecard (case_slug, grouping);
create index response_times_case_channel on response_times (case_slug, channel);
"""


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def add_service_tables(ws: Workspace, out: sqlite3.Connection, case: dict, *, names: Naming, lang: str,
                       now: datetime) -> None:
    """Write the case's rows of ``scorecard`` and ``response_times`` (none for a case that scores
    no service dimensions)."""
    if not is_service_case(ws, case):
        return
    _ = translations(lang).gettext
    rows = scored_visits(ws, case, approved_only=True, now=now)
    label_of = printed_labels(rows, names.named_stores, public=True, gettext=_)
    channel_of = labels(lang)["channels"]
    threshold = min_cell(ws, case)
    for by in GROUPINGS:
        card = scorecard(ws, case, by=by, approved_only=True, now=now, threshold=threshold, scored=rows)
        if card["withheld"]:
            out.execute("insert into scorecard (case_slug, grouping, withheld) values (?,?,1)",
                        [case["slug"], ",".join(by) or "all"])
            continue
        for g in card["groups"]:
            group = g["group"]
            dims = []
            for d in DIMENSIONS:
                figure = g["dimensions"].get(d) or {}
                dims += [_rounded(figure.get("mean")), _rounded(figure.get("ci_low")), _rounded(figure.get("ci_high"))]
            overall, promises, price = g["overall"] or {}, g["promises_kept"], g["overcharged"]
            response, late = g["response_minutes"], g["no_reply_within"]
            out.execute(
                f"insert into scorecard values (null, ?,?,?,?,?,?,?,?, {', '.join('?' * len(dims))}, "
                "?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
                [case["slug"], ",".join(by) or "all",
                 label_of.get(group["company"], group["company"]) if "company" in group else None,
                 channel_of.get(group["channel"], group["channel"]) if "channel" in group else None,
                 g["tests"], _rounded(overall.get("mean")), _rounded(overall.get("ci_low")),
                 _rounded(overall.get("ci_high")), *dims,
                 promises["n"], promises["k"], promises["late"], promises["broken"] + promises["overdue"],
                 price["n"], price["k"], _rounded(response["median"]), _rounded(response["ci_low"]),
                 _rounded(response["ci_high"]), response["open"], late["days"], late["k"], late["n"]])
    out.executemany(
        "insert into response_times (case_slug, store_id, company, channel, visit_date, minutes, still_open) "
        "values (?,?,?,?,?,?,?)",
        [(case["slug"], public_store_id(case, r["store_id"]), label_of[r["company"]],
          channel_of.get(r["channel"], r["channel"]), r["visited_at"][:10], _rounded(r["response"][0]),
          int(not r["response"][1])) for r in rows if r["response"] is not None])

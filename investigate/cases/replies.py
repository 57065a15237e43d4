"""The right of reply: a business is told of the findings, given a deadline, and its answer is
printed verbatim.

A request records what it put to the business (``reply_items``): every visit of the store in
the case and every finding of those visits, observations included, each with a hash of what
would be printed about it (store, time of the visit, code, title, statute, severity). A
business may be named only when every finding to be published about it is covered by a
request whose window has closed (it answered, or its deadline passed). A finding approved,
added or changed after the request is not covered, so the business is unnameable again until
a new request covers it. That rule, and the hashes it compares, are the publication policy's
(``policy.coverage``); this module records the requests with the same hashes.

A request cannot be dated before the visits it covers, and its deadline is at least the
case's reply window — in calendar days, or in working days with the public holidays of the
case's region (the ``holidays`` package) — unless a reason for a shorter one is recorded.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import Iterable, Iterator

from ..errors import InvalidInput
from ..store.lookup import resolve
from ..store.tables import by_time, every_row
from ..numbers.stats import visit_filter
from ..store.workspace import Workspace
from ..policy.coverage import REQUEST_ACTION, covered_hash
from ..policy.private import refuse_private
from ..vocabulary import LANGUAGES, REPLY_CHANNELS

CALENDARS = ("days", "working_days")
#: How requests are listed, over ``replies r`` joined to ``stores s``: by deadline, then by the
#: business's name, for those asked at once share their deadline (the CLI's list, the case page).
REQUEST_ORDER = "r.deadline, s.name, r.id"


def _store_findings(ws: Workspace, case: dict, store_id: str | None, *, approved_only: bool):
    """Visits and findings (observations included) that could be published about a store
    (every store of the case when ``store_id`` is None)."""
    cond, params = visit_filter(approved_only=approved_only)
    where = "v.case_id = ? and " + cond
    args = [case["id"], *params]
    if store_id:
        where += " and v.store_id = ?"
        args.append(store_id)
    # Sorted, not walked through the case's time index (``by_time``): a store's few visits are
    # found through the rates index (case, kind, store).
    at = by_time("v.visited_at", whole=True)
    visits = list(ws.db.query(f"select v.id, v.store_id, v.visited_at from visits v where {where} "
                              f"order by {at}, v.id", args))
    findings = list(ws.db.query(
        f"select f.*, v.store_id, v.visited_at from findings f join visits v on v.id = f.visit_id "
        f"where {where} order by {at}, f.code", args))
    return visits, findings


def covered_by_store(ws: Workspace, case: dict) -> Iterator[tuple[str, list[dict], list[dict]]]:
    """(store id, visits, findings) for every store of ``case``, as ``_store_findings`` reads
    them for one (approved or not), from one pass over the case's visits sorted by store. For
    asking thousands of businesses at once: read store by store, a million visits were a million
    random page reads and more (3.8 million reads under strace; a third of the time was the
    system's), where the table read in its own order and sorted takes 3 s."""
    cond, params = visit_filter(approved_only=False)
    rows = ws.db.execute(
        f"select v.id, v.store_id, v.visited_at, f.id, f.code, f.title, f.statute, f.severity "
        f"from {every_row('visits', 'v', whole=True)} left join findings f on f.visit_id = v.id "
        f"where v.case_id = ? and {cond} order by v.store_id, v.visited_at, v.id, f.code", [case["id"], *params])
    for store_id, group in itertools.groupby(rows, key=itemgetter(1)):
        visits, findings = [], []
        for visit_id, _, visited_at, finding_id, code, title, statute, severity in group:
            if not visits or visits[-1]["id"] != visit_id:
                visits.append({"id": visit_id, "store_id": store_id, "visited_at": visited_at})
            if finding_id is not None:
                findings.append({"id": finding_id, "visit_id": visit_id, "code": code, "title": title,
                                 "statute": statute, "severity": severity, "store_id": store_id,
                                 "visited_at": visited_at})
        yield store_id, visits, findings


def covered_count(ws: Workspace, case: dict, store_ids: Iterable[str]) -> int:
    """How many items requests to ``store_ids`` in ``case`` cover (their visits and findings
    that could be published, ``covered_by_store``'s rows), from the tallies."""
    cond, params = visit_filter(approved_only=False)  # the tallies hold the filter's columns
    counted = f"v.case_id = ? and {cond} and v.store_id in (select value from json_each(?))"
    args = [case["id"], *params, json.dumps(list(store_ids))]
    return ws.db.execute(f"select (select coalesce(sum(visits), 0) from visit_tallies v where {counted}) + "
                         f"(select coalesce(sum(findings), 0) from finding_tallies v where {counted})",
                         args * 2).fetchone()[0]


def holiday_calendar(case: dict):
    """The public holidays of the case's region (``DE-BE``, ``DK``…), or None."""
    region = (case.get("holidays") or "").strip()
    if not region:
        return None
    import holidays

    country, _, subdiv = region.partition("-")
    try:
        return holidays.country_holidays(country.upper(), subdiv=subdiv.upper() or None)
    except (NotImplementedError, KeyError) as ex:
        raise InvalidInput(f"holidays {region!r}: unknown country or region ({ex})")


def check_holiday_region(region: str | None) -> str | None:
    """Validate a region such as DE-BE or DK when it is typed, not when a deadline is due."""
    if not region:
        return None
    holiday_calendar({"holidays": region})
    return region.strip().upper()


def earliest_deadline(case: dict, asked: datetime) -> datetime:
    """The end of the case's reply window for a request made at ``asked``: ``reply_days``
    calendar days later, or that many working days (no weekends, no public holidays of the
    case's region) ending at 23:59:59 of the last one."""
    days = case.get("reply_days") or 14
    if (case.get("reply_calendar") or "days") != "working_days":
        return asked + timedelta(days=days)
    calendar = holiday_calendar(case)
    day: date = asked.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and not (calendar is not None and day in calendar):
            counted += 1
    return asked.replace(year=day.year, month=day.month, day=day.day, hour=23, minute=59, second=59)


def request_reply(ws: Workspace, case: dict, store: dict, *, channel: str = "email",
                  requested_at: str | None = None, deadline: str | None = None,
                  notes: str | None = None, short_deadline_reason: str | None = None) -> dict:
    """Record that the business was asked for comment, and exactly what it was asked about:
    every visit of the store in the case and every finding of them (rejected visits aside).

    The deadline defaults to the end of the case's reply window; an earlier one needs
    ``short_deadline_reason`` (recorded, and printed in the report's method)."""
    with ws.transaction():
        row, items = record_request(ws, case, store, channel=channel, requested_at=requested_at, deadline=deadline,
                                    notes=notes, short_deadline_reason=short_deadline_reason)
        if items:
            ws.insert_many("reply_items", items, action="insert")
    return row


def record_request(ws: Workspace, case: dict, store: dict, *, channel: str = "email",
                   requested_at: str | datetime | None = None, deadline: str | None = None,
                   notes: str | None = None, short_deadline_reason: str | None = None,
                   covered: tuple[list[dict], list[dict]] | None = None) -> tuple[dict, list[dict]]:
    """``request_reply``'s request, written, and the items it covers, not yet written: the
    caller writes them inside its transaction. Asking twenty thousand businesses at once
    writes their items in one bulk write: one per business cost a third of it. ``covered``: the
    store's visits and findings, when the caller read them already (``covered_by_store``)."""
    if not ws.db.conn.in_transaction:
        raise RuntimeError("record_request writes a request whose items the caller writes: call it in a transaction")
    if channel not in REPLY_CHANNELS:
        raise InvalidInput(f"channel {channel!r} is not one of {', '.join(REPLY_CHANNELS)}")
    asked = ws.parse_time(requested_at, what="request date")
    visits, findings = covered if covered is not None else _store_findings(ws, case, store["id"],
                                                                             approved_only=False)
    late = [v for v in visits if datetime.fromisoformat(v["visited_at"]) > asked]
    if late:
        raise InvalidInput(
            f"the request ({asked.isoformat()}) is dated before the visit of {late[0]['visited_at']} it "
            "would cover: a business cannot have been asked about a test that had not happened")
    window_end = earliest_deadline(case, asked)
    if deadline:
        due = ws.parse_time(deadline, what="deadline", past_only=False)
        if len(deadline.strip()) == 10:  # a bare date means the end of that day
            due = due.replace(hour=23, minute=59, second=59)
    else:
        due = window_end
    if due <= asked:
        raise InvalidInput("the deadline must be after the request")
    reason = (short_deadline_reason or "").strip() or None
    if due < window_end and not reason:
        unit = "working days" if case.get("reply_calendar") == "working_days" else "days"
        raise InvalidInput(
            f"deadline {due.isoformat()} is shorter than the case's reply window of {case['reply_days']} {unit} "
            f"(earliest {window_end.isoformat()}): give --short-deadline-reason \"…\" if it must be")
    if reason:
        refuse_private(ws, reason, what="short-deadline reason", case=case)
    created = ws.now().isoformat()
    # A request without its items is no request: they stand or fall together. Its entry's action
    # tells the naming rule that its items cover what stood at that entry (``REQUEST_ACTION``).
    row = ws.insert("replies", {
        "case_id": case["id"], "store_id": store["id"], "requested_at": asked.isoformat(),
        "channel": channel, "deadline": due.isoformat(), "answered_at": None, "answer": None,
        "notes": notes, "created_at": created, "short_deadline_reason": reason,
    }, action=REQUEST_ACTION, savepoint=False)
    items = [{"reply_id": row["id"], "visit_id": v["id"], "finding_id": None, "created_at": created,
              "covered_hash": covered_hash(store_id=store["id"], visit_id=v["id"], visited_at=v["visited_at"])}
             for v in visits]
    items += [{"reply_id": row["id"], "visit_id": f["visit_id"], "finding_id": f["id"], "created_at": created,
               "covered_hash": covered_hash(store_id=store["id"], visit_id=f["visit_id"],
                                            visited_at=f["visited_at"], finding=f)}
              for f in findings]
    return row, items


def request_items(ws: Workspace, reply: dict) -> dict:
    """What a request put to the business, as it stands now: the visits and the findings
    (with their visit's time), and the evidence kept of those visits."""
    covered = {r["finding_id"] or r["visit_id"]: r["covered_hash"]
               for r in ws.db.query("select * from reply_items where reply_id = ?", [reply["id"]])}
    visits = list(ws.db.query(
        "select v.* from visits v where v.id in (select visit_id from reply_items where reply_id = ?) "
        "order by v.visited_at, v.id", [reply["id"]]))
    findings = list(ws.db.query(
        "select f.*, v.visited_at, v.store_id, v.protocol from findings f join visits v on v.id = f.visit_id "
        "where f.id in (select finding_id from reply_items where reply_id = ?) order by v.visited_at, f.code",
        [reply["id"]]))
    evidence = list(ws.db.query(
        "select e.sha256, e.media_type, e.captured_at, e.gps_lat, e.gps_lon, e.visit_id, v.visited_at, v.store_id "
        "from evidence e "
        "join visits v on v.id = e.visit_id where e.visit_id in "
        "(select visit_id from reply_items where reply_id = ?) order by v.visited_at, e.captured_at, e.sha256",
        [reply["id"]]))
    return {"visits": visits, "findings": findings, "evidence": evidence, "hashes": covered}


def written_in(case: dict, language: str | None) -> str:
    """The language a text was written in: the one given, else the case's. Another edition
    prints it as a quotation marked with that language."""
    language = (language or case.get("language") or "").strip() or None
    if language not in LANGUAGES:
        raise InvalidInput(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return language


def record_reply(ws: Workspace, reply: dict, *, answer: str, answered_at: str | None = None,
                 language: str | None = None) -> dict:
    """The business's answer, verbatim, with the language it is written in (default: the
    case's). An empty answer is refused: "declined to comment" is an answer and should be
    written as one."""
    if not answer or not answer.strip():
        raise InvalidInput("the answer is empty (write 'declined to comment' if they did)")
    case = ws.get("cases", reply["case_id"])
    language = written_in(case, language)
    when = ws.parse_time(answered_at, what="answer date")
    if when < datetime.fromisoformat(reply["requested_at"]):
        raise InvalidInput(f"the answer ({when.isoformat()}) is dated before the request ({reply['requested_at']})")
    refuse_private(ws, answer, what="answer", case=case, businesses=False)
    return ws.update("replies", reply["id"], {"answer": answer, "answered_at": when.isoformat(),
                                              "answer_language": language}, action="reply")


def get_reply(ws: Workspace, ref: str) -> dict:
    return resolve(ws, "replies", ref)


def latest_request(ws: Workspace, case: dict, store: dict) -> dict | None:
    rows = list(ws.db.query("select * from replies where case_id = ? and store_id = ? "
                            "order by requested_at desc, rowid desc limit 1", [case["id"], store["id"]]))
    return rows[0] if rows else None


def _reply_filter(ws: Workspace, case: dict | None, open_only: bool) -> tuple[str, list]:
    where, params = [], []
    if case:
        where.append("r.case_id = ?")
        params.append(case["id"])
    if open_only:
        where.append("r.answered_at is null and julianday(r.deadline) > julianday(?)")
        params.append(ws.now().isoformat())
    return (" where " + " and ".join(where) if where else ""), params


def list_replies(ws: Workspace, *, case: dict | None = None, open_only: bool = False,
                 limit: int | None = None, offset: int = 0) -> list[dict]:
    """Reply requests by deadline, then by business (those asked at once share their
    deadline); ``open_only``: unanswered with the deadline ahead. ``limit``/``offset`` page them."""
    where, params = _reply_filter(ws, case, open_only)
    page = f" limit {int(limit)} offset {int(offset)}" if limit is not None else ""
    return list(ws.db.query(
        "select r.*, s.name as store_name, c.slug as case_slug from replies r "
        "join stores s on s.id = r.store_id join cases c on c.id = r.case_id"
        + where + f" order by {REQUEST_ORDER}" + page, params))


def count_replies(ws: Workspace, *, case: dict | None = None, open_only: bool = False) -> int:
    """How many ``list_replies`` would list, without reading them."""
    where, params = _reply_filter(ws, case, open_only)
    return ws.db.execute("select count(*) from replies r" + where, params).fetchone()[0]

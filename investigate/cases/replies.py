"""The right of reply: a business is told of the findings, given a deadline, and its answer is
printed verbatim.

A request records what it put to the business (``reply_items``): every visit of the store in
the case and every finding of those visits, observations included, each with a hash of what
would be printed about it (store, time of the visit, code, title, statute, severity). A
business may be named only when every finding to be published about it is covered by a
request whose window has closed (it answered, or its deadline passed). A finding approved,
added or changed after the request is not covered, so the business is unnameable again until
a new request covers it. Which findings are "to be published" is the publication policy's
decision (``investigate.policy``): these functions take it as ``approved_only``.

A request cannot be dated before the visits it covers, and its deadline is at least the
case's reply window — in calendar days, or in working days with the public holidays of the
case's region (the ``holidays`` package) — unless a reason for a shorter one is recorded.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta

from ..errors import InvalidInput
from ..store.lookup import resolve
from ..numbers.stats import visit_filter
from ..store.workspace import Workspace
from ..policy.private import refuse_private

CHANNELS = ("email", "letter", "phone", "in_person", "web_form")
CALENDARS = ("days", "working_days")


def covered_hash(*, store_id: str, visit_id: str, visited_at: str, finding: dict | None = None) -> str:
    """What a request puts to the business about one visit or finding, as a hash: if the
    visit's time or the finding's wording changes later, the old request no longer covers it."""
    parts = [store_id, visit_id, datetime.fromisoformat(visited_at).isoformat()]
    if finding is not None:
        parts += [finding["id"], finding.get("code") or "", finding.get("title") or "",
                  finding.get("statute") or "", finding.get("severity") or ""]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _store_findings(ws: Workspace, case: dict, store_id: str | None, *, approved_only: bool):
    """Visits and findings (observations included) that could be published about a store
    (every store of the case when ``store_id`` is None)."""
    cond, params = visit_filter(approved_only=approved_only)
    where = "v.case_id = ? and " + cond
    args = [case["id"], *params]
    if store_id:
        where += " and v.store_id = ?"
        args.append(store_id)
    visits = list(ws.db.query(f"select v.id, v.store_id, v.visited_at from visits v where {where} "
                              "order by v.visited_at, v.id", args))
    findings = list(ws.db.query(
        f"select f.*, v.store_id, v.visited_at from findings f join visits v on v.id = f.visit_id "
        f"where {where} order by v.visited_at, f.code", args))
    return visits, findings


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
    if channel not in CHANNELS:
        raise InvalidInput(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    asked = ws.parse_time(requested_at, what="request date")
    visits, findings = _store_findings(ws, case, store["id"], approved_only=False)
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
    with ws.transaction():
        row = ws.insert("replies", {
            "case_id": case["id"], "store_id": store["id"], "requested_at": asked.isoformat(),
            "channel": channel, "deadline": due.isoformat(), "answered_at": None, "answer": None,
            "notes": notes, "created_at": created, "short_deadline_reason": reason,
        })
        items = [{"reply_id": row["id"], "visit_id": v["id"], "finding_id": None, "created_at": created,
                  "covered_hash": covered_hash(store_id=store["id"], visit_id=v["id"], visited_at=v["visited_at"])}
                 for v in visits]
        items += [{"reply_id": row["id"], "visit_id": f["visit_id"], "finding_id": f["id"], "created_at": created,
                   "covered_hash": covered_hash(store_id=store["id"], visit_id=f["visit_id"],
                                                visited_at=f["visited_at"], finding=f)}
                  for f in findings]
        if items:
            ws.insert_many("reply_items", items, action="insert")
    return row


def request_items(ws: Workspace, reply: dict) -> dict:
    """What a request put to the business, as it stands now: the visits and the findings
    (with their visit's time), and the evidence kept of those visits."""
    covered = {r["finding_id"] or r["visit_id"]: r["covered_hash"]
               for r in ws.db.query("select * from reply_items where reply_id = ?", [reply["id"]])}
    visits = list(ws.db.query(
        "select v.* from visits v where v.id in (select visit_id from reply_items where reply_id = ?) "
        "order by v.visited_at, v.id", [reply["id"]]))
    findings = list(ws.db.query(
        "select f.*, v.visited_at, v.store_id from findings f join visits v on v.id = f.visit_id "
        "where f.id in (select finding_id from reply_items where reply_id = ?) order by v.visited_at, f.code",
        [reply["id"]]))
    evidence = list(ws.db.query(
        "select e.sha256, e.media_type, e.captured_at, e.visit_id, v.visited_at from evidence e "
        "join visits v on v.id = e.visit_id where e.visit_id in "
        "(select visit_id from reply_items where reply_id = ?) order by v.visited_at, e.captured_at, e.sha256",
        [reply["id"]]))
    return {"visits": visits, "findings": findings, "evidence": evidence, "hashes": covered}


def record_reply(ws: Workspace, reply: dict, *, answer: str, answered_at: str | None = None) -> dict:
    """The business's answer, verbatim. An empty answer is refused: "declined to comment" is
    an answer and should be written as one."""
    if not answer or not answer.strip():
        raise InvalidInput("the answer is empty (write 'declined to comment' if they did)")
    when = ws.parse_time(answered_at, what="answer date")
    if when < datetime.fromisoformat(reply["requested_at"]):
        raise InvalidInput(f"the answer ({when.isoformat()}) is dated before the request ({reply['requested_at']})")
    refuse_private(ws, answer, what="answer", case=ws.get("cases", reply["case_id"]), businesses=False)
    return ws.update("replies", reply["id"], {"answer": answer, "answered_at": when.isoformat()},
                     action="reply")


def get_reply(ws: Workspace, ref: str) -> dict:
    return resolve(ws, "replies", ref)


def latest_request(ws: Workspace, case: dict, store: dict) -> dict | None:
    rows = list(ws.db.query("select * from replies where case_id = ? and store_id = ? "
                            "order by requested_at desc, rowid desc limit 1", [case["id"], store["id"]]))
    return rows[0] if rows else None


def list_replies(ws: Workspace, *, case: dict | None = None, open_only: bool = False) -> list[dict]:
    where, params = [], []
    if case:
        where.append("r.case_id = ?")
        params.append(case["id"])
    if open_only:
        where.append("r.answered_at is null and julianday(r.deadline) > julianday(?)")
        params.append(ws.now().isoformat())
    return list(ws.db.query(
        "select r.*, s.name as store_name, c.slug as case_slug from replies r "
        "join stores s on s.id = r.store_id join cases c on c.id = r.case_id"
        + (" where " + " and ".join(where) if where else "") + " order by r.deadline", params))


def window_closed(row: dict, on: datetime) -> bool:
    """A request's window is closed when the business answered or its deadline passed.
    Compared as datetimes, not strings: offsets differ across daylight saving time."""
    return bool(row["answered_at"]) or datetime.fromisoformat(row["deadline"]) <= on


def naming_status(ws: Workspace, case: dict, *, on: datetime | None = None, approved_only: bool = True,
                  visited: dict[str, bool] | None = None) -> dict[str, str]:
    """store_id → why it may or may not be named, for every store of the case with a visit
    that could be published or a reply request:

    - ``named``: asked, window closed, every finding covered by a closed request;
    - ``not_asked``: never asked for comment (never named);
    - ``window_open``: asked, no request's window closed yet;
    - ``not_covered``: a finding to be published was not put to it by a closed request
      (approved or changed after the request, or the covering window is still open).

    ``visited`` is ``visited_stores``' answer when the caller has it already.
    """
    on = on or ws.now()
    requests = list(ws.db.query("select id, store_id, deadline, answered_at from replies where case_id = ?",
                                [case["id"]]))
    closed = {r["id"]: r["store_id"] for r in requests if window_closed(r, on)}
    asked = {r["store_id"] for r in requests}
    covered: set[tuple[str, str]] = set()
    if closed:
        marks = ",".join("?" for _ in closed)
        covered = {(closed[r[0]], r[1]) for r in ws.db.execute(
            f"select reply_id, covered_hash from reply_items where reply_id in ({marks})", list(closed))}
    # Only the stores, and the findings as they come: a case of a million visits is read
    # through the covering index, not held as a million rows.
    cond, params = visit_filter(approved_only=approved_only)
    if visited is None:
        visited = visited_stores(ws, case, approved_only=approved_only)
    findings = ws.db.query(
        f"select f.*, v.store_id, v.visited_at from findings f cross join visits v on v.id = f.visit_id "
        f"where v.case_id = ? and {cond}", [case["id"], *params]) if closed else ()
    status = {}
    for store_id in set(visited) | asked:
        if store_id not in asked:
            status[store_id] = "not_asked"
        elif store_id not in closed.values():
            status[store_id] = "window_open"
        else:
            status[store_id] = "named"
    for f in findings:
        if status.get(f["store_id"]) != "named":
            continue
        h = covered_hash(store_id=f["store_id"], visit_id=f["visit_id"], visited_at=f["visited_at"], finding=f)
        if (f["store_id"], h) not in covered:
            status[f["store_id"]] = "not_covered"
    if (case.get("kind") or "") == "story":
        # A story's claims are its events too: every one must have been put to the company.
        from .stories import apply_story_coverage

        apply_story_coverage(ws, case, status, set(closed))
    return status


def visited_stores(ws: Workspace, case: dict, *, approved_only: bool = True) -> dict[str, bool]:
    """store_id → whether every visit of it that could be published was compliant: the stores
    of the case from the visit tallies (the visit filter's columns are theirs too), shared by
    the naming passes."""
    cond, params = visit_filter(approved_only=approved_only)
    return {store_id: not not_compliant for store_id, not_compliant in ws.db.execute(
        f"""select v.store_id, sum(case when v.outcome != 'compliant' then v.visits else 0 end)
            from visit_tallies v where v.case_id = ? and {cond} group by v.store_id""", [case["id"], *params])}


def stores_that_passed(ws: Workspace, case: dict, *, approved_only: bool = True,
                       visited: dict[str, bool] | None = None) -> set[str]:
    """Stores whose every visit that could be published was compliant, with no finding
    (observations included): there is nothing to put to them."""
    if visited is None:
        visited = visited_stores(ws, case, approved_only=approved_only)
    with_findings = stores_with_findings(ws, case)
    return {store_id for store_id, compliant in visited.items() if compliant and store_id not in with_findings}


def stores_with_findings(ws: Workspace, case: dict) -> dict[str, bool]:
    """store_id → whether a finding of it is on a visit that counts for the editors (an
    undercover visit not rejected), for every store of the case with a finding on any visit.

    The checklist asks three times (its reply item, and the naming of both scopes), and at a
    million visits each asking walks every finding: the answer is kept for as long as the
    audit log does not move (every write appends to it, so it cannot be stale)."""
    # CROSS JOIN walks the findings (fewer than the visits) and looks each visit up, where
    # SQLite, without ANALYZE statistics, walks a million visits and probes the findings.
    return ws.while_unchanged(("stores_with_findings", case["id"]), lambda: {
        store_id: bool(counts) for store_id, counts in ws.db.execute(
            "select v.store_id, max(v.kind = 'undercover' and coalesce(v.review_state, 'received') != 'rejected') "
            "from findings f cross join visits v on v.id = f.visit_id where v.case_id = ? group by v.store_id",
            [case["id"]])})


def nameable_store_ids(ws: Workspace, case: dict, *, on: datetime | None = None,
                       approved_only: bool = True) -> set[str]:
    """The stores of a case that may be named: see ``naming_status``."""
    return {s for s, why in naming_status(ws, case, on=on, approved_only=approved_only).items() if why == "named"}


def nameable_chains(ws: Workspace, case: dict, named: set[str], *, approved_only: bool = True,
                    visited: dict[str, bool] | None = None) -> set[str]:
    """A chain may be named when every store of it that could be published in the case may
    be named (and there is at least one): a chain's rate is a finding about each of them."""
    if visited is None:
        visited = visited_stores(ws, case, approved_only=approved_only)
    by_chain: dict[str, bool] = {}
    for chain, store_id in ws.db.execute(
            "select chain, id from stores where chain is not null and id in (select value from json_each(?))",
            [json.dumps(list(visited))]):
        by_chain[chain] = by_chain.get(chain, True) and store_id in named
    return {c for c, ok in by_chain.items() if ok}


def reply_window_closed(ws: Workspace, case: dict, store: dict, *, on: datetime | None = None) -> bool:
    """May the store be named in public? See ``naming_status``."""
    return store["id"] in nameable_store_ids(ws, case, on=on)

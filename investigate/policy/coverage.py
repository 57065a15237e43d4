"""Coverage: what a business was asked about, and so who may be named.

A reply request records what it put to the business: every visit of the store in the case and
every finding of them, observations included (``reply_items``, each with ``covered_hash``), and
for a story every event of its timeline (``story_reply_items``, ``event_hash``). A business may
be named only when every finding (and, for a story, every event) to be published about it is
covered by a request whose window has closed: it answered, or its deadline passed. A finding
approved, added or changed after the request is not covered, so the business is unnameable
again until a new request covers it.

These are the facts the naming rule is made of; ``naming`` combines them once per output,
``private`` turns the unnamed businesses into private strings, the gate asks both, and the
domain (``cases.replies``, ``cases.stories``) records requests with the same hashes. Which
findings are "to be published" is the scope's decision: these functions take it as
``approved_only``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from ..numbers.stats import counted_state_sql, visit_filter
from ..store.workspace import Workspace


def covered_hash(*, store_id: str, visit_id: str, visited_at: str, finding: dict | None = None) -> str:
    """What a request puts to the business about one visit or finding, as a hash: if the
    visit's time or the finding's wording changes later, the old request no longer covers it."""
    if finding is not None:
        return finding_hash(store_id, visit_id, visited_at, finding["id"], finding.get("code"),
                            finding.get("title"), finding.get("statute"), finding.get("severity"))
    return _hashed(store_id, visit_id, datetime.fromisoformat(visited_at).isoformat())


def finding_hash(store_id: str, visit_id: str, visited_at: str, finding_id: str, code: str | None,
                 title: str | None, statute: str | None, severity: str | None) -> str:
    """``covered_hash`` of a finding from its values as a row holds them: what the naming rule
    computes for each of the 200,000 findings of a million visits, without a dict for each."""
    return _hashed(store_id, visit_id, datetime.fromisoformat(visited_at).isoformat(), finding_id, code or "",
                   title or "", statute or "", severity or "")


def _hashed(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def window_closed(row: dict, on: datetime) -> bool:
    """A request's window is closed when the business answered or its deadline passed.
    Compared as datetimes, not strings: offsets differ across daylight saving time."""
    return closed_by(window_closes_at(row), on)


def closed_by(closes_at: datetime | None, on: datetime) -> bool:
    """``window_closed`` of a request whose window closes at ``closes_at`` (``window_closes_at``)."""
    return closes_at is None or closes_at <= on


def window_closes_at(row: dict) -> datetime | None:
    """The moment the clock alone closes a request's window (its deadline), or None when the
    answer closed it: from that moment on ``window_closed`` is true."""
    return None if row["answered_at"] else datetime.fromisoformat(row["deadline"])


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
    requests = case_requests(ws, case)
    closed = {reply_id: store_id for reply_id, store_id, closes in requests if closed_by(closes, on)}
    asked = {store_id for _, store_id, _ in requests}
    if visited is None:
        visited = visited_stores(ws, case, approved_only=approved_only)
    status = {}
    closed_stores = set(closed.values())  # a set: ``in closed.values()`` read every request for each store
    for store_id in set(visited) | asked:
        if store_id not in asked:
            status[store_id] = "not_asked"
        elif store_id not in closed_stores:
            status[store_id] = "window_open"
        else:
            status[store_id] = "named"
    if closed:
        approved, counted = _uncovered(ws, case, closed)
        for store_id in approved if approved_only else counted:
            if status.get(store_id) == "named":
                status[store_id] = "not_covered"
    if (case.get("kind") or "") == "story":
        # A story's claims are its events too: every one must have been put to the company.
        apply_story_coverage(ws, case, status, set(closed))
    return status


def case_requests(ws: Workspace, case: dict) -> list[tuple[str, str, datetime | None]]:
    """(id, store_id, ``window_closes_at``) of every reply request of the case, kept while the
    log does not move: the naming of each scope asks which are closed, and the private strings
    which stores were asked; reading twenty thousand requests into dicts and parsing their
    deadlines took 25 ms a time. Each deadline is parsed once: the businesses asked at once
    share theirs."""
    return ws.while_unchanged(("requests", case["id"]), lambda: _read_requests(ws, case))


def _read_requests(ws: Workspace, case: dict) -> list[tuple[str, str, datetime | None]]:
    closes: dict[tuple[str, bool], datetime | None] = {}  # (what ``window_closes_at`` reads of a request)
    out = []
    for reply_id, store_id, deadline, answered_at in ws.db.execute(
            "select id, store_id, deadline, answered_at from replies where case_id = ?", [case["id"]]):
        key = (deadline, bool(answered_at))
        if key not in closes:
            closes[key] = window_closes_at({"deadline": deadline, "answered_at": answered_at})
        out.append((reply_id, store_id, closes[key]))
    return out


#: The audit action that records a reply request made here (``cases.replies.record_request``).
#: Such a request reads the store's visits and findings and writes itself and an item for each
#: of them in one transaction. So a finding that was not written after the request's entry, on
#: a visit that was not written after it either, is covered by the request as it stands: the
#: request hashed it as it still is (``_uncovered`` skips it). A request merged from another
#: workspace (``merge``), or recorded before requests kept their items (``insert``), proves
#: nothing so, and its store's findings are all checked.
REQUEST_ACTION = "request"

#: Above this many findings or visits written since the earliest such request, or a twentieth
#: as many stores asked by no such request, every finding of the case is checked in one pass.
RECHECK_AT = 20_000

_FINDING_COLUMNS = "f.id, f.visit_id, f.code, f.title, f.statute, f.severity, v.store_id, v.visited_at, v.review_state"


def _uncovered(ws: Workspace, case: dict, closed: dict[str, str]) -> tuple[set[str], set[str]]:
    """The stores with a closed request (``closed``: request id → store id) that have a finding
    no closed request of theirs covers: of the approved visits (what is published), and of
    every counted one (the editors' working scope). Kept while the log does not move and the
    same requests are closed: the checklist names both scopes.

    Only the findings a closed request made here may not cover are hashed and compared with
    the requests' items: those written after it, those on visits written after it, and every
    finding of a store asked only by requests merged or recorded before items were kept
    (``REQUEST_ACTION``). Once every business of a case of a million visits was asked, the
    checklist hashed all 200,000 findings and read 200,000 items: 1.6 s of its 2.1. The log is
    what tells a finding unchanged; ``verify`` proves every row against its newest entry."""
    return ws.while_unchanged(("uncovered", case["id"], tuple(sorted(closed))),
                              lambda: _uncovered_of(ws, case, closed, _written_since_asked(ws, closed)))


def _uncovered_of(ws: Workspace, case: dict, closed: dict[str, str],
                  to_check: tuple[list[str], list[str], list[str]] | None) -> tuple[set[str], set[str]]:
    """``_uncovered``, checking the findings ``to_check`` names (``_written_since_asked``), or
    every finding of the case (None)."""
    cond, params = visit_filter(approved_only=False)
    if to_check is None:
        rows = ws.db.execute(f"select {_FINDING_COLUMNS} from findings f cross join visits v on v.id = f.visit_id "
                             f"where v.case_id = ? and {cond}", [case["id"], *params])
        replies = closed
    else:
        changed, touched, unasked = (json.dumps(ids) for ids in to_check)
        rows = ws.db.execute(
            # (CROSS JOIN from the ids: else SQLite walks the case's visits, probing each id)
            f"select {_FINDING_COLUMNS} from json_each(?) j cross join findings f on f.id = j.value "
            f"cross join visits v on v.id = f.visit_id where v.case_id = ? and {cond} union "
            f"select {_FINDING_COLUMNS} from json_each(?) j cross join visits v on v.id = j.value "
            f"cross join findings f on f.visit_id = v.id where v.case_id = ? and {cond} union "
            f"select {_FINDING_COLUMNS} from visits v join findings f on f.visit_id = v.id "
            f"where v.case_id = ? and {cond} and v.store_id in (select value from json_each(?))",
            [changed, case["id"], *params, touched, case["id"], *params, case["id"], *params, unasked]).fetchall()
        checked = {r[6] for r in rows}  # only their stores' items are read
        replies = {reply_id: store_id for reply_id, store_id in closed.items() if store_id in checked}
    covered = {(replies[reply_id], h) for reply_id, h in ws.db.execute(
        "select reply_id, covered_hash from reply_items where finding_id is not null "
        "and reply_id in (select value from json_each(?))", [json.dumps(sorted(replies))])}
    stores = set(closed.values())
    approved, counted = set(), set()
    for finding_id, visit_id, code, title, statute, severity, store_id, visited_at, state in rows:
        if store_id not in stores or (store_id in approved and store_id in counted):
            continue
        h = finding_hash(store_id, visit_id, visited_at, finding_id, code, title, statute, severity)
        if (store_id, h) not in covered:
            counted.add(store_id)
            if state == "approved":
                approved.add(store_id)
    return approved, counted


def _written_since_asked(ws: Workspace, closed: dict[str, str]) -> tuple[list[str], ...] | None:
    """Which findings ``_uncovered`` must check: the ids of the findings and of the visits
    written since a line, and the stores with no closed request made here (``REQUEST_ACTION``).
    The line is each store's newest closed request made here, the earliest of them: a finding
    not written since is older than its own store's. None: check every finding of the case
    (there is no such request, or more to check than one pass costs: ``RECHECK_AT``)."""
    asked: dict[str, int] = {}
    # A request's own entry is the one that wrote it: no other write is logged as a request.
    # (The action is spelt in the SQL, for SQLite to read the partial index of the requests'
    # entries: looking up each request's first entry read 20,000 scattered pages of the log.)
    for reply_id, seq in ws.db.execute(
            f"select row_id, seq from audit_log where action = '{REQUEST_ACTION}' and table_name = 'replies' "
            "and row_id in (select value from json_each(?))", [json.dumps(list(closed))]):
        store_id = closed[reply_id]
        asked[store_id] = max(seq, asked.get(store_id, 0))
    unasked = sorted(set(closed.values()) - set(asked))
    if not asked or len(unasked) > RECHECK_AT // 20:
        return None
    since = min(asked.values())
    written = []
    for table in ("findings", "visits"):
        ids = [r[0] for r in ws.db.execute(f"select distinct row_id from audit_log where table_name = '{table}' "
                                           f"and seq > ? limit {RECHECK_AT + 1}", [since])]
        if len(ids) > RECHECK_AT:
            return None
        written.append(ids)
    return written[0], written[1], unasked


def visited_stores(ws: Workspace, case: dict, *, approved_only: bool = True) -> dict[str, bool]:
    """store_id → whether every visit of it that could be published was compliant: the stores
    of the case from the visit tallies (the visit filter's columns are theirs too), shared by
    the naming passes. Both scopes are read in one pass and kept while the log does not move:
    the checklist names the case in both, and each pass over the tallies of a million visits
    took 25 ms."""
    return ws.while_unchanged(("visited_stores", case["id"]), lambda: _visited_in_both_scopes(ws, case))[approved_only]


def _visited_in_both_scopes(ws: Workspace, case: dict) -> dict[bool, dict[str, bool]]:
    """``visited_stores`` of both scopes, keyed by ``approved_only``: the approved visits are
    among the counted ones, so one pass over the counted tallies answers both."""
    cond, params = visit_filter(approved_only=False)
    approved_cond, approved_params = visit_filter(approved_only=True)
    approved, counted = {}, {}
    for store_id, not_compliant, any_approved, approved_not_compliant in ws.db.execute(
            f"""select v.store_id, sum(case when v.outcome != 'compliant' then v.visits else 0 end),
                       max({approved_cond}),
                       sum(case when ({approved_cond}) and v.outcome != 'compliant' then v.visits else 0 end)
                from visit_tallies v where v.case_id = ? and {cond} group by v.store_id""",
            [*approved_params, *approved_params, case["id"], *params]):
        counted[store_id] = not not_compliant
        if any_approved:
            approved[store_id] = not approved_not_compliant
    return {True: approved, False: counted}


def case_chains(ws: Workspace, case: dict) -> dict[str, str]:
    """store_id → chain of every store with a visit of the case that belongs to a chain, kept
    while the log does not move: the naming of each scope asks which chains its stores form."""
    return ws.while_unchanged(("case_chains", case["id"]), lambda: {
        row[0]: row[1] for row in visited_store_rows(ws, case) if row[1] is not None})


#: The columns of a store that ``visited_store_rows`` holds after its id, in order.
STORE_COLUMNS = ("chain", "company_id", "name", "address", "licence_number")


def visited_store_rows(ws: Workspace, case: dict) -> list[tuple]:
    """(id, *``STORE_COLUMNS``) of every store with a visit of the case (any visit: every one
    counts in a tally), by id, kept while the log does not move. The naming asks for their
    chains, and whether a named one's name holds its chain's; the private strings ask for the
    unnamed ones' names, addresses and licence numbers. At a million visits of twenty thousand
    stores one read takes 35 ms, where each of the three took 29 to 37."""
    return ws.while_unchanged(("visited_store_rows", case["id"]), lambda: ws.db.execute(
        f"select id, {', '.join(STORE_COLUMNS)} from stores where id in "
        "(select store_id from visit_tallies where case_id = ?) order by id", [case["id"]]).fetchall())


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

    Read from the finding tallies (findings per case, store, kind and review state of their
    visit, kept by triggers): a few rows per store, where walking every finding and looking its
    visit up took 0.7 s at a million visits. The checklist asks three times (its reply item, and
    the naming of both scopes): the answer is kept for as long as the audit log does not move
    (every write appends to it, so it cannot be stale)."""
    return ws.while_unchanged(("stores_with_findings", case["id"]), lambda: {
        store_id: bool(counts) for store_id, counts in ws.db.execute(
            f"select v.store_id, max(v.kind = 'undercover' and {counted_state_sql('v')}) "
            "from finding_tallies v where v.case_id = ? group by v.store_id", [case["id"]])})


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
    chain_of = case_chains(ws, case)
    by_chain: dict[str, bool] = {}
    for store_id in visited:
        chain = chain_of.get(store_id)
        if chain is not None:
            by_chain[chain] = by_chain.get(chain, True) and store_id in named
    return {c for c, ok in by_chain.items() if ok}


def reply_window_closed(ws: Workspace, case: dict, store: dict, *, on: datetime | None = None) -> bool:
    """May the store be named in public? See ``naming_status``."""
    return store["id"] in nameable_store_ids(ws, case, on=on)


# -- a story: its events are its claims --------------------------------------------------------


def story_of(ws: Workspace, case: dict) -> dict | None:
    """The story of a story case, None for a case of another kind."""
    row = ws.db.execute("select id from stories where case_id = ?", [case["id"]]).fetchone() \
        if "stories" in ws.db.table_names() else None
    return ws.get("stories", row[0]) if row else None


def company_stores(ws: Workspace, story: dict) -> list[str]:
    return [r[0] for r in ws.db.execute("select id from stores where company_id = ? order by id",
                                        [story["company_id"]])]


def company_named(ws: Workspace, case: dict, named_store_ids: set[str]) -> bool:
    """A story's company may be named when every contact point of it that the case tested or
    asked may be named (``naming_status``, which for a story also asks that every event
    was put to the company), and there is at least one."""
    story = story_of(ws, case)
    if story is None:
        return False
    relevant = {r[0] for r in ws.db.execute(
        "select store_id from visits where case_id = ? union select store_id from replies where case_id = ?",
        [case["id"], case["id"]])} & set(company_stores(ws, story))
    return bool(relevant) and relevant <= named_store_ids


def event_hash(event: dict) -> str:
    """What a request puts to the business about one event, as a hash: if the event's time,
    wording or promise changes later, the old request no longer covers it. (Whether a promise
    was kept is not part of it: the clock and the marking decide that, and the company is
    asked about the promise itself.)"""
    parts = [event["id"], datetime.fromisoformat(event["at"]).isoformat(), event["what"], event.get("channel") or "",
             event["source"], event.get("promise") or "",
             datetime.fromisoformat(event["due_at"]).isoformat() if event.get("due_at") else ""]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def apply_story_coverage(ws: Workspace, case: dict, status: dict[str, str], closed_reply_ids: set[str]) -> None:
    """For a story case, ``naming_status`` asks this too: a contact point of the
    story's company that would be named is ``not_covered`` while any event of the timeline
    was not put to the company by a request whose window closed."""
    story = story_of(ws, case)
    if story is None:
        return
    timeline = list(ws.db.query("select * from story_events where case_id = ?", [case["id"]]))
    if not timeline:
        return
    covered: set[str] = set()
    if closed_reply_ids:
        marks = ",".join("?" for _ in closed_reply_ids)
        covered = {r[0] for r in ws.db.execute(
            f"select covered_hash from story_reply_items where reply_id in ({marks})", list(closed_reply_ids))}
    if all(event_hash(e) in covered for e in timeline):
        return
    for store_id in company_stores(ws, story):
        if status.get(store_id) == "named":
            status[store_id] = "not_covered"

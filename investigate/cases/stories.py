"""One person's story: a case of kind ``story``.

Half of consumer reporting is not a sample of shops but one person's account: a refund promised
and never paid, a bill higher than agreed. A story case holds

- the business (a company with its contact points, ``cases/companies.py``) and the tip it came
  from;
- the person, a protected source: described in print as the reporter writes it ("a customer
  from Neukölln"), named only with recorded consent; their name and contact live apart in
  ``story_sources`` (never public, never in a bundle without ``--with-sources``) and are private
  strings (``policy/private.py``) so that no printed text can carry them;
- a timeline of dated events, each with its source (the person, a document, the newsroom, the
  company); an event may carry a promise made to the person, which runs on the promise clock
  (``promises.promise_state``: overdue counts as broken without anyone marking it);
- the person's documents, content-addressed like evidence and never modified: an e-mail file
  gives its date, sender and subject (the standard library's ``email``), a PDF its text;
- the newsroom's own checks: the visits of the case, under any protocol;
- the company's answer, through the right of reply: a story request puts every event to the
  company (``story_reply_items``, hashed like findings), so the company stays unnamed until
  every event the report tells was put to it by a request whose window closed;
- the outcome ("refund paid after our enquiry").
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from ..errors import InvalidInput, MissingTranslation, NotFound
from ..ids import short
from ..numbers.clock import promise_state
from ..numbers.stats import visit_filter
from ..policy.coverage import company_stores, event_hash, story_of
from ..policy.private import mentions, refuse_private
from ..store.lookup import resolve
from ..store.workspace import Workspace
from ..vocabulary import EVENT_CHANNELS, EVENT_SOURCES, PROMISE_STATES
from .cases import create_case
from .companies import correct_company_answer, record_company_reply
from .documents import read_document, source_material
from .evidence import store_file
from .replies import request_reply, written_in
from .stores import normalise_name
from .tips import _business_sql, leads, link_tip

KIND = "story"
DEFAULT_PROTOCOL = "phone-hotline"


# -- the story ---------------------------------------------------------------------------

def is_story(case: dict) -> bool:
    return (case.get("kind") or "") == KIND


def find_company_for_tip(ws: Workspace, tip: dict) -> dict | None:
    """The company a tip is about: its store's company, else a company whose name the tip's
    company or chain normalises to."""
    if tip.get("store_id"):
        company_id = ws.get("stores", tip["store_id"]).get("company_id")
        if company_id:
            return ws.get("companies", company_id)
    for key in (tip.get("company_key"), normalise_name(tip.get("chain") or "")):
        if key:
            row = ws.db.execute("select id from companies where name_key = ?", [key]).fetchone()
            if row:
                return ws.get("companies", row[0])
    return None


def create_story(ws: Workspace, *, slug: str, title: str, tip: dict | None = None, company: dict | None = None,
                 person_label: str | None = None, person_name: str | None = None, name_consent: bool = False,
                 consent_at: str | None = None, contact: str | None = None, address: str | None = None,
                 protocol: str | None = None, **case_fields) -> dict:
    """Open a story case: one person, one business. The business is ``company``, or the company
    the tip is about. The person's name, contact and address are kept apart (``story_sources``)."""
    if company is None and tip is not None:
        company = find_company_for_tip(ws, tip)
    if company is None:
        raise InvalidInput("a story needs the business it is about: give --company (a company with its contact "
                           "points, see investigate company add)"
                           + (" — the tip names no known company" if tip is not None else ""))
    person_name = (person_name or "").strip() or None
    if name_consent and not person_name:
        raise InvalidInput("consent to be named needs the person's name (--person-name)")
    person_label = _checked_person_label(ws, person_label, person_name=person_name, name_consent=name_consent)
    when_consented = ws.parse_time(consent_at, what="consent date").isoformat() if name_consent else None
    with ws.transaction():
        case = create_case(ws, slug=slug, title=title, protocol=protocol or DEFAULT_PROTOCOL, **case_fields)
        case = ws.update("cases", case["id"], {"kind": KIND}, reason="a story case", action="edit")
        story = ws.insert("stories", {
            "case_id": case["id"], "company_id": company["id"], "tip_id": tip["id"] if tip else None,
            "person_label": person_label, "name_consent": bool(name_consent), "consent_at": when_consented,
            "outcome": None, "outcome_at": None, "created_at": ws.now().isoformat()})
        if person_name or contact or address:
            ws.insert("story_sources", {"story_id": story["id"], "name": person_name,
                                        "contact": (contact or "").strip() or None,
                                        "address": (address or "").strip() or None})
        if tip is not None:
            link_tip(ws, tip, case)
    return {"case": case, "story": story, "company": company}


def open_story_from_lead(ws: Workspace, lead_ref: str, tip: dict, *, slug: str | None = None,
                         title: str | None = None, **story_fields) -> dict:
    """``leads open LEAD --story TIP``: one person's story out of a lead. ``tip`` must be one of
    the lead's complaints; the others stay where they are and count as similar complaints."""
    found = [l for l in leads(ws, min_count=1, limit=100_000) if l["lead"].startswith(lead_ref)]
    if len(found) != 1:
        raise (NotFound if not found else InvalidInput)(
            f"no lead {lead_ref!r} (see investigate leads)" if not found else f"lead {lead_ref!r} is ambiguous")
    lead = found[0]
    row = ws.db.execute(f"select {_business_sql()}, coalesce(issue, '(no issue given)') from tips where id = ?",
                        [tip["id"]]).fetchone()
    if tuple(row) != (lead["key"], lead["issue"]):
        raise InvalidInput(f"tip {short(tip['id'])} is not one of lead {lead['lead']}'s complaints")
    slug = slug or ("story-" + normalise_name(lead["business"])[:40] + "-" + tip["id"][:4])
    return create_story(ws, slug=slug, title=title or f"{lead['business']}: {lead['issue']}", tip=tip,
                        **story_fields)


def _checked_person_label(ws: Workspace, label: str | None, *, person_name: str | None, name_consent: bool,
                          what: str = "description of the person") -> str | None:
    """How the person is described in print, refused when it holds a private string or names
    a person who did not consent to be named."""
    label = (label or "").strip() or None
    if label:
        refuse_private(ws, label, what=what, businesses=False)
        if person_name and not name_consent and mentions(label, person_name):
            raise InvalidInput(f"the {what} contains their name, and they did not consent to "
                               "be named: describe them instead (e.g. 'a customer from Neukölln')")
    return label


def person_text(case: dict, story: dict, lang: str) -> str | None:
    """How the story describes its person in ``lang``: its own words in the case's language,
    else the translation given with ``case edit --lang``. None given is an error naming the
    command: an English report never prints "eine Kundin aus Neukölln"."""
    label = story.get("person_label")
    if not label or lang == case["language"]:
        return label
    given = json.loads(case.get("texts") or "{}").get(lang, {}).get("person")
    if not given:
        raise MissingTranslation(f"story {case['slug']} has no description of the person in {lang}: add "
                                 f"--person … with investigate case edit {case['slug']} --lang {lang}")
    return given


def get_story(ws: Workspace, case: dict) -> dict:
    """The story of a story case; a case of another kind is a one-line error."""
    story = story_of(ws, case)
    if story is None:
        raise InvalidInput(f"case {case['slug']} is not a story (open one with: investigate case new SLUG "
                           "--kind story --tip TIP)")
    return story


def person_source(ws: Workspace, story: dict) -> dict:
    """The person's name and contact: for the newsroom's own eyes (internal edition, CLI)."""
    row = ws.db.execute("select name, contact from story_sources where story_id = ?", [story["id"]]).fetchone()
    contact = row[1] if row else None
    if not contact and story.get("tip_id"):
        tip_contact = ws.db.execute("select contact from tip_sources where tip_id = ?", [story["tip_id"]]).fetchone()
        contact = tip_contact[0] if tip_contact else None
    return {"name": row[0] if row else None, "contact": contact}


# -- the timeline -------------------------------------------------------------------------

def add_event(ws: Workspace, case: dict, *, at: str | None, what: str, channel: str | None = None,
              source: str | None = None, promise: str | None = None, due: str | None = None,
              documents: list[Path | str] = (), language: str | None = None) -> dict:
    """A dated event of the story, in the language it is written in (default: the case's). Documents are read first (an unreadable one stops
    everything), then stored content-addressed and recorded with the event in one transaction.
    Without ``at``, an e-mail's own date is the event's time."""
    get_story(ws, case)
    what = (what or "").strip()
    if not what:
        raise InvalidInput("an event needs what happened (--what)")
    if channel is not None and channel not in EVENT_CHANNELS:
        raise InvalidInput(f"channel {channel!r} is not one of {', '.join(EVENT_CHANNELS)}")
    files = [Path(p) for p in documents]
    source = source or ("document" if files else "person")
    if source not in EVENT_SOURCES:
        raise InvalidInput(f"source {source!r} is not one of {', '.join(EVENT_SOURCES)}")
    promise = (promise or "").strip() or None
    if promise and not due:
        raise InvalidInput(f"the promise {promise!r} needs a due date (--due): the promise clock runs from it")
    if due and not promise:
        raise InvalidInput("--due needs --promise: what was promised to be done by then")
    language = written_in(case, language)
    read = [(f, read_document(f)) for f in files]
    if at is None:
        dated = [d["sent_at"] for _, d in read if d["sent_at"]]
        if not dated:
            raise InvalidInput("an event needs its time (--at), unless an e-mail document gives it")
        at = dated[0]
    when = ws.parse_time(at, what="event time")
    due_at = None
    if promise:
        due_at = ws.parse_time(due, what="due date", past_only=False)
        if len(due.strip()) == 10:  # a bare date means the end of that day
            due_at = due_at.replace(hour=23, minute=59, second=59)
        if due_at <= when:
            raise InvalidInput(f"the promise is due ({due_at.isoformat()}) before it was made ({when.isoformat()})")
    for text, label in ((what, "event's text"), (promise, "promise")):
        refuse_private(ws, text, what=label, businesses=False)
    created = ws.now().isoformat()
    with ws.transaction():
        event = ws.insert("story_events", {
            "case_id": case["id"], "at": when.isoformat(), "what": what, "channel": channel, "source": source,
            "promise": promise, "due_at": due_at.isoformat() if due_at else None, "kept": None, "kept_at": None,
            "created_at": created, "language": language})
        docs = []
        for f, meta in read:
            sha, size = store_file(ws, f)
            meta, private = source_material(meta)
            doc = ws.insert("story_documents", {
                "case_id": case["id"], "event_id": event["id"], "sha256": sha, "size": size,
                "media_type": meta["media_type"], "original_name": f.name, "sent_at": meta["sent_at"],
                "sender": None, "subject": meta["subject"], "text": meta["text"], "added_at": created})
            if any(private.values()):
                ws.insert("story_document_sources", {"document_id": doc["id"], **private})
            docs.append({**doc, **private})
    return {**event, "documents": docs}


def get_event(ws: Workspace, case: dict, ref: str) -> dict:
    """An event of ``case`` by id or id prefix; a prefix of another case's event is not taken."""
    return resolve(ws, "story_events", ref, where="case_id = ?", params=[case["id"]])


def keep_promise(ws: Workspace, event: dict, *, kept: bool = True, at: str | None = None,
                 note: str | None = None) -> dict:
    """Mark a promise to the person kept (with when) or broken. Unmarked, the clock decides.
    ``note`` (why, who said so) goes into the audit entry: the event has no column for it."""
    if not event.get("promise"):
        raise InvalidInput(f"event {short(event['id'])} made no promise: only an event with --promise can be "
                           "kept or broken (see investigate story promises)")
    if event["kept"] is not None:
        raise InvalidInput(f"the promise of event {short(event['id'])} is already marked "
                           f"{'kept' if event['kept'] else 'broken'}")
    when = ws.parse_time(at, what="time kept")
    reason = ("promise kept" if kept else "promise broken") + (f": {note}" if note else "")
    return ws.update("story_events", event["id"], {"kept": kept, "kept_at": when.isoformat() if kept else None},
                     reason=reason, action="keep" if kept else "break")


def events(ws: Workspace, case: dict, *, now: datetime | None = None) -> list[dict]:
    """The story's events in order, each promise with its state on the clock at ``now`` and
    each event with its documents."""
    now = now or ws.now()
    rows = list(ws.db.query("select * from story_events where case_id = ? order by julianday(at), created_at, id",
                            [case["id"]]))
    docs: dict[str, list] = {}
    # The source material beside each document, for the newsroom's eyes (internal edition, CLI);
    # a document stored before it was kept apart has its sender in its own row.
    for d in ws.db.query("select d.*, coalesce(s.sender, d.sender) as sender, s.recipients, s.found "
                         "from story_documents d left join story_document_sources s on s.document_id = d.id "
                         "where d.case_id = ? order by d.added_at, d.id", [case["id"]]):
        docs.setdefault(d["event_id"], []).append(d)
    for e in rows:
        e["documents"] = docs.get(e["id"], [])
        e["promise_state"] = promise_state(e, now) if e["promise"] else None
    return rows


def story_promises(ws: Workspace, case: dict, *, now: datetime | None = None, overdue: bool = False) -> list[dict]:
    """The promises made to the person, with their state; ``overdue``: only those the clock
    now counts as broken without anyone having marked them."""
    rows = [e for e in events(ws, case, now=now) if e["promise"]]
    return [e for e in rows if e["promise_state"] == "overdue"] if overdue else rows


def list_story_promises(ws: Workspace, *, case: dict | None = None, overdue: bool = False,
                        now: datetime | None = None) -> list[dict]:
    """Promises made to people in stories, shaped like ``promises.list_promises`` rows (the
    company as ``store_name``), so that ``promise list`` shows them beside the tests' own."""
    now = now or ws.now()
    if "story_events" not in ws.db.table_names():
        return []
    rows = list(ws.db.query(
        "select e.id, e.case_id, c.slug as case_slug, co.name as store_name, e.promise as what, e.at as promised_at, "
        "e.due_at, e.kept, e.kept_at from story_events e join cases c on c.id = e.case_id "
        "join stories st on st.case_id = e.case_id join companies co on co.id = st.company_id "
        "where e.promise is not null" + (" and e.case_id = ?" if case else "") + " order by e.due_at",
        [case["id"]] if case else []))
    out = []
    for r in rows:
        r.update(state=promise_state(r, now), visit_id=None, kind="story")
        r["overdue"] = r["state"] == "overdue"
        if r["overdue"] or not overdue:
            out.append(r)
    return out


def checks(ws: Workspace, case: dict, *, approved_only: bool) -> list[dict]:
    """The newsroom's own tests linked to the story (the case's visits, any protocol), with
    their findings: rejected visits never, unapproved ones only for the newsroom."""
    cond, params = visit_filter(approved_only=approved_only)
    visits = list(ws.db.query(
        f"select v.*, s.channel as store_channel from visits v join stores s on s.id = v.store_id "
        f"where v.case_id = ? and {cond} order by julianday(v.visited_at), v.id", [case["id"], *params]))
    for v in visits:
        v["findings"] = list(ws.db.query("select * from findings where visit_id = ? order by code", [v["id"]]))
    return visits


def similar_complaints(ws: Workspace, case: dict) -> dict:
    """Tips about the same company and issue as the story's own tip (that one left out):
    how many, since when, and — where the complaint database says (the CFPB's "Timely
    response?", "Consumer disputed?") — the share the company answered in time and the share
    the consumers disputed, of those known (None when none is)."""
    story = get_story(ws, case)
    company = ws.get("companies", story["company_id"])
    tip = ws.get("tips", story["tip_id"]) if story.get("tip_id") else None
    stores = company_stores(ws, story)
    marks = ",".join("?" for _ in stores) or "''"
    where = f"(company_key = ? or chain = ? or store_id in ({marks}))"
    params: list = [company["name_key"], company["name"], *stores]
    if tip is not None:
        where += " and coalesce(issue, '') = coalesce(?, '') and id != ?"
        params += [tip["issue"], tip["id"]]
    row = ws.db.execute(f"select count(*), min(received_at), sum(timely = 1), count(timely), sum(disputed = 1), "
                        f"count(disputed) from tips where {where} and status != 'dropped'", params).fetchone()
    return {"count": row[0], "since": row[1], "issue": tip["issue"] if tip else None,
            "company_key": normalise_name(company["name"]),
            "answered_in_time": round(row[2] / row[3], 3) if row[3] else None,
            "disputed": round(row[4] / row[5], 3) if row[5] else None}


# -- the company's answer and the outcome -----------------------------------------------

def request_story_reply(ws: Workspace, case: dict, *, channel: str = "email", requested_at: str | None = None,
                        deadline: str | None = None, short_deadline_reason: str | None = None,
                        notes: str | None = None) -> list[dict]:
    """Put the story to the company: every event of the timeline and every check with its
    findings. One request per contact point the case tested (or the company's first contact
    point when the newsroom made no test), all with the same time and deadline, as
    ``company ask`` does; each request records the events it covers (``story_reply_items``)."""
    story = get_story(ws, case)
    company = ws.get("companies", story["company_id"])
    tested = [ws.get("stores", r[0]) for r in ws.db.execute(
        "select distinct v.store_id from visits v join stores s on s.id = v.store_id "
        "where v.case_id = ? and s.company_id = ? order by v.store_id", [case["id"], company["id"]])]
    targets = tested or [ws.get("stores", s) for s in company_stores(ws, story)[:1]]
    if not targets:
        raise InvalidInput(f"{company['name']} has no contact point to ask: add one "
                           "(investigate company contact)")
    asked = ws.parse_time(requested_at, what="request date")
    timeline = events(ws, case)
    late = [e for e in timeline if datetime.fromisoformat(e["at"]) > asked]
    if late:
        raise InvalidInput(f"the request ({asked.isoformat()}) is dated before the event of {late[0]['at']} it "
                           "would put to the company")
    created = ws.now().isoformat()
    with ws.transaction():
        rows = [request_reply(ws, case, store, channel=channel, requested_at=asked.isoformat(), deadline=deadline,
                              short_deadline_reason=short_deadline_reason, notes=notes) for store in targets]
        items = [{"reply_id": r["id"], "event_id": e["id"], "covered_hash": event_hash(e), "created_at": created}
                 for r in rows for e in timeline]
        if items:
            ws.insert_many("story_reply_items", items, action="insert")
    return rows


def record_story_answer(ws: Workspace, case: dict, *, answer: str, answered_at: str | None = None,
                        language: str | None = None) -> list[dict]:
    """The company's answer, verbatim, on its open requests in the story."""
    story = get_story(ws, case)
    return record_company_reply(ws, case, ws.get("companies", story["company_id"]), answer=answer,
                                answered_at=answered_at, language=language)


def correct_story_answer(ws: Workspace, case: dict, *, answer: str, reason: str,
                         language: str | None = None) -> list[dict]:
    """A new version of the company's answer in the story (``companies.correct_company_answer``)."""
    story = get_story(ws, case)
    return correct_company_answer(ws, case, ws.get("companies", story["company_id"]), answer=answer, reason=reason,
                                  language=language)


def record_outcome(ws: Workspace, case: dict, *, what: str, at: str | None = None) -> dict:
    """What happened in the end ("refund paid after our enquiry"), with its date."""
    story = get_story(ws, case)
    what = (what or "").strip()
    if not what:
        raise InvalidInput("the outcome needs what happened")
    when = ws.parse_time(at, what="outcome date")
    refuse_private(ws, what, what="outcome", businesses=False)
    return ws.update("stories", story["id"], {"outcome": what, "outcome_at": when.isoformat()},
                     reason="outcome recorded", action="outcome")


def story_summary(ws: Workspace, case: dict, *, now: datetime | None = None) -> dict:
    """Everything the newsroom sees of a story at once (``story show``)."""
    story = get_story(ws, case)
    timeline = events(ws, case, now=now)
    return {"case": case["slug"], "company": ws.get("companies", story["company_id"])["name"],
            "person": story["person_label"], "name_consent": bool(story["name_consent"]),
            "events": len(timeline), "documents": sum(len(e["documents"]) for e in timeline),
            "promises": {s: sum(1 for e in timeline if e["promise_state"] == s)
                         for s in PROMISE_STATES},
            "checks": len(checks(ws, case, approved_only=False)), "similar": similar_complaints(ws, case),
            "replies": ws.db.execute("select count(*) from replies where case_id = ?", [case["id"]]).fetchone()[0],
            "outcome": story["outcome"], "outcome_at": story["outcome_at"]}

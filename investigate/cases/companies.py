"""Companies and their contact points.

A company is the business a customer deals with (a telecom, a bank). Its contact points are
stores rows with a channel: a hotline number (phone), an e-mail address (email), a web form
(web) or a branch office (in_person) — a branch is a store as it always was. Visits of every
channel thereby belong to the company, and figures add up per company and per channel.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..ids import short
from ..policy.private import refuse_private
from ..store.lookup import resolve
from ..store.workspace import Workspace
from .replies import record_reply, request_reply, written_in
from .stores import add_store, normalise_name


def add_company(ws: Workspace, *, name: str, sector: str | None = None, country: str | None = None,
                notes: str | None = None) -> dict:
    """Add a company; a name that normalises like an existing one is refused (it is that one)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a company needs a name")
    key = normalise_name(name)
    existing = ws.db.execute("select id, name from companies where name_key = ?", [key]).fetchone()
    if existing:
        raise InvalidInput(f"company {existing[1]!r} ({short(existing[0])}) already exists")
    return ws.insert("companies", {"name": name, "name_key": key, "sector": sector or None,
                                   "country": country or None, "notes": notes or None,
                                   "created_at": ws.now().isoformat()})


def get_company(ws: Workspace, ref: str) -> dict:
    """A company by id, its name however spelt ("telenord mobilfunk"), the unique start of its
    name ("TeleNord"), or a unique id prefix."""
    key = normalise_name(ref)
    if key:
        rows = list(ws.db.query("select id from companies where name_key like ? order by name_key",
                                [key.replace("%", "").replace("_", "") + "%"]))
        exact = [r for r in rows if ws.get("companies", r["id"])["name_key"] == key]
        if len(exact) == 1 or len(rows) == 1:
            return ws.get("companies", (exact or rows)[0]["id"])
    return resolve(ws, "companies", ref)


def add_contact_point(ws: Workspace, company: dict, *, channel: str, name: str | None = None,
                      contact: str | None = None, **fields) -> dict:
    """A hotline number, e-mail address, web form or branch of ``company``, as a store row."""
    label = name or f"{company['name']} ({contact or fields.get('address') or channel})"
    return add_store(ws, name=label, channel=channel, contact=contact, company_id=company["id"],
                     chain=fields.pop("chain", None) or company["name"], **fields)


def contact_points(ws: Workspace, company: dict) -> list[dict]:
    return list(ws.db.query("select * from stores where company_id = ? order by channel, name", [company["id"]]))


def list_companies(ws: Workspace) -> list[dict]:
    return list(ws.db.query(
        "select c.*, (select count(*) from stores s where s.company_id = c.id) as contact_points "
        "from companies c order by c.name"))


def request_company_reply(ws: Workspace, case: dict, company: dict, **kwargs) -> list[dict]:
    """Put the findings to the company, once for all its channels: one reply request per
    contact point the case tested, with the same time and deadline, so that each of them is
    named (or not) by the one naming rule (``policy.coverage.nameable_store_ids``)."""
    tested = [ws.get("stores", r[0]) for r in ws.db.execute(
        "select distinct v.store_id from visits v join stores s on s.id = v.store_id "
        "where v.case_id = ? and s.company_id = ? order by v.store_id", [case["id"], company["id"]])]
    if not tested:
        raise InvalidInput(f"case {case['slug']} has no visit of {company['name']}")
    kwargs.setdefault("requested_at", ws.now())  # one moment for all its contact points
    with ws.transaction():
        return [request_reply(ws, case, store, **kwargs) for store in tested]


def record_company_reply(ws: Workspace, case: dict, company: dict, *, answer: str,
                         answered_at: str | None = None, language: str | None = None) -> list[dict]:
    """The company's one answer, verbatim, on each of its open requests in the case."""
    open_requests = list(ws.db.query(
        "select r.* from replies r join stores s on s.id = r.store_id where r.case_id = ? and s.company_id = ? "
        "and r.answered_at is null", [case["id"], company["id"]]))
    if not open_requests:
        raise InvalidInput(f"{company['name']} has no open reply request in {case['slug']}")
    with ws.transaction():
        return [record_reply(ws, r, answer=answer, answered_at=answered_at, language=language) for r in open_requests]


def correct_company_answer(ws: Workspace, case: dict, company: dict, *, answer: str, reason: str,
                           language: str | None = None) -> list[dict]:
    """A new version of the company's answer on its latest answered requests: it sent a
    corrected one, or its first named a person who must stay protected and it rewrote it. The
    new text is checked like the first; the audit log keeps the old one and the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a corrected answer needs --reason: why the answer changed (kept in the audit log)")
    answered = list(ws.db.query(
        "select r.* from replies r join stores s on s.id = r.store_id where r.case_id = ? and s.company_id = ? "
        "and r.answered_at is not null order by r.requested_at desc", [case["id"], company["id"]]))
    if not answered:
        raise InvalidInput(f"{company['name']} has no answer to correct in {case['slug']}: record its answer first")
    if not answer or not answer.strip():
        raise InvalidInput("the corrected answer is empty")
    refuse_private(ws, answer, what="answer", case=case, businesses=False)
    latest = answered[0]["requested_at"]
    with ws.transaction():
        return [ws.update("replies", r["id"], {"answer": answer, "answer_language": written_in(case, language)},
                          reason=f"answer corrected: {reason}",
                          action="correct_answer") for r in answered if r["requested_at"] == latest]

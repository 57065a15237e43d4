"""Tips and complaints: from a consumer's story to a lead, and from a lead to a case.

A tip says who received what, when, about which business, what happened and what the person
wants. Its source's contact is private like a tester's identity: it is kept in
``tip_sources`` (never in the tips table), never published, and shown to editors only on the
tip's own page. A narrative reaches the public copy only when the source consented.

Businesses are matched by ``stores.normalise_name`` (case, punctuation and legal suffixes
dropped): one store → that store; several stores of one chain → the chain; several unrelated
stores → ambiguous, listed in ``match_note`` and not guessed; none → the company name is kept
as given. ``leads`` groups tips by business (store, else chain, else normalised company) and
issue.
"""

from __future__ import annotations

import hashlib
from datetime import date

from ..errors import InvalidInput, NotFound
from ..ids import new_id, short
from ..store.lookup import resolve
from ..store.workspace import Workspace
from ..vocabulary import TIP_CHANNELS, TIP_STATUSES
from .cases import create_case
from .stores import add_to_frame, normalise_name

MAX_NARRATIVE = 1_000_000  # characters; a longer "narrative" is a pasted file, not a story

class Matcher:
    """Company names → a store, a chain, or an honest "ambiguous"/"unmatched"."""

    def __init__(self, ws: Workspace):
        self.stores: dict[str, list[tuple[str, str | None, str]]] = {}
        self.chains: dict[str, str] = {}
        for sid, name, chain in ws.db.execute("select id, name, chain from stores"):
            self.stores.setdefault(normalise_name(name), []).append((sid, chain, name))
            if chain:
                self.chains.setdefault(normalise_name(chain), chain)

    def match(self, company: str) -> dict:
        key = normalise_name(company)
        if not key:
            return {"company_key": None, "store_id": None, "chain": None, "match_note": "no company named"}
        if key in self.chains:
            return {"company_key": key, "store_id": None, "chain": self.chains[key], "match_note": None}
        hits = self.stores.get(key, [])
        if len(hits) == 1:
            return {"company_key": key, "store_id": hits[0][0], "chain": hits[0][1], "match_note": None}
        if len(hits) > 1:
            chains = {h[1] for h in hits}
            if len(chains) == 1 and None not in chains:
                return {"company_key": key, "store_id": None, "chain": hits[0][1], "match_note": None}
            names = "; ".join(f"{h[2]} ({short(h[0])})" for h in hits[:5])
            return {"company_key": key, "store_id": None, "chain": None,
                    "match_note": f"ambiguous: {len(hits)} stores match ({names})"}
        return {"company_key": key, "store_id": None, "chain": None, "match_note": "no known store or chain"}


#: What a tip may say besides the business: the person's account and, from a complaint
#: database, how it came in and how the company answered (CFPB's "Company response to
#: consumer", "Timely response?", "Consumer disputed?").
TIP_FIELDS = ("received_at", "channel", "company", "product", "sub_product", "issue", "sub_issue", "narrative",
              "wants", "source", "external_id", "state", "postcode", "tags", "sent_to_company_at",
              "company_response", "company_public_response", "timely", "disputed")


def tip_row(ws: Workspace, fields: dict, matcher: Matcher) -> dict:
    """A tips row from plain fields: matched to a store, chain or company (``Matcher``)."""
    row = {k: fields.get(k) for k in TIP_FIELDS}
    if fields.get("store_id"):
        store = ws.get("stores", fields["store_id"])
        row.update(store_id=store["id"], chain=store["chain"], company=row["company"] or store["name"],
                   company_key=normalise_name(store["name"]), match_note=None)
    else:
        row.update(matcher.match(row["company"] or ""))
    row.update(id=new_id(), consent_publish=bool(fields.get("consent_publish")), status="new", case_id=None,
               created_at=ws.now().isoformat())
    return row


def check_narrative(text: str | None, *, where: str = "") -> None:
    if text and len(text) > MAX_NARRATIVE:
        raise InvalidInput(f"{where}narrative of {len(text):,} characters is longer than {MAX_NARRATIVE:,}: "
                           "attach long documents as evidence instead")


def add_tip(ws: Workspace, *, received_at: str | None = None, channel: str, company: str | None = None,
            store: dict | None = None, what_happened: str, wants: str | None = None, contact: str | None = None,
            consent_publish: bool = False, issue: str | None = None, product: str | None = None) -> dict:
    """Record one tip. The contact goes to ``tip_sources``, apart from the tip."""
    if channel not in TIP_CHANNELS:
        raise InvalidInput(f"channel {channel!r} is not one of {', '.join(TIP_CHANNELS)}")
    if not (what_happened or "").strip():
        raise InvalidInput("a tip needs what happened")
    if not store and not (company or "").strip():
        raise InvalidInput("a tip needs the business it is about (--store or --company)")
    check_narrative(what_happened)
    when = ws.parse_time(received_at, what="received").isoformat()
    row = tip_row(ws, {"received_at": when, "channel": channel, "company": company,
                       "store_id": store["id"] if store else None,
                       "narrative": what_happened.strip(), "wants": wants, "issue": issue, "product": product,
                       "consent_publish": consent_publish, "source": "manual", "external_id": new_id()},
                   Matcher(ws))
    with ws.transaction():
        tip = ws.insert("tips", row)
        if contact:
            ws.insert("tip_sources", {"tip_id": tip["id"], "contact": contact})
    return tip


def get_tip(ws: Workspace, ref: str) -> dict:
    return resolve(ws, "tips", ref)


def tip_detail(ws: Workspace, tip: dict) -> dict:
    """A tip with its source's contact: for the editor's own view of one tip only."""
    contact = ws.db.execute("select contact from tip_sources where tip_id = ?", [tip["id"]]).fetchone()
    return {**tip, "contact": contact[0] if contact else None}


def list_tips(ws: Workspace, *, business: str | None = None, status: str | None = None,
              limit: int | None = None) -> list[dict]:
    where, params = [], []
    if business:
        where.append("(company_key = ? or lower(chain) = lower(?) or store_id in "
                     "(select id from stores where name_key like ?))")
        params += [normalise_name(business), business, normalise_name(business) + "|%"]
    if status:
        if status not in TIP_STATUSES:
            raise InvalidInput(f"status {status!r} is not one of {', '.join(TIP_STATUSES)}")
        where.append("status = ?")
        params.append(status)
    sql = ("select id, received_at, channel, company, chain, issue, company_response, timely, disputed, status, "
           "case_id, match_note from tips"
           + (" where " + " and ".join(where) if where else "") + " order by received_at desc, id")
    if limit:
        sql += f" limit {int(limit)}"
    return list(ws.db.query(sql, params))


def set_status(ws: Workspace, tip: dict, status: str, *, reason: str | None = None) -> dict:
    if status not in TIP_STATUSES:
        raise InvalidInput(f"status {status!r} is not one of {', '.join(TIP_STATUSES)}")
    if status == tip["status"]:
        raise InvalidInput(f"tip {short(tip['id'])} is already {status}")
    return ws.update("tips", tip["id"], {"status": status}, reason=reason, action="tip_status")


def link_tip(ws: Workspace, tip: dict, case: dict) -> dict:
    """Tie a tip to a case (its status becomes 'case'); its store joins the case's frame."""
    with ws.transaction():
        updated = ws.update("tips", tip["id"], {"case_id": case["id"], "status": "case"},
                            reason=f"linked to case {case['slug']}", action="tip_link")
        if tip["store_id"]:
            add_to_frame(ws, case, [{"id": tip["store_id"]}])
    return updated


def _business_sql() -> str:
    # One business per store; tips matched only to a chain, or not at all, group by chain or name.
    return ("coalesce('store:' || store_id, 'chain:' || lower(chain), 'company:' || company_key)")


def _lead_groups(min_count: int, since: str | None) -> tuple[str, list]:
    """The SQL of every lead group (businesses × issue with ``min_count`` complaints or more)."""
    if min_count < 1:
        raise InvalidInput("--min must be at least 1")
    where, params = ["status != 'dropped'"], []
    if since:
        try:
            since = date.fromisoformat(since).isoformat()
        except ValueError:
            raise InvalidInput(f"--since {since!r} is not a date (YYYY-MM-DD)")
        where.append("received_at >= ?")
        params.append(since)
    return (f"""select {_business_sql()} as business, coalesce(issue, '(no issue given)') as issue, count(*) as n,
                   min(received_at) as first, max(received_at) as last,
                   max(store_id) as store_id, max(chain) as chain, max(company) as company,
                   sum(timely = 1), count(timely), sum(disputed = 1), count(disputed)
            from tips where {' and '.join(where)} group by 1, 2 having count(*) >= ?""", [*params, min_count])


def count_leads(ws: Workspace, *, min_count: int = 3, since: str | None = None) -> int:
    """How many lead groups there are in all: a list cut at ``limit`` says how many it left out."""
    sql, params = _lead_groups(min_count, since)
    return ws.db.execute(f"select count(*) from ({sql})", params).fetchone()[0]


def leads(ws: Workspace, *, min_count: int = 3, since: str | None = None, limit: int = 100) -> list[dict]:
    """Businesses (or chains) with repeated complaints of the same issue, most first."""
    sql, params = _lead_groups(min_count, since)
    rows = ws.db.execute(f"{sql} order by n desc, last desc limit ?", [*params, limit]).fetchall()
    out = []
    share = lambda part, known: round(part / known, 3) if known else None  # noqa: E731
    for business, issue, n, first, last, store_id, chain, company, timely, timely_known, disputed, \
            disputed_known in rows:
        label = company
        if business.startswith("store:"):
            label = ws.db.execute("select name from stores where id = ?", [store_id]).fetchone()[0]
        elif business.startswith("chain:"):
            label = f"{chain} (chain)"
        # What the company did with the complaints, where the source says (the CFPB does):
        # the share answered in time and the share the consumers disputed, of those known.
        out.append({"lead": lead_id(business, issue), "business": label, "key": business, "issue": issue,
                    "complaints": n, "first": first[:10], "last": last[:10],
                    "answered_in_time": share(timely, timely_known), "disputed": share(disputed, disputed_known),
                    "responses_known": timely_known})
    return out


def lead_id(business: str, issue: str) -> str:
    """A stable short reference, so that `leads open` can name a lead."""
    return hashlib.sha256(f"{business}|{issue}".encode()).hexdigest()[:8]


def open_lead(ws: Workspace, lead_ref: str, *, protocol: str, slug: str | None = None,
              title: str | None = None, min_count: int = 1) -> dict:
    """Open a case from a lead, carrying its tips along (linked, status 'case')."""
    found = [l for l in leads(ws, min_count=min_count, limit=100_000) if l["lead"].startswith(lead_ref)]
    if not found:
        raise NotFound(f"no lead {lead_ref!r} (see investigate leads)")
    if len(found) > 1:
        raise InvalidInput(f"lead {lead_ref!r} is ambiguous: " + ", ".join(l["lead"] for l in found[:5]))
    lead = found[0]
    slug = slug or ("lead-" + normalise_name(lead["business"])[:40] + "-" + lead["lead"][:4])
    business, issue = lead["key"], lead["issue"]
    tip_ids = [r[0] for r in ws.db.execute(
        f"select id from tips where {_business_sql()} = ? and coalesce(issue, '(no issue given)') = ? "
        "and status != 'dropped'", [business, issue])]
    with ws.transaction():
        case = create_case(ws, slug=slug, title=title or f"{lead['business']}: {issue}", protocol=protocol,
                           description=f"Opened from {len(tip_ids)} complaints about {lead['business']} "
                                       f"({issue}), {lead['first']} to {lead['last']}.")
        for tip_id in tip_ids:
            link_tip(ws, ws.get("tips", tip_id), case)
    return {"case": case, "tips": len(tip_ids), "lead": lead}

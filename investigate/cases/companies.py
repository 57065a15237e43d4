"""Companies and their contact points.

A company is the business a customer deals with (a telecom, a bank). Its contact points are
stores rows with a channel: a hotline number (phone), an e-mail address (email), a web form
(web) or a branch office (in_person) — a branch is a store as it always was. Visits of every
channel thereby belong to the company, and figures add up per company and per channel.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..ids import resolve
from ..workspace import Workspace
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
        raise InvalidInput(f"company {existing[1]!r} ({existing[0][:8]}) already exists")
    return ws.insert("companies", {"name": name, "name_key": key, "sector": sector or None,
                                   "country": country or None, "notes": notes or None,
                                   "created_at": ws.now().isoformat()})


def get_company(ws: Workspace, ref: str) -> dict:
    """A company by id, unique id prefix or exact (normalised) name."""
    row = ws.db.execute("select id from companies where name_key = ?", [normalise_name(ref)]).fetchone()
    return ws.get("companies", row[0]) if row else resolve(ws, "companies", ref)


def add_contact_point(ws: Workspace, company: dict, *, channel: str, name: str | None = None,
                      contact: str | None = None, **fields) -> dict:
    """A hotline number, e-mail address, web form or branch of ``company``, as a store row."""
    label = name or f"{company['name']} ({contact or channel})"
    return add_store(ws, name=label, channel=channel, contact=contact, company_id=company["id"],
                     chain=fields.pop("chain", None) or company["name"], **fields)


def contact_points(ws: Workspace, company: dict) -> list[dict]:
    return list(ws.db.query("select * from stores where company_id = ? order by channel, name", [company["id"]]))


def list_companies(ws: Workspace) -> list[dict]:
    return list(ws.db.query(
        "select c.*, (select count(*) from stores s where s.company_id = c.id) as contact_points "
        "from companies c order by c.name"))

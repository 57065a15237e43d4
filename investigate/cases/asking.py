"""Asking every business not yet asked: the checklist's "N business(es) with findings not
asked for comment", done in one step (the editors' case page offers it).

A company is one business for the right of reply: its tested contact points are asked
together (``companies.request_company_reply``), each other store on its own
(``replies.request_reply``), with the case's full window.
"""

from __future__ import annotations

import json

from ..policy.gate import reply_status
from ..store.workspace import Workspace
from .companies import request_company_reply
from .replies import record_request


#: Businesses not asked that a screen names (the CLI's checklist, the editors' case page): the
#: rest are counted; ``checklist --json`` lists all.
UNASKED_SHOWN = 20


def unasked_ids(ws: Workspace, case: dict, *, names=None) -> list[str]:
    """The ids of the businesses with findings in ``case`` that were never asked. ``names``:
    the working scope's naming, when the caller has it."""
    return [store_id for store_id, status in reply_status(ws, case, names=names).items() if status == "not_asked"]


def unasked_stores(ws: Workspace, case: dict, *, names=None, ids: list[str] | None = None,
                   limit: int | None = None) -> list[dict]:
    """The businesses with findings in ``case`` that were never asked (``unasked_ids``), by
    name: read in one query (a case of twenty thousand stores had made as many); the first
    ``limit`` of them when a screen shows only those."""
    ids = unasked_ids(ws, case, names=names) if ids is None else ids
    return list(ws.db.query("select * from stores where id in (select value from json_each(?)) "
                            "order by coalesce(name, ''), id" + (" limit ?" if limit is not None else ""),
                            [json.dumps(ids), *([limit] if limit is not None else [])]))


def request_unasked(ws: Workspace, case: dict, *, channel: str = "email", progress=None, total=None) -> list[dict]:
    """Ask each of them, in one transaction (all are asked or none). Returns the new requests,
    each with its store's name. ``total(n)`` once the businesses are known (finding them is a
    checklist's naming), then ``progress(1)`` for each store done: at a million visits
    twenty thousand businesses are asked for a minute and more. All are asked at one moment,
    with one deadline: the command is one act of asking, however long it takes to record."""
    made, companies, asked, items = [], set(), ws.now(), []
    with ws.transaction():
        stores = unasked_stores(ws, case)
        if total and stores:
            total(len(stores))
        for store in stores:
            company = store.get("company_id")
            if company and company not in companies:  # its tested contact points are asked together
                companies.add(company)
                names = {s["id"]: s["name"] for s in ws.db.query(
                    "select id, name from stores where company_id = ?", [company])}
                rows = request_company_reply(ws, case, ws.get("companies", company), channel=channel,
                                             requested_at=asked)
            elif not company:
                names = {store["id"]: store["name"]}
                row, covered = record_request(ws, case, store, channel=channel, requested_at=asked)
                rows = [row]
                items += covered
                if len(items) >= ITEMS_BATCH:
                    _write_items(ws, items)
            else:
                names, rows = {}, []
            made += [{**row, "store_name": names.get(row["store_id"])} for row in rows]
            if progress:
                progress(1)
        _write_items(ws, items)
    return made


#: Reply items kept before they are written, when many businesses are asked at once.
ITEMS_BATCH = 20_000


def _write_items(ws: Workspace, items: list[dict]) -> None:
    """Write ``items`` (the reply items of requests made in this transaction) and empty the list."""
    if items:
        ws.insert_many("reply_items", items, action="insert")
        items.clear()

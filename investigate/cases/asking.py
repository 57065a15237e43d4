"""Asking every business not yet asked: the checklist's "N business(es) with findings not
asked for comment", done in one step (the editors' case page offers it).

A company is one business for the right of reply: its tested contact points are asked
together (``companies.request_company_reply``), each other store on its own
(``replies.request_reply``), with the case's full window.
"""

from __future__ import annotations

import heapq
import json
from typing import Iterator

from ..policy.coverage import visited_store_rows
from ..policy.gate import reply_status
from ..store.workspace import Workspace
from .companies import request_company_reply
from .replies import covered_by_store, covered_count, record_request


#: From this many businesses asked at once, their visits are read in one pass over the case
#: (``replies.covered_by_store``) rather than store by store.
ONE_PASS = 500

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
    return list(ws.db.query(*_by_name("*", ids, limit)))


def unasked_names(ws: Workspace, case: dict, ids: list[str], *, limit: int | None = None) -> list[str]:
    """The names of the businesses ``ids`` (``unasked_ids``), in ``unasked_stores``' order: what
    a checklist lists. They come from the case's visited stores, which the naming has read
    (``coverage.visited_store_rows``): a business with a finding was visited. Looking twenty
    thousand up by id and sorting them in SQLite was 17 ms of every checklist at a million
    visits."""
    known = {store_id: name for store_id, _chain, _company_id, name, *_ in visited_store_rows(ws, case)}
    keyed = ((known[store_id] or "", store_id) for store_id in ids)  # ``_by_name``'s order
    return [known[store_id] for _, store_id in (sorted(keyed) if limit is None else heapq.nsmallest(limit, keyed))]


def _by_name(columns: str, ids: list[str], limit: int | None) -> tuple[str, list]:
    """The SQL and parameters reading ``columns`` of the stores ``ids``, by name (the first
    ``limit``)."""
    return (f"select {columns} from stores where id in (select value from json_each(?)) "
            "order by coalesce(name, ''), id" + (" limit ?" if limit is not None else ""),
            [json.dumps(ids), *([limit] if limit is not None else [])])


def request_unasked(ws: Workspace, case: dict, *, channel: str = "email", progress=None, total=None) -> list[dict]:
    """Ask each of them, in one transaction (all are asked or none). Returns the new requests,
    each with its store's name, in the order of the businesses' names. ``total(n)`` once the
    businesses are known (finding them is a checklist's naming), then ``progress(n)`` as
    stores are done: at a million visits twenty thousand businesses are asked for a minute.
    All are asked at one moment, with one deadline: the command is one act of asking, however
    long it takes to record.

    At a million visits the other stores' requests cover 1.2 million items. From ``ONE_PASS``
    stores their visits and findings are read in one pass over the case, sorted by store
    (``replies.covered_by_store``; store by store it was 3.8 million random page reads), and
    the items are written as one bulk insert that builds their index of visits once, at the
    end (``insert_many(expected=…)``), not at random as they come."""
    made: list[tuple[int, dict]] = []
    asked = ws.now()
    with ws.transaction():
        stores = unasked_stores(ws, case)
        if total and stores:
            total(len(stores))
        rank = {store["id"]: i for i, store in enumerate(stores)}
        companies: dict[str, list[dict]] = {}
        for store in stores:
            if store.get("company_id"):
                companies.setdefault(store["company_id"], []).append(store)
        for company, its in companies.items():  # its tested contact points are asked together
            names = {s["id"]: s["name"] for s in ws.db.query("select id, name from stores where company_id = ?",
                                                           [company])}
            rows = request_company_reply(ws, case, ws.get("companies", company), channel=channel,
                                         requested_at=asked)
            made += [(rank[its[0]["id"]], {**row, "store_name": names.get(row["store_id"])}) for row in rows]
            if progress:
                progress(len(its))

        def ask(store: dict, covered) -> Iterator[dict]:
            row, items = record_request(ws, case, store, channel=channel, requested_at=asked, covered=covered)
            made.append((rank[store["id"]], {**row, "store_name": store["name"]}))
            yield from items
            if progress:
                progress(1)

        plain = {store["id"]: store for store in stores if not store.get("company_id")}
        one_pass = len(plain) >= ONE_PASS

        def items() -> Iterator[dict]:
            if one_pass:  # their visits read in one pass, not store by store
                for store_id, visits, findings in covered_by_store(ws, case):
                    if store_id in plain:
                        yield from ask(plain.pop(store_id), (visits, findings))
            for store in plain.values():
                yield from ask(store, None)

        expected = covered_count(ws, case, plain) if one_pass else None
        ws.insert_many("reply_items", items(), action="insert", expected=expected)
    return [row for _, row in sorted(made, key=lambda pair: pair[0])]

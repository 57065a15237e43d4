"""A case out of the workspace: plain CSV or JSON per table, or the LIVES layout.

The CSV/JSON export is an **internal** export: it holds every column, notes and tester ids
included, for the newsroom's own archive or analysis — never publish it (``investigate
publish`` builds the sanitised public copy). The LIVES export writes businesses.csv,
inspections.csv, violations.csv and feed_info.csv; importing it back with ``import lives``
gives the same stores, visits and findings (see ``lives.py`` for how a business's several
inspections on one day are kept). LIVES joins violations to inspections by business and
date, so two visits of one store on one day (a test and a retest, say) come back as one.
"""

from __future__ import annotations

import csv
import itertools
import json
import operator

from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..protocol.protocols import get_protocol
from .. import clock
from ..errors import InvalidInput
from ..files.json_array import json_array
from ..hookspecs import hookimpl
from ..store.tables import by_time
from ..store.workspace import Workspace
from . import lives
from .plugins import Table, exporters, lookup, write_export

TABLES = ("cases", "companies", "stores", "visits", "findings", "evidence", "promises", "replies")
LIVES_FEED_VERSION = "2.0"
LIVES_HEADERS = {
    "businesses": ["business_id", "name", "address", "city", "state", "postal_code", "latitude", "longitude",
                   "phone_number"],
    "inspections": ["business_id", "score", "date", "type", "description"],
    "violations": ["business_id", "date", "code", "description"],
}


def case_tables(ws: Workspace, case: dict) -> dict[str, Table]:
    """Every row of a case, table by table: the case, its stores (in its frame or visited),
    visits, and what hangs off them. Each table's rows are a generator: a case of a million
    visits is written row by row, never held."""
    cid = [case["id"]]
    # What hangs off the case's visits, joined to them: ``visit_id in (select …)`` made a list of
    # every visit id and looked each up in the table's index (a million probes for 200,000
    # findings, 1.2 s of CPU; joined, 0.9).
    by_visit = "t join visits v on v.id = t.visit_id where v.case_id = ? order by t.visit_id, t.rowid"
    of_case = ("(select store_id from case_stores where case_id = ?) "
               "or id in (select store_id from visits where case_id = ?)")
    queries = {
        "cases": ("select * from cases where id = ?", cid),
        # The companies whose contact points the case tested (a customer-service case).
        "companies": (f"select * from companies where id in (select company_id from stores where id in {of_case}) "
                      "order by name, id", cid * 2),
        "stores": (f"select * from stores where id in {of_case} order by name, id", cid * 2),
        "visits": (f"select * from visits where case_id = ? order by {by_time('visited_at', whole=True)}, rowid", cid),
        "findings": (f"select t.* from findings {by_visit}", cid),
        "evidence": (f"select t.* from evidence {by_visit}", cid),
        "promises": (f"select t.* from promises {by_visit}", cid),
        "replies": ("select * from replies where case_id = ? order by store_id, id", cid),
    }
    tables = {}
    for name, (sql, params) in queries.items():
        header = ws.columns(name)  # ``select *``'s columns, in the table's order
        values = _Query(ws, sql, params)
        # Answers are JSON text in the database; a JSON export gives them as objects.
        tables[name] = Table(header, _dicts(header, values), ("answers",) if name == "visits" else (), values)
    return tables


def _dicts(header: list[str], values: Iterable[tuple]) -> Iterator[dict]:
    # A generator, not a generator expression: that would ask ``values`` for its rows at once.
    for row in values:
        yield dict(zip(header, row))


class _Query:
    """The rows of ``sql`` as one stream, run when first iterated: an export that leaves a table
    out runs nothing, and one that reads its dicts (``_dicts``) reads the same stream. Iterating
    hands out SQLite's cursor itself: a generator in between was a Python step per row, a
    quarter of the CSV writer's time."""

    def __init__(self, ws: Workspace, sql: str, params: list):
        self._run = lambda: ws.db.execute(sql, params)
        self._cursor = None

    def __iter__(self) -> Iterator[tuple]:
        if self._cursor is None:
            self._cursor = self._run()
        return self._cursor


def _write_csv(path: Path, header: list[str], rows: Iterable[dict], values: Iterable[Sequence] | None = None) -> int:
    """Rows as they come, each row's values in the header's order (a value the row lacks is
    empty, a key the header lacks is left out, as ``csv.DictWriter`` does, whose own lookup of
    each key was a third of a million-visit export); returns how many. Given ``values`` (the
    rows as tuples in that order, ``Table.values``), they are written as they are, counted as
    they pass, with no Python step per row."""
    with open(path, "w", newline="", encoding="utf-8") as fp:
        writer = csv.writer(fp, lineterminator="\r\n")
        writer.writerow(header)
        if values is not None:
            counter = itertools.count()
            writer.writerows(map(operator.itemgetter(0), zip(values, counter)))
            return next(counter)
        count = 0
        by_header = operator.itemgetter(*header) if len(header) > 1 else lambda row: (row[header[0]],)
        for row in rows:
            try:
                writer.writerow(by_header(row))
            except KeyError:
                writer.writerow([row.get(key, "") for key in header])
            count += 1
    return count


def _write_json(path: Path, rows: Iterable[dict]) -> int:
    """A JSON array written row by row (``json_array``); returns how many rows."""
    count = -1  # the closing piece is no row
    with open(path, "w", encoding="utf-8") as fp:
        for piece in json_array(rows, lambda row: json.dumps(row, indent=2, ensure_ascii=False), indent=2):
            fp.write(piece)
            count += 1
        fp.write("\n")
    return count


def write_csv_tables(tables: dict[str, Table], out: Path) -> dict[str, int]:
    """The CSV exporter: one ``TABLE.csv`` per table."""
    return {f"{name}.csv": _write_csv(out / f"{name}.csv", t.header, t.rows, t.values) for name, t in tables.items()}


def write_json_tables(tables: dict[str, Table], out: Path) -> dict[str, int]:
    """The JSON exporter: one ``TABLE.json`` array per table."""
    def objects(t: Table):
        for row in t.rows:
            yield {**row, **{c: json.loads(row[c] or "{}") for c in t.json_columns if c in row}}

    return {f"{name}.json": _write_json(out / f"{name}.json", objects(t) if t.json_columns else t.rows)
            for name, t in tables.items()}


@hookimpl
def register_exporters():
    return [
        {"name": "csv", "layout": "tables", "help": "one CSV file per table", "write": write_csv_tables},
        {"name": "json", "layout": "tables", "help": "one JSON array per table", "write": write_json_tables},
        {"name": "lives", "layout": "lives", "help": "Yelp's LIVES layout: businesses, inspections, violations, "
         "feed_info", "write": write_csv_tables},
    ]


def export_case(ws: Workspace, case: dict, fmt: str, out: Path | str, *, public: bool = False,
                override: str | None = None) -> dict:
    """Write the case into folder ``out`` (made if missing) with the exporter ``fmt``; returns
    the files written with their row counts. Internal unless ``public``, which is this
    module's to give only for the LIVES layout: the public tables are the public database's
    (``publish.public.export_public``)."""
    exporter = lookup(exporters(ws.root), fmt, "export format")
    counts: dict = {}
    if exporter.get("layout", "tables") == "lives":
        tables = lives_tables(ws, case, public=public, override=override, counts=counts)
    elif public:
        raise InvalidInput(f"a public {fmt} export is made from the public database (publish.public.export_public)")
    else:
        tables = case_tables(ws, case)
    files = write_export(exporter, tables, out)
    return {"case": case["slug"], "format": fmt, "out": str(out), "public": public, "files": files,
            **({"visits_left_out": counts["skipped"]} if "skipped" in counts else {})}


def _num(value) -> str:
    if value in (None, ""):
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def lives_business_id(store: dict) -> str:
    """A store imported from LIVES keeps its business_id; any other is known by its id."""
    return store["external_id"] if store["source"] == lives.SOURCE and store["external_id"] else store["id"]


def _lives_visits(ws: Workspace, case: dict, cond: str, params: list) -> Iterator[tuple]:
    """(store_id, day, outcome, protocol, kind, answers) of each visit of the case that
    ``cond`` lets through, by time: one pass over (case_id, visited_at), as tuples of the
    columns the layout writes (a dict of every column per visit took a third of the export)."""
    return ws.db.execute(
        "select v.store_id, coalesce(nullif(v.visited_date, ''), substr(v.visited_at, 1, 10)), v.outcome, v.protocol, v.kind, "
        f"v.answers from visits v where v.case_id = ? and {cond} "
        f"order by {by_time('v.visited_at', whole=True)}, v.rowid",
        [case["id"], *params])


def _lives_findings(ws: Workspace, case: dict, cond: str, params: list) -> Iterator[tuple]:
    """(store_id, day, code, description, title, source, severity) of each finding of the
    visits ``_lives_visits`` gives, attempts that were not made left out: by the visit's
    time, then in the order they were written."""
    return ws.db.execute(
        "select v.store_id, coalesce(nullif(v.visited_date, ''), substr(v.visited_at, 1, 10)), f.code, f.description, f.title, "
        "f.source, f.severity from visits v join findings f on f.visit_id = v.id "
        f"where v.case_id = ? and {cond} and v.outcome is not 'not_completed' "
        f"order by {by_time('v.visited_at', whole=True)}, v.rowid, f.rowid", [case["id"], *params])


def lives_tables(ws: Workspace, case: dict, *, public: bool = False, override: str | None = None,
                 counts: dict | None = None) -> dict[str, Table]:
    """The case in Yelp's LIVES layout. One inspections row per score of a visit (so a
    business inspected twice on one day comes back as two rows), the visit's findings once
    as its violations. Attempts that could not be made are not inspections and are left out
    (counted in ``counts["skipped"]`` as the rows are read). Undercover visits are written as
    inspections of type 'undercover' with no score.

    Internal unless ``public``: then only what the publication policy lets out, for an
    open-data portal: approved undercover visits and their findings only, every store that
    may not be named as its pseudonym with no address, coordinates or contact (the gate
    passed first). Visits and findings are read as they are written (a million visits):
    one pass for the inspections, one for the violations."""
    if public:
        from ..policy import PUBLIC, gate, naming, visit_condition
        from ..policy.naming import public_store_id

        gate.require_publishable(ws, case, override=override)
        names = naming(ws, case)
        cond, params = visit_condition(PUBLIC)
        printed = names.redact  # titles and descriptions are people's words: a tester or a store may be in them
    else:
        cond, params = "1", []
        printed = lambda text: text  # noqa: E731
    stores = {s["id"]: s for s in case_tables(ws, case)["stores"].rows}
    if public:
        shown = {r[0] for r in ws.db.execute(f"select distinct v.store_id from visits v where v.case_id = ? and {cond}",
                                             [case["id"], *params])}
        for sid, s in list(stores.items()):
            if sid not in shown:
                del stores[sid]
            elif not names.store_named(sid):
                pid = public_store_id(case, sid)
                stores[sid] = {**{k: None for k in s}, "id": sid, "name": pid, "external_id": pid, "source": None,
                               "city": s["city"], "district": s["district"]}
    titles: dict[str, str] = {}
    counts = {} if counts is None else counts
    counts["skipped"] = 0
    # risk_category only when the findings carry one (a feed like San Francisco's): a feed
    # without it (Lexington's) comes back with the columns it had.
    risky = ws.db.execute(
        f"select 1 from findings f join visits v on v.id = f.visit_id where v.case_id = ? and {cond} "
        "and f.source = ? and f.severity in ('high', 'low') limit 1", [case["id"], *params, lives.SOURCE]).fetchone()

    business_ids = {sid: lives_business_id(s) for sid, s in stores.items()}

    def inspections():
        for store_id, day, outcome, protocol, kind, answers in _lives_visits(ws, case, cond, params):
            if outcome == "not_completed":
                counts["skipped"] += 1
                continue
            bid, day = business_ids[store_id], day.replace("-", "")
            if protocol == lives.PROTOCOL:  # only a LIVES inspection's answers are written
                answers = json.loads(answers or "{}")
                # One row per inspection row of the day, blank scores in their places; none for
                # a day that had violations only (inspection_rows 0).
                listed = [s.strip() for s in str(answers["scores"]).split(",")] if answers.get("scores") else None
                n = int(answers.get("inspection_rows", len(listed) if listed else 1))
                scores = (listed or [_num(answers.get("score"))] * min(n, 1))[:n]
                scores += [""] * (n - len(scores))
                kinds = lives.row_texts(answers.get("inspection_type") or "", len(scores))
                texts = lives.row_texts(answers.get("description") or "", len(scores))
            else:
                if protocol not in titles:
                    try:
                        titles[protocol] = get_protocol(protocol, ws.root).title
                    except Exception:
                        titles[protocol] = protocol
                scores = [""]
                kinds, texts = [kind], [f"{titles[protocol]}: {outcome}"]
            for score, row_kind, text in zip(scores, kinds, texts):
                yield {"business_id": bid, "score": score, "date": day, "type": row_kind, "description": printed(text)}

    def violations():
        for store_id, day, code, description, title, source, severity in _lives_findings(ws, case, cond, params):
            yield {"business_id": business_ids[store_id], "date": day.replace("-", ""), "code": code or "",
                   "description": printed(description if source == lives.SOURCE
                                          else (title if not description else f"{title}: {description}")),
                   "risk_category": lives.SEVERITY_RISK.get(severity, "")}

    businesses = [{
        "business_id": lives_business_id(s), "name": s["name"], "address": s["address"] or "",
        "city": s["city"] or "", "state": s["state"] or "", "postal_code": s["postcode"] or "",
        "latitude": "" if s["lat"] is None else repr(s["lat"]),
        "longitude": "" if s["lon"] is None else repr(s["lon"]),
        "phone_number": s["contact"] or "",
    } for s in stores.values()]
    feed = {"feed_date": clock.today(ws.tz).strftime("%Y%m%d"), "feed_version": LIVES_FEED_VERSION,
            "municipality_name": case["jurisdiction"] or case["title"], "municipality_url": "",
            "contact_email": ""}
    return {
        "businesses": Table(LIVES_HEADERS["businesses"], businesses),
        "inspections": Table(LIVES_HEADERS["inspections"], inspections()),
        "violations": Table(LIVES_HEADERS["violations"] + (["risk_category"] if risky else []), violations()),
        "feed_info": Table(list(feed), [feed]),
    }


def export_lives(ws: Workspace, case: dict, out: Path, *, public: bool = False, override: str | None = None) -> dict:
    """The case in the LIVES layout into folder ``out`` (``lives_tables``)."""
    return export_case(ws, case, "lives", out, public=public, override=override)


__all__ = ["export_case", "export_lives", "case_tables", "lives_tables", "write_csv_tables", "write_json_tables",
           "TABLES"]

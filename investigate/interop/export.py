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
import json
from datetime import date
from pathlib import Path

from ..cases.protocols import get_protocol
from ..errors import InvalidInput
from ..workspace import Workspace
from . import lives

FORMATS = ("csv", "json", "lives")
TABLES = ("cases", "companies", "stores", "visits", "findings", "evidence", "promises", "replies")
LIVES_FEED_VERSION = "2.0"


def case_tables(ws: Workspace, case: dict) -> dict[str, list[dict]]:
    """Every row of a case, table by table: the case, its stores (in its frame or visited),
    visits, and what hangs off them."""
    cid = [case["id"]]
    by_visit = "where visit_id in (select id from visits where case_id = ?) order by visit_id, rowid"
    of_case = ("(select store_id from case_stores where case_id = ?) "
               "or id in (select store_id from visits where case_id = ?)")
    return {
        "cases": [ws.get("cases", case["id"])],
        # The companies whose contact points the case tested (a customer-service case).
        "companies": list(ws.db.query(
            f"select * from companies where id in (select company_id from stores where id in {of_case}) "
            "order by name, id", cid * 2)),
        "stores": list(ws.db.query(f"select * from stores where id in {of_case} order by name, id", cid * 2)),
        "visits": list(ws.db.query("select * from visits where case_id = ? order by visited_at, id", cid)),
        "findings": list(ws.db.query(f"select * from findings {by_visit}", cid)),
        "evidence": list(ws.db.query(f"select * from evidence {by_visit}", cid)),
        "promises": list(ws.db.query(f"select * from promises {by_visit}", cid)),
        "replies": list(ws.db.query("select * from replies where case_id = ? order by store_id, id", cid)),
    }


def _write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fp:
        writer = csv.DictWriter(fp, fieldnames=header, lineterminator="\r\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def export_case(ws: Workspace, case: dict, fmt: str, out: Path | str) -> dict:
    """Write the case into folder ``out`` (made if missing) in ``fmt``; returns the files
    written with their row counts."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "lives":
        return export_lives(ws, case, out)
    files = {}
    for table, rows in case_tables(ws, case).items():
        if fmt == "csv":
            path = out / f"{table}.csv"
            _write_csv(path, ws.columns(table), rows)
        else:
            path = out / f"{table}.json"
            if table == "visits":  # answers are JSON text in the database; give them as objects
                rows = [{**r, "answers": json.loads(r["answers"] or "{}")} for r in rows]
            path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        files[path.name] = len(rows)
    return {"case": case["slug"], "format": fmt, "out": str(out), "files": files}


def _num(value) -> str:
    if value in (None, ""):
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def lives_business_id(store: dict) -> str:
    """A store imported from LIVES keeps its business_id; any other is known by its id."""
    return store["external_id"] if store["source"] == lives.SOURCE and store["external_id"] else store["id"]


def public_tables(ws: Workspace, case: dict, *, override: str | None = None) -> dict[str, list[dict]]:
    """``case_tables`` as the publication policy allows them out: approved undercover visits
    and their findings only, every store that may not be named as its pseudonym with no
    address, coordinates or contact. Passes the pre-publication gate first."""
    from ..disclosure import PUBLIC, gate, naming, visit_condition
    from ..disclosure.naming import public_store_id

    gate.require_publishable(ws, case, override=override)
    names = naming(ws, case)
    cond, params = visit_condition(PUBLIC)
    visits = list(ws.db.query(f"select v.* from visits v where v.case_id = ? and {cond} order by v.visited_at, v.id",
                              [case["id"], *params]))
    ids = {v["id"] for v in visits}
    tables = case_tables(ws, case)
    stores = []
    for s in tables["stores"]:
        if not any(v["store_id"] == s["id"] for v in visits):
            continue
        if not names.store_named(s["id"]):
            pid = public_store_id(case, s["id"])
            s = {**{k: None for k in s}, "id": s["id"], "name": pid, "external_id": pid, "source": None,
                 "city": s["city"], "district": s["district"]}
        stores.append(s)
    return {"cases": tables["cases"], "stores": stores,
            "visits": [{**v, "notes": None, "observer": None, "tester_id": None, "tester_age": None} for v in visits],
            "findings": [f for f in tables["findings"] if f["visit_id"] in ids]}


def export_lives(ws: Workspace, case: dict, out: Path, *, public: bool = False, override: str | None = None) -> dict:
    """The case in Yelp's LIVES layout. One inspections row per score of a visit (so a
    business inspected twice on one day comes back as two rows), the visit's findings once
    as its violations. Attempts that could not be made are not inspections and are left out.
    Undercover visits are written as inspections of type 'undercover' with no score.

    Internal unless ``public``: then only what the publication policy lets out
    (``public_tables``), for an open-data portal."""
    out.mkdir(parents=True, exist_ok=True)
    tables = public_tables(ws, case, override=override) if public else case_tables(ws, case)
    stores = {s["id"]: s for s in tables["stores"]}
    findings: dict[str, list[dict]] = {}
    for f in tables["findings"]:
        findings.setdefault(f["visit_id"], []).append(f)
    inspections, violations, skipped = [], [], 0
    titles: dict[str, str] = {}
    for v in tables["visits"]:
        if v["outcome"] == "not_completed":
            skipped += 1
            continue
        store = stores[v["store_id"]]
        bid = lives_business_id(store)
        day = (v["visited_date"] or v["visited_at"][:10]).replace("-", "")
        answers = json.loads(v["answers"] or "{}")
        if v["protocol"] == lives.PROTOCOL:
            # One row per inspection row of the day, blank scores in their places; none for a
            # day that had violations only (inspection_rows 0).
            listed = [s.strip() for s in str(answers["scores"]).split(",")] if answers.get("scores") else None
            rows = int(answers.get("inspection_rows", len(listed) if listed else 1))
            scores = (listed or [_num(answers.get("score"))] * min(rows, 1))[:rows]
            scores += [""] * (rows - len(scores))
            kinds = lives.row_texts(answers.get("inspection_type") or "", len(scores))
            texts = lives.row_texts(answers.get("description") or "", len(scores))
        else:
            if v["protocol"] not in titles:
                try:
                    titles[v["protocol"]] = get_protocol(v["protocol"], ws.root).title
                except Exception:
                    titles[v["protocol"]] = v["protocol"]
            scores = [""]
            kinds, texts = [v["kind"]], [f"{titles[v['protocol']]}: {v['outcome']}"]
        for score, kind, text in zip(scores, kinds, texts):
            inspections.append({"business_id": bid, "score": score, "date": day,
                                "type": kind, "description": text})
        for f in findings.get(v["id"], []):  # in the order they were written
            violations.append({"business_id": bid, "date": day, "code": f["code"] or "",
                               "description": f["description"] if f["source"] == lives.SOURCE
                               else (f["title"] if not f["description"] else f"{f['title']}: {f['description']}"),
                               "risk_category": lives.SEVERITY_RISK.get(f["severity"], "")})
    businesses = [{
        "business_id": lives_business_id(s), "name": s["name"], "address": s["address"] or "",
        "city": s["city"] or "", "state": s["state"] or "", "postal_code": s["postcode"] or "",
        "latitude": "" if s["lat"] is None else repr(s["lat"]),
        "longitude": "" if s["lon"] is None else repr(s["lon"]),
        "phone_number": s["contact"] or "",
    } for s in tables["stores"]]
    _write_csv(out / "businesses.csv", ["business_id", "name", "address", "city", "state", "postal_code",
                                        "latitude", "longitude", "phone_number"], businesses)
    _write_csv(out / "inspections.csv", ["business_id", "score", "date", "type", "description"], inspections)
    # risk_category only when the findings carry one (a feed like San Francisco's): a feed
    # without it (Lexington's) comes back with the columns it had.
    risky = any(f["severity"] in ("high", "low") for f in tables["findings"] if f["source"] == lives.SOURCE)
    _write_csv(out / "violations.csv", ["business_id", "date", "code", "description"]
               + (["risk_category"] if risky else []), violations)
    feed = {"feed_date": date.today().strftime("%Y%m%d"), "feed_version": LIVES_FEED_VERSION,
            "municipality_name": case["jurisdiction"] or case["title"], "municipality_url": "",
            "contact_email": ""}
    _write_csv(out / "feed_info.csv", list(feed), [feed])
    return {"case": case["slug"], "format": "lives", "out": str(out), "public": public,
            "files": {"businesses.csv": len(businesses), "inspections.csv": len(inspections),
                      "violations.csv": len(violations), "feed_info.csv": 1},
            "visits_left_out": skipped}


__all__ = ["export_case", "export_lives", "case_tables", "public_tables", "FORMATS", "TABLES"]

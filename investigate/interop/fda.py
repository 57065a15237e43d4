"""The U.S. FDA's tobacco retail compliance-check export as stores and official visits.

The FDA publishes one row per compliance-check decision: Retailer Name, Street Address, City,
State, Zip, Decision Date (MM/DD/YYYY), Decision Type (No Violations Observed, Warning Letter,
Civil Money Penalty, No-Tobacco-Sale Order), Minor Involved, Sale to Minor, Product Type —
ISO-8859-1 encoded. Retailer names are not standardised ("Smart-Shop", "smartshop", "SMART SHOP
INC"), so a row finds its store by ``stores.name_key`` (normalised name + address): the
newsroom's own store record when it has one, else one store made on first sight.

Each row is an official visit (kind 'official', protocol ``fda-compliance-check``), judged by
that protocol's rules like any visit: a warning letter, money penalty or no-sale order is a
violation with a finding naming it; a sale to a minor is a finding of its own. There is no
inspection id: a visit is recognised by store, date, decision and product, so importing the
same file again adds nothing. The visit date is the decision date (the export has no other).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..cases.protocols import FALSE_WORDS, TRUE_WORDS, get_protocol
from ..cases.stores import name_key, store_row
from ..cases.visits import prepare_visit
from ..errors import InputFileError, InvalidInput
from ..workspace import Workspace, new_id
from ..files import detect_encoding, file_sha256, iter_csv
from .common import date_visit_time, official_case, parse_date

PROTOCOL = "fda-compliance-check"
SOURCE = "fda"
ENCODING = "iso-8859-1"
COLUMNS = ("Retailer Name", "Street Address", "City", "State", "Zip", "Decision Date",
           "Decision Type", "Minor Involved", "Sale to Minor", "Product Type")
REQUIRED = ("Retailer Name", "Street Address", "Decision Date", "Decision Type")
#: Other headings the FDA has used for the same columns in its downloads.
ALIASES = {"Inspection Result": "Decision Type", "Zip Code": "Zip", "ZIP": "Zip",
           "Address": "Street Address", "Sale to Minor?": "Sale to Minor",
           "Minor Involved?": "Minor Involved", "Tobacco Product Type": "Product Type"}
DEFAULT_CASE = "fda-compliance-checks"


def decision_key(text: str) -> str:
    """"No-Tobacco-Sale Order" → "no_tobacco_sale_order": the protocol's choice for it."""
    return re.sub(r"[^a-z0-9]+", "_", (text or "").lower()).strip("_")


def _yes_no(text: str, *, path, line: int, column: str) -> bool | None:
    word = (text or "").strip().lower()
    if not word:
        return None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InputFileError(path, f"{text!r} is not Yes or No", line=line, column=column)


def iter_fda(path: Path | str, *, encoding: str | None = None):
    """Read and check an FDA export as it goes: plain rows with parsed dates and answers,
    each with its line. Any bad cell raises InputFileError naming file, line and column."""
    table, source_rows = iter_csv(path, encoding=encoding, fallback=ENCODING)
    table.header = [ALIASES.get(h, h) for h in table.header]
    table.require(*REQUIRED)
    choices = get_protocol(PROTOCOL).question("decision_type").choices
    for line, row in source_rows:
        row = {ALIASES.get(k, k): v for k, v in row.items()}
        name = row["Retailer Name"]
        if not name:
            raise InputFileError(table.path, "empty retailer name", line=line, column="Retailer Name")
        day = parse_date(row["Decision Date"], "%m/%d/%Y", path=table.path, line=line,
                         column="Decision Date", example="MM/DD/YYYY, e.g. 03/14/2019")
        decision = decision_key(row["Decision Type"])
        if decision not in choices:
            raise InputFileError(table.path, f"unknown decision type {row['Decision Type']!r} (expected one of "
                                 "No Violations Observed, Warning Letter, Civil Money Penalty, "
                                 "No-Tobacco-Sale Order)", line=line, column="Decision Type")
        answers = {"decision_type": decision}
        for column, key in (("Minor Involved", "minor_involved"), ("Sale to Minor", "sale_to_minor")):
            value = _yes_no(row.get(column, ""), path=table.path, line=line, column=column)
            if value is not None:
                answers[key] = value
        if row.get("Product Type"):
            answers["product_type"] = row["Product Type"]
        yield {
            "line": line, "day": day, "answers": answers,
            "store": {"name": name, "address": row["Street Address"], "city": row.get("City"),
                      "state": row.get("State"), "postcode": row.get("Zip"), "country": "US"},
        }


def read_fda(path: Path | str, *, encoding: str | None = None) -> list[dict]:
    """Every row of an FDA export, checked (see ``iter_fda``)."""
    return list(iter_fda(path, encoding=encoding))


def import_fda(ws: Workspace, path: Path | str, *, case_ref: str | None = None,
               encoding: str | None = None, on_batch=None) -> dict:
    """Import an FDA compliance-check export in one transaction; returns counts.

    The file is read twice, never held whole: once to check every row and find or make its
    store, once to write the visits. ``on_batch(n)`` ticks once per row of the second pass."""
    path = Path(path)
    encoding = detect_encoding(path, encoding, ENCODING)
    protocol = get_protocol(PROTOCOL, ws.root)
    tick = on_batch or (lambda n: None)
    with ws.transaction():
        case, created = official_case(
            ws, case_ref, slug=DEFAULT_CASE, title="FDA tobacco compliance checks", protocol=PROTOCOL,
            jurisdiction="United States", legal_basis="21 CFR part 1140",
            description="Official FDA tobacco retail compliance-check decisions, imported.")
        by_key: dict[str, dict] = {}
        for r in ws.db.query("select * from stores where name_key is not null order by created_at, id"):
            by_key.setdefault(r["name_key"], r)
        # First pass: every row's store, new ones written before the visits that point at them.
        new_stores, matched = [], set()
        keys: list[str] = []  # one short string per row, for the second pass
        for item in iter_fda(path, encoding=encoding):
            key = name_key(item["store"]["name"], item["store"]["address"], item["store"]["postcode"])
            keys.append(key)
            store = by_key.get(key)
            if store is None:
                try:
                    store = store_row(ws, item["store"], source=SOURCE, coord_source="import")
                except InvalidInput as ex:
                    raise InputFileError(path, str(ex), line=item["line"])
                store["id"] = new_id()
                new_stores.append(store)
                by_key[key] = store
            else:
                matched.add(store["id"])
        ws.insert_many("stores", new_stores, action="import")
        matched -= {s["id"] for s in new_stores}

        known = {r["external_ref"] for r in ws.db.query(
            "select external_ref from visits where case_id = ? and source = ?", [case["id"], SOURCE])}
        findings: list[dict] = []
        counts = {"visits": 0, "skipped": 0}

        def visit_rows():
            """Visits streamed into insert_many, so a national export is not held twice."""
            for key, item in zip(keys, iter_fda(path, encoding=encoding)):
                item["key"] = key
                tick(1)
                a = item["answers"]
                ref = f"fda:{item['key']}:{item['day'].isoformat()}:{a['decision_type']}:" \
                      f"{(a.get('product_type') or '').lower()}"
                if ref in known:
                    counts["skipped"] += 1
                    continue
                known.add(ref)
                visited_at = date_visit_time(ws, item["day"], path=path, line=item["line"],
                                             column="Decision Date")
                try:
                    row, judgement = prepare_visit(
                        ws, case=case, protocol=protocol, store=by_key[item["key"]], tester=None, answers=a,
                        visited_at=visited_at, kind="official", source=SOURCE, external_ref=ref)
                except InvalidInput as ex:
                    raise InputFileError(path, str(ex), line=item["line"])
                row["id"] = new_id()
                counts["visits"] += 1
                for f in judgement["findings"]:
                    findings.append({
                        "id": new_id(), "visit_id": row["id"], "code": f.get("code"), "title": f["title"],
                        "statute": f.get("statute"), "severity": f.get("severity", "medium"),
                        "description": f"FDA decision of {item['day'].isoformat()}", "source": SOURCE,
                        "created_at": row["created_at"],
                    })
                yield row

        ws.insert_many("visits", visit_rows(), action="import")
        ws.insert_many("findings", findings, action="import")
        summary = {"case": case["slug"], "case_created": created, "rows": len(keys),
                   "stores_added": len(new_stores),
                   "stores_matched": len(matched),
                   "visits_added": counts["visits"], "visits_already_imported": counts["skipped"],
                   "findings_added": len(findings)}
        ws.log_event("import", {"format": "fda", "file": str(path), "sha256": file_sha256(path),
                                "summary": summary})
    return summary


__all__ = ["iter_fda", "read_fda", "import_fda", "decision_key", "PROTOCOL", "SOURCE", "COLUMNS"]

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

from ..protocol.protocols import get_protocol
from ..protocol.values import FALSE_WORDS, TRUE_WORDS
from ..cases.stores import name_key, store_row
from ..protocol.versions import current_protocol, remember
from ..cases.visits import prepare_visit
from ..errors import InputFileError, InvalidInput
from ..ids import new_id
from ..store.workspace import Workspace
from ..files import detect_encoding, file_sha256, file_summary, iter_csv, match_columns
from ..hookspecs import hookimpl
from .common import date_visit_time, official_case, parse_date

PROTOCOL = "fda-compliance-check"
SOURCE = "fda"
ENCODING = "iso-8859-1"  # what the FDA says; read as cp1252 when it decodes (files.detect_encoding)
COLUMNS = ("Retailer Name", "Street Address", "City", "State", "Zip", "Inspection Date", "Decision Date",
           "Decision Type", "Minor Involved", "Sale to Minor", "Product Type")
REQUIRED = ("Retailer Name", "Street Address", "Decision Date", "Decision Type")
#: Other headings the FDA has used for the same columns in its downloads (compared by
#: files.norm_header, so "ZIP", "Sale to Minor?" and "retailer_name" need no entry).
ALIASES = {"Decision Type": ["Inspection Result", "Decision"], "Zip": ["Zip Code"],
           "Street Address": ["Address"], "Product Type": ["Tobacco Product Type"]}
DEFAULT_CASE = "fda-compliance-checks"
#: Words the FDA writes where it has no inspection date (the civil-money-penalty and
#: no-tobacco-sale-order rows of its search export): read as unknown, the row dated by its
#: decision date and marked ``dated_by_decision``. More with ``--null-value``.
KNOWN_NULLS = {"Inspection Date": ("See Complaint", "Not yet available")}
#: The decisions from least to most severe: one inspection's rows keep the most severe.
DECISION_ORDER = ("no_violations_observed", "warning_letter", "civil_money_penalty", "no_tobacco_sale_order")


def decision_key(text: str) -> str:
    """"No-Tobacco-Sale Order" → "no_tobacco_sale_order": the protocol's choice for it."""
    return re.sub(r"[^a-z0-9]+", "_", (text or "").lower()).strip("_")


def decision_choice(text: str, choices) -> str | None:
    """The protocol's choice for the FDA's words: "Warning Letter Issued" → warning_letter,
    "Civil Money Penalty not available" / "… Archived" → civil_money_penalty. None when no
    choice starts the words."""
    key = decision_key(text)
    return next((c for c in choices if key == c or key.startswith(c + "_")), None)


def _yes_no(text: str, *, path, line: int, column: str) -> bool | None:
    word = (text or "").strip().lower()
    if not word:
        return None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InputFileError(path, f"{text!r} is not Yes or No", line=line, column=column)


def iter_fda(path: Path | str, *, encoding: str | None = None, ignore=(), ignore_unknown: bool = False,
             fix_text: bool = False, null_values=(), table_out: list | None = None):
    """Read and check an FDA export as it goes: plain rows with parsed dates and answers,
    each with its line. Any bad cell raises InputFileError naming file, line and column.

    The search export comes with a title preamble above the header (skipped: the header is
    the first record that names the FDA's columns). With an Inspection Date the visit is the
    inspection and its decision date an answer; without one (older exports), the decision
    date is the visit's date — and where the column is there but its cell is blank or a
    placeholder ("See Complaint", ``KNOWN_NULLS``), the answer ``dated_by_decision`` says so.
    ``table_out`` receives the CsvTable and column plan, for the
    summary."""
    table, source_rows = iter_csv(path, encoding=encoding, fallback=ENCODING, header_hint=COLUMNS,
                                  fix_text=fix_text, null_values=null_values, known_nulls=KNOWN_NULLS)
    try:
        plan = match_columns(table.path, table.header, COLUMNS, ALIASES, ignore=ignore,
                             ignore_unknown=ignore_unknown)
        table.check_only(plan.read)
        col = plan.columns
        missing = [c for c in REQUIRED if c not in col]
        if missing:
            table.require(*missing)
    except BaseException:
        source_rows.close()
        raise
    if table_out is not None:
        table_out[:] = [table, plan]
    choices = get_protocol(PROTOCOL).question("decision_type").choices

    def date_in(row, line, column):
        return parse_date(row[col[column]], "%m/%d/%Y", path=table.path, line=line, column=col[column],
                          example="MM/DD/YYYY, e.g. 03/14/2019", table=table)

    for line, row in source_rows:
        get = lambda c: row.get(col[c], "") if c in col else ""  # noqa: E731
        name = get("Retailer Name")
        if not name:
            raise InputFileError(table.path, "empty retailer name", line=line, column=col["Retailer Name"])
        decided = date_in(row, line, "Decision Date")
        inspected = date_in(row, line, "Inspection Date") if get("Inspection Date") else None
        words = get("Decision Type")
        decision = decision_choice(words, choices)
        if decision is None:
            raise InputFileError(table.path, f"unknown decision type {words!r} (expected one of "
                                 "No Violations Observed, Warning Letter, Civil Money Penalty, "
                                 "No-Tobacco-Sale Order)", line=line, column=col["Decision Type"])
        answers = {"decision_type": decision}
        if decision_key(words) != decision:
            answers["decision_text"] = words  # "Civil Money Penalty Archived": the FDA's own words
        if inspected is not None:
            answers["decision_date"] = decided.isoformat()
        elif "Inspection Date" in col:
            answers["dated_by_decision"] = True
        for column, key in (("Minor Involved", "minor_involved"), ("Sale to Minor", "sale_to_minor")):
            value = _yes_no(get(column), path=table.path, line=line, column=col.get(column))
            if value is not None:
                answers[key] = value
        if get("Product Type"):
            answers["product_type"] = get("Product Type")
        yield {
            "line": line, "day": inspected or decided, "inspected": inspected is not None, "answers": answers,
            "store": {"name": name, "address": get("Street Address"), "city": get("City") or None,
                      "state": get("State") or None, "postcode": get("Zip") or None, "country": "US"},
        }


def merge_answers(a: dict, b: dict) -> dict:
    """Two rows of one inspection (one per product, say) as one visit's answers: the most
    severe decision, a sale or a minor if either row says so, every product and wording."""
    out = dict(a)
    if DECISION_ORDER.index(b["decision_type"]) > DECISION_ORDER.index(a["decision_type"]):
        out["decision_type"] = b["decision_type"]
    for key in ("minor_involved", "sale_to_minor"):
        if key in b:
            out[key] = bool(a.get(key)) or b[key]
    for key in ("product_type", "decision_text", "decision_date"):
        if b.get(key):
            seen = [p for p in (a.get(key) or "").split("; ") if p]
            out[key] = "; ".join(dict.fromkeys([*seen, b[key]]))
    return out


def visit_ref(key: str, item: dict) -> str:
    """How a visit is known again: the store and the inspection date (rows of one inspection
    are one visit); without an inspection date, as before, the decision row itself."""
    if item["inspected"]:
        return f"fda:{key}:{item['day'].isoformat()}"
    a = item["answers"]
    return f"fda:{key}:{item['day'].isoformat()}:{a['decision_type']}:{(a.get('product_type') or '').lower()}"


def read_fda(path: Path | str, *, encoding: str | None = None) -> list[dict]:
    """Every row of an FDA export, checked (see ``iter_fda``)."""
    return list(iter_fda(path, encoding=encoding))


def import_fda(ws: Workspace, path: Path | str, *, case_ref: str | None = None,
               encoding: str | None = None, ignore=(), ignore_unknown: bool = False, fix_text: bool = False,
               null_values=(), on_batch=None) -> dict:
    """Import an FDA compliance-check export in one transaction; returns counts.

    The file is read twice, never held whole: once to check every row and find or make its
    store, once to write the visits. Rows of one inspection (one per product) are one visit,
    written when its last row has been read. ``on_batch(n)`` ticks once per row of the second
    pass."""
    path = Path(path)
    encoding = detect_encoding(path, encoding, ENCODING)
    protocol = current_protocol(ws, PROTOCOL)
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
        refs: list[str] = []  # one short string per row, for the second pass
        rows_of: dict[str, int] = {}  # rows per visit
        read = []
        for item in iter_fda(path, encoding=encoding, ignore=ignore, ignore_unknown=ignore_unknown,
                             fix_text=fix_text, null_values=null_values, table_out=read):
            key = name_key(item["store"]["name"], item["store"]["address"], item["store"]["postcode"])
            ref = visit_ref(key, item)
            refs.append(ref)
            rows_of[ref] = rows_of.get(ref, 0) + 1
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
        table, plan = read

        known = {r["external_ref"] for r in ws.db.query(
            "select external_ref from visits where case_id = ? and source = ?", [case["id"], SOURCE])}
        findings: list[dict] = []
        counts = {"visits": 0, "merged": 0, "dated_by_decision": 0}
        waiting: dict[str, dict] = {}  # visits whose later rows are still to come
        skipped: set[str] = set()

        def visit_rows():
            """Visits streamed into insert_many, so a national export is not held twice."""
            for ref, item in zip(refs, iter_fda(path, encoding=encoding, ignore=ignore,
                                                ignore_unknown=ignore_unknown, fix_text=fix_text,
                                                null_values=null_values)):
                tick(1)
                if ref in known:
                    skipped.add(ref)
                    continue
                if ref in waiting:
                    counts["merged"] += 1
                    first = waiting[ref]
                    first["answers"] = merge_answers(first["answers"], item["answers"])
                    item = first
                rows_of[ref] -= 1
                if rows_of[ref]:
                    waiting[ref] = item
                    continue
                waiting.pop(ref, None)
                known.add(ref)
                a = item["answers"]
                column = "Inspection Date" if item["inspected"] else "Decision Date"
                visited_at = date_visit_time(ws, item["day"], path=path, line=item["line"],
                                             column=plan.columns.get(column, column))
                try:
                    row, judgement = prepare_visit(
                        ws, case=case, protocol=protocol, store=by_key[ref.split(":")[1]], tester=None,
                        answers=a, visited_at=visited_at, kind="official", source=SOURCE, external_ref=ref)
                except InvalidInput as ex:
                    raise InputFileError(path, str(ex), line=item["line"])
                row["id"] = new_id()
                counts["visits"] += 1
                counts["dated_by_decision"] += bool(a.get("dated_by_decision"))
                for f in judgement["findings"]:
                    findings.append({
                        "id": new_id(), "visit_id": row["id"], "code": f.get("code"), "title": f["title"],
                        "statute": f.get("statute"), "severity": f.get("severity", "medium"),
                        "description": f"FDA decision of {a.get('decision_date') or item['day'].isoformat()}",
                        "source": SOURCE, "created_at": row["created_at"],
                    })
                yield row

        remember(ws, protocol)
        ws.insert_many("visits", visit_rows(), action="import")
        ws.insert_many("findings", findings, action="import")
        summary = {"case": case["slug"], "case_created": created, "rows": len(refs),
                   "stores_added": len(new_stores),
                   "stores_matched": len(matched),
                   "visits_added": counts["visits"], "visits_already_imported": len(skipped),
                   "rows_merged": counts["merged"], "findings_added": len(findings),
                   "visits_dated_by_decision": counts["dated_by_decision"],
                   **file_summary(table, plan)}
        ws.log_event("import", {"format": "fda", "file": str(path), "sha256": file_sha256(path),
                                "summary": summary})
    return summary


@hookimpl
def register_importers():
    return [{"name": "fda", "kind": "records", "help": "the FDA's tobacco retail compliance-check export",
             "run": import_fda}]


__all__ = ["iter_fda", "read_fda", "import_fda", "decision_key", "PROTOCOL", "SOURCE", "COLUMNS"]

"""LIVES (Yelp's Local Inspector Value-Entry Specification): municipal restaurant inspections
as stores and official visits with their violations as findings.

A feed is a folder with businesses.csv, inspections.csv, violations.csv and (optionally)
feed_info.csv. LIVES has no inspection id: a violation belongs to the inspection of the same
business on the same date. Feeds do hold several inspections of one business on one day
(Lexington's has 272 such pairs, with different scores). The violations of that day cannot be
told apart between them, so **one business + date is one visit**: its ``score`` answer is the
lowest score of the day (the one a reader should hear about), ``scores`` keeps every score
of the day in file order ("89, 98") so that an export gives the same inspection rows back, and
the day's violations are attached once. Outcome: violation when the day has violations, else
compliant — derived by the ``lives-inspection`` protocol's rules, as for every visit.

**Orphan violations** — dated on a day with no inspection row of that business (San
Francisco's feed has hundreds) — are counted and reported. By default (``orphans="keep"``)
each such business-day is imported as a visit without a score whose ``inspection_rows``
answer is 0, so no violation is lost and an export writes no inspection row for it;
``orphans="skip"`` leaves them out, counted in the summary.

Headings are matched whatever their case ("Score"); ``ViolationTypeID`` is the violation's
code and ``risk_category`` ("High Risk", "Moderate Risk", "Low Risk") its severity. Every
other column is listed in the summary as not imported.

Stores are upserted by (source 'lives', external_id = business_id); visits are recognised by
their external_ref ``lives:<business_id>:<YYYYMMDD>`` within the case, so importing the same
feed again adds nothing. Business ids are unique only within one feed: two municipalities whose
ids collide would share stores — import them into separate workspaces if that can happen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..numbers.stats import visit_filter
from ..protocol.protocols import get_protocol
from ..cases.stores import add_to_frame, store_row
from ..protocol.versions import current_protocol, remember
from ..cases.visits import prepare_visit
from ..errors import InputFileError, InvalidInput
from ..ids import new_id
from ..store.workspace import Workspace
from ..files import CsvTable, TextCheck, file_sha256, iter_csv, match_columns
from ..files.headers import find_column
from ..hookspecs import hookimpl
from .common import date_visit_time, official_case, parse_date, slugify

PROTOCOL = "lives-inspection"
SOURCE = "lives"
FILES = ("businesses.csv", "inspections.csv", "violations.csv")
#: LIVES column → stores column (business_id becomes external_id).
STORE_COLUMNS = {"name": "name", "address": "address", "city": "city", "state": "state",
                 "postal_code": "postcode", "latitude": "lat", "longitude": "lon",
                 "phone_number": "contact"}
#: Store columns an upsert compares and updates.
UPSERT_FIELDS = ("name", "address", "city", "state", "postcode", "lat", "lon", "contact")
VIOLATION_SEVERITY = "medium"  # when the feed gives no risk category
#: San Francisco's risk categories → our severities (and back, for the export).
RISK_SEVERITY = {"high risk": "high", "moderate risk": "medium", "low risk": "low"}
SEVERITY_RISK = {"high": "High Risk", "medium": "Moderate Risk", "low": "Low Risk"}
ORPHANS = ("keep", "skip")
#: Each file's columns (and the other spellings feeds use): read, never reported as unknown.
COLUMNS = {
    "businesses.csv": {"business_id": [], "name": [], "address": [], "city": [], "state": [],
                       "postal_code": ["zip", "zip_code"], "latitude": ["lat"], "longitude": ["lon", "lng"],
                       "phone_number": ["phone"]},
    "inspections.csv": {"business_id": [], "date": [], "score": [], "type": [], "description": []},
    "violations.csv": {"business_id": [], "date": [], "code": ["violation_type_id", "violation_code"],
                       "description": ["violation_description"], "risk_category": ["risk"]},
    "feed_info.csv": {"feed_date": [], "feed_version": [], "municipality_name": [], "municipality_url": [],
                      "contact_email": []},
}


@dataclass
class Inspection:
    """One business on one day: every inspection row of that day and its violations."""

    business_id: str
    day: date
    line: int  # the first line that names this business and day
    scores: list[float] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    rows: int = 0  # inspection rows of the day: 0 for an orphan (violations only)
    row_scores: list[float | None] = field(default_factory=list)  # every row's score, blank ones too
    violations: list[dict] = field(default_factory=list)

    @property
    def external_ref(self) -> str:
        return f"lives:{self.business_id}:{self.day:%Y%m%d}"

    def answers(self) -> dict:
        answers: dict = {"violations": len(self.violations)}
        if self.scores:
            answers["score"] = min(self.scores)
        if len(self.row_scores) > 1:
            # every row of the day, a blank score as an empty place ("89, ") so that an export
            # writes the same rows back
            answers["scores"] = ", ".join("" if s is None else _num(s) for s in self.row_scores)
        if self.rows != 1:
            answers["inspection_rows"] = self.rows
        for key, values in (("inspection_type", self.types), ("description", self.descriptions)):
            if any(values):
                answers[key] = per_row_text(values)
        return answers


@dataclass
class Feed:
    """A LIVES folder read and checked, not yet written anywhere."""

    folder: Path
    municipality: str
    feed_info: dict
    businesses: dict[str, tuple[int, dict]]
    inspections: list[Inspection]
    files: dict[str, str]  # file name → sha256
    counts: dict[str, int]
    columns: dict[str, dict] = field(default_factory=dict)  # file → {ignored_columns, unknown_columns}
    text: TextCheck = field(default_factory=TextCheck)
    null_cells: dict[str, int] = field(default_factory=dict)  # "file:column" → cells read as unknown

    @property
    def orphans(self) -> list[Inspection]:
        return [i for i in self.inspections if i.rows == 0]

    @property
    def total(self) -> int:
        return len(self.businesses) + len(self.inspections) + sum(len(i.violations) for i in self.inspections)


def per_row_text(values: list[str]) -> str:
    """One text for the day's rows: the value when every row has the same, else each row's in
    file order joined by "; " (blanks kept in their places), so that an export can give every
    row its own type back ("Routine - Unscheduled; Reinspection/Followup")."""
    return values[0] if len(set(values)) == 1 else "; ".join(values)


def row_texts(text: str, rows: int) -> list[str]:
    """``per_row_text`` undone for ``rows`` rows: the parts when there is one per row, else the
    whole text for each."""
    parts = [p.strip() for p in (text or "").split(";")]
    return parts if rows > 1 and len(parts) == rows else [text or ""] * rows


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _score(text: str, *, path, line: int, column: str = "score") -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(path, f"score {text!r} is not a number", line=line, column=column)
    if value < 0:
        raise InputFileError(path, f"score {text!r} is negative", line=line, column=column)
    return int(value) if value.is_integer() else value


def _read(folder: Path, name: str, *, encoding, ignore, ignore_unknown, fix_text, text, columns,
          nulls) -> CsvTable:
    """One file of the feed with its rows keyed by the LIVES names ("Score" → "score",
    "ViolationTypeID" → "code"); the columns it has beyond them are reported in ``columns``.
    ``nulls`` (column → placeholder words) apply in whichever file has the column."""
    table, rows = iter_csv(folder / name, encoding=encoding, fix_text=fix_text, text=text, known_nulls=nulls)
    wanted = COLUMNS[name]
    present = [n for n in ignore if find_column(table.header, n)]
    try:
        plan = match_columns(table.path, table.header, wanted, wanted, ignore=present, ignore_unknown=ignore_unknown)
    except BaseException:
        rows.close()
        raise
    table.check_only(plan.read)  # a column beyond LIVES is listed, never read: it cannot block the feed
    table.rows = list(rows)
    back = {col: f for f, col in plan.columns.items()}
    table.rows = [(line, {f: row[col] for col, f in back.items()}) for line, row in table.rows]
    table.header = [back[h] if h in back else h for h in table.header]
    columns[name] = plan.summary()
    return table


def read_feed(folder: Path | str, *, encoding: str | None = None, ignore: tuple[str, ...] | list[str] = (),
              ignore_unknown: bool = False, fix_text: bool = False, null_values=()) -> Feed:
    """Read and check a LIVES folder: every business id known, every date a real YYYYMMDD
    date, every score a number. Raises InputFileError naming the file and line. Columns
    beyond the LIVES ones are listed per file (``feed.columns``); ``ignore`` names columns to
    leave out on purpose (in whichever file has them)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "not a folder (expected a LIVES folder with businesses.csv, "
                                     "inspections.csv and violations.csv)")
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise InputFileError(folder, f"not a LIVES folder: {', '.join(missing)} missing")

    text = TextCheck(fix=fix_text)
    columns: dict[str, dict] = {}
    nulls: dict[str, list[str]] = {}
    for column, word in null_values:
        nulls.setdefault(column, []).append(word)
    null_counts: dict[str, int] = {}
    headers: list[str] = []

    def read(name: str) -> CsvTable:
        table = _read(folder, name, encoding=encoding, ignore=ignore, ignore_unknown=ignore_unknown,
                      fix_text=fix_text, text=text, columns=columns, nulls=nulls)
        headers.extend(table.header)
        for column, n in table.null_counts.items():
            null_counts[f"{name}:{column}"] = n
        return table

    feed_info: dict = {}
    if (folder / "feed_info.csv").is_file():
        info = read("feed_info.csv")
        if info.rows:
            feed_info = info.rows[0][1]

    biz = read("businesses.csv")
    biz.require("business_id", "name")
    businesses: dict[str, tuple[int, dict]] = {}
    for line, row in biz.rows:
        bid = row["business_id"]
        if not bid:
            raise InputFileError(biz.path, "empty business_id", line=line, column="business_id")
        if bid in businesses:
            raise InputFileError(biz.path, f"business_id {bid} appears twice (first on line "
                                           f"{businesses[bid][0]})", line=line, column="business_id")
        if not row["name"]:
            raise InputFileError(biz.path, "a business needs a name", line=line, column="name")
        businesses[bid] = (line, row)

    by_day: dict[tuple[str, date], Inspection] = {}

    def inspection(table: CsvTable, line: int, row: dict) -> Inspection:
        bid = row["business_id"]
        if bid not in businesses:
            raise InputFileError(table.path, f"business_id {bid!r} is not in businesses.csv",
                                 line=line, column="business_id")
        day = parse_date(row["date"], "%Y%m%d", path=table.path, line=line, column="date",
                         example="YYYYMMDD, e.g. 20150608")
        key = (bid, day)
        if key not in by_day:
            by_day[key] = Inspection(business_id=bid, day=day, line=line)
        return by_day[key]

    insp = read("inspections.csv")
    insp.require("business_id", "date")
    for line, row in insp.rows:
        item = inspection(insp, line, row)
        item.rows += 1
        score = _score(row.get("score", ""), path=insp.path, line=line)
        item.row_scores.append(score)
        if score is not None:
            item.scores.append(score)
        item.types.append(row.get("type", ""))
        item.descriptions.append(row.get("description", ""))

    vio = read("violations.csv")
    vio.require("business_id", "date")
    if "code" not in vio.header and "description" not in vio.header:
        vio.require("code", "description")
    for line, row in vio.rows:
        item = inspection(vio, line, row)
        code, words = row.get("code") or None, row.get("description") or None
        if not code and not words:
            raise InputFileError(vio.path, "a violation needs a code or a description", line=line)
        risk = (row.get("risk_category") or "").strip()
        severity = RISK_SEVERITY.get(risk.lower()) if risk else VIOLATION_SEVERITY
        if severity is None:
            raise InputFileError(vio.path, f"risk category {risk!r} is not one of High Risk, Moderate Risk, "
                                           "Low Risk", line=line, column="risk_category")
        item.violations.append({"code": code, "description": words, "severity": severity, "line": line})
    unknown_ignores = [n for n in ignore if not any(
        find_column(t, n) for t in ([*COLUMNS[f], *c["ignored_columns"]] for f, c in columns.items()))]
    if unknown_ignores:
        raise InvalidInput(f"--ignore {unknown_ignores[0]}: no such column in the feed's files")
    for column, word in null_values:
        if find_column(headers, column) is None:
            raise InvalidInput(f"--null-value {column}={word}: no such column in the feed's files")

    municipality = (feed_info.get("municipality_name") or "").strip()
    if not municipality:
        cities = [r["city"] for _, r in businesses.values() if r.get("city")]
        municipality = max(set(cities), key=cities.count) if cities else folder.name
    files = {f: file_sha256(folder / f) for f in (*FILES, "feed_info.csv") if (folder / f).is_file()}
    return Feed(
        folder=folder, municipality=municipality, feed_info=feed_info, businesses=businesses,
        inspections=list(by_day.values()), files=files, columns=columns, text=text, null_cells=null_counts,
        counts={"businesses": len(businesses), "inspection_rows": len(insp.rows),
                "violation_rows": len(vio.rows), "same_day_duplicates": sum(
                    1 for i in by_day.values() if i.rows > 1),
                "orphan_days": sum(1 for i in by_day.values() if i.rows == 0),
                "orphan_violations": sum(len(i.violations) for i in by_day.values() if i.rows == 0)},
    )


def lives_case_slug(municipality: str) -> str:
    return f"lives-{slugify(municipality) or 'feed'}"


def import_lives(ws: Workspace, feed: Feed, *, case_ref: str | None = None, orphans: str = "keep",
                 on_batch=None) -> dict:
    """Write a read feed into the workspace in one transaction: stores upserted by business
    id, one official visit per business and day, each violation a finding. Orphan violations
    (no inspection that day) become score-less visits with ``orphans="keep"``, or are left
    out with ``"skip"``; either way the summary counts them. Returns the summary."""
    if orphans not in ORPHANS:
        raise InvalidInput(f"orphans {orphans!r} is not one of {', '.join(ORPHANS)}")
    protocol = current_protocol(ws, PROTOCOL)
    tick = on_batch or (lambda n: None)
    with ws.transaction():
        case, case_created = official_case(
            ws, case_ref, slug=lives_case_slug(feed.municipality),
            title=f"Official inspections: {feed.municipality}", protocol=PROTOCOL,
            jurisdiction=feed.municipality,
            description=f"Restaurant inspections imported from the LIVES feed of {feed.municipality}.",
        )
        stores, new_stores, updated = _upsert_stores(ws, feed, tick)
        ws.insert_many("stores", new_stores, action="import")
        if not case_ref:
            # The feed's own case: its businesses are its frame, inspected or not.
            add_to_frame(ws, case, list(stores.values()))

        known = {(r["store_id"], r["external_ref"]) for r in ws.db.query(
            "select store_id, external_ref from visits where case_id = ? and source = ?", [case["id"], SOURCE])}
        written: list[tuple[str, str, Inspection]] = []  # (visit id, created_at, inspection)
        counts = {"skipped": 0, "orphans_skipped": 0}

        def visit_rows():
            """Streamed into insert_many: only the feed itself is held in memory."""
            for item in feed.inspections:
                if item.rows == 0 and orphans == "skip":
                    counts["orphans_skipped"] += 1
                    tick(len(item.violations))
                    continue
                store = stores[item.business_id]
                if (store["id"], item.external_ref) in known:
                    counts["skipped"] += 1
                    tick(1 + len(item.violations))
                    continue
                visited_at = date_visit_time(ws, item.day, path=feed.folder / "inspections.csv",
                                             line=item.line, column="date")
                try:
                    row, _ = prepare_visit(ws, case=case, protocol=protocol, store=store, tester=None,
                                           answers=item.answers(), visited_at=visited_at, kind="official",
                                           source=SOURCE, external_ref=item.external_ref)
                except InvalidInput as ex:
                    raise InputFileError(feed.folder / "inspections.csv", str(ex), line=item.line)
                row["id"] = new_id()
                written.append((row["id"], row["created_at"], item))
                yield row

        def finding_rows():
            for visit_id, created_at, item in written:
                for v in item.violations:
                    yield {
                        "id": new_id(), "visit_id": visit_id, "code": v["code"],
                        "title": v["description"] or f"Violation {v['code']}",
                        "statute": None, "severity": v["severity"], "description": v["description"],
                        "source": SOURCE, "created_at": created_at,
                    }

        remember(ws, protocol)
        n_visits = ws.insert_many("visits", visit_rows(), action="import", on_batch=tick)
        n_findings = ws.insert_many("findings", finding_rows(), action="import", on_batch=tick)
        skipped = counts["skipped"]
        summary = {
            "case": case["slug"], "case_created": case_created, "municipality": feed.municipality,
            "stores_added": len(new_stores), "stores_updated": updated,
            "stores_unchanged": len(feed.businesses) - len(new_stores) - updated,
            "visits_added": n_visits, "visits_already_imported": skipped,
            "findings_added": n_findings, **feed.counts, "orphans": orphans,
            "orphan_days_skipped": counts["orphans_skipped"],
            "columns": feed.columns, "text": feed.text.summary(), "warnings": feed_warnings(feed, orphans),
            "null_cells": feed.null_cells,
            "ignored_columns": [f"{f}:{c}" for f, cols in feed.columns.items() for c in cols["ignored_columns"]],
            "unknown_columns": [f"{f}:{c}" for f, cols in feed.columns.items() for c in cols["unknown_columns"]],
        }
        ws.log_event("import", {"format": "lives", "folder": str(feed.folder), "files": feed.files,
                                "summary": summary})
    return summary


def counted_orphan_days(ws: Workspace, case: dict, *, approved_only: bool = False) -> int:
    """How many of the case's counted official visits are orphan days (violations on a day
    with no inspection, kept by ``--orphans keep``: ``inspection_rows`` 0). ``stats`` says so
    beside the official rate, which counts them."""
    cond, params = visit_filter(kind="official", approved_only=approved_only)
    return ws.db.execute(
        f"select count(*) from visits v where v.case_id = ? and v.protocol = ? and {cond} "
        "and json_extract(v.answers, '$.inspection_rows') = 0", [case["id"], PROTOCOL, *params]).fetchone()[0]


def feed_warnings(feed: Feed, orphans: str) -> list[str]:
    """What a reporter must hear about the feed: orphan violations, columns not imported,
    damaged text."""
    out = []
    if feed.counts["orphan_days"]:
        n, v = feed.counts["orphan_days"], feed.counts["orphan_violations"]
        done = ("imported as visits without a score (--orphans skip leaves them out)" if orphans == "keep"
                else "left out (--orphans skip)")
        out.append(f"{v} violation{'s' if v != 1 else ''} on {n} business-day{'s' if n != 1 else ''} with no "
                   f"inspection that day: {done}")
    for name, cols in feed.columns.items():
        if cols["unknown_columns"]:
            out.append(f"{name}: column{'s' if len(cols['unknown_columns']) != 1 else ''} not imported "
                       f"(unknown): {', '.join(cols['unknown_columns'])}; --ignore COLUMN or --ignore-unknown "
                       "to leave them out on purpose")
    return out + feed.text.warnings()


def _upsert_stores(ws: Workspace, feed: Feed, tick) -> tuple[dict[str, dict], list[dict], int]:
    existing = {r["external_id"]: r for r in ws.db.query(
        "select * from stores where source = ? and external_id is not null", [SOURCE])}
    path = feed.folder / "businesses.csv"
    stores, new, updated = {}, [], 0
    for bid, (line, row) in feed.businesses.items():
        fields = {target: row.get(col) for col, target in STORE_COLUMNS.items()}
        fields["external_id"] = bid
        try:
            candidate = store_row(ws, fields, source=SOURCE, coord_source="import")
        except InvalidInput as ex:
            raise InputFileError(path, str(ex), line=line)
        old = existing.get(bid)
        if old is None:
            candidate["id"] = new_id()
            new.append(candidate)
            stores[bid] = candidate
        else:
            # A blank cell never erases what the workspace knows (coordinates geocoded since
            # the last import, say), and coordinates a reporter typed or a photo gave win.
            changes = {k: candidate[k] for k in UPSERT_FIELDS
                       if candidate[k] is not None and candidate[k] != old[k]}
            if old["coord_source"] in ("typed", "exif"):
                changes.pop("lat", None)
                changes.pop("lon", None)
            if changes:
                if "name" in changes or "address" in changes:
                    changes["name_key"] = candidate["name_key"]
                if "lat" in changes or "lon" in changes:
                    changes["coord_source"] = candidate["coord_source"]
                old = ws.update("stores", old["id"], changes, reason=f"LIVES import from {feed.folder.name}: "
                                "the feed changed this business")
                updated += 1
            stores[bid] = old
        tick(1)
    return stores, new, updated


def visit_answers(visit: dict) -> dict:
    return json.loads(visit.get("answers") or "{}")


def run_lives(ws: Workspace, path: Path | str, *, case_ref: str | None = None, orphans: str = "keep",
              on_batch=None, **read) -> dict:
    """The LIVES importer as the registry runs it: read the folder, then write it."""
    return import_lives(ws, read_feed(path, **read), case_ref=case_ref, orphans=orphans, on_batch=on_batch)


@hookimpl
def register_importers():
    return [{"name": "lives", "kind": "records", "help": "a LIVES folder of official restaurant inspections",
             "run": run_lives}]


__all__ = ["Feed", "Inspection", "read_feed", "row_texts", "import_lives", "lives_case_slug", "PROTOCOL", "SOURCE"]

"""``store import``: stores from any agency's or registry's CSV, all or nothing.

A store is recognised by its licence number, else by its normalised name and address (see
``store_keys``); rows of one file that are the same place merge, and every merge is counted
by its reason. Read through ``files.iter_csv`` and written in ONE transaction, as visits are
(``imports``): the first bad row names file, line and column, and nothing is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from ..errors import InputFileError, InvalidInput
from ..files import file_sha256, file_summary, iter_csv, match_columns
from ..ids import new_id, short
from ..store.workspace import Workspace
from ..vocabulary import STORE_CHANNELS
from .imports import corrections_refused
from .store_keys import SAME_PLACE_METRES, StoreMatcher, same_point
from .stores import (STORE_FIELDS, add_to_frame, check_coordinates, key_problem, location_coordinates, name_key,
                     normalise_address, normalise_name, single_line_problems, store_row)

#: Headers recognised without a --map, per field, compared by ``files.norm_header`` (case,
#: spaces and punctuation do not count: "License #" is "license", "ZIPCODE" is "zip_code").
#: Chicago's, New York's and the FDA's own headings are here.
STORE_ALIASES = {
    "name": ["name", "store", "store_name", "retailer_name", "business_name", "dba_name", "dba"],
    "chain": ["chain", "brand"],
    "licence_number": ["licence_number", "license_number", "licence", "license", "licence_no"],
    "address": ["address", "street_address", "street"],
    "postcode": ["postcode", "zip", "zip_code", "postal_code", "plz", "address_zip", "postnummer"],
    "city": ["city", "town", "address_city"],
    "district": ["district", "neighbourhood", "neighborhood", "bezirk", "borough", "boro", "address_borough"],
    "state": ["state"],
    "country": ["country"],
    "channel": ["channel"],
    "contact": ["contact", "phone", "email", "url"],
    "lat": ["lat", "latitude"],
    "lon": ["lon", "lng", "long", "longitude"],
    "coord_precision": ["coord_precision"],
    "external_id": ["external_id", "id", "business_id"],
    "notes": ["notes"],
    "location": ["location", "geolocation", "georeference"],  # "(lat, lon)" in a cell, see location_coordinates
}

#: How many merged rows a store import's summary quotes (every merge is counted by reason).
MERGES_SHOWN = 20


def _store_fields(path: Path, line: int, row: dict, columns: dict) -> dict:
    """Plain store fields from one CSV row, each problem located by its column."""
    fields = {f: row[c] for f, c in columns.items()}
    for key in single_line_problems(fields):
        raise InputFileError(path, f"{key_problem(fields, key)} in a store's {key}", line=line,
                             column=columns[key])
    if not fields.get("name"):
        raise InputFileError(path, "a store needs a name", line=line, column=columns["name"])
    channel = fields.get("channel") or "in_person"
    if channel not in STORE_CHANNELS:
        raise InputFileError(path, f"channel {channel!r} is not one of {', '.join(STORE_CHANNELS)}",
                             line=line, column=columns.get("channel"))
    for axis in ("lat", "lon"):  # a decimal comma, as Excel writes coordinates in Germany
        value = fields.get(axis) or ""
        if "," in value and "." not in value:
            fields[axis] = value.replace(",", ".")
    location = fields.pop("location", None)
    if location and not (fields.get("lat") or fields.get("lon")):
        fields["lat"], fields["lon"] = location_coordinates(location)
    try:
        fields["lat"], fields["lon"] = check_coordinates(fields.get("lat"), fields.get("lon"))
    except InvalidInput as ex:
        raise InputFileError(path, str(ex), line=line, column=columns.get("lat") or columns.get("location"))
    return fields


def import_stores(
    ws: Workspace,
    path: Path | str,
    *,
    mapping: dict | None = None,
    encoding: str | None = None,
    case: dict | None = None,
    source: str | None = None,
    ignore: Iterable[str] = (),
    ignore_unknown: bool = False,
    fix_text: bool = False,
    null_values: Iterable[tuple[str, str]] = (),
    update: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Upsert stores from a CSV file: on licence number when the row has one, else on
    normalised name + address, or, when the address is blank, name + postcode + district and
    the coordinates (``store_keys.StoreMatcher``: rows more than 50 m apart are two stores).
    Existing stores get changed fields through audited updates (coordinates a reporter typed
    or a photo's EXIF gave are never overwritten, and a point within 10 m of the stored one
    is no change); new ones are inserted in bulk. A store met again later in the file is
    merged: the first row stands and later ones only fill its blanks, so a re-run of the same
    file updates nothing. A row that fills a stored store's blanks updates it; one that would
    replace a value it holds is a correction: refused with counts per kind (nothing written)
    unless ``update``. Another spelling of the same name or address ("Main St." for "Main
    Street") is no correction: the stored one stays.

    Returns the import summary: rows read, stores inserted / updated / unchanged, rows merged
    (with ``merges``, the first few with their reason, and ``merge_reasons``, a count per
    reason), the columns left out (unknown ones listed, never dropped silently) and the text
    damage found (or repaired with ``fix_text``)."""
    path = Path(path)
    table, rows = iter_csv(path, encoding=encoding, fix_text=fix_text, null_values=null_values)
    try:
        plan = match_columns(path, table.header, (*STORE_FIELDS, "location"), STORE_ALIASES, mapping=mapping,
                             ignore=ignore, ignore_unknown=ignore_unknown)
        table.check_only(plan.read)
    except BaseException:
        rows.close()
        raise
    columns = plan.columns
    if "name" not in columns:
        rows.close()
        raise InputFileError(path, f"missing column 'name' (found: {', '.join(table.header)}; "
                                   "map one with --map name=COLUMN)", line=table.header_line)
    source = source or f"import:{path.name}"
    by_licence = {r[0]: r[1] for r in ws.db.execute(
        "select licence_number, id from stores where licence_number is not null")}
    # Keys are computed from each store's fields rather than read from name_key, so stores
    # stored under an older key are still found (and their key updated).
    matcher = StoreMatcher(ws.db.query(
        "select id, name, address, postcode, district, lat, lon from stores where licence_number is null"))
    pending: dict[str, dict] = {}  # new stores by id, in file order
    pending_licence: dict[str, dict] = {}
    counts = {"rows": 0, "inserted": 0, "updated": 0, "unchanged": 0, "merged": 0}
    merges: list[dict] = []  # why rows became one store: the first few, and a count per reason
    refused: list[tuple[int, str, list[str]]] = []  # corrections without --update
    reasons: dict[str, int] = {}
    touched: dict[str, int] = {}  # stored stores matched in this file → the line that matched first

    def merged(line: int, into: str, reason: str) -> None:
        counts["merged"] += 1
        kind = f"{reason.split(',')[0]}, within {SAME_PLACE_METRES} m" if " m apart" in reason else reason
        reasons[kind] = reasons.get(kind, 0) + 1
        if len(merges) < MERGES_SHOWN:
            merges.append({"line": line, "store": short(into), "reason": reason})

    with ws.transaction():
        for line, raw in rows:
            counts["rows"] += 1
            # Counted here, before the branches: new stores ``continue`` early, and a bar
            # updated after them stayed at 0 % for a file of new stores.
            if progress and counts["rows"] % 1000 == 0:
                progress(1000)
            fields = _store_fields(path, line, raw, columns)
            new = store_row(ws, fields, source=source, coord_source="import")
            if new["licence_number"]:
                existing_id, reason = by_licence.get(new["licence_number"]), "same licence"
                known_row = pending_licence.get(new["licence_number"])
            else:
                known, reason = matcher.match(new)
                existing_id = known.id if known and known.row is None else None
                known_row = known.row if known else None
            if known_row is not None:
                # The same store again in one file: the first row stands, later rows only fill
                # its blanks, so that a re-run of the file changes nothing.
                known_row.update({k: v for k, v in new.items() if v is not None and known_row.get(k) is None})
                merged(line, known_row["id"], reason)
                continue
            if existing_id is None:
                new["id"] = new_id()
                pending[new["id"]] = new
                if new["licence_number"]:
                    pending_licence[new["licence_number"]] = new
                else:
                    matcher.add(new, pending=True)
                continue
            if existing_id in touched:
                merged(line, existing_id, reason)
                continue
            touched[existing_id] = line
            old = ws.get("stores", existing_id)
            changes = {k: new[k] for k in STORE_FIELDS if new.get(k) is not None and new[k] != old[k]}
            if old["coord_source"] in ("typed", "exif") or same_point(old, new):
                changes.pop("lat", None)
                changes.pop("lon", None)
            elif "lat" in changes or "lon" in changes:
                changes["coord_source"] = "import"
            for field, same in (("name", normalise_name), ("address", normalise_address)):
                if field in changes and old[field] and same(old[field]) == same(changes[field]):
                    del changes[field]  # another spelling of what is stored
            corrected = [k for k in STORE_FIELDS if k in changes and old[k] not in (None, "")]
            if corrected and not update:
                refused.append((line, existing_id, ["coordinates" if k in ("lat", "lon") else k.replace("_", " ")
                                                    for k in corrected if k != "lon" or "lat" not in corrected]))
                continue
            after = {**old, **changes}
            key = name_key(after["name"], after["address"], after["postcode"], after["district"], after["lat"],
                           after["lon"])
            if old["name_key"] != key:
                changes["name_key"] = key
            if changes:
                ws.update("stores", existing_id, changes, reason=f"import {path.name}:{line}")
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        if refused:
            raise corrections_refused(path, refused, record="store", known_by="same licence, or name and place")
        counts["inserted"] = ws.insert_many("stores", pending.values(), action="import")
        if case is not None:
            counts["added_to_frame"] = add_to_frame(ws, case, [{"id": i} for i in [*touched, *pending]])
        summary = {**counts, "merges": merges, "merge_reasons": reasons,
                   "with_coordinates": sum(1 for r in pending.values() if r["lat"] is not None),
                   **file_summary(table, plan)}
        ws.log_event("import", {"kind": "stores", "file": path.name, "sha256": file_sha256(path),
                                "encoding": table.encoding, **counts,
                                "unknown_columns": plan.unknown, "ignored_columns": plan.ignored})
    if progress:
        progress(counts["rows"] % 1000)
    return summary


__all__ = ["import_stores", "STORE_ALIASES"]

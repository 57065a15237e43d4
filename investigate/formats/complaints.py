"""Complaint files as tips: the CFPB's Consumer Complaint Database export, or any file whose
columns are mapped (``--format generic`` with ``--map``, ``--date-format``, ``--map-value``,
as ``visit import`` takes them: an FCC-style export with "Ticket #", "Customer Complaint",
"Date" as DD-MM-YY and "Received Via").

Every column of a known layout is kept or listed: for a customer-service story how the
complaint came in and whether the company answered in time matter most, so the CFPB's
"Submitted via" is the tip's channel, and its company response, "Timely response?" and
"Consumer disputed?" are tip fields that ``tip list`` shows and ``leads`` counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from ..cases.imports import value_map_columns
from ..cases.tips import Matcher, check_narrative, tip_row
from ..errors import InputFileError, InvalidInput
from ..files import file_summary, iter_csv, match_columns
from ..hookspecs import hookimpl
from ..protocol.values import FALSE_WORDS, TRUE_WORDS
from ..store.workspace import Workspace
from ..vocabulary import TIP_CHANNELS

#: The CFPB download's 18 columns, by the field each fills.
CFPB_COLUMNS = {
    "received_at": "Date received", "product": "Product", "sub_product": "Sub-product", "issue": "Issue",
    "sub_issue": "Sub-issue", "narrative": "Consumer complaint narrative",
    "company_public_response": "Company public response", "company": "Company", "state": "State",
    "postcode": "ZIP code", "tags": "Tags", "consent": "Consumer consent provided?", "channel": "Submitted via",
    "sent_to_company_at": "Date sent to company", "company_response": "Company response to consumer",
    "timely": "Timely response?", "disputed": "Consumer disputed?", "external_id": "Complaint ID",
}
CFPB_REQUIRED = ("received_at", "company", "issue", "external_id")
#: "Submitted via" in the CFPB's words → our channels.
CFPB_CHANNELS = {"web": "web_form", "phone": "phone", "email": "email", "postal mail": "letter", "fax": "fax",
                 "referral": "referral", "web referral": "referral"}
#: The CFPB writes N/A where a complaint predates the question ("Consumer disputed?" ended in 2017).
CFPB_NULLS = {"Consumer disputed?": ("N/A",), "Timely response?": ("N/A",)}

GENERIC_FIELDS = ("id", "received_at", "channel", "company", "issue", "narrative", "wants", "product", "consent",
                  "state", "postcode", "company_response", "timely", "disputed")
GENERIC_REQUIRED = ("received_at", "narrative")
GENERIC_ALIASES = {"id": ["complaint_id", "ticket"], "postcode": ["zip", "zip_code", "postal_code"]}


@dataclass(frozen=True)
class ComplaintLayout:
    """What one kind of complaint file holds and how its words become a tip's: the one place
    where the CFPB's download and a mapped file differ, so that a newsroom's own export (a
    regulator's, a consumer centre's) is a layout of its own through ``complaint_importer``."""

    name: str
    fields: tuple[str, ...]
    aliases: dict[str, list[str]]
    #: Fields without which a row is no complaint; "company" may instead come from --company.
    required: tuple[str, ...]
    #: The field that identifies a complaint; without ``id_required``, a missing one is a hash
    #: of date, company and narrative.
    id_field: str = "id"
    id_required: bool = False
    #: The file's own heading per field, to name a missing column in the file's words.
    headings: dict[str, str] = field(default_factory=dict)
    #: Placeholders the file is known to write for "no value", per heading.
    nulls: dict[str, tuple[str, ...]] | None = None
    #: The file's channel words (lower case) → ours.
    channels: dict[str, str] = field(default_factory=dict)
    #: Consent cells (lower case) that mean the author agreed to publication.
    consent_words: frozenset[str] = frozenset(TRUE_WORDS)
    #: The tips' source; None: "file:" and the file's name.
    source: str | None = None
    #: How the file writes dates (``--date-format`` overrides it); None: MM/DD/YYYY or ISO.
    date_format: str | None = None


CFPB = ComplaintLayout("cfpb", tuple(CFPB_COLUMNS), {f: [c] for f, c in CFPB_COLUMNS.items()}, CFPB_REQUIRED,
                       id_field="external_id", id_required=True, headings=CFPB_COLUMNS, nulls=CFPB_NULLS,
                       channels=CFPB_CHANNELS, consent_words=frozenset({"consent provided"}), source="cfpb")
GENERIC = ComplaintLayout("generic", GENERIC_FIELDS, GENERIC_ALIASES, GENERIC_REQUIRED)


def _date(text: str, *, fmt: str | None, path: Path, line: int, column: str, table) -> str:
    """A date cell as YYYY-MM-DD: ``fmt`` (--date-format) when given, else MM/DD/YYYY or ISO."""
    text = text.strip()
    for form in ([fmt] if fmt else ["%m/%d/%Y", "%Y-%m-%d"]):
        try:
            return datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    expected = f"(--date-format {fmt})" if fmt else "(MM/DD/YYYY); give the file's --date-format"
    raise InputFileError(path, f"{text!r} is not a date {expected}{table.placeholder_advice(column, text)}",
                         line=line, column=column)


def _yes_no(text: str, *, path: Path, line: int, column: str) -> int | None:
    word = text.strip().lower()
    if not word:
        return None
    if word in TRUE_WORDS:
        return 1
    if word in FALSE_WORDS:
        return 0
    raise InputFileError(path, f"{text!r} is not Yes or No (say --map-value \"{column}:{text}=yes\", or "
                               f"--null-value \"{column}={text}\" if it means unknown)", line=line, column=column)


def import_tips(ws: Workspace, path: Path | str, *, layout: ComplaintLayout = CFPB, encoding: str | None = None,
                mapping: dict | None = None, date_format: str | None = None,
                value_map: dict[str, dict[str, str]] | None = None, company: str | None = None,
                ignore=(), ignore_unknown: bool = False, fix_text: bool = False, null_values=(),
                progress: Callable[[int], None] | None = None) -> dict:
    """Complaints from a CSV export, in one transaction; re-importing adds nothing (rows are
    recognised by source and complaint id, or by a hash of date, company and narrative).

    ``mapping`` (field → the file's column), ``date_format`` and ``value_map`` ({column:
    {word: value}}) read any layout; ``company`` names the business of a file that has no
    company column (one company's complaints). Headings match whatever their case and
    spacing; columns neither mapped nor known are listed in the summary."""
    path = Path(path)
    fields = layout.fields
    date_format = date_format or layout.date_format
    table, source_rows = iter_csv(path, encoding=encoding, fix_text=fix_text, null_values=null_values,
                                  known_nulls=layout.nulls)
    try:
        bad = [f for f in (mapping or {}) if f not in fields]
        if bad:
            raise InvalidInput(f"--map {bad[0]}=…: no such field (fields: {', '.join(fields)})")
        plan = match_columns(path, table.header, fields, layout.aliases, mapping=mapping, ignore=ignore,
                             ignore_unknown=ignore_unknown)
        table.check_only(plan.read)
        company_named_by_file = "company" in layout.required
        required = layout.required + (() if company or company_named_by_file else ("company",))
        missing = [f for f in required if f not in plan.columns]
        if missing:
            names = [layout.headings.get(f, f) for f in missing]
            raise InputFileError(path, f"missing column{'s' if len(names) > 1 else ''} "
                                       f"{', '.join(repr(c) for c in names)} for --format {layout.name} (found: "
                                       f"{', '.join(table.header)}; map one with --map FIELD=COLUMN"
                                       + ("" if company_named_by_file else ", or name the business with --company")
                                       + ")", line=table.header_line)
        values = value_map_columns(path, table.header, value_map)
    except BaseException:
        source_rows.close()
        raise
    col = plan.columns
    source = layout.source or f"file:{path.name}"
    known = {r[0] for r in ws.db.execute("select external_id from tips where source = ?", [source])}
    matcher = Matcher(ws)
    counts = {"rows": 0, "added": 0, "already_known": 0, "matched_store": 0, "matched_chain": 0,
              "ambiguous": 0, "unmatched": 0}
    ambiguous: list[str] = []
    today = ws.now().date().isoformat()

    def tip_rows():
        for line, raw in source_rows:
            counts["rows"] += 1
            for column, words in values.items():
                raw[column] = words.get(raw[column].casefold(), raw[column])
            cell = lambda f: raw[col[f]] if f in col else ""  # noqa: E731
            day = lambda f: _date(cell(f), fmt=date_format, path=path, line=line, column=col[f],  # noqa: E731
                                  table=table) if cell(f) else None
            external = cell(layout.id_field)
            if layout.id_required and not external:
                raise InputFileError(path, "no complaint id", line=line, column=col[layout.id_field])
            if not external:
                external = hashlib.sha256("|".join(cell(k) for k in ("received_at", "company", "narrative"))
                                          .encode()).hexdigest()[:16]
            channel = cell("channel")
            channel = layout.channels.get(channel.lower(), channel) or "import"
            if channel not in TIP_CHANNELS:
                raise InputFileError(path, f"channel {channel!r} is not one of {', '.join(TIP_CHANNELS)} (say "
                                           f"--map-value \"{col['channel']}:{channel}=CHANNEL\")", line=line,
                                     column=col["channel"])
            narrative = cell("narrative") or None
            consent = cell("consent").strip().lower()
            fields = {
                "received_at": day("received_at"), "channel": channel, "company": cell("company") or company,
                "product": cell("product") or None, "sub_product": cell("sub_product") or None,
                "issue": cell("issue") or None, "sub_issue": cell("sub_issue") or None, "narrative": narrative,
                "wants": cell("wants") or None, "state": cell("state") or None, "postcode": cell("postcode") or None,
                "tags": cell("tags") or None, "sent_to_company_at": day("sent_to_company_at"),
                "company_response": cell("company_response") or None,
                "company_public_response": cell("company_public_response") or None,
                "timely": _yes_no(cell("timely"), path=path, line=line, column=col.get("timely")),
                "disputed": _yes_no(cell("disputed"), path=path, line=line, column=col.get("disputed")),
                "consent_publish": bool(narrative) and consent in layout.consent_words,
                "source": source, "external_id": external,
            }
            if not fields["received_at"]:
                raise InputFileError(path, "no date received", line=line, column=col["received_at"])
            if fields["received_at"] > today:
                raise InputFileError(path, f"{fields['received_at']} is in the future", line=line,
                                     column=col["received_at"])
            if not (fields["company"] or "").strip():
                raise InputFileError(path, "no company named", line=line, column=col.get("company"))
            try:
                check_narrative(fields["narrative"])
            except InvalidInput as ex:
                raise InputFileError(path, str(ex), line=line, column=col.get("narrative"))
            if external in known:
                counts["already_known"] += 1
                continue
            known.add(external)
            row = tip_row(ws, fields, matcher)
            if row["store_id"]:
                counts["matched_store"] += 1
            elif row["chain"]:
                counts["matched_chain"] += 1
            elif (row["match_note"] or "").startswith("ambiguous"):
                counts["ambiguous"] += 1
                if len(ambiguous) < 20:
                    ambiguous.append(f"line {line}: {row['company']}: {row['match_note']}")
            else:
                counts["unmatched"] += 1
            yield row

    with ws.transaction():
        counts["added"] = ws.insert_many("tips", tip_rows(), action="import", on_batch=progress)
        ws.log_event("import", {"kind": "tips", "format": layout.name, "file": path.name, **counts})
    counts["ambiguous_examples"] = ambiguous
    return {**counts, **file_summary(table, plan)}


def complaint_importer(layout: ComplaintLayout, help: str) -> dict:
    """The registry's entry for complaint files of ``layout``: ``tip import --format NAME``."""
    return {"name": layout.name, "kind": "tips", "help": help,
            "run": lambda ws, path, **options: import_tips(ws, path, layout=layout, **options)}


@hookimpl
def register_importers():
    """The CFPB's download and any mapped complaint file, as ``tip import --format``."""
    return [complaint_importer(CFPB, "the CFPB's Consumer Complaint Database export"),
            complaint_importer(GENERIC, "any complaint file, its columns named with --map")]


__all__ = ["import_tips", "ComplaintLayout", "complaint_importer", "CFPB", "GENERIC", "CFPB_COLUMNS",
           "GENERIC_FIELDS"]

"""KoboToolbox / ODK Central CSV exports of a form that follows a case's protocol.

A reporter may collect visits on a phone with a form whose fields are the protocol's
questions. Each submission becomes a visit through the same importer as ``visit import``
(``cases.imports.import_visit_rows``, hence ``prepare_visit``), so the same validation, tester
age check and rules apply as to a visit recorded at the command line.

How columns are understood:

- A field answers the protocol question of the same name. Group prefixes are dropped:
  Kobo writes ``group_visit/sale``, ODK Central ``group_visit-sale``; both mean ``sale``.
  ``--map FIELD=QUESTION`` says otherwise; ``--map FIELD=`` or ``--ignore FIELD`` ignores a
  field, ``--ignore-unknown`` every field that answers nothing (a form's extra questions).
- Besides questions, a field may name the visit's ``store`` (id, id prefix or licence
  number), ``tester`` (code), ``observer``, ``attempt``, ``round``, ``notes`` or
  ``visited_at``.
- Kobo's and ODK's own columns: ``start`` is the visit time (``visited_at`` wins when the form
  has one; ``_submission_time``/``SubmissionDate``, which is UTC, is the last resort);
  ``_uuid`` (or ``meta/instanceID``, ``KEY``) identifies the submission and becomes the visit's
  external_ref, so importing the same export again adds nothing. All other columns Kobo
  starts with ``_`` (``_id``, ``_index``, ``_validation_status``, ``_location_latitude``…)
  and the usual metadata (end, today, deviceid, username, formhub/uuid…) are ignored.
- A select_multiple split into one column per option (``grp/colour/red`` beside
  ``grp/colour``) is ignored; the question's own column carries the answer.
- A form made by ``protocol xlsform`` is known by its ``form_version`` field: nothing needs
  mapping, every submission must carry the version of the rules the case judges by now (one
  from another version stops the import, naming both), ``visit_location`` is left out and
  ``visit_photo`` names the photo that ``--media DIR`` (the export's media folder) attaches to
  the visit as evidence.
- Any other field is an error that names it, before anything is written. Every ignored
  column is listed in the summary's ``ignored_columns``.
- yes/no and select_one values are parsed by the protocol's question: "yes", "1", "true";
  a choice given as its form name ("e_cigarette") or label ("E-cigarette") finds the
  protocol's choice ("e-cigarette").
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

from ..cases.cases import get_case
from ..protocol.model import Protocol
from ..protocol.protocols import get_protocol
from ..protocol.questions import Question
from ..protocol.xlsform import LOCATION_FIELD, PHOTO_FIELD, VERSION_FIELD, form_version
from ..vocabulary import ATTEMPT_STATUSES
from ..cases.visits import parse_visit_time
from ..errors import InputFileError, InvalidInput
from ..store.workspace import Workspace
from ..hookspecs import hookimpl
from ..files import CsvTable, file_sha256, iter_csv, norm_header

SOURCE = "kobo"
SPECIAL = ("store", "tester", "observer", "attempt", "round", "notes", "visited_at")
#: Metadata columns of Kobo and ODK exports (compared in lower case, after the group prefix).
TIME_COLUMNS = ("start",)
SUBMISSION_TIME_COLUMNS = ("_submission_time", "submissiondate")
UUID_COLUMNS = ("_uuid", "instanceid", "key")
IGNORED_META = {
    "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "email",
    "audit", "deprecatedid", "rootuuid", "uuid", "__version__", "submitterid", "submittername",
    "attachmentspresent", "attachmentsexpected", "status", "reviewstate", "edits", "formversion",
    "instancename",
}
#: The GPS field of a form made by ``protocol xlsform``: Kobo's one column, ODK Central's four
#: (``visit_location-Latitude``…); the position is the photo's to show, not an answer.
LOCATION_COLUMN = re.compile(rf"(^|[/-]){LOCATION_FIELD}(-(Latitude|Longitude|Altitude|Accuracy))?$", re.I)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def _segments(column: str) -> list[str]:
    """Candidate names of a column, most specific last: 'g/sub/sale' → [full, 'sale']."""
    names = [column]
    tail = column.rsplit("/", 1)[-1]
    if tail != column:
        names.append(tail)
    if "-" in tail:
        names.append(tail.rsplit("-", 1)[-1])
    return names


def plan_columns(path, header: list[str], protocol: Protocol, mapping: dict[str, str], *,
                 ignore: tuple[str, ...] | list[str] = (), ignore_unknown: bool = False) -> dict[str, str]:
    """column → what it is: a question key, a SPECIAL target, 'meta:start',
    'meta:submission', 'meta:uuid', 'meta:form_version' and 'meta:photo' (the fields of a form
    made by ``protocol xlsform``), or '' (ignored). An unknown field raises, unless named in
    ``ignore`` (by its full name or the form's name for it) or ``ignore_unknown`` is set: a
    form's extra questions (weather, notes…) are then left out and listed in the summary."""
    ignored_names = {norm_header(n) for n in ignore}
    unused_ignores = {norm_header(n): n for n in ignore}
    questions = {q.key for q in protocol.questions}
    targets = questions | set(SPECIAL)
    by_mapkey = {k.replace("-", "_"): v for k, v in mapping.items()}
    unused = dict(by_mapkey)
    plan: dict[str, str] = {}
    for column in header:
        mapped = None
        for name in _segments(column):
            key = name.replace("-", "_")
            if key in by_mapkey:
                mapped = by_mapkey[key]
                unused.pop(key, None)
                break
        if mapped is not None:
            mapped = mapped.strip().replace("-", "_")
            if mapped and mapped not in targets:
                raise InvalidInput(f"--map {column}={mapped}: protocol {protocol.key} has no question "
                                   f"{mapped!r} (questions: {', '.join(sorted(questions))}; also "
                                   f"{', '.join(SPECIAL)})")
            plan[column] = mapped
            continue
        names = _segments(column)
        low = [n.lower() for n in names]
        hit = next((norm_header(n) for n in names if norm_header(n) in ignored_names), None)
        if hit is not None:
            unused_ignores.pop(hit, None)
            plan[column] = ""
        elif any(n in TIME_COLUMNS for n in low):
            plan[column] = "meta:start"
        elif any(n in SUBMISSION_TIME_COLUMNS for n in low):
            plan[column] = "meta:submission"
        elif any(n in UUID_COLUMNS for n in low):
            plan[column] = "meta:uuid"
        elif next((n for n in reversed(names) if n in targets), None):
            plan[column] = next(n for n in reversed(names) if n in targets)
        elif VERSION_FIELD in names:
            plan[column] = "meta:form_version"
        elif PHOTO_FIELD in names:
            plan[column] = "meta:photo"
        elif f"{PHOTO_FIELD}_url" in low:
            plan[column] = ""  # Kobo's link to the photo on its server: the file itself comes by --media
        elif LOCATION_COLUMN.search(column):
            plan[column] = ""
        elif column.startswith("_") or any(n in IGNORED_META for n in low) or column.lower().startswith(
                ("meta/", "meta-", "formhub/", "formhub-", "__")):
            plan[column] = ""
        elif "/" in column and column.rsplit("/", 1)[0] in header:
            plan[column] = ""  # one option of a select_multiple, split out beside the question's own column
        elif ignore_unknown:
            plan[column] = ""
        else:
            shown = column.rsplit("/", 1)[-1]  # the name a reporter knows from the form
            raise InputFileError(
                path, f"unknown field {column!r}: protocol {protocol.key} has no question {shown!r} "
                f"(questions: {', '.join(sorted(questions))}); map it with --map {shown}=QUESTION "
                f"or leave it out with --ignore {shown} (or --ignore-unknown)", line=1, column=column)
    if unused_ignores:
        raise InvalidInput(f"--ignore {next(iter(unused_ignores.values()))}: no such field in {path}")
    if unused:
        raise InvalidInput(f"--map {next(iter(unused))}=…: no such field in {path}")
    seen: dict[str, str] = {}
    for column, target in plan.items():
        if target and not target.startswith("meta:"):
            if target in seen:
                raise InputFileError(path, f"fields {seen[target]!r} and {column!r} both answer {target!r}; "
                                           f"ignore one with --map {column}=", line=1, column=column)
            seen[target] = column
    if "store" not in seen:
        raise InputFileError(path, "no 'store' field (the store's id, id prefix or licence number); "
                                   "map one with --map FIELD=store", line=1)
    if protocol.uses_testers and "tester" not in seen:
        raise InputFileError(path, f"protocol {protocol.key} needs a tester: no 'tester' field "
                                   "(the tester's code); map one with --map FIELD=tester", line=1)
    if "visited_at" not in seen and not any(t in ("meta:start", "meta:submission") for t in plan.values()):
        raise InputFileError(path, "no visit time: expected a 'start' column (or visited_at, or "
                                   "_submission_time)", line=1)
    return plan


def parse_answer(question: Question, raw: str):
    """A form's value for a question: its own parser first, then a choice's form name or
    label matched loosely ("e_cigarette", "E-cigarette" → "e-cigarette")."""
    try:
        return question.parse(raw)
    except InvalidInput:
        if question.type == "choice":
            want = _norm(raw)
            for choice in question.choices:
                if _norm(choice) == want:
                    return choice
        raise


def _time(ws: Workspace, text: str, *, assume_utc: bool) -> datetime:
    value = datetime.fromisoformat(text.strip().replace(" ", "T").replace("Z", "+00:00"))
    if value.tzinfo is None and assume_utc:
        value = value.replace(tzinfo=timezone.utc)
    return parse_visit_time(ws, value)


def read_kobo(path: Path | str, *, encoding: str | None = None) -> CsvTable:
    """The export's header (rows are streamed by ``import_kobo``). Kobo writes ';' by
    default and ODK Central ','; the header line tells which."""
    table, rows = iter_csv(path, encoding=encoding)
    rows.close()
    return table


#: Columns the rows handed to the visit importer carry besides the file's own.
TIME_KEY, REF_KEY = "\x00visited_at", "\x00external_ref"


def import_kobo(ws: Workspace, path: Path | str, *, case_ref: str, mapping: dict[str, str] | None = None,
                encoding: str | None = None, ignore: tuple[str, ...] | list[str] = (), ignore_unknown: bool = False,
                fix_text: bool = False, null_values=(), on_batch=None, media: Path | str | None = None) -> dict:
    """Import a Kobo/ODK CSV export into a case, all or nothing. Returns counts.

    What is Kobo's own is settled here (the column plan, the submission id, the time with its
    offset, choices given by form name or label); the visits themselves go through the same
    importer as ``visit import`` (``cases.imports.import_visit_rows``), hence through
    ``prepare_visit`` and the protocol's rules."""
    from ..cases.imports import import_visit_rows

    path = Path(path)
    case = get_case(ws, case_ref)
    protocol = get_protocol(case["protocol"], ws.root)
    table, source_rows = iter_csv(path, encoding=encoding, fix_text=fix_text, null_values=null_values)
    try:
        plan = plan_columns(path, table.header, protocol, mapping or {}, ignore=ignore,
                            ignore_unknown=ignore_unknown)
        table.check_only(c for c, target in plan.items() if target)
    except BaseException:
        source_rows.close()
        raise
    tick = on_batch or (lambda n: None)
    questions = {q.key: q for q in protocol.questions}
    question_columns = {t: c for c, t in plan.items() if t in questions}
    by_target: dict[str, list[str]] = {}
    for column, target in plan.items():
        if target:
            by_target.setdefault(target, []).append(column)
    columns = {t: cols[0] for t, cols in by_target.items() if t in SPECIAL and t != "visited_at"}
    columns.update(visited_at=TIME_KEY, external_ref=REF_KEY)
    known = {r["external_ref"] for r in ws.db.query(
        "select external_ref from visits where case_id = ? and source = ?", [case["id"], SOURCE])}
    imported: set[str] = set()
    counts = {"rows": 0, "skipped": 0}
    version = form_version(protocol)
    photos: dict[str, Path] = {}  # external_ref → the photo in the media folder
    unattached: list[str] = []

    def rows():
        for line, row in source_rows:
            counts["rows"] += 1

            def value(target: str) -> tuple[str, str | None]:
                for column in by_target.get(target, ()):
                    if row.get(column):
                        return row[column], column
                return "", (by_target.get(target) or [None])[0]

            made_with, column = value("meta:form_version")
            if made_with and made_with != version:
                raise InputFileError(path, f"submission made with form version {made_with}, but case {case['slug']} "
                                           f"judges by protocol {protocol.key} form version {version}: make the "
                                           "form again with 'protocol xlsform' or import into a case of that version",
                                     line=line, column=column)
            uuid, _ = value("meta:uuid")
            ref = f"kobo:{uuid.removeprefix('uuid:')}" if uuid else "kobo:sha1:" + hashlib.sha1(
                "\x1f".join(f"{k}={v}" for k, v in sorted(row.items())).encode()).hexdigest()
            if ref in known:
                counts["skipped"] += 1
                tick(1)
                continue
            known.add(ref)
            imported.add(ref)
            photo, column = value("meta:photo")
            if photo and media is None:
                unattached.append(photo)
            elif photo:
                photos[ref] = media_file(Path(media), photo, uuid, path=path, line=line, column=column)
            out = dict(row)
            out[REF_KEY] = ref
            for target, assume_utc in (("visited_at", False), ("meta:start", False), ("meta:submission", True)):
                text, column = value(target)
                if text:
                    try:
                        out[TIME_KEY] = _time(ws, text, assume_utc=assume_utc).isoformat()
                    except ValueError:
                        raise InputFileError(path, f"{text!r} is not an ISO 8601 date and time",
                                             line=line, column=column)
                    except InvalidInput as ex:
                        raise InputFileError(path, str(ex), line=line, column=column)
                    break
            else:
                raise InputFileError(path, "no visit time in this row (start is empty)", line=line)
            for key, column in question_columns.items():
                if out.get(column, "") != "":
                    try:
                        out[column] = parse_answer(questions[key], out[column])
                    except InvalidInput as ex:
                        raise InputFileError(path, str(ex), line=line, column=column)
            attempt, column = value("attempt")
            if attempt:
                out[column] = next((a for a in ATTEMPT_STATUSES if _norm(a) == _norm(attempt)), attempt)
            yield line, out

    with ws.transaction():
        result = import_visit_rows(ws, case, rows(), path=path, columns=columns,
                                   question_columns=question_columns, source=SOURCE,
                                   progress=lambda n: tick(n))
        outcomes: dict[str, int] = {}
        for r in ws.db.query("select outcome, external_ref from visits where case_id = ? and source = ?",
                             [case["id"], SOURCE]):
            if r["external_ref"] in imported:
                outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
        evidence = attach_photos(ws, case, photos)
        warnings = table.text.warnings() + evidence["warnings"]
        if unattached:
            warnings.append(f"{len(unattached)} photo{'s' if len(unattached) != 1 else ''} named in the export "
                            "(visit_photo) not attached: give the export's media folder with --media")
        if result.get("outside_frame"):
            n = result["outside_frame"]
            warnings.append(f"{n} store{'s' if n != 1 else ''} not in the frame of case {case['slug']} "
                            "(imported all the same)")
        summary = {"case": case["slug"], "protocol": protocol.key, "rows": counts["rows"],
                   "visits_added": result["visits"], "visits_already_imported": counts["skipped"],
                   "findings_added": result["findings"], "promises_added": result["promises"],
                   "evidence_added": evidence["added"],
                   "form_version": version if "meta:form_version" in plan.values() else None,
                   "outcomes": outcomes, "warnings": warnings,
                   "ignored_columns": [c for c, t in plan.items() if not t], "unknown_columns": [],
                   "text": table.text.summary(), "encoding": table.encoding, "delimiter": table.delimiter,
                   "null_cells": table.null_summary(), "columns": {c: t or None for c, t in plan.items()}}
        ws.log_event("import", {"format": "kobo", "file": str(path), "sha256": file_sha256(path),
                                "encoding": table.encoding,
                                "summary": {k: v for k, v in summary.items() if k != "columns"}})
    return summary


def media_file(folder: Path, name: str, uuid: str, *, path: Path, line: int, column: str | None) -> Path:
    """The file a submission's photo field names, in the export's media folder: ODK Central
    puts every attachment in ``media/``, Kobo one folder per submission (named by its uuid)."""
    name = Path(name).name
    if (folder / name).is_file():
        return folder / name
    found = [p for p in folder.rglob(name) if p.is_file()]
    if len(found) > 1:
        found = [p for p in found if uuid and uuid.removeprefix("uuid:") in p.parts]
    if len(found) != 1:
        why = "is not" if not found else "is more than once"
        raise InputFileError(path, f"photo {name!r} {why} in the media folder {folder}", line=line, column=column)
    return found[0]


def attach_photos(ws: Workspace, case: dict, photos: dict[str, Path]) -> dict:
    """Attach each submission's photo to the visit it became, as ``evidence add`` does
    (same checks, same flags); the flags become the import's warnings."""
    from ..cases.evidence import add_evidence

    added, warnings = 0, []
    for ref, photo in photos.items():
        visit = next(iter(ws.db.query("select * from visits where case_id = ? and source = ? and external_ref = ?",
                                      [case["id"], SOURCE, ref])), None)
        if visit is None:
            continue
        for item in add_evidence(ws, visit, [photo]):
            added += 0 if item.get("duplicate") else 1
            warnings += [f"{photo.name}: {w}" for w in item.get("warnings", [])]
    return {"added": added, "warnings": warnings}


@hookimpl
def register_importers():
    return [{"name": "kobo", "kind": "records", "help": "a KoboToolbox or ODK Central CSV export of a case's form",
             "run": import_kobo}]


__all__ = ["import_kobo", "read_kobo", "plan_columns", "parse_answer", "SOURCE"]

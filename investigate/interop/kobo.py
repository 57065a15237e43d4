"""KoboToolbox / ODK Central CSV exports of a form that follows a case's protocol.

A reporter may collect visits on a phone with a form whose fields are the protocol's
questions. Each submission becomes a visit through ``prepare_visit``, so the same validation,
tester age check and rules apply as to a visit recorded at the command line.

How columns are understood:

- A field answers the protocol question of the same name. Group prefixes are dropped:
  Kobo writes ``group_visit/sale``, ODK Central ``group_visit-sale``; both mean ``sale``.
  ``--map FIELD=QUESTION`` says otherwise; ``--map FIELD=`` ignores a field.
- Besides questions, a field may name the visit's ``store`` (id, id prefix or licence
  number), ``tester`` (code), ``observer``, ``attempt``, ``round``, ``notes`` or
  ``visited_at``.
- Kobo's and ODK's own columns: ``start`` is the visit time (``visited_at`` wins when the form
  has one; ``_submission_time``/``SubmissionDate``, which is UTC, is the last resort);
  ``_uuid`` (or ``meta/instanceID``, ``KEY``) identifies the submission and becomes the visit's
  external_ref, so importing the same export again adds nothing. All other columns Kobo
  starts with ``_`` (``_id``, ``_index``, ``_validation_status``, ``_location_latitude``…)
  and the usual metadata (end, today, deviceid, username, formhub/uuid…) are ignored.
- Any other field is an error that names it, before anything is written.
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
from ..cases.protocols import ATTEMPT_STATUSES, Protocol, Question, get_protocol
from ..cases.visits import finding_rows, frame_warnings, parse_visit_time, prepare_visit
from ..errors import InputFileError, InvalidInput, NotFound
from ..ids import resolve
from ..workspace import Workspace, new_id
from .common import CsvTable, file_sha256, read_csv

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


def plan_columns(path, header: list[str], protocol: Protocol, mapping: dict[str, str]) -> dict[str, str]:
    """column → what it is: a question key, a SPECIAL target, 'meta:start',
    'meta:submission', 'meta:uuid', or '' (ignored). An unknown field raises."""
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
        if any(n in TIME_COLUMNS for n in low):
            plan[column] = "meta:start"
        elif any(n in SUBMISSION_TIME_COLUMNS for n in low):
            plan[column] = "meta:submission"
        elif any(n in UUID_COLUMNS for n in low):
            plan[column] = "meta:uuid"
        elif next((n for n in reversed(names) if n in targets), None):
            plan[column] = next(n for n in reversed(names) if n in targets)
        elif column.startswith("_") or any(n in IGNORED_META for n in low) or column.lower().startswith(
                ("meta/", "meta-", "formhub/", "formhub-", "__")):
            plan[column] = ""
        else:
            shown = names[-1]
            raise InputFileError(
                path, f"unknown field {column!r}: protocol {protocol.key} has no question {shown!r} "
                f"(questions: {', '.join(sorted(questions))}); map it with --map {shown}=QUESTION "
                f"or ignore it with --map {shown}=", line=1, column=column)
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
    """The export read whole. Kobo writes ';' by default and ODK Central ','; the header
    line tells which."""
    return read_csv(path, encoding=encoding, delimiters=",;")


def import_kobo(ws: Workspace, path: Path | str, *, case_ref: str, mapping: dict[str, str] | None = None,
                encoding: str | None = None, table: CsvTable | None = None, on_batch=None) -> dict:
    """Import a Kobo/ODK CSV export into a case, all or nothing. Returns counts. ``table``
    is ``read_kobo``'s, when the caller has read the file already (to size a progress bar)."""
    path = Path(path)
    case = get_case(ws, case_ref)
    protocol = get_protocol(case["protocol"], ws.root)
    if table is None:
        table = read_kobo(path, encoding=encoding)
    plan = plan_columns(path, table.header, protocol, mapping or {})
    tick = on_batch or (lambda n: None)
    questions = {q.key: q for q in protocol.questions}
    question_columns = {t: c for c, t in plan.items() if t in questions}
    stores: dict[str, dict] = {}
    testers: dict[str, dict] = {}
    known = {r["external_ref"] for r in ws.db.query(
        "select external_ref from visits where case_id = ? and source = ?", [case["id"], SOURCE])}
    visits, findings, promises, skipped = [], [], [], 0
    outcomes: dict[str, int] = {}

    for line, row in table.rows:
        def value(target: str) -> str:
            for column, t in plan.items():
                if t == target and row.get(column):
                    return row[column]
            return ""

        def fail(message: str, target: str | None = None):
            column = next((c for c, t in plan.items() if t == target), None) if target else None
            raise InputFileError(path, message, line=line, column=column)

        uuid = value("meta:uuid")
        ref = f"kobo:{uuid.removeprefix('uuid:')}" if uuid else "kobo:sha1:" + hashlib.sha1(
            "\x1f".join(f"{k}={v}" for k, v in sorted(row.items())).encode()).hexdigest()
        if ref in known:
            skipped += 1
            tick(1)
            continue
        known.add(ref)

        try:
            if value("visited_at"):
                visited_at, which = _time(ws, value("visited_at"), assume_utc=False), "visited_at"
            elif value("meta:start"):
                visited_at, which = _time(ws, value("meta:start"), assume_utc=False), "meta:start"
            elif value("meta:submission"):
                visited_at, which = _time(ws, value("meta:submission"), assume_utc=True), "meta:submission"
            else:
                fail("no visit time in this row (start is empty)")
        except ValueError:
            fail("the visit time is not an ISO 8601 date and time", "meta:start")
        except InvalidInput as ex:
            fail(str(ex), "visited_at" if value("visited_at") else "meta:start")

        store_ref = value("store")
        if not store_ref:
            fail("no store given", "store")
        if store_ref not in stores:
            try:
                stores[store_ref] = resolve(ws, "stores", store_ref)
            except (NotFound, InvalidInput) as ex:
                fail(str(ex), "store")
        tester = None
        tester_ref = value("tester")
        if tester_ref:
            if tester_ref not in testers:
                try:
                    testers[tester_ref] = resolve(ws, "testers", tester_ref)
                except (NotFound, InvalidInput) as ex:
                    fail(str(ex), "tester")
            tester = testers[tester_ref]

        answers = {}
        for key, column in question_columns.items():
            raw = row.get(column, "")
            if raw == "":
                continue
            try:
                answers[key] = parse_answer(questions[key], raw)
            except InvalidInput as ex:
                fail(str(ex), key)
        attempt = value("attempt") or "completed"
        attempt = next((a for a in ATTEMPT_STATUSES if _norm(a) == _norm(attempt)), attempt)
        try:
            round_ = int(value("round") or 1)
        except ValueError:
            fail(f"round {value('round')!r} is not a whole number", "round")
        try:
            visit, judgement = prepare_visit(
                ws, case=case, protocol=protocol, store=stores[store_ref], tester=tester, answers=answers,
                visited_at=visited_at, observer=value("observer") or None, attempt=attempt, round=round_,
                kind="undercover", source=SOURCE, external_ref=ref, notes=value("notes") or None)
        except InvalidInput as ex:
            message = str(ex)
            key = message.split(":", 1)[0]
            fail(message, key if key in questions else None)
        visit["id"] = new_id()
        visits.append(visit)
        outcomes[visit["outcome"]] = outcomes.get(visit["outcome"], 0) + 1
        for f in finding_rows(judgement["findings"], visit_id=visit["id"], case=case,
                              created_at=visit["created_at"]):
            findings.append({"id": new_id(), **f})
        for p in judgement["promises"]:
            promises.append({"id": new_id(), "visit_id": visit["id"], "what": p["what"],
                             "promised_at": visit["visited_at"], "due_at": p["due_at"], "kept": None,
                             "note": None, "created_at": visit["created_at"]})

    with ws.transaction():
        ws.insert_many("visits", visits, action="import", on_batch=tick)
        ws.insert_many("findings", findings, action="import")
        ws.insert_many("promises", promises, action="import")
        summary = {"case": case["slug"], "protocol": protocol.key, "rows": len(table.rows),
                   "visits_added": len(visits), "visits_already_imported": skipped,
                   "findings_added": len(findings), "promises_added": len(promises), "outcomes": outcomes,
                   # a store outside the case's frame is worth a word, not a refusal (as in visit record)
                   "warnings": [w for s in stores.values() for w in frame_warnings(ws, case, s)],
                   "columns": {c: t or None for c, t in plan.items()}}
        ws.log_event("import", {"format": "kobo", "file": str(path), "sha256": file_sha256(path),
                                "summary": {k: v for k, v in summary.items() if k != "columns"}})
    return summary


__all__ = ["import_kobo", "read_kobo", "plan_columns", "parse_answer", "SOURCE"]

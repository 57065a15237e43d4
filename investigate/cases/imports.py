"""Bulk imports of visits from CSV (stores: ``store_imports``): all or nothing, every bad cell
located.

Both importers read through ``files.iter_csv`` (UTF-8, UTF-8 with BOM or cp1252
detected, broken quoting and ragged rows reported by line) and write in ONE transaction: the
first bad row raises an ``InputFileError`` naming file, line and column, and nothing of the
file is kept. Visits go through ``visits.prepare_visit`` — the same validation and rules as
``visit record`` — so an imported visit is judged exactly like a typed one.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from ..errors import InputFileError, InvalidInput
from ..files import file_sha256, file_summary, iter_csv, match_columns
from ..files.headers import find_column
from ..ids import new_id, short
from ..store.workspace import Workspace
from ..protocol.versions import current_protocol, remember
from ..protocol.protocols import get_protocol
from ..vocabulary import ATTEMPT_STATUSES, VISIT_KINDS, VOIDED
from .rotation import RotationCheck, rotation_rules
from .visits import MEMO_SIZE, amend_visit, finding_rows, parse_visit_time, prepare_visit

VISIT_FIELDS = ("store", "tester", "visited_at", "attempt", "round", "observer", "notes", "external_ref")
VISIT_ALIASES = {
    "store": ["store", "store_id", "licence_number", "license_number"],
    "tester": ["tester", "tester_code"],
    "visited_at": ["visited_at", "time", "datetime", "date"],
}


def _locate(ex: InvalidInput, path: Path, line: int, columns: dict, questions: set) -> InputFileError:
    """Which column an error from prepare_visit belongs to, from what it names."""
    text = str(ex)
    head = text.split(":", 1)[0]
    if head in questions:
        column = columns.get(head, head)
    elif text.startswith("tester") or "needs a tester" in text:
        column = columns.get("tester")
    elif text.startswith("attempt"):
        column = columns.get("attempt")
    elif text.startswith("round"):
        column = columns.get("round")
    else:
        column = None
    return InputFileError(path, text, line=line, column=column)


_DIGEST_REF = re.compile(r"^(import|official):([0-9a-f]{20})$")


def _compact(ref: str) -> str | int:
    """A visit's external_ref as the import remembers it: the natural keys an import makes
    ("import:" and 20 hexadecimal digits) as an 81-bit int rather than a string, a third of
    the memory for the million refs of a million-visit file; any other ref as it is."""
    m = _DIGEST_REF.match(ref)
    if not m:
        return ref
    return int(m.group(2), 16) | (1 << 80 if m.group(1) == "official" else 0)


class StoreLookup:
    """Find a store by id, licence number or external id without a query per row."""

    def __init__(self, ws: Workspace):
        self.by_ref: dict[str, str] = {}
        for sid, licence, external in ws.db.execute("select id, licence_number, external_id from stores"):
            self.by_ref[sid] = sid
            if external:
                self.by_ref.setdefault(str(external), sid)
            if licence:
                self.by_ref[licence] = sid
        self.ids = sorted(i for i in self.by_ref if i == self.by_ref[i])

    def find(self, ref: str) -> str | None:
        if ref in self.by_ref:
            return self.by_ref[ref]
        if len(ref) >= 4:  # a unique id prefix, as the CLI accepts everywhere
            i = bisect.bisect_left(self.ids, ref.lower())
            hits = []
            while i < len(self.ids) and self.ids[i].startswith(ref.lower()) and len(hits) < 2:
                hits.append(self.ids[i])
                i += 1
            if len(hits) == 1:
                return hits[0]
        return None


#: What a corrected row may change in a visit it was imported as, in the order a refusal names them.
CORRECTABLE = ("answers", "attempt", "observer", "round", "notes")


def _same_minute_visit(ws: Workspace, case: dict, row: dict, made: set[str]) -> dict | None:
    """The case's visit at the row's store, by its tester, in the same minute, not one this
    import ``made``: the row is that visit imported before in another form (a
    corrected answer), not a visit of its own. A voided visit is no longer the record: a row
    on it is a visit of its own. Asked only of rows with a tester: two official inspections of
    one shop on one day are two records."""
    minute = row["visited_at"][:16]
    # A range on the (case_id, visited_at) index: the stored times carry the workspace's offset.
    return next((v for v in ws.db.query(
        "select * from visits where case_id = ? and visited_at >= ? and visited_at < ? and store_id = ? "
        "and tester_id = ? and coalesce(review_state, '') != ? order by visited_at",
        [case["id"], minute, minute + "~", row["store_id"], row["tester_id"], VOIDED]) if v["id"] not in made), None)


def _differences(old: dict, new: dict) -> list[str]:
    """Which of ``CORRECTABLE`` a corrected row changes in the visit it was imported as."""
    out = []
    for field in CORRECTABLE:
        a, b = old.get(field), new.get(field)
        if field == "answers":
            a, b = json.loads(a or "{}"), json.loads(b or "{}")
        if (a or None) != (b or None):
            out.append(field)
    return out


def corrections_refused(path: Path, conflicts: list[tuple[int, str, list[str]]], *, record: str = "visit",
                        known_by: str = "same store, tester and minute") -> InputFileError:
    """A re-import that would correct records, refused without ``--update``: one line per kind
    of correction with its count and first line, and how to apply them."""
    kinds: dict[str, list[tuple[int, str]]] = {}
    for line, row_id, fields in conflicts:
        kinds.setdefault(", ".join(fields), []).append((line, row_id))
    n = len(conflicts)
    lines = [f"{n} row{'s' if n != 1 else ''} correct{'' if n != 1 else 's'} {record}s already imported ({known_by}); "
             "nothing was written:"]
    for fields, hits in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        line, row_id = hits[0]
        lines.append(f"  {len(hits)} change{'' if len(hits) != 1 else 's'} the {fields} "
                     f"(first: line {line}, {record} {short(row_id)})")
    lines.append("  re-run with --update to amend them (audited, this file named as the reason)")
    return InputFileError(path, "\n".join(lines))


def import_visit_rows(
    ws: Workspace,
    case: dict,
    rows: Iterable[tuple[int, dict]],
    *,
    path: Path,
    columns: dict[str, str],
    question_columns: dict[str, str],
    source: str = "import",
    kind: str = "undercover",
    shown_columns: dict[str, str] | None = None,
    update: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Validate, judge and write visits given as (line, {column: value}) rows; one
    transaction; findings and promises flushed batch by batch after their visits. A row whose
    external_ref the case already has (or an earlier row of the same file had) is counted in
    ``already_imported`` and not written again: a re-run adds nothing.

    A row known only by its natural key (no external_ref column) that falls on a visit the
    case has at the same store, by the same tester, in the same minute is that visit in
    another form: the same values count as already imported; other values are a correction,
    refused with counts per kind (nothing written) unless ``update``, which amends the visit
    (audited, the file and line as the reason; the amended visit is reviewed again).

    ``columns`` maps the visit fields (store, tester, visited_at, …) to file columns and
    ``question_columns`` the protocol's question keys to file columns. Public so that other
    importers (Kobo/ODK forms) can feed rows through the same rules; ``shown_columns`` names
    the file's own columns in errors when a caller feeds derived values under other keys."""
    protocol = current_protocol(ws, case["protocol"])
    questions = {q.key for q in protocol.questions}
    shown = {**columns, **(shown_columns or {})}
    stores = StoreLookup(ws)
    testers = {r["code"]: r for r in ws.db.query("select * from testers")}
    pending_findings: list[dict] = []
    pending_promises: list[dict] = []
    counts = {"visits": 0, "findings": 0, "promises": 0, "already_imported": 0, "amended": 0}
    corrections: list[tuple[int, dict, dict, list[str]]] = []  # (line, visit, corrected row, fields)
    made: set[str] = set()  # ids of the visits this import writes: never a correction's target
    # A case without visits before this import has nothing to correct: its first import (a
    # field round of 100,000 rows) asks no question per row.
    correctable = ws.db.execute("select 1 from visits where case_id = ? limit 1", [case["id"]]).fetchone() is not None
    known = {_compact(r[0]) for r in ws.db.execute(
        "select external_ref from visits where case_id = ? and external_ref is not null", [case["id"]])}
    outside_frame: set[str] = set()
    has_frame = ws.db.execute("select 1 from case_stores where case_id = ? limit 1", [case["id"]]).fetchone()
    frame = {r[0] for r in ws.db.execute("select store_id from case_stores where case_id = ?", [case["id"]])}

    def flush_children(n: int) -> None:
        if pending_findings:
            counts["findings"] += ws.insert_many("findings", pending_findings, action="import")
            pending_findings.clear()
        if pending_promises:
            counts["promises"] += ws.insert_many("promises", pending_promises, action="import")
            pending_promises.clear()
        if progress:
            progress(n)

    # Rows read and not written (imported before, corrections) move the bar too, a thousand at
    # a time: a re-run of a whole file had left it at 0 % until the end.
    unwritten = 0

    def not_written() -> None:
        nonlocal unwritten
        unwritten += 1
        if progress and unwritten == 1000:
            progress(unwritten)
            unwritten = 0

    rotation = RotationCheck(ws, case, rules=rotation_rules(ws, case, protocol))
    counts["rotation_breaches"] = []
    memo: dict = {}  # identical answer sets are judged once
    times: dict = {}  # and a time typed the same way is read once
    created_at = ws.now().isoformat()

    def visit_rows():
        for line, raw in rows:
            get = lambda f: (raw.get(columns[f]) or "").strip() if f in columns else ""  # noqa: E731
            ref = get("external_ref")
            key = _compact(ref) if ref else None
            if ref and key in known:
                counts["already_imported"] += 1
                not_written()
                continue
            if ref:
                known.add(key)
            store_ref = get("store")
            if not store_ref:
                raise InputFileError(path, "no store given", line=line, column=shown.get("store", "store"))
            store_id = stores.find(store_ref)
            if store_id is None:
                raise InputFileError(path, f"unknown store {store_ref!r}", line=line, column=shown["store"])
            tester = None
            code = get("tester")
            if code:
                tester = testers.get(code)
                if tester is None:
                    raise InputFileError(path, f"unknown tester {code!r}", line=line, column=shown["tester"])
            text = get("visited_at")
            when = times.get(text)
            try:
                if when is None and text:
                    when = parse_visit_time(ws, text)
                    if len(times) < MEMO_SIZE:
                        times[text] = when
            except InvalidInput as ex:
                raise InputFileError(path, str(ex), line=line, column=shown.get("visited_at"))
            if when is None:
                raise InputFileError(path, "no visit time given", line=line,
                                     column=shown.get("visited_at", "visited_at"))
            answers = {k: raw[c] for k, c in question_columns.items() if raw.get(c, "") != ""}
            try:
                round_ = int(get("round") or 1)
            except ValueError:
                raise InputFileError(path, f"round {get('round')!r} is not a whole number", line=line,
                                     column=shown.get("round"))
            try:
                row, judgement = prepare_visit(
                    ws, case=case, protocol=protocol, store={"id": store_id}, tester=tester,
                    answers=answers, visited_at=when, observer=get("observer") or None,
                    attempt=get("attempt") or "completed", round=round_, source=source, kind=kind,
                    external_ref=ref or None, notes=get("notes") or None, memo=memo,
                    created_at=created_at)
            except InvalidInput as ex:
                raise _locate(ex, path, line, question_columns | shown, questions)
            if (correctable and ref and _DIGEST_REF.match(ref) and row["tester_id"]
                    and (same := _same_minute_visit(ws, case, row, made)) is not None):
                changed = _differences(same, row)
                if changed:
                    corrections.append((line, same, row, changed))
                else:
                    counts["already_imported"] += 1
                not_written()
                continue
            if rotation.rules and row["kind"] == "undercover":
                for why in rotation.check(row):
                    if rotation.strict:
                        raise InputFileError(path, f"rotation: {why} (the case's rules are strict)", line=line)
                    counts["rotation_breaches"].append(f"line {line}: {why}")
                rotation.add(row)
            row["id"] = new_id()
            if correctable:
                made.add(row["id"])
            pending_findings.extend(finding_rows(judgement["findings"], visit_id=row["id"], case=case,
                                                 created_at=row["created_at"]))
            pending_promises.extend({"visit_id": row["id"], "what": p["what"], "promised_at": row["visited_at"],
                                     "due_at": p["due_at"], "kept": None, "created_at": row["created_at"]}
                                    for p in judgement["promises"])
            if has_frame and store_id not in frame:
                outside_frame.add(store_id)
            yield row

    # Joined, not a savepoint: a savepoint open over the import would copy every page it
    # changes aside (``Workspace.transaction``); a failure here ends the caller's transaction.
    with ws.transaction(savepoint=False):
        remember(ws, protocol)
        counts["visits"] = ws.insert_many("visits", visit_rows(), action="import", on_batch=flush_children)
        flush_children(unwritten)  # the bar ends with the file
        if corrections and not update:
            raise corrections_refused(path, [(line, old["id"], fields) for line, old, _, fields in corrections])
        for line, old, new, _ in corrections:
            # After the bulk insert, never inside it: each amendment is its own audited update.
            amend_visit(ws, old, reason=f"corrected by {path.name}:{line}", answers=json.loads(new["answers"]),
                        replace_answers=True, attempt=new["attempt"], observer=new["observer"],
                        round=new["round"], notes=new["notes"])
            counts["amended"] += 1
    counts["outside_frame"] = len(outside_frame)
    return counts


def value_map_columns(path: Path, header: list[str], value_map: dict | None) -> dict[str, dict[str, str]]:
    """``--map-value COLUMN:VALUE=ANSWER`` as {file column: {casefolded value: answer}}."""
    out: dict[str, dict[str, str]] = {}
    for column, values in (value_map or {}).items():
        col = find_column(header, column)
        if col is None:
            raise InvalidInput(f"--map-value {column}:…: no column {column!r} in {path.name} "
                               f"(found: {', '.join(header)})")
        out.setdefault(col, {}).update({v.strip().casefold(): a for v, a in values.items()})
    return out


#: Keys the rows handed to import_visit_rows carry besides the file's own columns.
TIME_KEY, REF_KEY, ATTEMPT_KEY = "\x00visited_at", "\x00external_ref", "\x00attempt"


def import_visits(
    ws: Workspace,
    case: dict,
    path: Path | str,
    *,
    mapping: dict | None = None,
    encoding: str | None = None,
    kind: str = "undercover",
    date_format: str | None = None,
    value_map: dict[str, dict[str, str]] | None = None,
    ignore: Iterable[str] = (),
    ignore_unknown: bool = False,
    fix_text: bool = False,
    null_values: Iterable[tuple[str, str]] = (),
    update: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Visits of ``case`` from a CSV file: columns store, tester, visited_at, optional attempt,
    round, observer, notes, external_ref, and one column per protocol question key.

    Any agency's inspections come in the same way with ``kind="official"`` (they then never
    enter an undercover rate): ``date_format`` reads their dates ("%m/%d/%Y"; a date without
    a time is local midnight), ``value_map`` turns their words into the protocol's answers
    ({"Results": {"Pass w/ Conditions": "pass_with_conditions"}}). A column that feeds both
    ``attempt`` and a question sends an attempt status (closed, not_found…) to the attempt
    and any other value to the question.

    A column that is neither a visit field nor a question is an error (its answers would be
    lost) unless left out with ``ignore`` or ``ignore_unknown``. Re-running an import adds
    nothing: a row is recognised by its external_ref, or, when the file has none, by a natural
    key over the mapped columns (store, time, answers…) — and a corrected row by its store,
    tester and minute (refused, or with ``update`` amended: see ``import_visit_rows``)."""
    path = Path(path)
    protocol = get_protocol(case["protocol"], ws.root)
    if kind not in VISIT_KINDS:
        raise InvalidInput(f"kind {kind!r} is not one of {', '.join(VISIT_KINDS)}")
    table, rows = iter_csv(path, encoding=encoding, fix_text=fix_text, null_values=null_values)
    try:
        keys = [q.key for q in protocol.questions]
        mapping = dict(mapping or {})
        unknown = set(mapping) - set(VISIT_FIELDS) - set(keys)
        if unknown:
            raise InvalidInput(f"--map {sorted(unknown)[0]}=…: neither a visit field ({', '.join(VISIT_FIELDS)}) "
                               f"nor a question of {protocol.key} ({', '.join(keys)})")
        plan = match_columns(path, table.header, (*VISIT_FIELDS, *keys), VISIT_ALIASES, mapping=mapping,
                             ignore=ignore, ignore_unknown=ignore_unknown)
        table.check_only(plan.read)
        columns = {f: c for f, c in plan.columns.items() if f in VISIT_FIELDS}
        question_columns = {f: c for f, c in plan.columns.items() if f in keys}
        for required in ("store", "visited_at"):
            if required not in columns:
                raise InputFileError(path, f"missing column {required!r} (found: {', '.join(table.header)}; "
                                           f"map one with --map {required}=COLUMN)", line=table.header_line)
        if protocol.uses_testers and kind == "undercover" and "tester" not in columns:
            raise InputFileError(path, f"missing column 'tester': protocol {protocol.key} needs a tester",
                                 line=table.header_line)
        if plan.unknown:
            raise InputFileError(path, f"column {plan.unknown[0]!r} is neither a visit field nor a question of "
                                       f"{protocol.key} (questions: {', '.join(keys)}); map it with --map, or "
                                       "leave it out with --ignore COLUMN or --ignore-unknown",
                                 line=table.header_line, column=plan.unknown[0])
        values = value_map_columns(path, table.header, value_map)
    except BaseException:
        rows.close()
        raise
    attempt_col = columns.get("attempt")
    shared_attempt = attempt_col in question_columns.values()
    natural = [c for f, c in sorted(plan.columns.items()) if f not in ("notes", "observer")]
    source_tag = "official" if kind == "official" else "import"

    def prepared():
        for line, raw in rows:
            row = dict(raw)
            for col, words in values.items():
                row[col] = words.get(row[col].casefold(), row[col])
            when = row[columns["visited_at"]]
            if date_format and when:
                try:
                    parsed = datetime.strptime(when, date_format)
                except ValueError:
                    raise InputFileError(path, f"{when!r} does not match --date-format {date_format}"
                                         + table.placeholder_advice(columns["visited_at"], when),
                                         line=line, column=columns["visited_at"])
                when = parsed.replace(tzinfo=parsed.tzinfo or ws.tz).isoformat()
            row[TIME_KEY] = when
            attempt = row.get(attempt_col, "") if attempt_col else ""
            if shared_attempt:
                if attempt in ATTEMPT_STATUSES:
                    row[attempt_col] = ""  # the visit could not be made: the question has no answer
                else:
                    attempt = "completed"
            row[ATTEMPT_KEY] = attempt
            ref = row.get(columns["external_ref"], "") if "external_ref" in columns else ""
            if not ref:
                digest = hashlib.sha1("\x1f".join(f"{c}={row[c]}" for c in natural).encode()).hexdigest()
                ref = f"{source_tag}:{digest[:20]}"
            row[REF_KEY] = ref
            yield line, row

    feed_columns = {**columns, "visited_at": TIME_KEY, "external_ref": REF_KEY, "attempt": ATTEMPT_KEY}
    with ws.transaction():
        counts = import_visit_rows(ws, case, prepared(), path=path, columns=feed_columns,
                                   question_columns=question_columns, source=f"import:{path.name}",
                                   kind=kind, shown_columns=columns, update=update, progress=progress)
        summary = {"case": case["slug"], "kind": kind,
                   "rows": counts["visits"] + counts["already_imported"] + counts["amended"],
                   **counts, **file_summary(table, plan)}
        ws.log_event("import", {"kind": "visits", "visit_kind": kind, "case": case["slug"], "file": path.name,
                                "sha256": file_sha256(path), "encoding": table.encoding, **counts,
                                "unknown_columns": plan.unknown, "ignored_columns": plan.ignored})
    return summary


__all__ = ["import_visits", "import_visit_rows", "StoreLookup", "corrections_refused", "value_map_columns"]

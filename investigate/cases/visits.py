"""Visits: one test of one store under a protocol, and what follows from it.

The outcome and the findings are never typed in: they follow from the answers by the
protocol's rules, so that every visit of a case is judged the same way. An attempt that
could not be made (store closed, minors not admitted…) is recorded as such and is neither a
violation nor compliant.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Iterator

from ..errors import InvalidInput
from ..ids import short
from ..files.text import control_character
from ..store.lookup import resolve
from ..store.tables import by_time, every_row
from ..store.workspace import Workspace
from ..protocol.versions import current_protocol, protocol_of_visit, remember, stamp
from ..protocol.model import Protocol
from ..vocabulary import ATTEMPT_STATUSES, VISIT_KINDS, VOIDED
from .rotation import RotationCheck, rotation_rules
from .testers import check_tester_for

#: Clocks on field laptops drift; a visit a few minutes "in the future" is not an error.
CLOCK_SKEW = timedelta(minutes=10)
EARLIEST = date(1990, 1, 1)


def parse_visit_time(ws: Workspace, text: str | datetime | None) -> datetime:
    """A visit time in the workspace's time zone: "2026-11-20 14:35", ISO 8601 with or
    without an offset, or None/"now". Refuses impossible, future and implausibly early times."""
    value = ws.parse_time(text, what="visit time", skew=CLOCK_SKEW)
    if value.date() < EARLIEST:
        raise InvalidInput(f"visit time {value.isoformat()} is implausibly early")
    return value


def _expand(text: str | None, case: dict) -> str | None:
    if text is None:
        return None
    return text.replace("{legal_basis}", case.get("legal_basis") or "").strip() or None


def finding_rows(findings: list[dict], *, visit_id: str, case: dict, created_at: str) -> list[dict]:
    return [
        {
            "visit_id": visit_id,
            "code": f.get("code"),
            "title": f["title"],
            "statute": _expand(f.get("statute"), case),
            "severity": f.get("severity", "medium"),
            "description": f.get("description"),
            "source": "rule",
            "created_at": created_at,
        }
        for f in findings
    ]


def judge(protocol: Protocol, answers: dict, *, attempt: str, visited_at: datetime) -> dict:
    """Outcome, findings and promises of a visit; an attempt not made has none of them."""
    if attempt != "completed":
        return {"outcome": "not_completed", "findings": [], "promises": []}
    return protocol.evaluate(answers, visited_at=visited_at)


#: Distinct answer sets an import remembers; a file of free-text answers stops adding at this.
MEMO_SIZE = 10_000


def _memo_key(protocol: Protocol, answers: dict, attempt: str) -> tuple | None:
    """Answers as a key, when their judgement depends on nothing else: a rule that sets a
    promise's due time from the visit's time makes every visit its own case."""
    if protocol.promise_rules:
        return None
    try:
        key = (attempt, tuple(answers.items()))
        hash(key)
    except TypeError:  # a structured answer (a Kobo repeat group): judged every time
        return None
    return key


def judge_answers(protocol: Protocol, answers: dict, *, attempt: str, visited_at: datetime,
                  tz) -> tuple[str, dict]:
    """Answers checked, parsed and completed by the derived values, as stored (JSON), and
    the judgement that follows from them."""
    for key, value in answers.items():
        # A text answer may span lines; nothing may hold ESC, BEL or another control.
        bad = isinstance(value, str) and control_character(value)
        if bad:
            raise InvalidInput(f"{key}: {bad} is not allowed in an answer")
    derived_keys = {d.key for d in protocol.derived}
    if attempt == "completed":
        answers = protocol.validate_answers(answers, tz=tz)
    else:
        # Nothing is required of an attempt that could not be made; what was noted is kept.
        given = {k: v for k, v in answers.items() if v not in (None, "") and k not in derived_keys}
        answers = {k: protocol.question(k).parse(v, tz=tz) for k, v in given.items()}
    # Derived values (response time, overcharge) are stored beside the answers they come from,
    # so that editors see them; they are recomputed from those answers on every amendment.
    answers = {**answers, **protocol.derive(answers)}
    judgement = judge(protocol, answers, attempt=attempt, visited_at=visited_at)
    return json.dumps(answers, sort_keys=True, ensure_ascii=False), judgement


def prepare_visit(
    ws: Workspace,
    *,
    case: dict,
    protocol: Protocol,
    store: dict,
    tester: dict | None,
    answers: dict,
    visited_at: datetime,
    observer: str | None = None,
    attempt: str = "completed",
    round: int = 1,
    kind: str = "undercover",
    source: str = "manual",
    external_ref: str | None = None,
    notes: str | None = None,
    memo: dict | None = None,
    created_at: str | None = None,
) -> tuple[dict, dict]:
    """Validate and judge one visit without writing it: (visit row, judgement).

    Shared by ``record_visit`` and the bulk importer so that both apply the same rules. An
    importer passes a ``memo``: a file of 100,000 visits holds a few dozen distinct answer
    sets, and judging each once halves the import's time (the judgement is shared, not
    copied: callers must not change it); it also keeps each tester's age per day. An import
    gives every row the one ``created_at`` of its start."""
    if attempt not in ATTEMPT_STATUSES:
        raise InvalidInput(f"attempt {attempt!r} is not one of {', '.join(ATTEMPT_STATUSES)}")
    if kind not in VISIT_KINDS:
        raise InvalidInput(f"kind {kind!r} is not one of {', '.join(VISIT_KINDS)}")
    if round < 1:
        raise InvalidInput("round must be 1 or more")
    if protocol.observer_required and attempt == "completed" and kind == "undercover" and not (observer or "").strip():
        raise InvalidInput(f"protocol {protocol.key} needs the adult observer of the visit (--observer)")
    tester_age = None
    if protocol.uses_testers:
        if tester is None and kind == "undercover":
            raise InvalidInput(f"protocol {protocol.key} needs a tester")
    if tester is not None:
        day = visited_at.date()
        if memo is None:
            tester_age = check_tester_for(protocol, tester, day)
        else:
            tester_age = memo.get((tester["id"], day))
            if tester_age is None:
                tester_age = memo[tester["id"], day] = check_tester_for(protocol, tester, day)
    for what, value in (("observer", observer), ("notes", notes)):
        bad = value and control_character(value, multiline=what == "notes")
        if bad:
            raise InvalidInput(f"{what}: {bad} is not allowed here")
    key = memo is not None and _memo_key(protocol, answers, attempt)
    if key and key in memo:
        answers_json, judgement = memo[key]
    else:
        answers_json, judgement = judge_answers(protocol, answers, attempt=attempt, visited_at=visited_at, tz=ws.tz)
        if key and len(memo) < MEMO_SIZE:
            memo[key] = answers_json, judgement
    row = {
        "case_id": case["id"],
        "store_id": store["id"],
        "tester_id": tester["id"] if tester else None,
        "observer": observer or None,
        "protocol": protocol.key,
        "kind": kind,
        "visited_at": visited_at.isoformat(),
        "visited_date": visited_at.date().isoformat(),
        "tester_age": tester_age,
        "answers": answers_json,
        "outcome": judgement["outcome"],
        "source": source,
        "external_ref": external_ref,
        "notes": notes or None,
        "created_at": created_at or ws.now().isoformat(),
        "round": round,
        "attempt": attempt,
        "review_state": "received",
    }
    return stamp(row, protocol), judgement


def record_visit(
    ws: Workspace,
    *,
    case: dict,
    store: dict,
    tester: dict | None,
    answers: dict,
    visited_at: datetime | str | None = None,
    observer: str | None = None,
    attempt: str = "completed",
    round: int = 1,
    notes: str | None = None,
    protocol: str | None = None,
) -> dict:
    """Validate answers against the case's protocol, derive outcome, findings and promises,
    and write them all in one transaction. Returns the visit with its findings, promises and
    any warnings (a store outside the case's sample, say).

    ``protocol`` names another protocol than the case's: a service case tests a company's
    hotline, e-mail and counter, each with the protocol of its channel."""
    protocol = current_protocol(ws, protocol or case["protocol"])
    visited_at = parse_visit_time(ws, visited_at)
    row, judgement = prepare_visit(
        ws, case=case, protocol=protocol, store=store, tester=tester, answers=answers,
        visited_at=visited_at, observer=observer, attempt=attempt, round=round, notes=notes,
    )
    breaches = rotation_breaches(ws, case, protocol, row)
    with ws.transaction():
        remember(ws, protocol)
        visit = ws.insert("visits", row)
        findings = [ws.insert("findings", f) for f in
                    finding_rows(judgement["findings"], visit_id=visit["id"], case=case,
                                 created_at=row["created_at"])]
        promises = [
            ws.insert("promises", {"visit_id": visit["id"], "what": p["what"],
                                   "promised_at": row["visited_at"], "due_at": p["due_at"],
                                   "kept": None, "created_at": row["created_at"]})
            for p in judgement["promises"]
        ]
    return {"visit": visit, "findings": findings, "promises": promises,
            "warnings": frame_warnings(ws, case, store) + [f"rotation: {b}" for b in breaches]}


def rotation_breaches(ws: Workspace, case: dict, protocol: Protocol, row: dict) -> list[str]:
    """How a visit (its store, tester, round and time) breaks the case's rotation rules;
    refused when the rules are strict. Official visits follow no rotation."""
    if row.get("kind", "undercover") != "undercover":
        return []
    rotation = RotationCheck(ws, case, rules=rotation_rules(ws, case, protocol))
    breaches = rotation.check(row) if rotation.rules else []
    if breaches and rotation.strict:
        raise InvalidInput(f"rotation: {breaches[0]} (the case's rules are strict)")
    return breaches


def check_before_answers(ws: Workspace, *, case: dict, store: dict, tester: dict | None,
                         visited_at: datetime | str | None, round: int = 1, protocol: str | None = None) -> list[str]:
    """Everything that refuses a visit before its answers are known: the tester's consent and
    age on the day, and the case's rotation rules. Raises as ``record_visit`` would, so that
    a reporter at the prompt is told before typing every answer, not after; returns the
    warnings ``record_visit`` would give (rotation breaches that are not strict)."""
    protocol = current_protocol(ws, protocol or case["protocol"])
    when = parse_visit_time(ws, visited_at)
    if tester is not None:
        check_tester_for(protocol, tester, when.date())
    breaches = rotation_breaches(ws, case, protocol, {"store_id": store["id"], "round": round,
                                                      "tester_id": tester["id"] if tester else None,
                                                      "visited_at": when.isoformat()})
    return [f"rotation: {b}" for b in breaches]


def frame_warnings(ws: Workspace, case: dict, store: dict) -> list[str]:
    """A store outside the case's frame or drawn sample is worth a warning, not a refusal:
    in the field a reporter may test a shop that opened after the frame was drawn."""
    warnings = []
    frame = ws.db.execute("select count(*) from case_stores where case_id = ?", [case["id"]]).fetchone()[0]
    if frame and not ws.db.execute(
        "select 1 from case_stores where case_id = ? and store_id = ?", [case["id"], store["id"]]
    ).fetchone():
        warnings.append(f"store {store['name']} is not in the frame of case {case['slug']}")
    if "sample_stores" in ws.db.table_names():
        drawn = ws.db.execute(
            "select count(*) from sample_stores ss join samples s on s.id = ss.sample_id where s.case_id = ?",
            [case["id"]]).fetchone()[0]
        if drawn and not ws.db.execute(
            "select 1 from sample_stores ss join samples s on s.id = ss.sample_id "
            "where s.case_id = ? and ss.store_id = ?", [case["id"], store["id"]]).fetchone():
            warnings.append(f"store {store['name']} is not in the drawn sample of case {case['slug']}")
    return warnings


def get_visit(ws: Workspace, ref: str, *, case: dict | None = None) -> dict:
    """A visit by id or unique id prefix, within one case when ``case`` is given."""
    if case:
        return resolve(ws, "visits", ref, where="case_id = ?", params=[case["id"]])
    return resolve(ws, "visits", ref)


def visit_detail(ws: Workspace, visit: dict) -> dict:
    """Everything about one visit: its store, case, answers, findings, promises, evidence."""
    q = lambda sql: list(ws.db.query(sql, [visit["id"]]))  # noqa: E731
    tester = ws.get("testers", visit["tester_id"]) if visit["tester_id"] else None
    return {
        "visit": visit,
        "answers": json.loads(visit["answers"] or "{}"),
        "case": ws.get("cases", visit["case_id"]),
        "store": ws.get("stores", visit["store_id"]),
        "tester_code": tester["code"] if tester else None,
        "findings": q("select * from findings where visit_id = ? order by created_at, code"),
        "promises": q("select * from promises where visit_id = ? order by due_at"),
        "evidence": q("select * from evidence where visit_id = ? order by added_at"),
        "history": q("select seq, at, actor, action, data from audit_log "
                     "where table_name = 'visits' and row_id = ? order by seq"),
    }


def list_visits(ws: Workspace, *, case: dict | None = None, store: dict | None = None,
                outcome: str | None = None, limit: int | None = None, brief: bool = False) -> Iterator[dict]:
    """Visits by time, as they come from the database (a generator: a million visits stream).
    ``brief``: only the columns a table of visits shows (``BRIEF_COLUMNS``), not every column
    of each visit (its answers, notes, protocol hash…): a fifth of a long table's time.

    Ties on the time go by rowid, not id: the (case_id, visited_at) and (visited_at) indexes
    hold rows in exactly that order, so a page needs no sort — ``--limit 20`` reads twenty
    rows of the index, not a million (``test_paged_lists_read_an_index_in_order``); the whole
    list, and one store's visits, are sorted (``store.tables.by_time``)."""
    where, params = [], []
    if case:
        # A store's visits are sought by their store: without statistics SQLite may otherwise
        # walk one of the case's indexes through every visit of the case ("+" takes the case's
        # condition out of the choice of index).
        where.append("+v.case_id = ?" if store else "v.case_id = ?")
        params.append(case["id"])
    if store:
        where.append("v.store_id = ?")
        params.append(store["id"])
    if outcome:
        where.append("v.outcome = ?")
        params.append(outcome)
    sql = LIST_VISITS_SQL.format(visit=", ".join(f"v.{c}" for c in BRIEF_COLUMNS) if brief else "v.*",
                                 visits=every_row("visits", "v", whole=not where and not limit))
    sql += (" where " + " and ".join(where) if where else "")
    sql += f" order by {by_time('v.visited_at', whole=not limit or store is not None)}, v.rowid"
    if limit:
        sql += f" limit {int(limit)}"
    return ws.db.query(sql, params)


#: The visit's own columns a table of visits shows (with the store, case, tester and count of
#: findings every list adds).
BRIEF_COLUMNS = ("id", "visited_at", "outcome", "review_state")
LIST_VISITS_SQL = (
    "select {visit}, s.name as store_name, s.address as store_address, c.slug as case_slug, "
    "t.code as tester_code, (select count(*) from findings f where f.visit_id = v.id) as findings "
    "from {visits} join stores s on s.id = v.store_id join cases c on c.id = v.case_id "
    "left join testers t on t.id = v.tester_id")


AMENDABLE = ("visited_at", "observer", "notes", "attempt", "round", "store_id", "tester_id")


def amend_visit(ws: Workspace, visit: dict, *, reason: str, answers: dict | None = None,
                replace_answers: bool = False, **changes) -> dict:
    """Change a visit with a reason. The old values stay in the audit log; outcome, rule
    findings and open promises are derived again from the amended answers. ``answers`` are
    merged into the old ones, or, with ``replace_answers`` (a corrected file is the whole
    record), take their place."""
    if not reason or not reason.strip():
        raise InvalidInput("an amendment needs a reason (--reason)")
    refuse_voided(visit, "amended")
    unknown = set(changes) - set(AMENDABLE)
    if unknown:
        raise InvalidInput(f"cannot amend {', '.join(sorted(unknown))} (amendable: answers, {', '.join(AMENDABLE)})")
    case = ws.get("cases", visit["case_id"])
    # Amended under the version that judged it, whatever the file says today; a visit from
    # before versions were kept is judged by the file and from now on names that version.
    protocol = (protocol_of_visit(ws, visit) if visit.get("protocol_hash")
                else current_protocol(ws, visit["protocol"]))
    merged = {} if replace_answers else json.loads(visit["answers"] or "{}")
    if answers:
        merged.update(answers)
    visited_at = parse_visit_time(ws, changes.get("visited_at") or visit["visited_at"])
    attempt = changes.get("attempt") or visit["attempt"] or "completed"
    store = ws.get("stores", changes.get("store_id") or visit["store_id"])
    tester_id = changes.get("tester_id", visit["tester_id"])
    tester = ws.get("testers", tester_id) if tester_id else None
    row, judgement = prepare_visit(
        ws, case=case, protocol=protocol, store=store, tester=tester, answers=merged,
        visited_at=visited_at, observer=changes.get("observer", visit["observer"]), attempt=attempt,
        round=int(changes.get("round") or visit["round"] or 1), kind=visit["kind"],
        source=visit["source"], external_ref=visit["external_ref"],
        notes=changes.get("notes", visit["notes"]),
    )
    new_values = {k: row[k] for k in ("store_id", "tester_id", "observer", "visited_at", "visited_date",
                                       "tester_age", "answers", "outcome", "notes", "round", "attempt",
                                       "protocol_version", "protocol_hash")}
    # An amended record is a new version: it must be reviewed again before it counts.
    new_values["review_state"] = "received"
    with ws.transaction():
        remember(ws, protocol)
        updated = ws.update("visits", visit["id"], new_values, reason=reason, action="amend")
        old_rule_findings = list(ws.db.query(
            "select * from findings where visit_id = ? and source = 'rule'", [visit["id"]]))
        new_findings = finding_rows(judgement["findings"], visit_id=visit["id"], case=case,
                                    created_at=ws.now().isoformat())
        old_keys = {(f["code"], f["title"]) for f in old_rule_findings}
        new_keys = {(f["code"], f["title"]) for f in new_findings}
        for f in old_rule_findings:
            if (f["code"], f["title"]) not in new_keys:
                ws.delete("findings", f["id"], reason=f"visit amended: {reason}")
        for f in new_findings:
            if (f["code"], f["title"]) not in old_keys:
                ws.insert("findings", f, note=f"visit amended: {reason}")
        open_promises = list(ws.db.query(
            "select * from promises where visit_id = ? and kept is null", [visit["id"]]))
        wanted = {(p["what"], p["due_at"]) for p in judgement["promises"]}
        have = {(p["what"], p["due_at"]) for p in open_promises}
        for p in open_promises:
            if (p["what"], p["due_at"]) not in wanted:
                ws.delete("promises", p["id"], reason=f"visit amended: {reason}")
        for what, due in wanted - have:
            ws.insert("promises", {"visit_id": visit["id"], "what": what, "promised_at": row["visited_at"],
                                   "due_at": due, "kept": None, "created_at": ws.now().isoformat()},
                      note=f"visit amended: {reason}")
    return updated


def refuse_voided(visit: dict, what: str) -> None:
    """A voided visit stays as it was voided: amending or reviewing it would bring a record
    made by mistake back into the figures."""
    if visit.get("review_state") == VOIDED:
        raise InvalidInput(f"visit {short(visit['id'])} was voided and cannot be {what}; record the visit "
                           "again if it did take place")


def void_visit(ws: Workspace, visit: dict, *, reason: str) -> dict:
    """Void a visit recorded by mistake (a duplicate, a test entry): its review state becomes
    ``voided``, so it leaves every figure, public and working (``stats.visit_filter``), while
    the row, its findings and the audit log keep what was recorded. Audited with the reason."""
    if not (reason or "").strip():
        raise InvalidInput("voiding a visit needs a reason (--reason)")
    refuse_voided(visit, "voided again")
    with ws.transaction():
        updated = ws.update("visits", visit["id"], {"review_state": VOIDED}, reason=reason.strip(), action="void")
        ws.insert("reviews", {"visit_id": visit["id"], "state": VOIDED, "comment": reason.strip(),
                              "reviewer": ws.actor, "at": ws.now().isoformat()})
    return updated


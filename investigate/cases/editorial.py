"""From fieldwork to publication: sign-offs, retests, versions and corrections.

The pre-publication checklist that reads these is the publication policy's
(``investigate.policy.gate``). A sign-off records the audit position it signed, so that
the checklist can tell when the records changed after it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

from ..errors import InvalidInput
from ..store.workspace import Workspace
from .cases import create_case
from ..policy.private import refuse_private
from ..protocol.protocols import parse_duration
from .stores import add_to_frame

PUBLICATION_KINDS = ("pdf", "database")


def sign_off(ws: Workspace, case: dict, *, role: str, signed_by: str, note: str | None = None) -> dict:
    """Record a sign-off (e.g. role "legal counsel"). The role is public in the checklist;
    the person's name stays internal."""
    if not role or not role.strip():
        raise InvalidInput("a sign-off needs a --role, e.g. 'legal counsel'")
    if not signed_by or not signed_by.strip():
        raise InvalidInput("a sign-off needs --by: who signed")
    # The audit position says what was signed: a later write to the case's records voids it.
    return ws.insert("signoffs", {"case_id": case["id"], "role": role.strip(), "signed_by": signed_by.strip(),
                                  "note": note, "at": ws.now().isoformat(), "audit_seq": audit_head(ws)})


def _change_clauses(case: dict) -> tuple[str, dict]:
    """Audit entries that change what a case's outputs say: the case itself (status changes
    aside), its visits and what hangs off them, its frame, replies, samples and corrections.
    Publications and sign-offs are not changes to what was signed."""
    by_visit = "(select id from {t} where visit_id in (select id from visits where case_id = :c))"
    owned = {
        "visits": "(select id from visits where case_id = :c)",
        "findings": by_visit.format(t="findings"), "evidence": by_visit.format(t="evidence"),
        "promises": by_visit.format(t="promises"), "reviews": by_visit.format(t="reviews"),
        "replies": "(select id from replies where case_id = :c)",
        "reply_items": "(select id from reply_items where reply_id in (select id from replies where case_id = :c))",
        "case_stores": "(select id from case_stores where case_id = :c)",
        "samples": "(select id from samples where case_id = :c)",
    }
    clauses = ["(a.table_name = 'cases' and a.row_id = :c and a.action != 'status')",
               # A new correction changes what is printed; noting the version it first appeared
               # in (an update made by publishing) does not.
               "(a.table_name = 'corrections' and a.action = 'insert' and a.row_id in "
               "(select id from corrections where case_id = :c))"]
    clauses += [f"(a.table_name = '{t}' and a.row_id in {sub})" for t, sub in owned.items()]
    # Rows deleted since are no longer found by the sub-selects; their entries keep the old row.
    clauses.append("(a.action = 'delete' and json_extract(a.data, '$.old.case_id') = :c)")
    clauses.append("(a.action = 'delete' and json_extract(a.data, '$.old.visit_id') in "
                   "(select id from visits where case_id = :c))")
    return " or ".join(clauses), {"c": case["id"]}


def changes_since(ws: Workspace, case: dict, seq: int) -> int:
    """How many audited writes to the case's records came after audit entry ``seq``."""
    where, params = _change_clauses(case)
    return ws.db.execute(f"select count(*) from audit_log a where a.seq > :s and ({where})",
                         {**params, "s": seq}).fetchone()[0]


def content_key(ws: Workspace, case: dict, *, named: set | frozenset = frozenset()) -> str:
    """What a public file of the case says, whatever its language: the last change to the
    case's records and the businesses that may be named (which changes as reply windows
    close, without any write). Editions with the same key share one version number."""
    where, params = _change_clauses(case)
    last = ws.db.execute(f"select max(seq) from audit_log a where {where}", params).fetchone()[0] or 0
    return hashlib.sha256(json.dumps([last, sorted(named)]).encode()).hexdigest()


def audit_head(ws: Workspace) -> int:
    """The newest audit entry's number: what a sign-off signed."""
    return ws.db.execute("select coalesce(max(seq), 0) from audit_log").fetchone()[0]


def record_publication(ws: Workspace, case: dict, *, kind: str, path: Path | str,
                       edition: str = "public", language: str | None = None,
                       override_reason: str | None = None, content: str | None = None) -> dict:
    """Give a public file its version number and record its SHA-256, so any copy that
    circulates can be checked against what was published. A file with the ``content`` of the
    latest version (the same report in another language) gets that version: a translation is
    not a correction."""
    if kind not in PUBLICATION_KINDS:
        raise InvalidInput(f"publication kind {kind!r} is not one of {', '.join(PUBLICATION_KINDS)}")
    data = Path(path).read_bytes()
    with ws.transaction():
        version = next_version(ws, case, kind, content=content)
        row = ws.insert("publications", {
            "case_id": case["id"], "kind": kind, "edition": edition, "version": version,
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "path": str(path),
            "language": language, "override_reason": override_reason, "created_at": ws.now().isoformat(),
            "content": content})
        for c in ws.db.query("select id from corrections where case_id = ? and first_version is null",
                             [case["id"]]):
            ws.update("corrections", c["id"], {"first_version": version},
                      reason=f"first published in {kind} version {version}")
    return row


def next_version(ws: Workspace, case: dict, kind: str, *, content: str | None = None) -> int:
    """The version number the next public file of this kind will get (printed on it): the
    latest version's when it says the same (``content``), else the next one."""
    latest = ws.db.execute("select version, content from publications where case_id = ? and kind = ? "
                           "order by version desc, created_at desc limit 1", [case["id"], kind]).fetchone()
    if latest is None:
        return 1
    return latest[0] if content is not None and latest[1] == content else latest[0] + 1


def publications(ws: Workspace, case: dict) -> list[dict]:
    """Every published file of the case: kind, version, language, SHA-256, file."""
    return list(ws.db.query("select * from publications where case_id = ? order by kind, version, language, created_at",
                            [case["id"]]))


def verify_publication(ws: Workspace, case: dict, path: Path | str) -> dict | None:
    """Which recorded version a file is, by its SHA-256; None if it matches none."""
    sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    rows = list(ws.db.query("select * from publications where case_id = ? and sha256 = ?", [case["id"], sha]))
    return rows[0] if rows else None


def add_correction(ws: Workspace, case: dict, *, note: str) -> dict:
    """A correction appears, dated, in the corrections section of the next version. Its text
    is printed as written, so it may hold no private string (a tester code, an unnamed shop)."""
    if not note or not note.strip():
        raise InvalidInput("a correction needs a --note")
    refuse_private(ws, note, what="correction", case=case)
    if not ws.db.execute("select 1 from publications where case_id = ?", [case["id"]]).fetchone():
        raise InvalidInput(f"case {case['slug']} has not been published yet: correct the records instead")
    return ws.insert("corrections", {"case_id": case["id"], "note": note.strip(),
                                     "created_at": ws.now().isoformat(), "first_version": None})


def corrections(ws: Workspace, case: dict) -> list[dict]:
    return list(ws.db.query("select * from corrections where case_id = ? order by created_at", [case["id"]]))


def plan_retest(ws: Workspace, case: dict, *, after: str = "90d", slug: str | None = None) -> dict:
    """A new round of the stores that sold, as a linked case: the follow-up ("did they
    change?") is one command away. The retest may start ``after`` the original's last visit."""
    delay = parse_duration(after)
    if delay <= timedelta(0):
        raise InvalidInput("--after must be a positive duration such as 90d")
    sold = list(ws.db.query(
        "select distinct s.* from visits v join stores s on s.id = v.store_id where v.case_id = ? "
        "and v.outcome = 'violation' and v.kind = 'undercover' "
        "and coalesce(v.review_state, 'received') != 'rejected' order by s.name", [case["id"]]))
    if not sold:
        raise InvalidInput(f"case {case['slug']} has no sales to retest")
    last = ws.db.execute("select max(visited_at) from visits where case_id = ?", [case["id"]]).fetchone()[0]
    start = (datetime.fromisoformat(last) + delay).date().isoformat()
    base = slug or f"{case['slug']}-retest"
    slug, n = base, 1
    while ws.db.execute("select 1 from cases where slug = ?", [slug]).fetchone():
        n += 1
        slug = f"{base}-{n}"
    with ws.transaction():
        new = create_case(ws, slug=slug[:64], title=f"{case['title']} — retest", protocol=case["protocol"],
                          jurisdiction=case["jurisdiction"] or "", legal_basis=case["legal_basis"] or "",
                          language=case["language"], reply_days=case["reply_days"] or 14,
                          description=(case["description"] or "") + f"\n\nRetest of {case['slug']}: "
                          f"the {len(sold)} stores that sold, from {start}.")
        new = ws.update("cases", new["id"], {"parent_case_id": case["id"], "planned_start": start},
                        reason=f"retest of {case['slug']}")
        add_to_frame(ws, new, sold)
    return {"case": new, "stores": len(sold), "planned_start": start}

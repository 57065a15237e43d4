"""From fieldwork to publication: sign-offs, retests, versions, corrections, and the move to
``published``.

The pre-publication checklist that reads these is the publication policy's
(``investigate.policy.gate``). A sign-off records the audit position it signed, so that
the checklist can tell when the records changed after it (``policy.changes``). A case becomes
published only through ``mark_published``, which asks the checklist first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from ..errors import InvalidInput
from ..files import file_sha256
from ..numbers.stats import counted_state_sql
from ..policy.changes import audit_head
from ..policy.gate import require_publishable
from ..policy.private import refuse_private
from ..store.workspace import Workspace
from .cases import create_case, set_status
from ..protocol.values import parse_duration
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


def record_publication(ws: Workspace, case: dict, *, kind: str, path: Path | str,
                       edition: str = "public", language: str | None = None,
                       override_reason: str | None = None, content: str | None = None) -> dict:
    """Give a public file its version number and record its SHA-256, so any copy that
    circulates can be checked against what was published. A file with the ``content`` of the
    latest version (the same report in another language) gets that version: a translation is
    not a correction."""
    if kind not in PUBLICATION_KINDS:
        raise InvalidInput(f"publication kind {kind!r} is not one of {', '.join(PUBLICATION_KINDS)}")
    # Hashed in chunks: a public database of a million visits is some 200 MB.
    sha, size = file_sha256(path), Path(path).stat().st_size
    with ws.transaction():
        version = next_version(ws, case, kind, content=content)
        row = ws.insert("publications", {
            "case_id": case["id"], "kind": kind, "edition": edition, "version": version,
            "sha256": sha, "size": size, "path": str(path),
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
    sha = file_sha256(path)
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


def mark_published(ws: Workspace, case: dict, *, override: str | None = None) -> dict:
    """Set the case's status to published: only through a passing checklist, or an override
    whose reason is recorded in the audit log."""
    reason = require_publishable(ws, case, override=override)
    with ws.transaction():
        if reason:
            ws.log_event("checklist-override", {"case_id": case["id"], "reason": reason, "for": "status published"})
        return set_status(ws, case, "published", reason=reason, checklist_passed=True)


def plan_retest(ws: Workspace, case: dict, *, after: str = "90d", slug: str | None = None) -> dict:
    """A new round of the stores that sold, as a linked case: the follow-up ("did they
    change?") is one command away. The retest may start ``after`` the original's last visit."""
    delay = parse_duration(after)
    if delay <= timedelta(0):
        raise InvalidInput("--after must be a positive duration such as 90d")
    sold = list(ws.db.query(
        "select distinct s.* from visits v join stores s on s.id = v.store_id where v.case_id = ? "
        "and v.outcome = 'violation' and v.kind = 'undercover' "
        f"and {counted_state_sql('v')} order by s.name", [case["id"]]))
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

"""From fieldwork to publication: the pre-publication checklist, sign-offs, retests,
versions and corrections.

The checklist is what a newsroom's standards desk asks before a name goes out: every visit
reviewed, every named business asked and its window closed or answered, the methodology
written down, the completion rate known, small cells suppressed, and a named role's legal
sign-off. ``publish`` and the public PDF refuse a case whose checklist is open unless an
override with a reason is given — and the override is recorded with the publication.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path

from ..disclosure import min_cell
from ..errors import InvalidInput, PolicyError
from ..fieldwork import completion
from ..workspace import Workspace
from .cases import create_case
from .protocols import parse_duration
from .replies import nameable_store_ids
from .review import review_counts
from .stores import add_to_frame

PUBLICATION_KINDS = ("pdf", "database")


def sign_off(ws: Workspace, case: dict, *, role: str, signed_by: str, note: str | None = None) -> dict:
    """Record a sign-off (e.g. role "legal counsel"). The role is public in the checklist;
    the person's name stays internal."""
    if not role or not role.strip():
        raise InvalidInput("a sign-off needs a --role, e.g. 'legal counsel'")
    if not signed_by or not signed_by.strip():
        raise InvalidInput("a sign-off needs --by: who signed")
    return ws.insert("signoffs", {"case_id": case["id"], "role": role.strip(), "signed_by": signed_by.strip(),
                                  "note": note, "at": ws.now().isoformat()})


def checklist(ws: Workspace, case: dict) -> list[dict]:
    """Each item: key, ok, and what is missing. Pure reading; nothing is written."""
    items = []

    def item(key, ok, detail):
        items.append({"key": key, "ok": bool(ok), "detail": detail})

    counts = review_counts(ws, case)
    pending = counts["received"] + counts["has_issues"]
    item("visits_reviewed", pending == 0 and counts["approved"] > 0,
         f"{pending} visit(s) await review" if pending else
         ("no approved visit" if not counts["approved"] else f"{counts['approved']} approved, "
                                                            f"{counts['rejected']} rejected"))

    violators = {r[0] for r in ws.db.execute(
        "select distinct store_id from visits where case_id = ? and outcome = 'violation' "
        "and coalesce(review_state, 'received') != 'rejected' and kind = 'undercover'", [case["id"]])}
    asked = {r[0] for r in ws.db.execute("select distinct store_id from replies where case_id = ?", [case["id"]])}
    closed = nameable_store_ids(ws, case)
    not_asked = violators - asked
    still_open = (violators & asked) - closed
    item("replies", not not_asked and not still_open,
         "; ".join(x for x in [f"{len(not_asked)} business(es) with findings not asked for comment" if not_asked else "",
                               f"{len(still_open)} reply window(s) still open" if still_open else ""] if x)
         or f"{len(violators)} business(es) asked; all answered or past their deadline")

    missing = [f for f in ("legal_basis", "jurisdiction", "description") if not (case.get(f) or "").strip()]
    item("methodology", not missing, f"missing: {', '.join(missing)}" if missing else "protocol, legal basis, "
         "jurisdiction and method described")

    overall = completion(ws, case)[0] if ws.db.execute(
        "select 1 from visits where case_id = ? limit 1", [case["id"]]).fetchone() else None
    item("completion_rate", overall is not None and overall["targets"] > 0,
         f"{overall['completed']} of {overall['targets']} completed ({overall['completion_rate']:.0%})"
         if overall and overall["targets"] else "no attempts recorded")

    threshold = min_cell(ws, case)
    item("small_cells", threshold >= 3, f"groups under {threshold} visits are merged or withheld"
         if threshold >= 3 else f"threshold {threshold} is too low to protect testers and clerks (use ≥ 3)")

    roles = [r["role"] for r in ws.db.query("select role from signoffs where case_id = ? order by at", [case["id"]])]
    legal = [r for r in roles if re.search(r"legal|lawyer|counsel|jurist|justitiar|advokat", r, re.I)]
    item("legal_signoff", bool(legal), f"signed off by {legal[-1]}" if legal else
         "no legal sign-off (investigate checklist signoff CASE --role 'legal counsel' --by NAME)")
    return items


def open_items(ws: Workspace, case: dict) -> list[dict]:
    return [i for i in checklist(ws, case) if not i["ok"]]


def require_publishable(ws: Workspace, case: dict, *, override: str | None = None) -> str | None:
    """Raise PolicyError naming what is missing, unless the checklist is complete or an
    override reason is given. Returns the override reason to record with the publication."""
    missing = open_items(ws, case)
    if not missing:
        return None
    if override is not None:
        if not override.strip():
            raise InvalidInput("--override needs a reason")
        return override.strip()
    raise PolicyError(f"case {case['slug']} is not ready to publish: "
                      + "; ".join(f"{i['key']}: {i['detail']}" for i in missing)
                      + " (or give --override \"reason\")")


def record_publication(ws: Workspace, case: dict, *, kind: str, path: Path | str,
                       edition: str = "public", language: str | None = None,
                       override_reason: str | None = None) -> dict:
    """Give a public file its next version number and record its SHA-256, so any copy that
    circulates can be checked against what was published."""
    if kind not in PUBLICATION_KINDS:
        raise InvalidInput(f"publication kind {kind!r} is not one of {', '.join(PUBLICATION_KINDS)}")
    data = Path(path).read_bytes()
    with ws.transaction():
        version = (ws.db.execute("select max(version) from publications where case_id = ? and kind = ?",
                                 [case["id"], kind]).fetchone()[0] or 0) + 1
        row = ws.insert("publications", {
            "case_id": case["id"], "kind": kind, "edition": edition, "version": version,
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "path": str(path),
            "language": language, "override_reason": override_reason, "created_at": ws.now().isoformat()})
        for c in ws.db.query("select id from corrections where case_id = ? and first_version is null",
                             [case["id"]]):
            ws.update("corrections", c["id"], {"first_version": version},
                      reason=f"first published in {kind} version {version}")
    return row


def next_version(ws: Workspace, case: dict, kind: str) -> int:
    """The version number the next public file of this kind will get (printed on it)."""
    return (ws.db.execute("select max(version) from publications where case_id = ? and kind = ?",
                          [case["id"], kind]).fetchone()[0] or 0) + 1


def publications(ws: Workspace, case: dict) -> list[dict]:
    return list(ws.db.query("select * from publications where case_id = ? order by kind, version", [case["id"]]))


def verify_publication(ws: Workspace, case: dict, path: Path | str) -> dict | None:
    """Which recorded version a file is, by its SHA-256; None if it matches none."""
    sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    rows = list(ws.db.query("select * from publications where case_id = ? and sha256 = ?", [case["id"], sha]))
    return rows[0] if rows else None


def add_correction(ws: Workspace, case: dict, *, note: str) -> dict:
    """A correction appears, dated, in the corrections section of the next version."""
    if not note or not note.strip():
        raise InvalidInput("a correction needs a --note")
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

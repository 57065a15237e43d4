"""The pre-publication gate: what a newsroom's standards desk asks before a name goes out.

Every visit reviewed; every business with a published finding asked, its window closed and
every such finding covered; the methodology written down; the completion rate known; small
cells merged; no private string in a printed text; and a named role's legal sign-off that
predates no change to the case's records; no record of the case amended differently by two
reporters and left unsettled by a merge. ``publish``, the public PDF, ``export --public``
and the move to ``published`` refuse a case whose checklist is open unless an override with a
reason is given — and the override is recorded with the publication. Private strings in
printed text are never overridden: outputs redact them whatever the checklist says.
"""

from __future__ import annotations

import re

from ..errors import InvalidInput, PolicyError
from ..ids import short
from ..store.workspace import Workspace
from .cells import min_cell
from .changes import changes_since
from .consent import visits_outside_consent
from .counting import PUBLIC, WORKING, case_counts, review_counts
from .coverage import company_named, stores_with_findings
from .naming import naming as make_naming
from .texts import text_problems

LEGAL_ROLE = re.compile(r"legal|lawyer|counsel|jurist|justitiar|advokat", re.I)


def checklist(ws: Workspace, case: dict, *, names=None) -> list[dict]:
    """Each item: key, ok, and what is missing. Pure reading; nothing is written. ``names``:
    the working scope's naming when the caller has it (``naming(ws, case, scope=WORKING)``),
    to list the businesses behind the counts without naming the case twice."""
    items = []

    def item(key, ok, detail):
        items.append({"key": key, "ok": bool(ok), "detail": detail})

    story = (case.get("kind") or "") == "story"
    counts = review_counts(ws, case)
    pending = counts["received"] + counts["has_issues"]
    # A story may rest on the person's documents alone: its checks need review, not existence.
    item("visits_reviewed", pending == 0 and (counts["approved"] > 0 or story),
         f"{pending} visit(s) await review" if pending else
         ("no approved visit" if not counts["approved"] else f"{counts['approved']} approved, "
                                                            f"{counts['rejected']} rejected"))

    # Every finding that is not rejected will be published once approved: all must be covered.
    names = names or make_naming(ws, case, scope=WORKING)
    status = reply_status(ws, case, names=names)
    with_findings = set(status)
    why = {}
    for reason in status.values():
        if reason != "named":
            why[reason] = why.get(reason, 0) + 1
    texts = {"not_asked": "{n} business(es) with findings not asked for comment",
             "window_open": "{n} reply window(s) still open",
             "chain_unnamed": "{n} business(es) whose name holds a chain that may not be named yet "
                              "(they are named with their chain)",
             "not_covered": "{n} business(es) with findings made or changed after their request "
                            "(ask again: investigate reply request)"}
    item("replies", not why, "; ".join(texts[k].format(n=n) for k, n in sorted(why.items()))
         or f"{len(with_findings)} business(es) with findings asked; every finding put to them and answered "
            "or past its deadline")

    if story:
        named = company_named(ws, case, names.named_stores)
        timeline = ws.db.execute("select count(*) from story_events where case_id = ?", [case["id"]]).fetchone()[0]
        item("story_reply", named and timeline,
             "no event on the timeline" if not timeline else
             f"every one of the {timeline} events put to the company, answered or past its deadline" if named
             else "the company was not asked about every event, or its window is open (investigate story ask)")

    outside = visits_outside_consent(ws, case)
    item("consent", not outside,
         "; ".join(f"visit {short(o['visit_id'])} ({o['day']}): {o['why']}" for o in outside[:5])
         + (f"; and {len(outside) - 5} more" if len(outside) > 5 else "") + " (investigate review VISIT reject --comment \"…\")"
         if outside else "every test within its tester's guardian consent")

    missing = [f for f in ("legal_basis", "jurisdiction", "description") if not (case.get(f) or "").strip()]
    item("methodology", not missing, f"missing: {', '.join(missing)} (investigate case edit)" if missing
         else "protocol, legal basis, jurisdiction and method described")

    if story:
        item("completion_rate", True, "a story, not a sample: no completion rate")
    else:
        # The completion the publication will print: the public scope, the one definition.
        counts = case_counts(ws, case, scope=PUBLIC)
        item("completion_rate", counts["stores_attempted"] > 0,
             f"{counts['stores_tested']} of {counts['target_stores']} stores tested "
             f"({counts['completion_rate']:.0%}, approved tests)" if counts["stores_attempted"] else "no attempts recorded")

    threshold = min_cell(ws, case)
    item("small_cells", threshold >= 3, f"groups under {threshold} completed tests are merged or withheld"
         if threshold >= 3 else f"threshold {threshold} is too low to protect testers and clerks (use ≥ 3)")

    problems = text_problems(ws, case, make_naming(ws, case, scope=PUBLIC))
    item("public_texts", not problems, "; ".join(problems) + " (printed redacted until rewritten)" if problems
         else "no private string in any printed text")

    disputed = open_merge_conflicts(ws, case)
    item("merge_conflicts", not disputed,
         f"{disputed} record(s) of the case amended differently by two reporters: pick one with "
         "investigate merge resolve ROW --keep ours|theirs (see investigate merge conflicts)" if disputed
         else "no open merge conflict")

    legal = [r for r in ws.db.query("select role, audit_seq from signoffs where case_id = ? order by at, rowid",
                                    [case["id"]]) if LEGAL_ROLE.search(r["role"])]
    if not legal:
        item("legal_signoff", False,
             "no legal sign-off (investigate checklist signoff CASE --role 'legal counsel' --by NAME)")
    else:
        changed = changes_since(ws, case, legal[-1]["audit_seq"] or 0)
        item("legal_signoff", changed == 0,
             f"signed off by {legal[-1]['role']}" if not changed else
             f"sign-off by {legal[-1]['role']} predates {changed} change(s) to the case's records: sign again")
    return items


def reply_status(ws: Workspace, case: dict, *, names=None) -> dict[str, str]:
    """Each business with a finding on a visit of the working scope (undercover, not rejected),
    by where its right of reply stands: ``named``, ``not_asked``, ``window_open``,
    ``chain_unnamed`` or ``not_covered`` — what the checklist counts and the editors' pages list."""
    names = names or make_naming(ws, case, scope=WORKING)
    return {store_id: names.status.get(store_id, "not_asked")
            for store_id, counts in stores_with_findings(ws, case).items() if counts}


def open_merge_conflicts(ws: Workspace, case: dict) -> int:
    """The case's records (the case, its visits, their findings and promises, its stores) that
    a merge found amended differently and no editor has settled (``merge resolve``)."""
    # Each open conflict looks its own row up (there are few), rather than every visit, finding
    # and promise of the case being gathered for each (1.4 s at a million visits).
    return ws.db.execute(
        """select count(*) from merge_conflicts c where c.held_for is null and c.resolved_at is null and (
             (c.table_name = 'cases' and c.row_id = :case)
             or (c.table_name = 'visits' and exists (select 1 from visits v where v.id = c.row_id and v.case_id = :case))
             or (c.table_name = 'findings' and exists (select 1 from findings f join visits v on v.id = f.visit_id
                                                       where f.id = c.row_id and v.case_id = :case))
             or (c.table_name = 'promises' and exists (select 1 from promises p join visits v on v.id = p.visit_id
                                                       where p.id = c.row_id and v.case_id = :case))
             or (c.table_name = 'stores' and (
                   exists (select 1 from case_stores s where s.store_id = c.row_id and s.case_id = :case)
                   or exists (select 1 from visits v where v.store_id = c.row_id and v.case_id = :case))))""",
        {"case": case["id"]}).fetchone()[0]


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

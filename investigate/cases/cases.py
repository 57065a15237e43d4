"""Cases: one investigation each, with a protocol, a jurisdiction and legal basis, a status."""

from __future__ import annotations

import json
import re

from ..errors import InvalidInput, MissingTranslation, NotFound, PolicyError
from ..store.lookup import resolve
from ..store.workspace import Workspace
from ..policy.counting import WORKING, case_counts
from ..policy.private import refuse_private
from ..protocol.protocols import get_protocol
from ..vocabulary import LANGUAGES, CASE_STATUSES
from .replies import CALENDARS, check_holiday_region

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def create_case(
    ws: Workspace,
    *,
    slug: str,
    title: str,
    protocol: str,
    jurisdiction: str = "",
    legal_basis: str = "",
    language: str | None = None,
    reply_days: int = 14,
    description: str = "",
    notes: str = "",
    reply_calendar: str = "days",
    holidays: str | None = None,
) -> dict:
    """A new case in ``planning``. The protocol must exist (built-in or the workspace's).
    Title and description are printed: they may hold no private string."""
    if not _SLUG.match(slug or ""):
        raise InvalidInput(f"case slug {slug!r}: use lowercase letters, digits and dashes (at most 64)")
    if not title or not title.strip():
        raise InvalidInput("a case needs a title")
    get_protocol(protocol, ws.root)
    language = language or ws.language
    if language not in LANGUAGES:
        raise InvalidInput(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    if reply_days < 1:
        raise InvalidInput("reply_days must be at least 1")
    if ws.db.execute("select 1 from cases where slug = ?", [slug]).fetchone():
        raise InvalidInput(f"a case with slug {slug!r} already exists")
    holidays = _check_calendar(reply_calendar, holidays)
    refuse_private(ws, title, what="case title")
    refuse_private(ws, description, what="case description")
    return ws.insert(
        "cases",
        {
            "slug": slug,
            "title": title.strip(),
            "protocol": protocol,
            "jurisdiction": jurisdiction,
            "legal_basis": legal_basis,
            "status": "planning",
            "language": language,
            "reply_days": reply_days,
            "description": description,
            "notes": notes,
            "created_at": ws.now().isoformat(),
            "reply_calendar": reply_calendar,
            "holidays": holidays,
        },
    )


def _check_calendar(reply_calendar: str, holidays: str | None) -> str | None:
    if reply_calendar not in CALENDARS:
        raise InvalidInput(f"reply calendar {reply_calendar!r} is not one of {', '.join(CALENDARS)}")
    return check_holiday_region(holidays)


#: What ``edit_case`` may change; everything else has its own command (status) or is fixed.
EDITABLE = ("title", "description", "reply_days", "legal_basis", "jurisdiction", "reply_calendar", "holidays",
            "language")


def edit_case(ws: Workspace, case: dict, *, reason: str | None = None, **changes) -> dict:
    """Change a case's title, method text, reply window, legal basis…, as one audited update.
    Printed text is checked for private strings, as when the case was made."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"cannot edit {', '.join(sorted(unknown))} of a case (editable: {', '.join(EDITABLE)})")
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise InvalidInput("nothing to change: give at least one of --title, --description, --reply-days, "
                           "--legal-basis, --jurisdiction")
    if "title" in changes and not changes["title"].strip():
        raise InvalidInput("a case needs a title")
    if "reply_days" in changes and int(changes["reply_days"]) < 1:
        raise InvalidInput("reply_days must be at least 1")
    if "language" in changes and changes["language"] not in LANGUAGES:
        raise InvalidInput(f"language {changes['language']!r} is not one of {', '.join(LANGUAGES)}")
    if "reply_calendar" in changes or "holidays" in changes:
        changes["holidays"] = _check_calendar(changes.get("reply_calendar", case.get("reply_calendar") or "days"),
                                              changes.get("holidays", case.get("holidays")))
    for key in ("title", "description"):
        if key in changes:
            changes[key] = changes[key].strip()
            refuse_private(ws, changes[key], what=f"case {key}", case=case)
    return ws.update("cases", case["id"], changes, reason=reason or "case edited", action="edit")


def case_text(case: dict, lang: str) -> dict:
    """The case's title and method text in ``lang``: its own fields in the case's language,
    else the translation given with ``case edit --lang``. None given is an error naming it:
    a Danish report does not print a German title."""
    if lang == case["language"]:
        return {"title": case["title"], "description": case["description"] or ""}
    given = json.loads(case.get("texts") or "{}").get(lang, {})
    missing = [k for k in ("title", "description") if k == "title" or case["description"]]
    missing = [k for k in missing if not given.get(k)]
    if missing:
        raise MissingTranslation(
            f"case {case['slug']} has no {' and no '.join(missing)} in {lang}: add "
            f"{' '.join('--' + k + ' …' for k in missing)} with investigate case edit {case['slug']} --lang {lang}")
    return {"title": given["title"], "description": given.get("description", "")}


def translate_case(ws: Workspace, case: dict, lang: str, *, title: str | None = None,
                   description: str | None = None, person: str | None = None, reason: str | None = None) -> dict:
    """Give the case's title and method text in another language it publishes in (audited;
    checked for private strings like the originals); for a story, also how its person is
    described (``person``), checked like the story's own description."""
    if lang not in LANGUAGES:
        raise InvalidInput(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    if lang == case["language"]:
        if person is not None:
            raise InvalidInput(f"the description of the person in {lang}, the case's own language, is the "
                               "story's (given when it was opened): --person is for the other languages")
        return edit_case(ws, case, reason=reason, title=title, description=description)
    texts = json.loads(case.get("texts") or "{}")
    given = dict(texts.get(lang, {}))
    if person is not None:
        # Checked as the story's own description is: no private string, and so never the name
        # of a person who did not consent to be named (the policy's private strings hold it).
        person = person.strip()
        if not person:
            raise InvalidInput(f"an empty description of the person in {lang}")
        refuse_private(ws, person, what=f"description of the person ({lang})", case=case, businesses=False)
        given["person"] = person
    for key, value in (("title", title), ("description", description)):
        if value is None:
            continue
        if not value.strip():
            raise InvalidInput(f"an empty {key} in {lang}")
        refuse_private(ws, value, what=f"case {key} ({lang})", case=case)
        given[key] = value.strip()
    if given == texts.get(lang, {}):
        raise InvalidInput("nothing to change: give --title, --description or (a story's) --person")
    texts[lang] = given
    return ws.update("cases", case["id"], {"texts": json.dumps(texts, ensure_ascii=False, sort_keys=True)},
                     reason=reason or f"case text in {lang}", action="edit")


def get_case(ws: Workspace, ref: str) -> dict:
    """A case by slug, id or unique id prefix."""
    return resolve(ws, "cases", ref)


def list_cases(ws: Workspace, *, status: str | None = None, scope: str = WORKING, counted: bool = True) -> list[dict]:
    """Every case with its visits, violations and stores tested, by the policy's one counting
    function (``policy.counting.case_counts``, the editors' working scope unless asked): the
    same figures ``stats`` and ``case show`` print. ``official`` counts a case's official
    inspections, which are never in its rate. ``counted=False``: the cases' rows alone."""
    sql = """
        select c.*,
          (select coalesce(sum(t.visits), 0) from visit_tallies t where t.case_id = c.id
             and t.kind = 'official') as official
        from cases c {where} order by c.created_at, c.slug
    """
    rows = ws.db.query(sql.format(where="where c.status = ?"), [status]) if status else ws.db.query(sql.format(where=""))
    if not counted:
        return list(rows)
    out = []
    for row in rows:
        counts = case_counts(ws, row, scope=scope)
        out.append({**row, "visits": counts["visits"], "violations": counts["violations"],
                    "provisional": counts["provisional"], "stores": counts["stores_tested"]})
    return out


def set_status(ws: Workspace, case: dict, status: str, *, reason: str | None = None,
               checklist_passed: bool = False) -> dict:
    """Move a case along planning → fieldwork → review → published (or back, with a reason).

    ``published`` is reached only through the publication policy's gate
    (``editorial.mark_published``), which checks the pre-publication
    checklist (or records an override) and then calls this with ``checklist_passed``."""
    if status not in CASE_STATUSES:
        raise InvalidInput(f"status {status!r} is not one of {', '.join(CASE_STATUSES)}")
    if status == "published" and case["status"] != "published" and not checklist_passed:
        raise PolicyError(f"case {case['slug']} becomes published only through its checklist "
                          "(investigate.cases.editorial.mark_published, or 'investigate case status SLUG published')")
    if CASE_STATUSES.index(status) < CASE_STATUSES.index(case["status"]) and not reason:
        raise InvalidInput(f"moving case {case['slug']} back from {case['status']} to {status} needs a reason")
    return ws.update("cases", case["id"], {"status": status}, reason=reason, action="status")


def case_summary(ws: Workspace, case: dict, *, scope: str = WORKING) -> dict:
    """Counts an editor wants on the case page: the figures from the policy's one counting
    function (``counts``: visits, violations, stores tested, completion… as ``stats`` and the
    report give them), and beside them what no figure counts (rejected visits)."""
    one = lambda sql: ws.db.execute(sql, [case["id"]]).fetchone()[0]  # noqa: E731
    counts = case_counts(ws, case, scope=scope)
    return {
        "case": case,
        "counts": counts,
        "visits": counts["visits"],
        "outcomes": {"violation": counts["violations"], "compliant": counts["compliant"],
                     "inconclusive": counts["inconclusive"], "not_completed": counts["not_completed"]},
        # Never counted anywhere; shown so that the editor sees why the totals are lower.
        "rejected": one("select coalesce(sum(visits), 0) from visit_tallies where case_id = ? "
                        "and kind = 'undercover' and review_state = 'rejected'"),
        "stores_tested": counts["stores_tested"],
        "target_stores": counts["target_stores"],
        "frame_size": one("select count(*) from case_stores where case_id = ?"),
        "findings": one("select coalesce(sum(findings), 0) from finding_tallies where case_id = ?"),
        # CROSS JOIN: walk the (smaller) child table and look each visit up, not every visit.
        "evidence": one("select count(*) from evidence e cross join visits v on v.id = e.visit_id "
                        "where v.case_id = ?"),
        "promises_open": one(
            "select count(*) from promises p join visits v on v.id = p.visit_id where v.case_id = ? and p.kept is null"
        ),
        "replies": one("select count(*) from replies where case_id = ?"),
        "first_visit": ws.db.execute("select min(visited_at) from visits where case_id = ?", [case["id"]]).fetchone()[0],
        "last_visit": ws.db.execute("select max(visited_at) from visits where case_id = ?", [case["id"]]).fetchone()[0],
    }


def require_case(ws: Workspace, ref: str | None) -> dict:
    """The case named, or the only case in the workspace when none is named."""
    if ref:
        return get_case(ws, ref)
    rows = list(ws.db.query("select * from cases order by created_at limit 2"))
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise NotFound("no cases yet (create one with 'investigate case new')")
    raise InvalidInput("several cases exist: name one with --case")

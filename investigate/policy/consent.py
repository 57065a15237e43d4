"""A minor's guardian consent is a timeline: a test counts only between its date and its withdrawal.

One rule, asked in two places: when a visit is recorded or imported (``cases.testers``
refuses it, naming the consent date and the tester code) and by the checklist, which lists
any visit in the data outside its tester's consent — older records, merged bundles — before
anything is published. The report's method says "all N tests within the testers' consent"
from the same rule.

Both dates are days (the consent form and its withdrawal are dated, not timed). A test on the
day of the consent is within it; a test on the day of the withdrawal or after is not: a
guardian who withdraws in the morning is not asked what they meant for the afternoon.
"""

from __future__ import annotations

from datetime import date

from ..numbers.stats import counted_state_sql
from ..store.workspace import Workspace

#: The tester column holding the day a guardian withdrew consent (issue 25; issue 24's
#: ``tester edit --withdrawn`` writes it).
WITHDRAWN = "consent_withdrawn_at"


def outside_consent(tester: dict, on: date) -> str | None:
    """Why a test by ``tester`` on ``on`` is outside their guardian's consent, or None."""
    code = tester["code"]
    given = tester.get("consent_date")
    if given and on.isoformat() < given[:10]:
        return f"tester {code}'s guardian consent dates from {given[:10]}: a test on {on} is before it"
    withdrawn = tester.get(WITHDRAWN)
    if withdrawn and on.isoformat() >= withdrawn[:10]:
        return f"tester {code}'s guardian consent was withdrawn on {withdrawn[:10]}: a test on {on} is not within it"
    return None


def visits_outside_consent(ws: Workspace, case: dict) -> list[dict]:
    """Every undercover visit of ``case`` (rejected and voided ones aside) that its tester's consent does
    not cover: visit id, day, tester code and the reason. Read per tester and day, not per visit."""
    if WITHDRAWN not in {c.name for c in ws.db["testers"].columns}:
        return []
    out = []
    # SQL only narrows: the visits before their tester's consent day or from the withdrawal day
    # on (a visit's time begins with its day, so it sorts below a later day and at or above its
    # own), each range a seek on the (tester, time) index, not every visit of the case (3.2 s at a
    # million). Which of them are outside is still ``outside_consent``'s to say.
    for row in ws.db.query(
            f"""with candidates(id) as (
                  select v.id from testers t cross join visits v on v.tester_id = t.id
                  where v.visited_at < substr(t.consent_date, 1, 10)
                  union
                  select v.id from testers t cross join visits v on v.tester_id = t.id
                  where v.visited_at >= substr(t.{WITHDRAWN}, 1, 10))
                select v.tester_id, substr(v.visited_at, 1, 10) as day, t.code, t.consent_date, t.{WITHDRAWN},
                       group_concat(v.id) as visit_ids
                from candidates c cross join visits v on v.id = c.id join testers t on t.id = v.tester_id
                where v.case_id = ? and v.kind = 'undercover' and {counted_state_sql('v')}
                group by v.tester_id, day order by day""", [case["id"]]):
        why = outside_consent(row, date.fromisoformat(row["day"]))
        if why:
            out += [{"visit_id": vid, "day": row["day"], "tester": row["code"], "why": why}
                    for vid in sorted(row["visit_ids"].split(","))]
    return out


def tests_within_consent(ws: Workspace, case: dict, condition: tuple[str, list]) -> int:
    """How many completed tests by a tester the counted visits (``condition``, from
    ``counting.visit_condition``) hold: what the method's "all N tests within the testers'
    consent" counts, once the checklist found none outside."""
    cond, params = condition
    return ws.db.execute(f"select count(*) from visits v where v.case_id = ? and {cond} and v.tester_id is not null "
                         "and coalesce(v.attempt, 'completed') = 'completed'", [case["id"], *params]).fetchone()[0]

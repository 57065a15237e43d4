"""A store's official record, for the report: "this shop had an FDA warning letter in 2019".

Official visits (kind 'official') come from imports of public records (FDA, LIVES). They are
context beside a newsroom's own tests and never count in an undercover rate; this module only
reads them.
"""

from __future__ import annotations

import json

from ..store.workspace import Workspace

#: source → the agency a sentence can name.
AGENCIES = {"fda": "FDA", "lives": "health department"}
FDA_DECISIONS = {
    "no_violations_observed": "no violations observed",
    "warning_letter": "warning letter",
    "civil_money_penalty": "civil money penalty",
    "no_tobacco_sale_order": "no-tobacco-sale order",
}


def official_history(ws: Workspace, store: dict) -> list[dict]:
    """Every official visit of a store, oldest first, as plain dicts: date, year, source,
    agency, result (a short phrase), outcome, the findings' titles and codes, and a sentence
    a report can print ("FDA warning letter, 14 March 2019" style left to the template:
    here ``summary`` is "FDA: warning letter (2019-03-14)")."""
    rows = ws.db.query(
        "select v.id, v.visited_date, v.visited_at, v.source, v.protocol, v.outcome, v.answers, "
        "c.slug as case_slug from visits v join cases c on c.id = v.case_id "
        "where v.store_id = ? and v.kind = 'official' order by v.visited_at, v.id", [store["id"]])
    out = []
    for v in rows:
        answers = json.loads(v["answers"] or "{}")
        findings = list(ws.db.query(
            "select code, title, severity from findings where visit_id = ? order by code, title", [v["id"]]))
        agency = AGENCIES.get(v["source"], v["source"] or "official")
        if v["source"] == "fda":
            result = FDA_DECISIONS.get(answers.get("decision_type"), answers.get("decision_type") or v["outcome"])
        elif v["source"] == "lives":
            score = answers.get("score")
            n = answers.get("violations", len(findings))
            result = (f"score {score:g}, " if isinstance(score, (int, float)) else "") + \
                f"{n} violation{'s' if n != 1 else ''}"
        else:
            result = v["outcome"]
        date = v["visited_date"] or (v["visited_at"] or "")[:10]
        out.append({
            "visit_id": v["id"],
            "date": date,
            "year": int(date[:4]) if date[:4].isdigit() else None,
            "source": v["source"],
            "agency": agency,
            "protocol": v["protocol"],
            "case": v["case_slug"],
            "result": result,
            "outcome": v["outcome"],
            "sale_to_minor": answers.get("sale_to_minor"),
            "findings": [dict(f) for f in findings],
            "summary": f"{agency}: {result} ({date})",
        })
    return out


__all__ = ["official_history"]

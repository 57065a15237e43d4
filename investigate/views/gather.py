"""A case gathered into plain data for the templates: nothing here renders, nothing writes.

The public edition asks the publication policy (``investigate.policy``) what the public
database asks: which visits count (approved undercover visits), who may be named (a store
whose every printed finding was put to it and its window closed — otherwise "Store A" with
its district; a chain only when all its stores may be named — otherwise "Chain A") and which
texts may be printed (redacted of private strings); times at day precision; no tester,
observer, note or evidence file name; groups below the disclosure threshold merged, and the
report says so, naming only what may be named. The internal edition shows everything that is
not rejected, review states included, and marks unreviewed visits as provisional.
"""

from __future__ import annotations

import json
from datetime import datetime

from .. import policy
from ..numbers import stats
from ..numbers.design import round_estimates
from ..cases import editorial
from ..cases.geo import near_summary
from ..cases.history import official_history
from ..cases.samples import recorded_draw
from ..protocol.protocols import get_protocol
from ..vocabulary import NOT_COMPLETED, OUTCOMES, SEVERITIES
from ..policy import OTHER, PUBLIC, WORKING, min_cell, protect_groups
from ..policy.changes import content_key
from ..policy.consent import tests_within_consent, visits_outside_consent
from ..policy.counting import approved_only
from ..policy.texts import corrections
from ..store.workspace import Workspace
from .charts import rate_chart
from .edition import edition_of
from .i18n import labels
from .tiles import basemap, boundaries
from .maps import STRIP, store_map

EDITIONS = ("public", "internal")


def gather(ws: Workspace, case: dict, *, edition: str = "public", lang: str | None = None,
           now: datetime | None = None) -> dict:
    if edition not in EDITIONS:
        raise ValueError(f"edition {edition!r} is not one of {', '.join(EDITIONS)}")
    ed = edition_of(ws, case, edition=edition, lang=lang, now=now)
    lang, public, _, fmt, now = ed.lang, ed.public, ed.gettext, ed.fmt, ed.now
    protocol = get_protocol(case["protocol"], ws.root)
    # Every protocol text in the report's language, or an error naming what is missing: a
    # German report never falls back to the protocol's English.
    ptext = protocol.texts(lang)
    ctext = ed.text
    scope = PUBLIC if public else WORKING
    names = policy.naming(ws, case, on=now)
    named = names.named_stores
    redact = names.redact if public else (lambda text: text)
    ptext = ptext.through(redact)
    cond, cond_params = policy.visit_condition(scope)
    args = [case["id"], *cond_params]
    visits = list(ws.db.query(
        f"""select v.*, s.name as store_name, s.address, s.city, s.district, s.chain, s.lat, s.lon,
                   t.code as tester_code
            from visits v join stores s on s.id = v.store_id left join testers t on t.id = v.tester_id
            where v.case_id = ? and {cond}
            order by v.visited_at, v.id""", args))
    # The same pseudonym as the letter and the public database: the policy's, never our own.
    labels_by_store = {v["store_id"]: v["store_name"] if not public else
                       names.store_label(v["store_id"], v["store_name"], _("Store")) for v in visits}
    words = labels(lang)
    outcome_text, attempt_text, review_text = words["outcome"], words["attempt"], words["review"]

    rows = []
    for v in visits:
        is_named = not public or v["store_id"] in named
        rows.append({
            "store": labels_by_store[v["store_id"]],
            "address": v["address"] if is_named else (v["district"] or ""),
            "date": fmt.day(v["visited_at"]) if public else fmt.moment(v["visited_at"]),
            "outcome": v["outcome"], "outcome_text": outcome_text.get(v["outcome"], v["outcome"]),
            "attempt": attempt_text.get(v["attempt"] or "completed", v["attempt"]),
            "round": v["round"] or 1,
            "tester": None if public else v["tester_code"],
            "review": None if public else review_text.get(v["review_state"] or "received", v["review_state"]),
            "provisional": not public and v["review_state"] != "approved",
            "observer": None if public else v["observer"],
            "notes": None if public else v["notes"],
        })

    # Findings grouped by business, the most severe business first and, within one, the most
    # severe finding first: "no sign at the till" must not read like "sold to a minor".
    rank = {sev: i for i, sev in enumerate(reversed(SEVERITIES))}
    by_store: dict[str, list[dict]] = {}
    for f in ws.db.query(
            f"""select f.*, v.store_id, v.visited_at from findings f join visits v on v.id = f.visit_id
                where v.case_id = ? and {cond} order by v.visited_at, f.code""", args):
        by_store.setdefault(f["store_id"], []).append({
            "date": fmt.day(f["visited_at"]), "title": ptext.finding_title(f["code"], f["title"]),
            "statute": redact(f["statute"]), "severity": f["severity"], "code": f["code"],
            "severity_text": words["severity"].get(f["severity"], f["severity"]),
            "observation": f["severity"] == "observation", "rank": rank.get(f["severity"], len(rank))})
    findings = []
    for store_id, items in by_store.items():
        items.sort(key=lambda f: f["rank"])
        findings.append({"store": labels_by_store.get(store_id, "?"), "entries": items, "rank": items[0]["rank"]})
    findings.sort(key=lambda g: (g["rank"], g["store"]))

    overall_rows = policy.case_rates(ws, case, scope=scope)
    overall = overall_rows[0] if overall_rows else stats.rate(0, 0)
    threshold = min_cell(ws, case)
    by = "chain" if any(v["chain"] for v in visits) else "district"
    group_rows = policy.case_rates(ws, case, scope=scope, by=by)
    if by == "chain" and public:
        group_rows = [{**r, "group": names.chain_label(r["group"], _("Chain"))} if r["group"] != "(independent)"
                      else r for r in group_rows]
    protected = protect_groups(group_rows, threshold=threshold) if public else {"rows": group_rows, "merged": [],
                                                                               "withheld": False}
    for r in protected["rows"]:
        if r["group"] == OTHER:
            r["group"] = _("other groups")
        elif r["group"] == "(independent)":
            r["group"] = _("(independent)")
    # Highest rate first, merged and withheld groups last: the chart reads as a ranking.
    protected["rows"].sort(key=lambda r: (r.get("merged_groups") is not None or r.get("withheld", False),
                                          -(r.get("rate") or 0), str(r["group"])))
    # Stores tested, completion and "sold at least once": the policy's one counting function.
    counts = policy.case_counts(ws, case, scope=scope)
    # A stratified sample: the headline is the weighted (Synar-style) estimate for the whole
    # frame in the sample's round, one test per sampled store; the unweighted rate beside it.
    design = round_estimates(ws, case, approved_only=approved_only(scope))
    weighted = design["headline"] if design else None
    # Rounds follow the public database's rule for small cells: the same rows, the same merging.
    round_rows = policy.case_rates(ws, case, scope=scope, by="round")
    several_rounds = len(round_rows) > 1
    if public:
        round_rows = protect_groups(round_rows, threshold=threshold)["rows"]
    # Rounds merged into one row would only repeat the overall figure: the method says why instead.
    rounds_merged = several_rounds and len(round_rows) < 2
    for r in round_rows:
        r["group"] = _("other rounds") if r["group"] == OTHER else r["group"]

    def shown(r: dict) -> dict:
        n = r.get("eligible")
        return {"group": r["group"], "eligible": n, "violations": r.get("violations"),
                "rate": fmt.pct(r.get("rate"), n), "ci": fmt.interval(r.get("ci_low"), r.get("ci_high"), n)}

    replies = []
    for r in ws.db.query("select * from replies where case_id = ? order by requested_at", [case["id"]]):
        if r["store_id"] not in labels_by_store:
            continue
        if public and r["store_id"] not in named:
            continue
        replies.append({"store": labels_by_store[r["store_id"]], "asked": fmt.day(r["requested_at"]),
                        "deadline": fmt.day(r["deadline"]), "answered": fmt.day(r["answered_at"]) if r["answered_at"] else None,
                        "answer": redact(r["answer"]), "channel": r["channel"],
                        "short_deadline_reason": redact(r["short_deadline_reason"])})
    unnamed_why = names.counts({v["store_id"] for v in visits}) if public else {}
    unnamed_why.pop("named", None)
    withheld_names = sum(unnamed_why.values())
    short_deadlines = [{"store": labels_by_store.get(r["store_id"], "?"), "reason": redact(r["short_deadline_reason"])}
                       for r in ws.db.query("select * from replies where case_id = ? and short_deadline_reason "
                                            "is not null order by requested_at", [case["id"]])
                       if r["store_id"] in labels_by_store]

    evidence = []
    for e in ws.db.query(
            f"""select e.*, v.store_id, v.visited_at from evidence e join visits v on v.id = e.visit_id
                where v.case_id = ? and {cond} order by e.added_at, e.sha256""", args):
        item = {"sha256": e["sha256"], "store": labels_by_store.get(e["store_id"], "?"), "media_type": e["media_type"],
                "captured": fmt.moment(e["captured_at"]) if (e["captured_at"] and not public) else
                (fmt.day(e["captured_at"]) if e["captured_at"] else None), "name": None, "thumbnail": None}
        if not public:
            item["name"] = e["original_name"]
            if (e["media_type"] or "").startswith("image/"):
                item["thumbnail"] = ws.evidence_path(e["sha256"]).as_uri()
        evidence.append({**item, "_order": (item["store"], e["captured_at"] or e["visited_at"] or "", e["sha256"])})
    # By business and time, as a reader looks things up (the hash order meant nothing to anyone).
    evidence = [{k: v for k, v in item.items() if k != "_order"} for item in sorted(evidence, key=lambda i: i["_order"])]

    official = []
    for store_id, label in labels_by_store.items():
        if public and store_id not in named:
            continue
        for h in official_history(ws, ws.get("stores", store_id)):
            official.append({"store": label, "summary": h.get("summary") or json.dumps(h, ensure_ascii=False)})

    # One numbered marker per store, coloured by its worst outcome; the key table names it.
    worst = (*OUTCOMES, NOT_COMPLETED)
    shops: dict[str, dict] = {}
    for v in visits:
        if (public and v["store_id"] not in named) or v["lat"] is None or v["lon"] is None:
            continue
        shop = shops.setdefault(v["store_id"], {"lat": v["lat"], "lon": v["lon"], "outcome": v["outcome"],
                                                "label": labels_by_store[v["store_id"]], "address": v["address"]})
        if worst.index(v["outcome"]) < worst.index(shop["outcome"]):
            shop["outcome"] = v["outcome"]
    points = sorted(shops.values(), key=lambda s: (worst.index(s["outcome"]), s["label"]))
    for number, point in enumerate(points, 1):
        point.update(number=number, outcome_text=outcome_text[point["outcome"]])
    ages = sorted({v["tester_age"] for v in visits if v["tester_age"] is not None})
    observers = sorted({v["observer"] for v in visits if v["observer"]})
    # A broken module is an error here, never a report that silently lacks its sentence.
    draw = recorded_draw(ws, case)
    if draw:  # how it was drawn, in words of the language ("geschichtet", not "stratified")
        method_text = lambda d: {**d, "method": words["sample"].get(d["method"], d["method"])}  # noqa: E731
        draw = {**method_text(draw), "replaced": [method_text(d) for d in draw["replaced"]]}
    near = near_summary(ws, case)

    period = (fmt.day(visits[0]["visited_at"]), fmt.day(visits[-1]["visited_at"])) if visits else (None, None)
    ages_text = (f"{ages[0]}–{ages[-1]}" if len(ages) > 1 else str(ages[0])) if ages else None
    story = {"violations": fmt.num(overall["violations"]), "eligible": fmt.num(overall["eligible"]), "ages": ages_text}
    # The first sentence is the finding in the protocol's own words where it has some.
    lede = (ptext.lede if ptext.lede and ages_text else
            _("%(violations)s of %(eligible)s completed tests ended in a violation.")) % story \
        if overall["eligible"] else _("No test has been completed yet.")
    content = content_key(ws, case, named=named) if public else None
    version = editorial.next_version(ws, case, "pdf", content=content) if public else None
    chart = rate_chart(protected["rows"], pct=fmt.pct, overall=overall if overall["eligible"] else None,
                       overall_label=_("all"))
    legend = {k: outcome_text[k] for k in worst if any(p["outcome"] == k for p in points)}
    base = basemap(ws, [(p["lat"], p["lon"]) for p in points if p.get("lat") is not None and p.get("lon") is not None],
                   width=640, height=460 - STRIP)
    map_svg = store_map(points, legend=legend, scale_label=lambda m: f"{fmt.num(m)} m" if m < 1000 else f"{fmt.num(m / 1000)} km",
                        basemap=base, boundaries=boundaries(ws))
    return {
        "lang": lang, "edition": edition, "public": public,
        "title": redact(ctext["title"]), "newsroom": ws.newsroom, "lede": lede,
        "masthead": {**{k: ws.setting("newsroom", k, "") for k in ("contact", "url")},
                     "byline": fmt.names(ws.setting("newsroom", "byline", ""))}, "case_slug": case["slug"], "case_id": case["id"],
        "generated": fmt.long_day(now.date()), "version": version, "content": content,
        "period": period,
        "figures": {"visits": overall.get("visits", 0) if overall_rows else 0, "eligible": overall["eligible"],
                    "violations": overall["violations"], "rate": fmt.pct(overall["rate"], overall["eligible"]),
                    "ci": fmt.interval(overall["ci_low"], overall["ci_high"], overall["eligible"]),
                    "rate_raw": overall["rate"], "ci_low_raw": overall["ci_low"], "ci_high_raw": overall["ci_high"],
                    "stores": counts["stores_tested"], "target_stores": counts["target_stores"],
                    "provisional": overall.get("provisional", 0) if not public else 0,
                    "inconclusive": overall.get("inconclusive", 0), "not_completed": overall.get("not_completed", 0),
                    "completion": fmt.pct(counts["completion_rate"], counts["target_stores"]),
                    "weighted": None if weighted is None else {
                        "rate": fmt.pct(weighted["estimate"], overall["eligible"]),
                        "ci": fmt.interval(weighted["ci_low"], weighted["ci_high"], overall["eligible"]),
                        "strata": len(weighted["strata"]), "round": weighted["round"],
                        "stores": weighted["stores_tested"]}},
        "method": {
            "protocol": ptext.title, "protocol_description": ptext.description,
            "questions": [{"prompt": ptext.prompts[q.key], "choices": ", ".join(ptext.choice(q.key, c) for c in q.choices)}
                          for q in protocol.questions],
            "legal_basis": case["legal_basis"], "jurisdiction": case["jurisdiction"],
            "description": redact(ctext["description"]),
            "ages": ages_text,
            # Said only when the checklist's consent rule finds no test outside a consent.
            "consent_tests": tests_within_consent(ws, case, (cond, cond_params))
            if protocol.uses_testers and not visits_outside_consent(ws, case) else None,
            "id_policy": ptext.id_policy, "observers": len(observers),
            "observer_names": None if public else observers,
            "draw": draw, "threshold": threshold, "merged": [_("(independent)") if g == "(independent)" else g for g in protected["merged"]], "withheld": protected["withheld"],
            "grouping": _("chain") if by == "chain" else _("district"),
            "reply_days": case["reply_days"], "withheld_names": withheld_names, "unnamed_why": unnamed_why,
            "short_deadlines": short_deadlines,
        },
        "groups": [shown(r) for r in protected["rows"]],
        "overall": shown({**overall, "group": _("all")}),
        "chart": chart, "map": map_svg, "map_key": points,
        # Said by the command, not printed in the PDF: the map went without (some of) its tiles.
        "warnings": [f"the map is drawn without its tiles ({base['tile_server_late']})"]
        if base and base.get("tile_server_late") else [],
        "rounds": [shown(r) for r in round_rows] if several_rounds and not rounds_merged else [],
        "rounds_merged": rounds_merged,
        "sold_once": fmt.pct(counts["sold_at_least_once_rate"], counts["stores_judged"]) if several_rounds else None,
        "visits": rows, "findings": findings, "replies": replies, "official": official, "near": near,
        "corrections": [{"date": fmt.day(c["created_at"]), "note": redact(c["note"])}
                        for c in corrections(ws, case)],
        "evidence": evidence,
        "fmt": fmt,
    }

"""The service report: a customer-service case gathered into plain data and rendered.

What a reader of a service test needs: a company × channel scorecard, the dimensions with their
intervals as a chart, response times by channel (Kaplan–Meier medians, open replies counted),
promises kept and broken (the clock decides what is overdue), price honesty, the findings, the
companies' replies verbatim, and the method. Figures come from ``investigate.views.scorecard`` and
``investigate.numbers.stats``; which visits count is the publication policy's decision (approved only in
public), who may be named is ``policy.naming``'s, small groups are folded as
``policy.protect_groups`` decides. A company is named only when every one of its tested
contact points may be. A public edition with nothing publishable is refused, never rendered
empty. Nothing here writes; ``reports.build.build_report`` renders it and records a public
PDF's version.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from babel.dates import format_timedelta
from babel.numbers import format_currency
from babel.units import get_unit_name

from ..cases import editorial
from ..cases.promises import clock_findings
from ..protocol.model import ProtocolText
from ..protocol.protocols import get_protocol
from ..protocol.values import DIMENSIONS
from .. import policy
from ..numbers import stats
from ..policy import OTHER, min_cell
from ..errors import PolicyError
from ..policy.changes import content_key
from .scorecard import printed_labels, scorecard, scored_visits
from ..store.workspace import Workspace
from .charts import TIME_UNITS, dimension_panel, response_panel
from .edition import edition_of
from .i18n import answer_language, translations


def labels(lang: str) -> dict:
    """Dimension and channel names in the report's language: one place for both."""
    _ = translations(lang).gettext
    return {
        "dimensions": {"courtesy": _("Courtesy"), "respect": _("Respect"), "commitment": _("Commitment"),
                       "honesty": _("Honesty"), "resolution": _("Resolution")},
        "channels": {"phone": _("Phone"), "email": _("E-mail"), "web": _("Web form"), "in_person": _("Counter"),
                     "mail": _("Letter"), OTHER: _("other groups")},
    }


def gather_service(ws: Workspace, case: dict, *, edition: str = "public", lang: str | None = None,
                   now: datetime | None = None) -> dict:
    ed = edition_of(ws, case, edition=edition, lang=lang, now=now)
    lang, public, _, fmt, now = ed.lang, ed.public, ed.gettext, ed.fmt, ed.now
    names = labels(lang)
    # The case's title and method and every protocol text in the report's language, or an
    # error naming what is missing: never the case's German or the protocol's English instead.
    ctext = ed.text
    texts_of: dict[str, ProtocolText] = {}

    def ptext(key: str) -> ProtocolText:
        if key not in texts_of:
            texts_of[key] = get_protocol(key, ws.root).texts(lang).through(redact)
        return texts_of[key]
    threshold = min_cell(ws, case)
    rows = scored_visits(ws, case, approved_only=public, now=now)
    overall = scorecard(ws, case, by=(), approved_only=public, now=now, threshold=threshold if public else None,
                        scored=rows)
    if public and (not rows or overall["withheld"]):
        why = ("no approved, completed test" if not rows else
               f"fewer than {threshold} approved tests, the smallest group that may be shown")
        raise PolicyError(f"case {case['slug']}: nothing can be published in a public edition: {why}")

    # Who may be named: a company only when every contact point of it that was tested may be.
    naming = policy.naming(ws, case, on=now)
    redact = naming.redact if public else (lambda text: text)
    stores_of = {r["company"] for r in rows}  # the companies tested
    label_of = printed_labels(rows, naming.named_stores, public=public, gettext=_)

    def group_label(group: dict) -> dict:
        out = {}
        if "company" in group:
            out["company"] = label_of.get(group["company"], group["company"])
        if "channel" in group:
            out["channel"] = names["channels"].get(group["channel"], group["channel"])
        return out

    def figure(d: dict | None, digits: int = 0) -> dict:
        if not d or d.get("mean") is None:
            return {"text": "–", "ci": ""}
        ci = (f"{fmt.num(round(d['ci_low'], digits))}–{fmt.num(round(d['ci_high'], digits))}"
              if d.get("ci_low") is not None else "")
        return {"text": fmt.num(round(d["mean"], digits)), "ci": ci, "n": d["n"]}

    def share(d: dict) -> dict:
        if not d["n"]:
            return {"text": "–", "ci": "", "k": 0, "n": 0}
        return {"text": fmt.pct(d["rate"]), "ci": f"{fmt.pct(d['ci_low'])} – {fmt.pct(d['ci_high'])}",
                "k": d["k"], "n": d["n"]}

    def duration(minutes: float | None) -> str:
        if minutes is None:
            return "–"
        return format_timedelta(timedelta(minutes=minutes), threshold=1.5, locale=fmt.locale)

    def reply_time(rm: dict) -> dict:
        low = duration(rm["ci_low"]) if rm["ci_low"] is not None else "?"
        high = duration(rm["ci_high"]) if rm["ci_high"] is not None else "?"
        return {"median": duration(rm["median"]) if rm["median"] is not None else _("not reached"),
                "ci": f"{low} – {high}" if rm["median"] is not None else "", "n": rm["n"], "open": rm["open"]}

    threshold_or_none = threshold if public else None
    unit_names = {unit: get_unit_name(f"duration-{unit}", length="long", locale=fmt.locale)
                  for unit, *unused in TIME_UNITS}
    grid = scorecard(ws, case, by=("company", "channel"), approved_only=public, now=now, threshold=threshold_or_none,
                     scored=rows)
    by_company = scorecard(ws, case, by=("company",), approved_only=public, now=now, threshold=threshold_or_none,
                           scored=rows)
    by_channel = scorecard(ws, case, by=("channel",), approved_only=public, now=now, threshold=threshold_or_none,
                           scored=rows)
    dims = [d for d in DIMENSIONS if any(d in g["dimensions"] for g in by_company["groups"])]
    dim_labels = [(d, names["dimensions"][d]) for d in dims]

    def score_row(g: dict) -> dict:
        return {"group": group_label(g["group"]), "tests": g["tests"],
                "dims": [figure(g["dimensions"].get(d)) for d in dims], "overall": figure(g["overall"]),
                "promises": share(g["promises_kept"]), "fatal": g["fatal"]}

    # Companies ranked by their overall score, best first (unscored last): the order of every
    # per-company table and of the findings.
    ranked = sorted(by_company["groups"], key=lambda g: (
        (g["overall"] or {}).get("mean") is None, -((g["overall"] or {}).get("mean") or 0)))
    rank_of = {group_label(g["group"])["company"]: n for n, g in enumerate(ranked)}
    # Each dimension a small chart of its own, the overall score first, companies in the
    # ranking's order on one 0–100 scale.
    def bars(key: str) -> list[dict]:
        return [{"label": group_label(g["group"])["company"],
                 **((g["overall"] if key == "overall" else g["dimensions"].get(key)) or {})} for g in ranked]
    dimension_charts = [chart for chart in (dimension_panel(label, bars(key), num=fmt.num, highlight=key == "overall")
                                            for key, label in [("overall", _("Overall")), *dim_labels]) if chart]
    total = overall["groups"][0] if overall["groups"] else None

    prices = []
    for r in rows:
        p = r["price"]
        if not p or not p["charged"] or not p["quoted"]:
            continue
        money = lambda v: format_currency(Decimal(v["amount"]), v["currency"], locale=fmt.locale)  # noqa: E731
        prices.append({"company": label_of[r["company"]], "date": fmt.day(r["visited_at"]),
                       "channel": names["channels"].get(r["channel"], r["channel"]),
                       "quoted": money(p["quoted"]), "charged": money(p["charged"]),
                       "difference": money(p["difference"]) if p["difference"] else "–",
                       "over": bool(p["difference"] and Decimal(p["difference"]["amount"]) > 0)})

    # Findings of the visits that count, and the clock's: overdue promises count as broken now.
    counted = {r["visit_id"]: r for r in rows}
    findings = []
    for f in ws.db.query("select f.*, v.visited_at from findings f join visits v on v.id = f.visit_id "
                         "where v.case_id = ? order by v.visited_at, f.code", [case["id"]]):
        if f["visit_id"] in counted:
            findings.append({"visit_id": f["visit_id"], "code": f["code"], "title": f["title"],
                             "statute": f["statute"], "visited_at": f["visited_at"], "clock": False})
    for f in clock_findings(ws, case, now=now):
        if f["visit_id"] in counted:
            findings.append({**f, "clock": True})
    finding_rows = [{"visit_id": f["visit_id"], "code": f["code"],  # not printed: what a letter is checked against
                     "company": label_of[counted[f["visit_id"]]["company"]],
                     "channel": names["channels"].get(counted[f["visit_id"]]["channel"], ""),
                     "date": fmt.day(f["visited_at"]),
                     "title": ptext(counted[f["visit_id"]]["protocol"]).finding_title(f["code"], f["title"]),
                     "statute": redact(f["statute"]) or "",
                     "clock": f["clock"]} for f in sorted(findings, key=lambda f: f["visited_at"])]
    # Grouped by company, in the ranking's order; by date within a company.
    finding_rows.sort(key=lambda f: rank_of.get(f["company"], len(rank_of)))
    finding_groups = [{"company": company, "rows": [f for f in finding_rows if f["company"] == company]}
                      for company in dict.fromkeys(f["company"] for f in finding_rows)]

    # What this edition says, whatever its language: its records, who may be named, the clock.
    content = content_key(ws, case, named=naming.named_stores, clock={f"{f['visit_id']} {f['code']}" for f in findings
                                                            if f["clock"]}) if public else None

    # Replies, once per company (a request covers all its tested channels), verbatim.
    replies, seen = [], set()
    store_company = {r["store_id"]: r["company"] for r in rows}
    for r in ws.db.query("select * from replies where case_id = ? order by requested_at, store_id", [case["id"]]):
        company = store_company.get(r["store_id"])
        if company is None or (public and label_of[company] != company):
            continue
        key = (company, r["requested_at"], r["answer"])
        if key in seen:
            continue
        seen.add(key)
        replies.append({"company": company, "asked": fmt.day(r["requested_at"]), "deadline": fmt.day(r["deadline"]),
                        "answered": fmt.day(r["answered_at"]) if r["answered_at"] else None,
                        "answer": redact(r["answer"]), **answer_language(fmt, r, case)})

    protocols = []
    for key in sorted({r["protocol"] for r in rows}):
        proto = get_protocol(key, ws.root)
        protocols.append({"title": ptext(key).title, "description": ptext(key).description,
                          "dimensions": ", ".join(names["dimensions"][d] for d in proto.sections),
                          "questions": [ptext(key).prompts[q.key] for q in proto.questions]})
    period = (fmt.day(min(r["visited_at"] for r in rows)), fmt.day(max(r["visited_at"] for r in rows))) if rows \
        else ("–", "–")
    reply_days = overall["groups"][0]["no_reply_within"]["days"] if overall["groups"] else 2
    return {
        "lang": lang, "edition": edition, "public": public, "title": ctext["title"], "newsroom": ws.newsroom,
        "case_slug": case["slug"], "case_id": case["id"], "generated": fmt.long_day(now.date()),
        "version": editorial.next_version(ws, case, "pdf", content=content) if public else None,
        "content": content, "period": period,
        "dimension_names": [label for _, label in dim_labels],
        "figures": {"tests": len(rows), "companies": len(stores_of),
                    "channels": len({r["channel"] for r in rows}),
                    "overall": figure(total["overall"]) if total else figure(None),
                    "promises": share(total["promises_kept"]) if total else share({"n": 0}),
                    "overcharged": share(total["overcharged"]) if total else share({"n": 0})},
        "grid": [score_row(g) for g in grid["groups"]],
        "companies": [{**score_row(g), "rank": n} for n, g in enumerate(ranked, 1)],
        "lede": lede(by_company["groups"], by_channel["groups"], _=_, duration=duration),
        "dimension_charts": dimension_charts,
        "channels": [{"channel": group_label(g["group"])["channel"], "tests": g["tests"],
                      "reply": reply_time(g["response_minutes"]),
                      "late": share(g["no_reply_within"])} for g in by_channel["groups"]],
        "response_charts": [response_panel(
            f'{group_label(g["group"])["channel"]} (n={g["tests"]})', g["response_curve"],
            median=g["response_minutes"]["median"], pct=fmt.pct, num=fmt.num, unit_names=unit_names,
            median_label=_("median %(time)s") % {"time": duration(g["response_minutes"]["median"])},
            open_label=_("%(n)s without a response")) for g in by_channel["groups"] if g["response_curve"]],
        "promises": [{"company": group_label(g["group"])["company"], **g["promises_kept"],
                      "share": share(g["promises_kept"])} for g in ranked],
        "prices": prices, "findings": finding_rows, "finding_groups": finding_groups, "replies": replies,
        "method": {"description": ctext["description"], "legal_basis": case["legal_basis"],
                   "min_score_n": stats.MIN_SCORE_N,
                   "jurisdiction": case["jurisdiction"], "protocols": protocols, "threshold": threshold,
                   "merged": [" / ".join(group_label(g).values()) for g in grid["merged"]], "reply_days": fmt.num(reply_days),
                   "case_reply_days": case["reply_days"],
                   "withheld_names": sum(1 for c in stores_of if label_of[c] != c)},
        "fmt": fmt,
    }



def lede(companies: list[dict], channels: list[dict], *, _, duration) -> str:
    """The report's first sentence, from its figures: how many companies broke a promise made
    in a test (the clock's overdue ones count as broken), and how long e-mail answers took."""
    scored = [g for g in companies if g["group"].get("company") != OTHER]
    broke = sum(1 for g in scored if g["promises_kept"]["broken"] + g["promises_kept"]["overdue"])
    parts = [_("%(k)s of %(n)s companies broke a promise made to our testers.") % {"k": broke, "n": len(scored)}]
    email = next((g for g in channels if g["group"].get("channel") == "email"), None)
    if email and email["response_minutes"]["median"] is not None:
        parts.append(_("E-mail answers took a median of %(time)s.") % {"time": duration(email["response_minutes"]["median"])})
    return " ".join(parts)

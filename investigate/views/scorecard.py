"""Scorecards for customer-service cases: per company, channel or both, how tests scored.

For each group: the number of completed tests; each dimension's mean score (percent of the
points possible, one value per test) with a 95 % bootstrap interval; the overall score; the share of
due promises kept on time (Wilson), with the promise clock deciding what is overdue; the share
of price checks that found an overcharge; and the median time to a reply by Kaplan–Meier with
replies still open as censored times, plus how many waited longer than N days.

Scores come from the protocols' own declarations (``Protocol.score``), the intervals from
``investigate.numbers.stats``; nothing here invents a figure. Which visits count is
``stats.visit_filter``'s decision; small groups in public follow ``disclosure.protect_groups``;
who may be named in public, ``company_labels``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable, Iterator

from ..numbers import stats
from ..numbers.clock import case_promises
from ..protocol.versions import protocol_of_visit
from ..protocol.protocols import get_protocol
from ..protocol.values import DIMENSIONS
from ..policy import OTHER, naming, protect_groups
from ..policy.naming import letters
from ..errors import InvalidInput
from ..store.usage import case_protocols
from ..store.workspace import Workspace

GROUP_KEYS = ("company", "channel", "representative", "escalation")
#: Group keys that are answers of the tests (optional questions; a test without one is "(unknown)").
ANSWER_KEYS = ("representative", "escalation")
DEFAULT_REPLY_DAYS = 2


def is_service_case(ws: Workspace, case: dict) -> bool:
    """A case whose protocol (or any protocol its visits used) scores service dimensions."""
    keys = {case["protocol"], *case_protocols(ws.db, case["id"])}
    return any(get_protocol(k, ws.root).scored for k in keys)


def parse_by(text: str | None) -> tuple[str, ...]:
    """``company``, ``channel``, ``company,channel``, ``representative`` (who answered), ``escalation``
    (offered, on request, refused), any of them joined by commas (or empty: the whole case)."""
    if not text:
        return ()
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in keys if k not in GROUP_KEYS]
    if bad or len(set(keys)) != len(keys):
        raise InvalidInput(f"--by {text!r}: expected {', '.join(GROUP_KEYS)} or some of them joined by commas")
    return keys


def scored_visits(ws: Workspace, case: dict, *, approved_only: bool = False, now: datetime | None = None) -> list[dict]:
    """Every completed visit of the case that counts, with its scores, promise states,
    response time and overcharge, and the company and channel it belongs to."""
    return list(iter_scored_visits(ws, case, approved_only=approved_only, now=now))


#: What ``summarize`` reads of a scored visit: a scorecard keeps only these of each.
SUMMARY_KEYS = ("sections", "overall", "fatal", "promises", "response", "overcharge")


def iter_scored_visits(ws: Workspace, case: dict, *, approved_only: bool = False,
                       now: datetime | None = None) -> Iterator[dict]:
    """``scored_visits`` one at a time, for a caller that keeps less of each."""
    now = now or ws.now()
    states, _ = case_promises(ws.db.execute, case["id"], now)
    # Streamed, not listed: each visit's row (its answers' JSON with it) is read, scored and let go,
    # as a tuple (a dict per row was a sixth of a 100,000-visit scorecard).
    visits = _tests(ws, case, approved_only, "v.id, v.protocol, v.protocol_hash, v.answers, v.visited_at, "
                                             f"v.store_id, s.channel, {COMPANY}")
    protocols: dict = {}
    for visit_id, key, protocol_hash, text, visited_at, store_id, channel, company in visits:
        # Each visit scored by the version that judged it (cached per version).
        version_key = protocol_hash or key
        if version_key not in protocols:
            protocols[version_key] = protocol_of_visit(ws, {"protocol": key, "protocol_hash": protocol_hash})
        protocol = protocols[version_key]
        answers = json.loads(text or "{}")
        promised = states.get(visit_id, [])
        values = protocol.values_of(answers)  # derived once for the score, the clock and the price
        score = protocol.score(answers, promised, now=now, values=values)
        price = None
        if protocol.overcharge:
            spec = next((d for d in protocol.derived if d.key == protocol.overcharge), None)
            if spec and spec.op == "difference":
                price = {"charged": values.get(spec.args[0]), "quoted": values.get(spec.args[1]),
                         "difference": values.get(spec.key)}
        yield {
            "visit_id": visit_id, "store_id": store_id, "company": company, "channel": channel,
            "protocol": key, "visited_at": visited_at,
            "sections": {k: s["percent"] for k, s in score["sections"].items()},
            "overall": score["overall"]["percent"], "fatal": score["fatal"],
            "promises": promised,
            "response": protocol.response_time(answers, now=now, values=values),
            "overcharge": protocol.overcharge_of(answers, values=values),
            "price": price,
            **{k: answers.get(k) for k in ANSWER_KEYS},
        }


#: The name a test's company goes by: its company's, else its chain's, else its own.
COMPANY = "coalesce(c.name, s.chain, s.name)"


def _tests(ws: Workspace, case: dict, approved_only: bool, columns: str):
    """``columns`` of the case's completed tests that count (``stats.visit_filter``), in time
    order: of each test's visit ``v``, store ``s`` and company ``c`` (``COMPANY``). What a
    scorecard scores, and whose companies a public one labels."""
    cond, params = stats.visit_filter(approved_only=approved_only)
    return ws.db.execute(
        f"""select {columns} from visits v join stores s on s.id = v.store_id left join companies c on c.id = s.company_id
            where v.case_id = ? and {cond} and coalesce(v.attempt, 'completed') = 'completed'
            order by v.visited_at, v.id""", [case["id"], *params])


def tested_contact_points(ws: Workspace, case: dict, *, approved_only: bool = False) -> list[dict]:
    """Each tested contact point (store) with its company, once: what ``company_labels`` reads
    of the scored visits, without scoring them (a public scorecard of 100,000 tests scored every
    one a second time for its labels)."""
    return [{"store_id": store_id, "company": company}
            for store_id, company in dict(_tests(ws, case, approved_only, f"v.store_id, {COMPANY}")).items()]


def summarize(rows: list[dict], *, confidence: float = 0.95, reply_days: float = DEFAULT_REPLY_DAYS) -> dict:
    """One group's figures from its scored visits: the JSON shape of ``scorecard``."""
    # Every dimension's scores and the overall ones, bootstrapped together (``mean_intervals``).
    scores = {d: [r["sections"][d] for r in rows if r["sections"].get(d) is not None] for d in DIMENSIONS}
    scores = {d: values for d, values in scores.items() if values}
    overall = [r["overall"] for r in rows if r["overall"] is not None]
    *figures, overall_figure = stats.mean_intervals([*scores.values(), overall], confidence)
    dims = dict(zip(scores, figures))
    promises = [s for r in rows for s in r["promises"] if s != "pending"]
    kept = sum(1 for s in promises if s == "kept")
    lo, hi = stats.wilson_interval(kept, len(promises), confidence)
    priced = [r["overcharge"] for r in rows if r["overcharge"] is not None]
    over = sum(1 for x in priced if x > 0)
    olo, ohi = stats.wilson_interval(over, len(priced), confidence)
    times = [r["response"] for r in rows if r["response"] is not None]
    return {
        "tests": len(rows),
        "dimensions": dims,
        "overall": overall_figure,
        "fatal": sum(1 for r in rows if r["fatal"]),
        "promises_kept": {"k": kept, "n": len(promises), "rate": kept / len(promises) if promises else None,
                          "ci_low": lo, "ci_high": hi,
                          "late": promises.count("late"), "broken": promises.count("broken"),
                          "overdue": promises.count("overdue")},
        "overcharged": {"k": over, "n": len(priced), "rate": over / len(priced) if priced else None,
                        "ci_low": olo, "ci_high": ohi,
                        "total": round(sum(x for x in priced if x > 0), 2)},
        "response_minutes": stats.km_median(times, confidence),
        "response_curve": stats.km_curve(times) if times else None,
        "no_reply_within": {"days": reply_days, **stats.no_reply_within(times, reply_days * 1440)},
    }


def company_labels(rows: Iterable[dict], nameable: set[str], *, word: str = "Company %(letter)s") -> dict[str, str]:
    """Each tested company's public label: its name only when every contact point of it that
    was tested may be named (``nameable``, from ``policy.naming``), else "Company A" (``word``
    in the output's language). A public scorecard and the service report both ask here."""
    stores_of: dict[str, set] = {}
    for r in rows:
        stores_of.setdefault(r["company"], set()).add(r["store_id"])
    labels, unnamed = {}, 0
    for company in sorted(stores_of):
        if stores_of[company] <= nameable:
            labels[company] = company
        else:
            labels[company] = word % {"letter": letters(unnamed)}
            unnamed += 1
    return labels


def printed_labels(rows: list[dict], nameable: set[str], *, public: bool, gettext) -> dict[str, str]:
    """Every company's label as a service output prints it, in that output's language
    (``gettext``): in public ``company_labels`` ("Company A" until it may be named), else its
    name; the folded small groups as "other groups". The service report and the public
    database's scorecard ask here, so one company carries one label in both."""
    _ = gettext
    labels = {OTHER: _("other groups")}
    labels.update(company_labels(rows, nameable, word=_("Company %(letter)s")) if public
                  else {r["company"]: r["company"] for r in rows})
    return labels


def public_scorecard(ws: Workspace, case: dict, card: dict, *, now: datetime | None = None) -> dict:
    """``card`` (a scorecard of approved visits, small groups merged) as it may be shown in
    public: companies that may not be named are "Company A", in its groups and in the list
    of groups merged away alike — that list once named every company, asked or not."""
    labels = company_labels(tested_contact_points(ws, case, approved_only=True), naming(ws, case, on=now).named_stores)

    def relabel(group: dict) -> dict:
        return {k: labels.get(v, "Company ?") if k == "company" and v != OTHER else v for k, v in group.items()}

    return {**card, "groups": [{**g, "group": relabel(g["group"])} for g in card["groups"]],
            "merged": [relabel(g) for g in card["merged"]]}


def scorecard(ws: Workspace, case: dict, *, by: tuple[str, ...] | str | None = ("company",),
              approved_only: bool = False, confidence: float = 0.95, now: datetime | None = None,
              threshold: int | None = None, reply_days: float | None = None,
              scored: Iterable[dict] | None = None) -> dict:
    """Per group ``{"group": {...}, "tests", "dimensions": {dim: {mean, ci_low, ci_high, n}},
    "overall", "promises_kept": {k, n, rate, ci_low, ci_high}, "response_minutes": {median,
    ci_low, ci_high, n, open}, …}``.

    ``threshold`` (the disclosure rule's smallest cell, for public figures) folds groups with
    fewer tests into one "other groups" row, computed from their visits, as
    ``disclosure.protect_groups`` decides; when the whole case is below it nothing is shown.

    ``scored``: the case's scored visits as ``scored_visits`` gives them for the same
    ``approved_only`` and ``now``, when the caller holds them already. A service report groups
    them four ways (the whole case, by company, by channel, by both): scoring every test again
    for each grouping was four passes of five for nothing."""
    by = parse_by(by) if isinstance(by, str) or by is None else tuple(by)
    if not is_service_case(ws, case):
        raise InvalidInput(f"case {case['slug']}: its protocol {case['protocol']} scores no service dimensions "
                           "(a scorecard needs a scored protocol, e.g. phone-hotline)")
    if reply_days is None:
        reply_days = float(ws.setting("service", "reply_days", DEFAULT_REPLY_DAYS))
    grouped: dict[tuple, list[dict]] = {}
    # Each visit's group and what its summary reads, not the whole scored row: a 100,000-visit
    # case held 317 MB of them.
    if scored is None:
        scored = iter_scored_visits(ws, case, approved_only=approved_only, now=now)
    for r in scored:
        grouped.setdefault(tuple(r[k] or "(unknown)" for k in by), []).append({k: r[k] for k in SUMMARY_KEYS})
    merged, withheld = [], False
    if threshold and threshold > 1 and grouped:
        names = {" / ".join(map(str, key)) or "all": key for key in grouped}
        decision = protect_groups([{"group": n, "completed": len(grouped[k]), "violations": 0, "compliant": 0}
                                   for n, k in names.items()], threshold=threshold)
        withheld = decision["withheld"]
        # The groups folded away, as group dicts: a public reader may need them renamed.
        merged = [dict(zip(by, names[n])) for n in decision["merged"]]
        if withheld:
            grouped = {}
        elif merged:
            folded = [r for n in decision["merged"] for r in grouped.pop(names[n])]
            grouped[tuple(OTHER for _ in by) or (OTHER,)] = folded
    groups = []
    for key in sorted(grouped, key=lambda k: (OTHER in k, [str(x) for x in k])):
        groups.append({"group": dict(zip(by, key)), **summarize(grouped[key], confidence=confidence,
                                                                reply_days=reply_days)})
    return {"case": case["slug"], "by": list(by), "approved_only": approved_only, "confidence": confidence,
            "groups": groups, "merged": merged, "withheld": withheld, "threshold": threshold}

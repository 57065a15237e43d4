"""The two documents: the case report (public or internal edition) and the letter asking a
business for comment. Plain values in, a PDF file and a summary dict out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from ..ids import short
from ..cases import editorial, replies
from ..cases.cases import case_text
from ..policy import gate
from ..errors import InvalidInput
from ..proof.log import CHECKPOINT_ATTACHMENT
from ..protocol.protocols import get_protocol
from ..store.workspace import Workspace
from ..views.gather import gather
from ..views.evidence_flags import flag_texts
from ..views.i18n import Formatter, labels, translations
from .render import SafeFetcher, render_pdf, templates_root

#: Visits a report lists in its own pages; more go to an annex, this many to a part (each part a
#: document of its own: render.render_pdf says why). ``[report] annex_rows`` in investigate.toml
#: sets another number.
ANNEX_ROWS = 1000


def annex_rows(ws: Workspace) -> int:
    value = ws.setting("report", "annex_rows", ANNEX_ROWS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{ws.config_path}: [report] annex_rows must be a whole number of at least 1, "
                           f"not {value!r}")
    return value


def visit_annex(context: dict, rows: int) -> Iterator[tuple[str, dict]]:
    """The parts of the annex listing a case's visits when they are more than ``rows``, and the
    report's context told so (``annex``: how many visits, parts and rows a part): the report
    then says where the visits are instead of listing them. Each part is the report's context
    (as it stands when the part is laid out: the checkpoint is added later) with its own slice of
    the visits, so it prints them exactly as the report would."""
    visits = context["visits"]
    if len(visits) <= rows:
        context["annex"] = None
        return iter(())
    context["annex"] = {"visits": len(visits), "parts": -(-len(visits) // rows), "rows": rows}
    return (("annex.html", {**context, "visits": visits[start:start + rows],
                            "annex": {**context["annex"], "part": start // rows + 1, "first": start + 1,
                                      "last": min(start + rows, len(visits))}})
            for start in range(0, len(visits), rows))


def checkpoint_context(ws: Workspace, *, purpose: str) -> dict:
    """A fresh signed checkpoint for a document, with its QR code: whoever holds the paper can
    later ask the newsroom to prove that its log only grew since."""
    import segno

    from ..proof.witnessing import make_witnessed_checkpoint

    cp = make_witnessed_checkpoint(ws, purpose=purpose)
    cp["qr"] = segno.make(cp["note"], error="m").svg_inline(scale=1.6, border=2)
    cp["public_key"] = ws.setting("log", "public_key")
    return cp


def default_path(ws: Workspace, case: dict, edition: str, lang: str, *, version: int | None = None) -> Path:
    folder = ws.root / "reports"
    folder.mkdir(exist_ok=True)
    suffix = f"-v{version}" if version else ""
    return folder / f"{case['slug']}-{edition}-{lang}{suffix}.pdf"


def build_report(ws: Workspace, case: dict, *, edition: str = "public", lang: str | None = None,
                 out: Path | str | None = None, override: str | None = None,
                 progress: Callable[[int], object] | None = None, total: Callable[[int], object] | None = None) -> dict:
    """Render the report. A public edition must pass the pre-publication checklist (or carry an
    override reason); it is then recorded with its version number and SHA-256. A case of scored
    customer-service tests gets the service report (views/service.py), a story the one-case
    report (views/story.py). ``total(n)`` is told how many documents will be written (the
    report and each part of its annex), ``progress(1)`` as each is."""
    from ..views.scorecard import is_service_case
    from ..views.service import gather_service

    override_reason = gate.require_publishable(ws, case, override=override) if edition == "public" else None
    annex = iter(())
    if (case.get("kind") or "") == "story":
        from ..views.story import gather_story

        kind, template = "story", "story.html"
        context = gather_story(ws, case, edition=edition, lang=lang)
        figures = dict(context["figures"])
    elif is_service_case(ws, case):
        kind, template = "service", "service.html"
        context = gather_service(ws, case, edition=edition, lang=lang)
        figures = {k: context["figures"][k] for k in ("tests", "companies")}
    else:
        kind, template = "case", "report.html"
        context = gather(ws, case, edition=edition, lang=lang)
        annex = visit_annex(context, annex_rows(ws))
        figures = {k: v for k, v in context["figures"].items() if k.endswith("_raw") or k in ("violations", "eligible")}
    cp = checkpoint_context(ws, purpose=f"report {case['slug']} {edition}")
    context["checkpoint"] = cp
    if total:
        total(1 + ((context.get("annex") or {}).get("parts") or 0))
    out = Path(out) if out else default_path(ws, case, edition, context["lang"], version=context["version"])
    out.parent.mkdir(parents=True, exist_ok=True)
    fetcher = SafeFetcher([templates_root(), ws.root])
    pdf = render_pdf(template, context, workspace_root=ws.root, out=out, fetcher=fetcher,
                     attachments={CHECKPOINT_ATTACHMENT: cp["note"]}, annex=annex,
                     progress=progress)
    result = {"pdf": str(out), "edition": edition, "lang": context["lang"], "bytes": len(pdf), "kind": kind,
              "figures": figures, "refused_urls": fetcher.refused,
              "checkpoint": {"size": cp["size"], "root": cp["root"], "timestamp": cp.get("timestamp"),
                             "witnesses": cp.get("witnesses")},
              "warnings": context.get("warnings", [])}
    if edition == "public":
        pub = editorial.record_publication(ws, case, kind="pdf", path=out, language=context["lang"],
                                           override_reason=override_reason, content=context.get("content"))
        result.update(version=pub["version"], sha256=pub["sha256"])
    return result


def letter_requests(ws: Workspace, case: dict, store: dict) -> list[tuple[dict, dict]]:
    """The requests a letter puts in writing, with their contact points. A contact point of a
    company is answered for by the company: the letter is the company's latest request, which
    ``company ask`` makes for every contact point the case tested at one time, so that one
    letter lists every channel — the company is told all that will be published about it."""
    if not store.get("company_id"):
        request = replies.latest_request(ws, case, store)
        return [(store, request)] if request else []
    rows = list(ws.db.query(
        "select r.* from replies r join stores s on s.id = r.store_id where r.case_id = ? and s.company_id = ? "
        "order by r.requested_at desc, r.rowid desc", [case["id"], store["company_id"]]))
    if not rows:
        return []
    latest, chosen = rows[0]["requested_at"], {}
    for r in rows:
        if r["requested_at"] == latest:
            chosen.setdefault(r["store_id"], r)
    tested = [sid for (sid,) in ws.db.execute(
        "select distinct v.store_id from visits v join stores s on s.id = v.store_id where v.case_id = ? "
        "and s.company_id = ? and coalesce(v.review_state, 'received') != 'rejected'",
        [case["id"], store["company_id"]])]
    left_out = [ws.get("stores", sid)["name"] for sid in tested if sid not in chosen]
    if left_out:
        company = ws.get("companies", store["company_id"])
        raise InvalidInput(f"the latest request to {company['name']} ({latest}) does not cover its contact point "
                           f"{left_out[0]}: ask again for all its channels (investigate company ask "
                           f"{case['slug']} {short(company['id'])})")
    return [(ws.get("stores", sid), r) for sid, r in sorted(chosen.items(), key=lambda kv: ws.get(
        "stores", kv[0])["name"])]


def reply_contact(ws: Workspace) -> dict:
    """Where and to whom a business answers, from ``[newsroom]`` in investigate.toml: ``contact``
    (an e-mail address), ``address`` (postal) and ``reply_person`` (else the first of the byline)."""
    byline = ws.setting("newsroom", "byline") or []
    person = ws.setting("newsroom", "reply_person") or (byline[0] if isinstance(byline, list) and byline else byline)
    return {"contact": ws.setting("newsroom", "contact") or None, "address": ws.setting("newsroom", "address") or None,
            "person": person or None}


def build_letter(ws: Workspace, case: dict, store: dict, *, lang: str | None = None,
                 out: Path | str | None = None) -> dict:
    """The right-of-reply letter: exactly what the request put to the business — every contact
    point (all of a company's channels, ``letter_requests``), every visit with its date and
    time, every finding (observations included, marked as such; a promise the clock finds
    overdue counts as broken, as the report prints it) and the evidence kept — until when, and
    to whom to answer.

    The letter is the request in writing, so it needs one (``investigate reply request``, or
    ``company ask``) whose deadline is still ahead: a letter dated today never asks for an
    answer by yesterday."""
    from ..cases.promises import clock_findings
    from ..views.service import labels as service_labels

    lang = lang or case["language"] or ws.language
    fmt = Formatter(lang, ws.setting("newsroom", "timezone", None))
    asked = letter_requests(ws, case, store)
    company = ws.get("companies", store["company_id"]) if store.get("company_id") else None
    if not asked:
        how = (f"investigate company ask {case['slug']} {short(company['id'])}" if company else
               f"investigate reply request {case['slug']} {short(store['id'])}")
        raise InvalidInput(f"no reply request for {(company or store)['name']} in case {case['slug']}: record one "
                           f"first ({how})")
    request = asked[0][1]
    today = ws.now()
    if datetime.fromisoformat(request["deadline"]) <= today:
        raise InvalidInput(f"the deadline of the latest request ({request['deadline']}) is not after today: "
                           "record a new request before writing the letter")
    words, channels = labels(lang), service_labels(lang)["channels"]
    gettext = translations(lang).gettext
    outcome_text, severity_text = words["outcome"], words["severity"]
    texts_of = {}

    def title_of(protocol: str, code: str, title: str) -> str:
        # A finding is titled by the protocol of its own visit: a service case tests each
        # channel with its own protocol, and the case's protocol does not know the others' codes.
        if protocol not in texts_of:
            texts_of[protocol] = get_protocol(protocol, ws.root).texts(lang)
        return texts_of[protocol].finding_title(code, title)

    clock = {}
    for f in clock_findings(ws, case, now=today):
        clock.setdefault(f["visit_id"], []).append(f)
    points, listed, evidence = [], [], []
    for point, req in asked:
        items = replies.request_items(ws, req)
        stored = {}
        for f in items["findings"]:
            stored.setdefault(f["visit_id"], []).append(f)
        visits = []
        for v in items["visits"]:
            found = [{**f, "clock": False} for f in stored.get(v["id"], [])]
            found += [{**f, "protocol": v["protocol"], "clock": True} for f in clock.get(v["id"], [])]
            outcome = "violation" if any(f["clock"] for f in found) else v["outcome"]
            visits.append({"date": fmt.day_time(v["visited_at"]), "outcome_text": outcome_text.get(outcome, outcome),
                           "findings": [{"title": title_of(f["protocol"], f["code"], f["title"]),
                                         "statute": f["statute"], "severity": severity_text.get(f["severity"],
                                                                                                f["severity"]),
                                         "observation": f["severity"] == "observation"} for f in found]})
            listed += [{"store_id": point["id"], "visit_id": v["id"], "code": f["code"], "visited_at": v["visited_at"],
                        "clock": f["clock"]} for f in found]
        for key in {v["protocol"] for v in items["visits"]} - set(texts_of):
            texts_of[key] = get_protocol(key, ws.root).texts(lang)
        points.append({"name": point["name"], "channel": channels.get(point["channel"] or "", ""),
                       "protocols": sorted({texts_of[v["protocol"]].title for v in items["visits"]}),
                       "contact": point.get("contact") or ", ".join(
                           x for x in (point.get("address"), point.get("city")) if x), "visits": visits})
        evidence += [{"point": point["name"], "date": fmt.day_time(e["visited_at"]), "sha256": e["sha256"],
                      "media_type": e["media_type"], "captured": fmt.day_time(e["captured_at"]) if e["captured_at"]
                      else None,
                      # What the file cannot show, or where it is off: the business sees it too.
                      "flags": flag_texts(ws, e, {"id": e["visit_id"], "visited_at": e["visited_at"],
                                                  "store_id": e["store_id"]}, gettext=gettext, fmt=fmt)}
                     for e in items["evidence"]]
    context = {
        "lang": lang, "newsroom": ws.newsroom, "title": case_text(case, lang)["title"],
        "addressee": company["name"] if company else store["name"], "store": None if company else store,
        "legal_basis": case["legal_basis"], "today": fmt.long_day(today.date()),
        "deadline": fmt.long_day(request["deadline"]),
        "channel": words["channel"].get(request["channel"], request["channel"]),
        "points": points, "evidence": evidence, "reply": reply_contact(ws),
        "findings": len(listed),
    }
    cp = checkpoint_context(ws, purpose=f"letter {case['slug']} {(company or store)['id']}")
    context["checkpoint"] = cp
    if out is None:
        out = ws.root / "reports" / f"{case['slug']}-letter-{short((company or store)['id'])}-{lang}.pdf"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = render_pdf("letter.html", context, workspace_root=ws.root, out=out,
                     attachments={CHECKPOINT_ATTACHMENT: cp["note"]})
    return {"pdf": str(out), "lang": lang, "bytes": len(pdf), "visits": sum(len(p["visits"]) for p in points),
            "findings": len(listed), "listed": listed, "contact_points": len(points), "evidence": len(evidence),
            "deadline": request["deadline"], "request": request["id"],
            "requests": [req["id"] for _, req in asked]}

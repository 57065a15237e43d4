"""The two documents: the case report (public or internal edition) and the letter asking a
business for comment. Plain values in, a PDF file and a summary dict out."""

from __future__ import annotations

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
from ..views.i18n import Formatter, labels
from .render import SafeFetcher, render_pdf, templates_root




def checkpoint_context(ws: Workspace, *, purpose: str) -> dict:
    """A fresh signed checkpoint for a document, with its QR code: whoever holds the paper can
    later ask the newsroom to prove that its log only grew since."""
    import segno

    from ..proof import log

    cp = log.make_checkpoint(ws, purpose=purpose)
    cp["qr"] = segno.make(cp["note"], error="m").svg_inline(scale=1.6, border=2)
    cp["public_key"] = ws.setting("log", "public_key")
    return cp


def default_path(ws: Workspace, case: dict, edition: str, lang: str, *, version: int | None = None) -> Path:
    folder = ws.root / "reports"
    folder.mkdir(exist_ok=True)
    suffix = f"-v{version}" if version else ""
    return folder / f"{case['slug']}-{edition}-{lang}{suffix}.pdf"


def build_report(ws: Workspace, case: dict, *, edition: str = "public", lang: str | None = None,
                 out: Path | str | None = None, override: str | None = None) -> dict:
    """Render the report. A public edition must pass the pre-publication checklist (or carry an
    override reason); it is then recorded with its version number and SHA-256. A case of scored
    customer-service tests gets the service report (views/service.py), a story the one-case
    report (views/story.py)."""
    from ..views.scorecard import is_service_case
    from ..views.service import gather_service

    override_reason = gate.require_publishable(ws, case, override=override) if edition == "public" else None
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
        figures = {k: v for k, v in context["figures"].items() if k.endswith("_raw") or k in ("violations", "eligible")}
    cp = checkpoint_context(ws, purpose=f"report {case['slug']} {edition}")
    context["checkpoint"] = cp
    out = Path(out) if out else default_path(ws, case, edition, context["lang"], version=context["version"])
    out.parent.mkdir(parents=True, exist_ok=True)
    fetcher = SafeFetcher([templates_root(), ws.root])
    pdf = render_pdf(template, context, workspace_root=ws.root, out=out, fetcher=fetcher,
                     attachments={CHECKPOINT_ATTACHMENT: cp["note"]})
    result = {"pdf": str(out), "edition": edition, "lang": context["lang"], "bytes": len(pdf), "kind": kind,
              "figures": figures, "refused_urls": fetcher.refused,
              "checkpoint": {"size": cp["size"], "root": cp["root"], "timestamp": cp.get("timestamp")},
              "warnings": context.get("warnings", [])}
    if edition == "public":
        pub = editorial.record_publication(ws, case, kind="pdf", path=out, language=context["lang"],
                                           override_reason=override_reason, content=context.get("content"))
        result.update(version=pub["version"], sha256=pub["sha256"])
    return result


def build_letter(ws: Workspace, case: dict, store: dict, *, lang: str | None = None,
                 out: Path | str | None = None) -> dict:
    """The right-of-reply letter for the store's latest reply request: exactly what the request
    put to the business — every visit with its date and time, every finding (observations
    included, marked as such) and the evidence kept — until when, and how to answer.

    The letter is the request in writing, so it needs one (``investigate reply request``) whose
    deadline is still ahead: a letter dated today never asks for an answer by yesterday."""
    lang = lang or case["language"] or ws.language
    fmt = Formatter(lang, ws.setting("newsroom", "timezone", None))
    request = replies.latest_request(ws, case, store)
    if request is None:
        raise InvalidInput(f"no reply request for {store['name']} in case {case['slug']}: record one first "
                           f"(investigate reply request {case['slug']} {short(store['id'])})")
    today = ws.now()
    if datetime.fromisoformat(request["deadline"]) <= today:
        raise InvalidInput(f"the deadline of the latest request ({request['deadline']}) is not after today: "
                           "record a new request before writing the letter")
    items = replies.request_items(ws, request)
    ptext = get_protocol(case["protocol"], ws.root).texts(lang)
    # A finding is titled by the protocol of its own visit: a service case tests each channel
    # with its own protocol, and the case's protocol does not know the others' codes.
    texts_of = {case["protocol"]: ptext}
    for key in {f["protocol"] for f in items["findings"]} - set(texts_of):
        texts_of[key] = get_protocol(key, ws.root).texts(lang)
    words = labels(lang)
    outcome_text, severity_text = words["outcome"], words["severity"]
    context = {
        "lang": lang, "newsroom": ws.newsroom, "title": case_text(case, lang)["title"], "store": store,
        "protocol": ptext.title, "legal_basis": case["legal_basis"],
        "today": fmt.long_day(today.date()), "deadline": fmt.long_day(request["deadline"]),
        "channel": words["channel"].get(request["channel"], request["channel"]),
        "visits": [{"date": fmt.day_time(v["visited_at"]), "outcome_text": outcome_text.get(v["outcome"], v["outcome"])}
                   for v in items["visits"]],
        "findings": [{"date": fmt.day_time(f["visited_at"]), "title": texts_of[f["protocol"]].finding_title(f["code"], f["title"]), "statute": f["statute"],
                      "severity": severity_text.get(f["severity"], f["severity"]),
                      "observation": f["severity"] == "observation"} for f in items["findings"]],
        "evidence": [{"date": fmt.day_time(e["visited_at"]), "sha256": e["sha256"], "media_type": e["media_type"],
                      "captured": fmt.day_time(e["captured_at"]) if e["captured_at"] else None}
                     for e in items["evidence"]],
    }
    cp = checkpoint_context(ws, purpose=f"letter {case['slug']} {store['id']}")
    context["checkpoint"] = cp
    if out is None:
        out = ws.root / "reports" / f"{case['slug']}-letter-{short(store['id'])}-{lang}.pdf"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = render_pdf("letter.html", context, workspace_root=ws.root, out=out,
                     attachments={CHECKPOINT_ATTACHMENT: cp["note"]})
    return {"pdf": str(out), "lang": lang, "bytes": len(pdf), "visits": len(items["visits"]),
            "findings": len(items["findings"]), "evidence": len(items["evidence"]), "deadline": request["deadline"],
            "request": request["id"]}

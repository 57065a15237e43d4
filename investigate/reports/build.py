"""The two documents: the case report (public or internal edition) and the letter asking a
business for comment. Plain values in, a PDF file and a summary dict out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ..cases import editorial
from ..cases.protocols import get_protocol
from ..workspace import Workspace
from .gather import gather
from .i18n import Formatter, translations
from .render import SafeFetcher, render_pdf, templates_root


def default_path(ws: Workspace, case: dict, edition: str, lang: str, *, version: int | None = None) -> Path:
    folder = ws.root / "reports"
    folder.mkdir(exist_ok=True)
    suffix = f"-v{version}" if version else ""
    return folder / f"{case['slug']}-{edition}-{lang}{suffix}.pdf"


def build_report(ws: Workspace, case: dict, *, edition: str = "public", lang: str | None = None,
                 out: Path | str | None = None, override: str | None = None) -> dict:
    """Render the report. A public edition must pass the pre-publication checklist (or carry an
    override reason); it is then recorded with its version number and SHA-256. A case of scored
    customer-service tests gets the service report (reports/service.py)."""
    from ..scorecard import is_service_case
    from .service import gather_service

    override_reason = editorial.require_publishable(ws, case, override=override) if edition == "public" else None
    if is_service_case(ws, case):
        kind, template = "service", "service.html"
        context = gather_service(ws, case, edition=edition, lang=lang)
        figures = {k: context["figures"][k] for k in ("tests", "companies")}
    else:
        kind, template = "case", "report.html"
        context = gather(ws, case, edition=edition, lang=lang)
        figures = {k: v for k, v in context["figures"].items() if k.endswith("_raw") or k in ("violations", "eligible")}
    out = Path(out) if out else default_path(ws, case, edition, context["lang"], version=context["version"])
    out.parent.mkdir(parents=True, exist_ok=True)
    fetcher = SafeFetcher([templates_root(), ws.root])
    pdf = render_pdf(template, context, workspace_root=ws.root, out=out, fetcher=fetcher)
    result = {"pdf": str(out), "edition": edition, "lang": context["lang"], "bytes": len(pdf), "kind": kind,
              "figures": figures, "refused_urls": fetcher.refused}
    if edition == "public":
        pub = editorial.record_publication(ws, case, kind="pdf", path=out, language=context["lang"],
                                           override_reason=override_reason)
        result.update(version=pub["version"], sha256=pub["sha256"])
    return result


def build_letter(ws: Workspace, case: dict, store: dict, *, lang: str | None = None,
                 out: Path | str | None = None) -> dict:
    """The right-of-reply letter: what was tested, when, what was found, until when and how to answer."""
    lang = lang or case["language"] or ws.language
    _ = translations(lang).gettext
    fmt = Formatter(lang)
    outcome_text = {"violation": _("violation"), "compliant": _("compliant"), "inconclusive": _("inconclusive"),
                    "not_completed": _("not completed")}
    visits = list(ws.db.query("select * from visits where case_id = ? and store_id = ? and kind = 'undercover' "
                              "order by visited_at", [case["id"], store["id"]]))
    findings = list(ws.db.query(
        "select f.*, v.visited_at from findings f join visits v on v.id = f.visit_id where v.case_id = ? "
        "and v.store_id = ? and f.severity != 'observation' order by v.visited_at", [case["id"], store["id"]]))
    request = ws.db.execute("select deadline, channel from replies where case_id = ? and store_id = ? "
                            "order by requested_at desc limit 1", [case["id"], store["id"]]).fetchone()
    deadline = request[0] if request else (ws.now() + timedelta(days=case["reply_days"] or 14)).isoformat()
    context = {
        "lang": lang, "newsroom": ws.newsroom, "title": case["title"], "store": store,
        "protocol": get_protocol(case["protocol"], ws.root).title, "legal_basis": case["legal_basis"],
        "today": fmt.long_day(ws.now().date()), "deadline": fmt.long_day(deadline),
        "channel": (request[1] if request else "email"),
        "visits": [{"date": fmt.day(v["visited_at"]), "outcome_text": outcome_text.get(v["outcome"], v["outcome"])}
                   for v in visits],
        "findings": [{"date": fmt.day(f["visited_at"]), "title": f["title"], "statute": f["statute"]} for f in findings],
    }
    if out is None:
        out = ws.root / "reports" / f"{case['slug']}-letter-{store['id'][:8]}-{lang}.pdf"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = render_pdf("letter.html", context, workspace_root=ws.root, out=out)
    return {"pdf": str(out), "lang": lang, "bytes": len(pdf), "visits": len(visits), "findings": len(findings),
            "deadline": deadline}

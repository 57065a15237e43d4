"""The custodian's statement: what a lawyer asks for when the evidence reaches court.

In the manner of a US FRE 902(14) certification (data copied from a device, identified by its
hash) or a German Beweissicherung record: for each evidence file of a case, its SHA-256, size,
type, capture time and place, the visit it belongs to, when it entered the log (audit entry
and time) and the inclusion proof of that entry under a checkpoint signed for this statement,
with the checkpoint's RFC 3161 timestamp when there is one; then the tool's version, how the
files are kept and how anyone can check them. Original file names, testers and notes stay out:
the statement may be shown to the other side. The editor who last decided each visit's review is
named: who let a visit count is part of the chain a court asks about.
"""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..cases.cases import case_text
from ..cases.credentials import credentials_summary
from ..proof import log
from ..protocol.protocols import get_protocol
from ..store.workspace import Workspace
from ..views.evidence_flags import flag_texts
from ..views.i18n import Formatter, translations
from .render import render_pdf


def gather_certificate(ws: Workspace, case: dict, *, lang: str, custodian: str | None, checkpoint: dict) -> dict:
    fmt = Formatter(lang, ws.setting("newsroom", "timezone", None))
    _ = translations(lang).gettext
    # The case's title and its protocol's in the statement's language, or refused naming them.
    title = case_text(case, lang)["title"]
    protocol_title = get_protocol(case["protocol"], ws.root).texts(lang).title
    items = []
    for e in ws.db.query(
            "select e.*, v.visited_at, v.store_id, v.review_state, s.name as store_name from evidence e "
            "join visits v on v.id = e.visit_id join stores s on s.id = v.store_id where v.case_id = ? "
            "order by v.visited_at, e.captured_at, e.sha256", [case["id"]]):
        entry = ws.db.execute(
            "select seq, at from audit_log where table_name = 'evidence' and row_id = ? and action != 'delete' "
            "order by seq limit 1", [e["id"]]).fetchone()
        proof = log.inclusion(ws, entry[0], checkpoint["size"]) if entry and entry[0] <= checkpoint["size"] else None
        # Who decided the visit counts, by name: the editor logged in when it was decided.
        review = ws.db.execute("select state, reviewer, at from reviews where visit_id = ? order by at desc, rowid desc "
                               "limit 1", [e["visit_id"]]).fetchone()
        place = (f"{e['gps_lat']:.5f}, {e['gps_lon']:.5f}" if e["gps_lat"] is not None and e["gps_lon"] is not None
                 else None)
        items.append({
            "sha256": e["sha256"], "size": fmt.num(e["size"]), "media_type": e["media_type"] or "–",
            "captured": fmt.day_time(e["captured_at"]) if e["captured_at"] else "–", "place": place or "–",
            "store": e["store_name"], "visit": fmt.day_time(e["visited_at"]),
            "redacted_from": e["redacted_from"], "credentials": _credentials(e, fmt),
            "review": {"state": review[0], "person": review[1] or "–", "when": fmt.day_time(review[2])} if review else None,
            "flags": flag_texts(ws, e, {"id": e["visit_id"], "visited_at": e["visited_at"], "store_id": e["store_id"]},
                                gettext=_, fmt=fmt),
            "entry": entry[0] if entry else None, "entered": fmt.day_time(entry[1]) if entry else "–",
            "leaf": proof["leaf"] if proof else None, "proof": proof["proof"] if proof else [],
            "proof_ok": bool(proof and proof["verified"]),
        })
    stamp = ws.db.execute("select stamped_at, tsa_url from log_checkpoints where note = ?",
                          [checkpoint["note"]]).fetchone()
    return {
        "lang": lang, "newsroom": ws.newsroom, "title": title, "case_slug": case["slug"],
        "protocol": protocol_title, "custodian": custodian,
        "today": fmt.long_day(ws.now().date()), "items": items, "version": __version__,
        "checkpoint": checkpoint, "public_key": ws.setting("log", "public_key"),
        "stamped_at": fmt.day_time(stamp[0]) if stamp and stamp[0] else None,
        "tsa_url": stamp[1] if stamp and stamp[0] else None,
        "all_proofs_ok": all(i["proof_ok"] for i in items),
    }


def _credentials(item: dict, fmt: Formatter) -> dict | None:
    summary = credentials_summary(item)
    if summary and summary["time"]:
        summary["time"] = fmt.day_time(summary["time"])
    return summary


def build_certificate(ws: Workspace, case: dict, *, lang: str | None = None, out: Path | str | None = None,
                      custodian: str | None = None) -> dict:
    """Render the custodian's statement for CASE; a checkpoint is signed for it first."""
    from .build import CHECKPOINT_ATTACHMENT, checkpoint_context

    lang = lang or case["language"] or ws.language
    cp = checkpoint_context(ws, purpose=f"certify {case['slug']}")
    context = gather_certificate(ws, case, lang=lang, custodian=custodian, checkpoint=cp)
    out = Path(out) if out else ws.root / "reports" / f"{case['slug']}-custodian-statement-{lang}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = render_pdf("certify.html", context, workspace_root=ws.root, out=out,
                     attachments={CHECKPOINT_ATTACHMENT: cp["note"]})
    return {"pdf": str(out), "lang": lang, "bytes": len(pdf), "evidence": len(context["items"]),
            "checkpoint": {"size": cp["size"], "root": cp["root"]}, "proofs_verified": context["all_proofs_ok"]}

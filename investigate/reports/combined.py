"""The combined figures of several newsrooms as a PDF (``network combine --pdf``, issue 28).

The combination is a publication of the newsroom that made it: the PDF carries a checkpoint of
that newsroom's log (cosigned by its witnesses, if it has any), attached and as a QR code, like
every PDF of ours, and lists each publication it combined with its log's checkpoint. Plain values
in: the result of ``publish.combine.combine`` (the CLI joins the two faces).
"""

from __future__ import annotations

from pathlib import Path

from ..proof.log import CHECKPOINT_ATTACHMENT
from ..store.workspace import Workspace
from ..views.i18n import Formatter, translations
from .build import checkpoint_context
from .render import render_pdf


def build_combined_pdf(ws: Workspace, combined: dict, out: Path | str, *, lang: str = "en") -> dict:
    """Render ``combined`` (figures and sources) to ``out`` in ``lang``; returns the file and
    the checkpoint it carries."""
    _ = translations(lang).gettext
    fmt = Formatter(lang, ws.setting("newsroom", "timezone", None))
    words = {"(all)": _("All chains"), "(not named)": _("(not named)")}
    rows = [{**r, "chain": words.get(r["chain"], r["chain"]),
             "rate": fmt.pct(r["weighted_rate"], r["stores_tested"])} for r in combined["figures"]]
    cp = checkpoint_context(ws, purpose="combine " + ",".join(s["origin"] for s in combined["sources"]))
    context = {"lang": lang, "title": _("Combined figures"), "newsroom": ws.newsroom or "", "rows": rows,
               "sources": combined["sources"], "checkpoint": cp, "today": fmt.long_day(ws.now().date())}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = render_pdf("combined.html", context, workspace_root=ws.root, out=out,
                     attachments={CHECKPOINT_ATTACHMENT: cp["note"]})
    return {"pdf": str(out), "bytes": len(pdf), "lang": lang,
            "checkpoint": {"size": cp["size"], "root": cp["root"], "timestamp": cp.get("timestamp"),
                           "witnesses": cp.get("witnesses")}}

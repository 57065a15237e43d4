"""The one-case report: a person's story gathered into plain data and rendered.

What a reader of one story needs: the story in order (a timeline graphic and its table), what
was promised to the person and what happened (the promise clock decides what is overdue), the
documents (their SHA-256; thumbnails in the internal edition only), the newsroom's own checks
with their results, similar complaints, the company's answer verbatim, the outcome, the method
and the log checkpoint. Who may be named is ``policy.naming``'s decision (for a story the
company also needs every event put to it); the person is named only with recorded consent,
else as the reporter describes them; their contact never appears. Every printed text goes
through ``Naming.redact`` in public. Nothing here writes.
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from ..policy.changes import content_key
from .. import policy
from ..cases import editorial, stories
from ..policy.coverage import company_named
from ..protocol.protocols import get_protocol
from ..errors import PolicyError
from ..store.usage import case_protocols
from ..store.workspace import Workspace
from .edition import edition_of
from .i18n import answer_language, translations

#: Colours of the timeline by who says so.
COLOURS = {"person": "#2c7fb8", "document": "#6b6b6b", "newsroom": "#c0392b", "company": "#8e44ad",
           "outcome": "#1e8449"}
PROMISE_COLOURS = {"kept": "#1e8449", "late": "#d68910", "broken": "#c0392b", "overdue": "#c0392b",
                   "pending": "#999999"}


def labels(lang: str) -> dict:
    """Source, channel, promise-state and document-kind names in the report's language."""
    _ = translations(lang).gettext
    return {
        "sources": {"person": _("The person's account"), "document": _("A document"),
                    "newsroom": _("Our own check"), "company": _("The company"), "outcome": _("Outcome")},
        "channels": {"phone": _("Phone"), "email": _("E-mail"), "letter": _("Letter"), "counter": _("Counter"),
                     "web": _("Web form"), "in_person": _("Counter"), "web_form": _("Web form"), "mail": _("Letter")},
        "states": {"kept": _("kept on time"), "late": _("kept late"), "broken": _("broken"),
                   "overdue": _("overdue: counts as broken"), "pending": _("not yet due")},
        "outcomes": {"violation": _("violation"), "compliant": _("compliant"), "inconclusive": _("inconclusive"),
                     "not_completed": _("not completed")},
    }


def document_kind(media_type: str, lang: str) -> str:
    _ = translations(lang).gettext
    if media_type == "message/rfc822":
        return _("E-mail")
    if media_type == "application/pdf":
        return _("PDF document")
    if media_type.startswith("image/"):
        return _("Photo")
    return _("File")


def timeline_chart(items: list[dict], promises: list[dict], legend: list[tuple[str, str]], *, day,
                   width: int = 640) -> str:
    """The story as a line in time: a numbered dot per item (numbers as in the timeline table),
    each promise as a bar from when it was made to when it fell due, coloured by its state."""
    times = [i["when"] for i in items] + [p["due"] for p in promises]
    if not times:
        return ""
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 1.0
    left, right = 30, width - 30
    axis_y = 64
    rows = max(1, len(promises))
    height = axis_y + 26 + 14 * rows + 44

    def x(when: datetime) -> float:
        return left + (right - left) * (when - start).total_seconds() / span

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="10">',
           f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="#333" stroke-width="1.2"/>']
    placed: list[tuple[float, int]] = []
    for item in items:
        cx = x(item["when"])
        # Lift a label to the next row when it would overlap one placed nearby.
        level = 0
        while any(abs(cx - px) < 16 and lv == level for px, lv in placed):
            level += 1
        placed.append((cx, level))
        ty = axis_y - 14 - 14 * (level % 3)
        colour = COLOURS.get(item["source"], "#333")
        out.append(f'<line x1="{cx:.1f}" y1="{axis_y}" x2="{cx:.1f}" y2="{ty + 3}" stroke="{colour}" '
                   f'stroke-width="0.6"/>')
        out.append(f'<circle cx="{cx:.1f}" cy="{axis_y}" r="4.5" fill="{colour}"/>')
        out.append(f'<text x="{cx:.1f}" y="{ty}" text-anchor="middle" fill="{colour}" font-weight="bold">'
                   f'{item["number"]}</text>')
    for k, p in enumerate(promises):
        y = axis_y + 18 + 14 * k
        x1, x2 = x(p["made"]), x(p["due"])
        colour = PROMISE_COLOURS.get(p["state"], "#999")
        out.append(f'<line x1="{x1:.1f}" y1="{y}" x2="{x2:.1f}" y2="{y}" stroke="{colour}" stroke-width="3"/>')
        out.append(f'<line x1="{x2:.1f}" y1="{y - 5}" x2="{x2:.1f}" y2="{y + 5}" stroke="{colour}" stroke-width="1.5"/>')
        anchor, tx = ("end", x2 - 4) if x2 > right - 60 else ("start", x2 + 4)
        out.append(f'<text x="{tx:.1f}" y="{y + 3.5}" text-anchor="{anchor}" fill="{colour}">'
                   f'{escape(p["label"])}</text>')
    base = axis_y + 26 + 14 * rows
    out.append(f'<text x="{left}" y="{base}" fill="#555">{escape(day(start))}</text>')
    out.append(f'<text x="{right}" y="{base}" text-anchor="end" fill="#555">{escape(day(end))}</text>')
    lx = left
    for colour, text in legend:
        out.append(f'<circle cx="{lx + 4}" cy="{base + 18}" r="4" fill="{colour}"/>')
        out.append(f'<text x="{lx + 12}" y="{base + 21.5}" fill="#333">{escape(text)}</text>')
        lx += 22 + 6.2 * len(text)
    out.append("</svg>")
    return "".join(out)


def gather_story(ws: Workspace, case: dict, *, edition: str = "public", lang: str | None = None,
                 now: datetime | None = None) -> dict:
    ed = edition_of(ws, case, edition=edition, lang=lang, now=now)
    lang, public, _, fmt, now = ed.lang, ed.public, ed.gettext, ed.fmt, ed.now
    names = labels(lang)
    story = stories.get_story(ws, case)
    # Title, method and how the person is described, in the report's language or refused.
    ctext = ed.text
    person_label = stories.person_text(case, story, lang)
    company = ws.get("companies", story["company_id"])
    timeline = stories.events(ws, case, now=now)
    if public and not timeline:
        raise PolicyError(f"case {case['slug']}: nothing can be published in a public edition: the story has "
                          "no event on its timeline")
    naming = policy.naming(ws, case, on=now)
    named = company_named(ws, case, naming.named_stores)
    company_label = company["name"] if named or not public else _("Company %(letter)s") % {"letter": "A"}
    text = (lambda t: naming.redact(t)) if public else (lambda t: t)  # noqa: E731

    source = stories.person_source(ws, story)
    if story["name_consent"] and source["name"]:
        person = source["name"]
    else:
        person = text(person_label) or _("a customer")

    # The timeline: the person's events, the newsroom's checks, our enquiry, the answer, the outcome.
    items: list[dict] = []
    for e in timeline:
        items.append({"when": datetime.fromisoformat(e["at"]), "event_id": e["id"], "source": e["source"],
                      "what": fmt.written_in(text(e["what"]), e.get("language") or case["language"]),
                      "channel": names["channels"].get(e["channel"] or "", ""), "documents": len(e["documents"]),
                      "promise": fmt.written_in(text(e["promise"]), e.get("language") or case["language"])
                      if e["promise"] else None})
    checks = []
    for v in stories.checks(ws, case, approved_only=public):
        proto = get_protocol(v["protocol"], ws.root).texts(lang).through(text)
        findings = [proto.finding_title(f["code"], f["title"]) for f in v["findings"]]
        checks.append({"date": fmt.day_time(v["visited_at"]), "channel": names["channels"].get(v["store_channel"] or "", ""),
                       "protocol": proto.title, "outcome": names["outcomes"].get(v["outcome"], v["outcome"]),
                       "violation": v["outcome"] == "violation", "findings": findings})
        items.append({"when": datetime.fromisoformat(v["visited_at"]), "source": "newsroom",
                      "what": _("We tested the company ourselves (%(test)s): %(result)s.")
                      % {"test": proto.title, "result": names["outcomes"].get(v["outcome"], v["outcome"])},
                      "channel": names["channels"].get(v["store_channel"] or "", ""), "documents": 0, "promise": None})

    answers, seen = [], set()
    for r in ws.db.query("select * from replies where case_id = ? order by requested_at, rowid", [case["id"]]):
        key = (r["requested_at"], r["answer"], r["answered_at"])
        if key in seen:  # one request per contact point: the company was asked once
            continue
        seen.add(key)
        items.append({"when": datetime.fromisoformat(r["requested_at"]), "source": "newsroom",
                      "what": _("We put the story to the company and asked for its answer by %(deadline)s.")
                      % {"deadline": fmt.day(r["deadline"])},
                      "channel": names["channels"].get(r["channel"], ""), "documents": 0, "promise": None})
        show_answer = bool(r["answer"]) and (named or not public)
        if r["answered_at"]:
            items.append({"when": datetime.fromisoformat(r["answered_at"]), "source": "company",
                          "what": _("The company answered (below, verbatim)."), "channel": "", "documents": 0,
                          "promise": None})
        answers.append({"asked": fmt.day(r["requested_at"]), "deadline": fmt.day(r["deadline"]),
                        "answered": fmt.day(r["answered_at"]) if r["answered_at"] else None,
                        "answer": text(r["answer"]) if show_answer else None,
                        **answer_language(fmt, r, case),
                        "withheld": bool(r["answer"]) and not show_answer})
    if story["outcome"]:
        items.append({"when": datetime.fromisoformat(story["outcome_at"]), "source": "outcome",
                      "what": fmt.written_in(text(story["outcome"]), case["language"]), "channel": "", "documents": 0,
                      "promise": None})
    items.sort(key=lambda i: i["when"])
    for n, item in enumerate(items, 1):
        item["number"] = n
        item["date"] = fmt.day_time(item["when"].isoformat())
        item["source_label"] = names["sources"][item["source"]]

    promises = []
    for k, e in enumerate([e for e in timeline if e["promise"]], 1):
        promises.append({"label": f"P{k}", "what": fmt.written_in(text(e["promise"]), e.get("language") or case["language"]), "made": datetime.fromisoformat(e["at"]),
                         "due": datetime.fromisoformat(e["due_at"]), "state": e["promise_state"],
                         "made_text": fmt.day(e["at"]), "due_text": fmt.day(e["due_at"]),
                         "state_text": names["states"][e["promise_state"]],
                         "kept_text": fmt.day(e["kept_at"]) if e["kept_at"] else "",
                         "bad": e["promise_state"] in ("broken", "overdue")})
    legend = [(COLOURS[s], names["sources"][s]) for s in ("person", "document", "newsroom", "company", "outcome")
              if any(i["source"] == s for i in items)]
    chart = timeline_chart(items, promises, legend, day=fmt.day)

    documents = []
    for e in timeline:
        for d in e["documents"]:
            item = {"date": fmt.day(d["sent_at"] or e["at"]), "kind": document_kind(d["media_type"], lang),
                    "sha256": d["sha256"],
                    "event": next(i["number"] for i in items if i.get("event_id") == e["id"]),
                    "name": None, "sender": None, "subject": None, "thumbnail": None}
            if not public:
                item.update(name=d["original_name"], sender=d["sender"], subject=d["subject"])
                if d["media_type"].startswith("image/"):
                    item["thumbnail"] = ws.evidence_path(d["sha256"]).as_uri()
            documents.append(item)

    similar = stories.similar_complaints(ws, case)
    # What this edition says, whatever its language: its records, who may be named, the clock.
    content = content_key(ws, case, named=naming.named_stores,
                          clock={f"{e['id']} {e['promise_state']}" for e in timeline if e["promise"]}) if public else None
    protocols = []
    for key in case_protocols(ws.db, case["id"]):
        proto = get_protocol(key, ws.root).texts(lang).through(text)
        protocols.append({"title": proto.title, "description": proto.description})
    first = min((i["when"] for i in items), default=None)
    last = max((i["when"] for i in items), default=None)
    return {
        "lang": lang, "edition": edition, "public": public, "title": ctext["title"], "newsroom": ws.newsroom,
        "case_slug": case["slug"], "case_id": case["id"], "generated": fmt.long_day(now.date()),
        "version": editorial.next_version(ws, case, "pdf", content=content) if public else None,
        "content": content,
        "period": (fmt.day(first.isoformat()) if first else "–", fmt.day(last.isoformat()) if last else "–"),
        "company": company_label, "company_named": named or not public, "person": person,
        "person_start": person[:1].upper() + person[1:],  # the person begins a sentence
        "person_internal": None if public else {"name": source["name"], "consent": bool(story["name_consent"])},
        "items": items, "chart": chart, "promises": promises, "documents": documents, "checks": checks,
        "similar": {"count": similar["count"], "since": fmt.day(similar["since"]) if similar["since"] else None},
        "answers": answers,
        "outcome": {"what": fmt.written_in(text(story["outcome"]), case["language"]),
                    "date": fmt.day(story["outcome_at"])} if story["outcome"] else None,
        "figures": {"events": len(timeline), "documents": len(documents), "checks": len(checks),
                    "promises": len(promises),
                    # late, broken or overdue: a refund paid after our enquiry is not a promise kept
                    "promises_not_on_time": sum(1 for p in promises if p["state"] in ("late", "broken", "overdue")),
                    "similar": similar["count"]},
        "method": {"description": ctext["description"], "legal_basis": case["legal_basis"],
                   "jurisdiction": case["jurisdiction"], "protocols": protocols, "reply_days": case["reply_days"]},
        "fmt": fmt,
    }

"""Which texts may be printed: the third question every output asks.

Texts written by people are checked when they are recorded (``policy.private``). Between then
and publication a business can become unnameable again (a finding approved after its reply
request), so the texts are checked again here with the naming of the output: the checklist
lists what matches (by kind, never by value), and every output prints the text through
``Naming.redact``.
"""

from __future__ import annotations

import json

from ..errors import InvestigateError
from ..protocol.protocols import get_protocol, may_be_the_workspaces
from ..store.usage import case_protocols
from ..store.workspace import Workspace
from .naming import Naming


def corrections(ws: Workspace, case: dict) -> list[dict]:
    """The case's corrections, oldest first: printed as written, so checked here."""
    return list(ws.db.query("select * from corrections where case_id = ? order by created_at", [case["id"]]))


def public_texts(ws: Workspace, case: dict, naming: Naming) -> list[tuple[str, str]]:
    """(what, text) for every text of the case that a public output prints as written."""
    texts = [("case title", case["title"]), ("case description", case.get("description"))]
    for lang, given in sorted(json.loads(case.get("texts") or "{}").items()):
        texts += [(f"case {key} ({lang})", given.get(key)) for key in ("title", "description")]
        texts.append((f"description of the person ({lang})", given.get("person")))
    texts += [(f"correction of {c['created_at'][:10]}", c["note"]) for c in corrections(ws, case)]
    # Only the requests that hold a text: twenty thousand businesses asked at once, none answered
    # yet, were twenty thousand rows read into Python for nothing.
    for store_id, answer, reason, requested_at in ws.db.execute(
            "select store_id, answer, short_deadline_reason, requested_at from replies where case_id = ? "
            "and (answer is not null or short_deadline_reason is not null)", [case["id"]]):
        if naming.store_named(store_id):
            texts.append((f"answer to the request of {requested_at[:10]}", answer))
        texts.append((f"short-deadline reason of {requested_at[:10]}", reason))
    if "samples" in ws.db.table_names():
        texts += [(f"sample replacement reason of {r[0][:10]}", r[1]) for r in ws.db.execute(
            "select drawn_at, replace_reason from samples where case_id = ?", [case["id"]])]
    if (case.get("kind") or "") == "story" and "stories" in ws.db.table_names():
        for r in ws.db.query("select person_label, outcome, outcome_at from stories where case_id = ?", [case["id"]]):
            texts += [("description of the person", r["person_label"]),
                      (f"outcome of {(r['outcome_at'] or '')[:10]}", r["outcome"])]
        for r in ws.db.query("select at, what, promise from story_events where case_id = ?", [case["id"]]):
            texts += [(f"event of {r['at'][:10]}", r["what"]), (f"promise of {r['at'][:10]}", r["promise"])]
    # From the findings written by hand (a partial index holds them) to their visits: not every
    # visit of the case probing for its findings.
    texts += [(f"finding added by hand on {r['created_at'][:10]}", text) for r in ws.db.query(
        "select f.title, f.statute, f.created_at from findings f cross join visits v on v.id = f.visit_id "
        "where f.source = 'manual' and v.case_id = ?", [case["id"]]) for text in (r["title"], r["statute"])]
    texts += _protocol_texts(ws, case)
    return [(what, text) for what, text in texts if text]


def _protocol_texts(ws: Workspace, case: dict) -> list[tuple[str, str]]:
    """The printed texts of the workspace's own protocols the case uses: written by the
    newsroom, in any language, they may name a tester or a business as any text may."""
    keys = {case["protocol"], *case_protocols(ws.db, case["id"])}
    found = []
    for key in sorted(k for k in keys if k):
        if not may_be_the_workspaces(key, ws.root):
            continue  # a built-in: written by us, not the newsroom
        try:
            protocol = get_protocol(key, ws.root)
        except InvestigateError:
            continue  # a missing protocol is the report's error to name, not a text to check
        if protocol.builtin:
            continue
        for lang in ("en", *sorted(protocol.translations)):
            try:
                t = protocol.texts(lang)
            except InvestigateError:
                continue  # an incomplete language is refused by the output that asks for it
            found += [(f"protocol {key}'s text ({lang})", text) for text in
                      (t.title, t.description, t.id_policy, t.lede, *t.prompts.values(), *t.findings.values(),
                       *(label for c in t.choices.values() for label in c.values()))]
    return found


def text_problems(ws: Workspace, case: dict, naming: Naming) -> list[str]:
    """One line per printed text that holds a private string: what, and which kind."""
    texts = public_texts(ws, case, naming)
    return [f"the {what} contains {kind}"
            for (what, _text), kind in zip(texts, naming.private_kinds([text for _what, text in texts])) if kind]

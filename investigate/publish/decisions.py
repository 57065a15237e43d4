"""Editors decide in the page: review a visit (or many from the queue), sign a case off, ask
every business not yet asked — each as the person logged in.

Every write goes through the library functions the CLI uses (``cases.review``,
``cases.editorial.sign_off``, ``cases.asking``) on a workspace opened for that person, so the
audit log, the reviews and the sign-offs name them. Datasette's own CSRF protection
(asgi-csrf) checks every form; ``permission_allowed`` (``publish.accounts``) says who may do
what. A refusal is a page saying why, with nothing written: no session (403), a role that may
not (403), a form whose visit or case changed since it was loaded (409, saying what changed),
bad input (400).
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from urllib.parse import parse_qs

from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.utils.asgi import Response

from ..cases.asking import UNASKED_SHOWN, request_unasked
from ..cases.cases import get_case
from ..cases.editorial import sign_off
from ..cases.review import changed_since, get_visit_for_review, review_versions, review_visit, review_visits
from ..errors import InvestigateError
from ..ids import short
from ..policy.changes import audit_head, changes_since
from ..store.workspace import Workspace
from .accounts import DECISIONS, accounts, actor_role
from .plugin import workspace_root

#: What a legal sign-off made in the page records as its role (the checklist's legal item).
LEGAL_SIGNOFF_ROLE = "legal counsel"
#: Visits one bulk decision may name: a page of the queue is 50.
MAX_BULK = 1000


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status



def _back(value: str | None) -> str:
    """Where to return after a decision: a path of this instance, never another site."""
    value = value or "/"
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


async def _person(datasette, request, permission: str) -> str:
    """The logged-in person allowed ``permission``, or a refusal saying why not."""
    actor = request.actor
    if not actor or not actor.get("id"):
        raise Refused(403, "Log in first: decisions are made by a person, under their own name.")
    if not await datasette.permission_allowed(actor, permission, default=False):
        role = actor_role(datasette, actor)
        raise Refused(403, f"{actor['id']} ({role or 'no account'}) may not do this: it needs the role "
                           f"{' or '.join(DECISIONS[permission])}. Nothing was written.")
    return actor["id"]


async def _refusal(datasette, request, status: int, message: str, back: str) -> Response:
    html = await datasette.render_template("investigate-refused.html", {"message": message, "back": back},
                                           request=request)
    return Response.html(html, status=status)


def _decide(datasette, permission: str, write):
    """A POST route: the person, the form, the write on a workspace opened for them, and back
    to the page with a message — or a refusal page with nothing written."""

    async def route(request):
        if request.method != "POST":
            return await _refusal(datasette, request, 405, "Decisions are sent from a form.", "/")
        # Every value of a field: the queue's form names many visits.
        fields = parse_qs((await request.post_body()).decode("utf-8", "replace"), keep_blank_values=True)
        back = _back(_one(fields, "back"))
        root = workspace_root(datasette)
        if root is None:
            return Response.text("Not found", status=404)
        try:
            person = await _person(datasette, request, permission)

            def run():
                # One transaction from the check that the page is current to the write: no
                # other process decides in between.
                with Workspace(root, actor=person) as ws, ws.transaction():
                    return write(ws, fields, person)

            message = await asyncio.to_thread(run)
        except Refused as refusal:
            return await _refusal(datasette, request, refusal.status, str(refusal), back)
        except InvestigateError as ex:
            return await _refusal(datasette, request, 400, f"{ex}. Nothing was written.", back)
        except sqlite3.OperationalError as ex:
            # A read-only copy, or a long import holding the write lock past the busy timeout.
            return await _refusal(datasette, request, 503, f"The workspace cannot be written now ({ex}). "
                                                           "Nothing was written: try again.", back)
        datasette.add_message(request, message, datasette.INFO)
        return Response.redirect(back)

    return route


def _one(fields: dict, name: str) -> str:
    values = fields.get(name) or [""]
    return (values[0] or "").strip()


def _review(ws: Workspace, fields: dict, person: str) -> str:
    ids = list(dict.fromkeys(v for v in fields.get("visit", []) if v))
    if not ids:
        raise Refused(400, "Choose at least one visit. Nothing was written.")
    if len(ids) > MAX_BULK:
        raise Refused(400, f"At most {MAX_BULK} visits at once. Nothing was written.")
    visits = [get_visit_for_review(ws, visit_id) for visit_id in ids]
    seen = {}
    for v in visits:
        text = _one(fields, f"seen-{v['id']}")
        if not text.isdigit():
            raise Refused(409, f"The form for visit {short(v['id'])} carries no version: reload the page. "
                               "Nothing was written.")
        seen[v["id"]] = int(text)
    stale = changed_since(ws, seen)
    if stale:
        raise Refused(409, "; ".join(stale) + ". Nothing was written: reload the page and decide again.")
    action, comment = _one(fields, "action"), _one(fields, "comment") or None
    if len(visits) == 1:
        row = review_visit(ws, visits[0], action, comment=comment)
        return f"Visit {short(row['id'])} is now {row['review_state']} (by {person})."
    result = review_visits(ws, [v["id"] for v in visits], action, comment=comment)
    return (f"{result['changed']} visit(s) now {result['state']} (by {person})"
            + (f"; {result['unchanged']} already were." if result["unchanged"] else "."))


def _case_unchanged(ws: Workspace, fields: dict) -> dict:
    case = get_case(ws, _one(fields, "case"))
    seen = _one(fields, "seen")
    if not seen.isdigit():
        raise Refused(409, "The form carries no version of the case: reload the page. Nothing was written.")
    changed = changes_since(ws, case, int(seen))
    if changed:
        raise Refused(409, f"{changed} change(s) to the records of {case['slug']} since the page was loaded: "
                           "read them, then decide again. Nothing was written.")
    return case


def _signoff(ws: Workspace, fields: dict, person: str) -> str:
    case = _case_unchanged(ws, fields)
    sign_off(ws, case, role=LEGAL_SIGNOFF_ROLE, signed_by=person, note=_one(fields, "note") or None)
    return f"{case['slug']} signed off as {LEGAL_SIGNOFF_ROLE} by {person}."


def _request_replies(ws: Workspace, fields: dict, person: str) -> str:
    case = _case_unchanged(ws, fields)
    made = request_unasked(ws, case)
    if not made:
        return f"Every business with findings in {case['slug']} was already asked."
    # The first few by name, the rest counted: the message travels in a cookie, and twenty
    # thousand names would be a cookie no browser keeps (the editor would see no word at all).
    names = [r["store_name"] or short(r["store_id"]) for r in made]
    more = len(names) - UNASKED_SHOWN
    return (f"Asked {len(made)} business(es) for comment on {case['slug']}: {', '.join(names[:UNASKED_SHOWN])}"
            + (f"; and {more} more" if more > 0 else "") + " (each request's letter is linked under Right of reply).")


#: How each editors' instance writes a reply letter (given by whoever starts it: the CLI
#: passes the reports' own renderer, a face this one may not import).
_LETTERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def serve_letters_with(datasette, write_letter) -> None:
    """``write_letter(ws, case_id, store_id) -> (file name, PDF bytes)`` for ``datasette``."""
    _LETTERS[datasette] = write_letter


def letters_served(datasette) -> bool:
    return datasette in _LETTERS


async def letter(datasette, request):
    """The letter of a reply request, as ``investigate reply letter`` writes it, to read and
    send. Writing one signs a checkpoint of the log (a write), so it is an editor's, by name."""
    root, write_letter = workspace_root(datasette), _LETTERS.get(datasette)
    if root is None or write_letter is None:
        return Response.text("Not found", status=404)
    try:
        person = await _person(datasette, request, "investigate-request-replies")
    except Refused as refusal:
        return await _refusal(datasette, request, refusal.status, str(refusal), "/")
    reply_id = request.url_vars["reply"]

    def write():
        with Workspace(root, actor=person) as ws:
            row = ws.db.execute("select case_id, store_id from replies where id = ?", [reply_id]).fetchone()
            return write_letter(ws, row[0], row[1]) if row else None

    try:
        written = await asyncio.to_thread(write)
    except InvestigateError as ex:
        return await _refusal(datasette, request, 400, f"{ex}.", "/")
    if written is None:
        return Response.text("Not found", status=404)
    name, data = written
    return Response(data, content_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@hookimpl
def register_routes(datasette):
    if workspace_root(datasette) is None:
        return []
    return [
        (r"^/-/investigate/letter/(?P<reply>[0-9A-Za-z-]{8,64})$", letter),
        (r"^/-/investigate/review$", _decide(datasette, "investigate-review", _review)),
        (r"^/-/investigate/signoff$", _decide(datasette, "investigate-signoff", _signoff)),
        (r"^/-/investigate/request-replies$", _decide(datasette, "investigate-request-replies", _request_replies)),
    ]


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """What the forms need: what the person may do, and the versions of what the page shows."""
    root = workspace_root(datasette)
    if root is None or request is None:
        return {}

    async def forms():
        can = {name.removeprefix("investigate-"): await datasette.permission_allowed(
            request.actor, name, default=False) for name in DECISIONS}
        out = {"investigate_can": can, "investigate_person": (request.actor or {}).get("id"),
               "investigate_letters": letters_served(datasette), "investigate_accounts": bool(accounts(datasette))}
        if view_name == "row" and table in ("visits", "cases"):
            pk = tilde_decode(request.url_vars.get("pks", ""))

            def versions():
                with Workspace(root, read_only=True) as ws:
                    if table == "visits":
                        return {"investigate_seen": review_versions(ws, [pk]).get(pk, 0)}
                    # The businesses not asked come with the case page's kept figures.
                    return {"investigate_seen": audit_head(ws)}

            out.update(await datasette.get_database(database).execute_fn(lambda conn: versions()))
        return out

    return forms

"""``investigate promise``: what businesses promised, and whether they kept it."""

from __future__ import annotations

from datetime import datetime

import click

from ..ids import short
from ..cases.cases import get_case
from ..cases.promises import get_promise, list_promises, settle_promise
from .util import echo, echo_json, echo_result, json_option, pass_workspace, short_ids


@click.group()
def promise():
    """Promises made during tests: callbacks, refunds."""


@promise.command("list")
@click.option("--case", "case_ref")
@click.option("--overdue", is_flag=True, help="Only promises past due and not yet resolved.")
@json_option
@pass_workspace
def promise_list(ws, case_ref, overdue, as_json):
    """List promises and when they are due."""
    from ..cases.stories import list_story_promises

    case = get_case(ws, case_ref) if case_ref else None
    # Promises made to people in stories run on the same clock (mark them with: story keep).
    rows = list_promises(ws, case=case, overdue=overdue) + list_story_promises(ws, case=case, overdue=overdue)
    rows.sort(key=lambda r: datetime.fromisoformat(r["due_at"]))  # as times: offsets differ across DST
    if as_json:
        echo_json(rows)
    else:
        for r in rows:
            r["status"] = "kept" if r["kept"] == 1 else "broken" if r["kept"] == 0 else (
                "OVERDUE" if r["overdue"] else "open")
        echo_result(short_ids(rows, "id", "visit_id"), columns=["id", "case_slug", "store_name", "what",
                    "due_at", "status", "kept_at"], empty="No promises.")


@promise.command("keep")
@click.argument("promise_ref", metavar="PROMISE")
@click.option("--broken", is_flag=True, help="The promise was not kept.")
@click.option("--at", help="When it was kept (default: now).")
@click.option("--note")
@json_option
@pass_workspace
def promise_keep(ws, promise_ref, broken, at, note, as_json):
    """Mark PROMISE kept (or --broken). A test's late or broken promise becomes a finding; a
    promise made to a story's person is marked on its event (as story keep does)."""
    row = settle_promise(ws, get_promise(ws, promise_ref), kept=not broken, at=at, note=note)
    if as_json:
        echo_json(row)
    else:
        echo(f"Promise {short(row['id'])} ({row['what']}) marked {'broken' if broken else 'kept'}.")

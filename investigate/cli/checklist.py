"""``checklist``: the pre-publication checklist of a case, and its sign-offs. A module of its own:
an editor runs it at deadline, and it needs none of what recording and reviewing visits import."""

from __future__ import annotations

import click

from ..cases import editorial
from ..cases.asking import UNASKED_SHOWN, unasked_ids, unasked_names
from ..cases.cases import get_case
from .groups import DefaultCommandGroup
from .util import echo, echo_json, json_option, pass_workspace


class ChecklistGroup(DefaultCommandGroup):
    default_command = "show"
    usage_text = "CASE | signoff CASE --role ROLE --by NAME"


@click.group(cls=ChecklistGroup)
def checklist():
    """The pre-publication checklist of a case, and sign-offs."""


@checklist.command("show", hidden=True)
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_workspace
def checklist_show(ws, case_ref, as_json):
    case = get_case(ws, case_ref)
    from ..policy import WORKING, naming
    from ..policy.gate import checklist as policy_checklist

    names = naming(ws, case, scope=WORKING)  # one naming for the items and the list below
    items = policy_checklist(ws, case, names=names)
    replies_open = any(i["key"] == "replies" and not i["ok"] for i in items)
    # Which businesses, not only how many: the ones to ask (investigate reply request).
    ids = unasked_ids(ws, case, names=names) if replies_open else []
    if as_json:
        echo_json({"case": case["slug"], "ready": all(i["ok"] for i in items), "items": items,
                   "not_asked": unasked_names(ws, case, ids) if ids else []})
        return
    # The first few on screen; twenty thousand names would push the other items away.
    shown = unasked_names(ws, case, ids, limit=UNASKED_SHOWN) if ids else []
    for i in items:
        echo(f"[{'x' if i['ok'] else ' '}] {i['key']:<16} {i['detail']}")
        if i["key"] == "replies" and shown:
            more = len(ids) - len(shown)
            echo(f"    {'':<16} not asked: {', '.join(shown)}"
                 + (f"; and {more} more (--json lists all; investigate reply request CASE --all asks them)"
                    if more > 0 else ""))
    open_count = sum(not i["ok"] for i in items)
    echo("Ready to publish." if not open_count else f"{open_count} item(s) open.")


@checklist.command("signoff")
@click.argument("case_ref", metavar="CASE")
@click.option("--role", required=True, help='E.g. "legal counsel", "editor-in-chief".')
@click.option("--by", "signed_by", required=True, help="Who signed (internal).")
@click.option("--note")
@json_option
@pass_workspace
def checklist_signoff(ws, case_ref, role, signed_by, note, as_json):
    """Record a sign-off of CASE by a named role."""
    row = editorial.sign_off(ws, get_case(ws, case_ref), role=role, signed_by=signed_by, note=note)
    if as_json:
        echo_json(row)
    else:
        echo(f"Signed off as {row['role']}.")

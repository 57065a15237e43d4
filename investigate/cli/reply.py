"""``investigate reply``: the right of reply."""

from __future__ import annotations

import click

from ..ids import short
from ..cases.asking import UNASKED_SHOWN, request_unasked
from ..cases.cases import get_case
from ..cases.replies import get_reply, list_replies, record_reply, request_reply
from ..vocabulary import LANGUAGES, REPLY_CHANNELS
from ..cases.stores import get_store
from . import LazyGroup
from .util import echo, echo_json, echo_result, json_option, pass_workspace, progress, short_ids


@click.group(cls=LazyGroup, lazy_commands={"letter": "investigate.cli.report:letter"})
def reply():
    """Right of reply: ask, set a deadline, print the answer verbatim."""


@reply.command("request")
@click.argument("case_ref", metavar="CASE")
@click.argument("store_ref", metavar="[STORE]", required=False)
@click.option("--all", "every", is_flag=True,
              help="Ask every business with findings in CASE not asked yet (one request per company).")
@click.option("--channel", type=click.Choice(REPLY_CHANNELS), default="email", show_default=True)
@click.option("--at", "requested_at", help="When it was asked (default: now).")
@click.option("--deadline", help="Default: the end of the case's reply window from the request.")
@click.option("--short-deadline-reason", help="Needed for a deadline shorter than the case's window; "
              "printed in the report's method.")
@json_option
@pass_workspace
def reply_request(ws, case_ref, store_ref, every, channel, requested_at, deadline, short_deadline_reason, as_json):
    """Record that a business was asked for comment on CASE.

    With --all: every business with findings in CASE not asked yet, what the checklist's "not
    asked for comment" lists, one request per company.

    The request covers every visit of STORE in CASE and every finding of them, observations
    included; the store may be named once its window closes, and only for what was covered.
    A finding approved later needs a new request."""
    if every == bool(store_ref):
        raise click.UsageError("name one STORE, or give --all (every business not asked yet)")
    if every and (requested_at or deadline or short_deadline_reason):
        raise click.UsageError("--at, --deadline and --short-deadline-reason are for one STORE, not --all")
    case = get_case(ws, case_ref)
    if every:
        with progress(None, "Asking for comment") as bar:
            made = request_unasked(ws, case, channel=channel, progress=bar.update, total=bar.start)
        if as_json:
            echo_json(made)
            return
        # The first few on screen, the rest counted: twenty thousand lines would scroll the summary away.
        for row in made[:UNASKED_SHOWN]:
            echo(f"Reply requested ({short(row['id'])}) from {row['store_name']}, deadline {row['deadline']}.")
        if len(made) > UNASKED_SHOWN:
            echo(f"… and {len(made) - UNASKED_SHOWN} more (investigate reply list --case {case['slug']} lists them all).")
        echo(f"{len(made)} request(s), deadline {made[0]['deadline']}; every business with findings in "
             f"{case['slug']} has now been asked." if made
             else f"Every business with findings in {case['slug']} was asked already.")
        return
    store = get_store(ws, store_ref)
    row = request_reply(ws, case, store, channel=channel, requested_at=requested_at, deadline=deadline,
                        short_deadline_reason=short_deadline_reason)
    if as_json:
        echo_json(row)
    else:
        covered = ws.db.execute("select count(finding_id), count(*) - count(finding_id) from reply_items "
                                "where reply_id = ?", [row["id"]]).fetchone()
        echo(f"Reply requested ({short(row['id'])}), deadline {row['deadline']}: covers {covered[1]} visit(s) "
                   f"and {covered[0]} finding(s).")


@reply.command("record")
@click.argument("reply_ref", metavar="REPLY")
@click.option("--answer", help="The business's answer, verbatim (or --answer-file).")
@click.option("--answer-file", type=click.File(encoding="utf-8"))
@click.option("--at", "answered_at", help="When it answered (default: now).")
@click.option("--lang", "language", type=click.Choice(LANGUAGES),
              help="The language it is written in (default: the case's); other editions quote it as such.")
@json_option
@pass_workspace
def reply_record(ws, reply_ref, answer, answer_file, answered_at, language, as_json):
    """Record the business's answer to REPLY, verbatim."""
    text = answer_file.read() if answer_file else answer
    row = record_reply(ws, get_reply(ws, reply_ref), answer=text or "", answered_at=answered_at, language=language)
    if as_json:
        echo_json(row)
    else:
        echo(f"Answer recorded for {short(row['id'])}.")


@reply.command("list")
@click.option("--case", "case_ref")
@click.option("--open", "open_only", is_flag=True, help="Only unanswered requests still within their deadline.")
@json_option
@pass_workspace
def reply_list(ws, case_ref, open_only, as_json):
    """List reply requests, deadlines and answers."""
    rows = list_replies(ws, case=get_case(ws, case_ref) if case_ref else None, open_only=open_only)
    if as_json:
        echo_json(rows)
    else:
        echo_result(short_ids(rows), columns=["id", "case_slug", "store_name", "channel", "requested_at",
                    "deadline", "answered_at", "answer"], empty="No reply requests.",
                    optional=["channel", "answered_at"])

"""``investigate story``: one person's account — timeline, documents, promises, the company's
answer, the outcome. Open one with ``investigate case new SLUG --kind story --tip TIP``."""

from __future__ import annotations

import click

from ..ids import short
from ..numbers.clock import promise_state
from ..cases import stories
from ..cases.cases import LANGUAGES, get_case
from ..vocabulary import EVENT_CHANNELS, EVENT_SOURCES, REPLY_CHANNELS
from .util import echo, echo_json, echo_result, json_option, pass_workspace, short_ids


@click.group()
def story():
    """Stories: one person, one business, one timeline.

    A documented and checked account, put to the business before it is published."""


@story.command("event")
@click.argument("case_ref", metavar="CASE")
@click.option("--at", help="When it happened (default: an e-mail document's own date).")
@click.option("--what", required=True, help='What happened, as it may be printed: "The hotline promised a refund".')
@click.option("--channel", type=click.Choice(EVENT_CHANNELS))
@click.option("--source", type=click.Choice(EVENT_SOURCES),
              help="Who says so: the person's account, a document, the newsroom's own test, the company "
                   "(default: document with --evidence, else person).")
@click.option("--promise", help='What was promised to the person, e.g. "refund within 14 days".')
@click.option("--due", help="When the promise falls due (required with --promise).")
@click.option("--evidence", "documents", multiple=True, type=click.Path(dir_okay=False),
              help="A document (.eml, PDF, photo): stored under its SHA-256, never modified. Repeatable.")
@click.option("--lang", "language", type=click.Choice(LANGUAGES),
              help="The language it is written in (default: the case's); other editions quote it as such.")
@json_option
@pass_workspace
def event(ws, case_ref, at, what, channel, source, promise, due, documents, language, as_json):
    """Add a dated event to CASE's timeline."""
    row = stories.add_event(ws, get_case(ws, case_ref), at=at, what=what, channel=channel, source=source,
                            promise=promise, due=due, documents=list(documents), language=language)
    if as_json:
        echo_json(row)
        return
    echo(f"Event {short(row['id'])} at {row['at']}" + (f", promise due {row['due_at']}" if row["promise"] else ""))
    for d in row["documents"]:
        meta = ", ".join(f"{k} {d[k]}" for k in ("sent_at", "sender", "subject") if d[k])
        echo(f"  document {d['sha256']} ({d['media_type']}{', ' + meta if meta else ''})")


@story.command("timeline")
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_workspace
def timeline(ws, case_ref, as_json):
    """CASE's events in order, promises with their state on the clock."""
    rows = stories.events(ws, get_case(ws, case_ref))
    if as_json:
        echo_json(rows)
        return
    echo_result(short_ids([{**r, "documents": len(r["documents"])} for r in rows]),
                columns=["id", "at", "source", "channel", "what", "promise", "due_at", "promise_state", "documents"],
                empty="No events yet.", optional=["documents", "source", "channel"])


@story.command("promises")
@click.argument("case_ref", metavar="CASE")
@click.option("--overdue", is_flag=True, help="Only promises past due and not marked: they count as broken.")
@json_option
@pass_workspace
def promises(ws, case_ref, overdue, as_json):
    """Promises made to the person in CASE, with their state.

    The promise clock decides: an overdue promise counts as broken."""
    rows = stories.story_promises(ws, get_case(ws, case_ref), overdue=overdue)
    echo_result(short_ids(rows), as_json=as_json, columns=["id", "at", "promise", "due_at", "promise_state"],
                empty="No promises.")


@story.command("keep")
@click.argument("case_ref", metavar="CASE")
@click.argument("event_ref", metavar="EVENT")
@click.option("--at", help="When it was kept (default: now).")
@click.option("--broken", is_flag=True, help="Mark it broken instead (as story break does).")
@click.option("--note", help="Why, or who says so: kept in the audit log.")
@json_option
@pass_workspace
def keep(ws, case_ref, event_ref, at, broken, note, as_json):
    """Mark the promise of EVENT kept (or --broken). Unmarked, the clock decides."""
    _settle(ws, case_ref, event_ref, kept=not broken, at=at, note=note, as_json=as_json)


@story.command("break")
@click.argument("case_ref", metavar="CASE")
@click.argument("event_ref", metavar="EVENT")
@click.option("--at", help="When it was found broken (default: now).")
@click.option("--note", help="Why, or who says so: kept in the audit log.")
@json_option
@pass_workspace
def break_(ws, case_ref, event_ref, at, note, as_json):
    """Mark the promise of EVENT broken."""
    _settle(ws, case_ref, event_ref, kept=False, at=at, note=note, as_json=as_json)


def _settle(ws, case_ref, event_ref, *, kept, at, note, as_json):
    case = get_case(ws, case_ref)
    row = stories.keep_promise(ws, stories.get_event(ws, case, event_ref), kept=kept, at=at, note=note)
    if as_json:
        echo_json(row)
    else:
        echo(f"Promise {short(row['id'])} ({row['promise']}) marked {'kept' if kept else 'broken'}; "
             f"now {promise_state(row, ws.now())}.")


@story.command("ask")
@click.argument("case_ref", metavar="CASE")
@click.option("--channel", type=click.Choice(REPLY_CHANNELS), default="email", show_default=True)
@click.option("--at", "requested_at", help="When it was asked (default: now).")
@click.option("--deadline", help="Default: the case's reply window from the request.")
@click.option("--short-deadline-reason", help="Why a deadline shorter than the case's window (printed).")
@json_option
@pass_workspace
def ask(ws, case_ref, channel, requested_at, deadline, short_deadline_reason, as_json):
    """Put CASE to its company: every event, every check and finding. The company stays unnamed
    until every event was put to it by a request whose window closed."""
    rows = stories.request_story_reply(ws, get_case(ws, case_ref), channel=channel, requested_at=requested_at,
                                       deadline=deadline, short_deadline_reason=short_deadline_reason)
    if as_json:
        echo_json(rows)
    else:
        echo(f"Reply requested ({len(rows)} contact point(s)), deadline {rows[0]['deadline']}.")


@story.command("answer")
@click.argument("case_ref", metavar="CASE")
@click.option("--answer", help="The company's answer, verbatim (or --answer-file).")
@click.option("--answer-file", type=click.File(encoding="utf-8"))
@click.option("--at", "answered_at", help="When it answered (default: now).")
@click.option("--correct", is_flag=True, help="A new version of its last answer (the old one stays in the audit log).")
@click.option("--reason", help="With --correct: why the answer changed.")
@click.option("--lang", "language", type=click.Choice(LANGUAGES),
              help="The language it is written in (default: the case's); other editions quote it as such.")
@json_option
@pass_workspace
def answer(ws, case_ref, answer, answer_file, answered_at, correct, reason, language, as_json):
    """Record the company's answer on CASE, verbatim.

    --correct replaces its last answer by a new version (audited, with --reason)."""
    from .company import record_answer

    text = answer_file.read() if answer_file else answer
    case = get_case(ws, case_ref)
    record_answer(lambda: stories.record_story_answer(ws, case, answer=text or "", answered_at=answered_at,
                                                      language=language),
                  lambda: stories.correct_story_answer(ws, case, answer=text or "", reason=reason, language=language),
                  correct=correct, answered_at=answered_at, as_json=as_json)


@story.command("outcome")
@click.argument("case_ref", metavar="CASE")
@click.option("--what", required=True, help='E.g. "The refund of 249 EUR was paid after our enquiry".')
@click.option("--at", help="When (default: now).")
@json_option
@pass_workspace
def outcome(ws, case_ref, what, at, as_json):
    """Record how CASE ended."""
    echo_result(stories.record_outcome(ws, get_case(ws, case_ref), what=what, at=at), as_json=as_json)


@story.command("show")
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_workspace
def show(ws, case_ref, as_json):
    """Show CASE at a glance.

    Company, events, documents, promises on the clock, checks, similar complaints, replies,
    outcome."""
    summary = stories.story_summary(ws, get_case(ws, case_ref))
    if as_json:
        echo_json(summary)
        return
    promises_ = ", ".join(f"{k} {v}" for k, v in summary["promises"].items() if v) or "none"
    similar = summary["similar"]
    echo(f"{summary['case']}: {summary['company']}, {summary['person'] or 'a customer'}"
               f"{' (named with consent)' if summary['name_consent'] else ''}\n"
               f"  events {summary['events']}  documents {summary['documents']}  promises {promises_}\n"
               f"  checks {summary['checks']}  similar complaints {similar['count']}"
               f"{' since ' + similar['since'][:10] if similar['since'] else ''}  reply requests {summary['replies']}\n"
               f"  outcome {summary['outcome'] or '–'}")

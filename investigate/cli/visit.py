"""``investigate visit``: record a test in the field in under a minute."""

from __future__ import annotations

import json
import sys

import click

from ..ids import short
from ..cases.cases import require_case
from ..protocol.versions import current_protocol
from ..vocabulary import ATTEMPT_STATUSES, NOT_COMPLETED, OUTCOMES
from ..cases.stores import find_stores, get_store
from ..cases.testers import get_tester
from ..cases.visits import (amend_visit, check_before_answers, get_visit, list_visits, parse_visit_time,
                            record_visit, visit_detail, void_visit)
from ..errors import InvalidInput, NotFound
from . import LazyGroup
from ..protocol.values import parse_minutes
from .util import echo, echo_json, echo_result, fit_prompt, json_option, pass_workspace, short_ids
from .types import AnswerType, KeyValueType, say_how_read


@click.group(cls=LazyGroup, lazy_commands={"import": "investigate.cli.imports:visit_import"})
def visit():
    """Visits: one test of one store under the case's protocol."""


def _question_options(extra_args: list[str], protocol) -> dict:
    """``--sale yes --id-check glance`` (the protocol's own questions) from the unknown args."""
    answers, i = {}, 0
    by_option = {q.option: q for q in protocol.questions}
    while i < len(extra_args):
        arg = extra_args[i]
        if not arg.startswith("--"):
            raise InvalidInput(f"unexpected argument {arg!r}")
        name, eq, value = arg.partition("=")
        q = by_option.get(name)
        if q is None:
            options = ", ".join(sorted(by_option))
            raise InvalidInput(f"no such option {name} (protocol {protocol.key} asks: {options})")
        if not eq:
            if i + 1 >= len(extra_args):
                raise InvalidInput(f"option {name} needs a value")
            i += 1
            value = extra_args[i]
        answers[q.key] = value
        i += 1
    return answers


@visit.command(
    "record",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option("--case", "case_ref", help="Case slug (default: the only case).")
@click.option("--store", "store_ref", help="Store id prefix or licence number.")
@click.option("--tester", "tester_ref", help="Tester code.")
@click.option("--at", "visited_at", help='Visit time, "2026-11-20 14:35" (workspace time zone); default now.')
@click.option("--observer", help="The adult observer (internal; never published).")
@click.option("--attempt", type=click.Choice(ATTEMPT_STATUSES), default="completed", show_default=True,
              help="Why a visit could not be made; such attempts are never counted as compliant.")
@click.option("--round", "round_", type=click.IntRange(1), default=1, show_default=True)
@click.option("-a", "--answer", "answer_pairs", multiple=True, type=KeyValueType(),
              help="An answer as key=value (repeatable); or use the question's own option, e.g. --sale yes.")
@click.option("--notes", help="Internal notes (never published).")
@click.option("--protocol", "protocol_key",
              help="Another protocol than the case's: a service case tests each channel with its own.")
@click.option("--no-input", is_flag=True, help="Never prompt; fail if an answer is missing.")
@json_option
@pass_workspace
@click.pass_context
def visit_record(ctx, ws, case_ref, store_ref, tester_ref, visited_at, observer, attempt, round_,
                 answer_pairs, notes, protocol_key, no_input, as_json):
    """Record a visit. Every protocol question is also an option (see `protocol show KEY`);
    what is missing is asked for at the prompt and asked again when the answer is invalid.
    The outcome and findings follow from the protocol's rules."""
    case = require_case(ws, case_ref)
    protocol = current_protocol(ws, protocol_key or case["protocol"])
    answers = dict(answer_pairs)
    answers.update(_question_options(ctx.args, protocol))
    prompted: list[str] = []

    def ask(what: str, missing: str, **kwargs):
        """Prompt (asking again on a bad answer) unless --no-input; with no one to answer
        (stdin at its end), say what is missing instead of a bare "Aborted!"."""
        if no_input:
            raise InvalidInput(missing)
        prompted.append(what)
        try:
            return click.prompt(what, **kwargs)
        except click.Abort:
            if sys.stdin.isatty():
                raise
            raise InvalidInput(missing) from None

    store = _choose_store(ws, case, store_ref, ask, no_input)
    tester = None
    if tester_ref or protocol.uses_testers:
        tester = _choose_tester(ws, tester_ref, ask, no_input, protocol)
    if visited_at is None and not no_input:
        visited_at = _ask_time(ws, ask)
    # A minor tests under an adult's eye (Synar, FDA): the observer is asked wherever the
    # protocol says so, and for any protocol with testers once the entry is interactive (as an
    # optional question is); a script that gives every answer is not asked.
    wants_observer = protocol.observer_required or (
        protocol.uses_testers and not no_input and (prompted or sys.stdin.isatty()))
    while wants_observer and attempt == "completed" and not (observer or "").strip():
        observer = ask("Adult observer (name or code)", f"protocol {protocol.key} needs the adult observer "
                                                        "of the visit (--observer)")
    # Consent, age and rotation refuse a visit whatever its answers: checked before the
    # questions, so that a refusal never comes after every answer was typed.
    told = check_before_answers(ws, case=case, store=store, tester=tester, visited_at=visited_at,
                                round=round_, protocol=protocol.key)
    for warning in told:
        echo(f"Warning: {warning}", err=True)
    if attempt == "completed":
        for q in protocol.questions:
            if q.key in answers:
                continue
            choices = q.choices or (("yes", "no") if q.type == "bool" else ())
            if q.required:
                # --no-input asks nothing: no choices printed above a prompt that never comes.
                prompt = q.prompt if no_input else fit_prompt(q.prompt, choices)
                answers[q.key] = ask(prompt, f"missing answer {q.option} ({q.prompt})", type=AnswerType(q, tz=ws.tz))
            elif not no_input and prompted:
                # Optional: asked once the entry is at the prompt, like the others; Enter (or
                # the end of the input) skips it. A command line that gave every required
                # answer is not asked, at a terminal or not: it is what it says, as typed.
                try:
                    value = click.prompt(fit_prompt(q.prompt, choices, "(optional, Enter skips)"), default="",
                                         show_default=False, type=AnswerType(q, tz=ws.tz))
                except click.Abort:
                    if sys.stdin.isatty():
                        raise
                    value = None
                if value not in (None, ""):
                    answers[q.key] = value
    for q in protocol.questions:  # durations given as options are said back like typed ones
        if q.type == "duration" and isinstance(answers.get(q.key), str):
            try:
                say_how_read(q, answers[q.key], parse_minutes(answers[q.key]))
            except ValueError:
                pass  # not a duration: record_visit names it in one line
    result = record_visit(ws, case=case, store=store, tester=tester, answers=answers,
                          visited_at=visited_at, observer=observer, attempt=attempt, round=round_,
                          notes=notes, protocol=protocol.key)
    for warning in result["warnings"]:
        if warning not in told:
            echo(f"Warning: {warning}", err=True)
    if as_json:
        echo_json(result)
        return
    v = result["visit"]
    echo(f"Recorded visit {short(v['id'])} at {store['name']}: {v['outcome'].upper()}")
    for f in result["findings"]:
        echo(f"  finding [{f['severity']}] {f['title']}" + (f" ({f['statute']})" if f["statute"] else ""))
    for p in result["promises"]:
        echo(f"  promise {p['what']} due {p['due_at']}")


#: Matches listed at the store prompt; past that, more of the name narrows the search.
SHOWN_MATCHES = 40


def _choose_store(ws, case, ref, ask, no_input):
    """The store meant by a name, an address fragment, an id prefix or a licence number;
    several matches are offered as a numbered choice, none asks again."""
    while True:
        text = ref or ask("Store (name, address, id prefix or licence number)", "--store is required")
        ref = None
        found = find_stores(ws, text, case=case, limit=None)
        if len(found) == 1:
            return found[0]
        labels = [f"{s['name']}, {s['address'] or '-'}" + (f" ({s['licence_number']})" if s["licence_number"] else "")
                  + f"  [{short(s['id'])}]" for s in found]
        shown = labels[:SHOWN_MATCHES]
        if no_input:
            if not found:
                raise NotFound(f"no store matches {text!r}")
            raise InvalidInput(f"{len(found)} stores match {text!r}: {'; '.join(labels[:5])}")
        if not found:
            echo(f"No store matches {text!r}: try part of its name or address, or its licence number.", err=True)
            continue
        echo(f"{len(found)} stores match {text!r}:", err=True)
        for i, label in enumerate(shown, 1):
            echo(f"  {i}. {label}", err=True)
        if len(labels) > len(shown):
            echo(f"  … and {len(labels) - len(shown)} more: answer 0 and type more of the name or address", err=True)
        choice = ask("Which one (number; 0 to search again)", "--store matches several stores",
                     type=click.IntRange(0, len(shown)))
        if choice:
            return found[choice - 1]


def _choose_tester(ws, ref, ask, no_input, protocol):
    """The tester by code; an unknown code is asked again (known codes shown), not the end."""
    while True:
        code = ref or ask("Tester code", f"--tester is required for protocol {protocol.key}")
        ref = None
        try:
            return get_tester(ws, code)
        except NotFound as ex:
            if no_input:
                raise
            known = [r[0] for r in ws.db.execute("select code from testers order by code limit 20")]
            echo(f"{ex} (known: {', '.join(known) or 'none yet'})", err=True)


def _ask_time(ws, ask):
    """The visit time, "now" shown as the default; asked again until it is a plausible time."""
    while True:
        text = ask("Visit time (YYYY-MM-DD HH:MM)", "--at is required", default="now")
        try:
            return parse_visit_time(ws, text).isoformat()
        except InvalidInput as ex:
            echo(f"Error: {ex}", err=True)


@visit.command("list")
@click.option("--case", "case_ref")
@click.option("--store", "store_ref")
@click.option("--outcome", type=click.Choice(OUTCOMES + (NOT_COMPLETED,)))
@click.option("--limit", type=int)
@json_option
@pass_workspace
def visit_list(ws, case_ref, store_ref, outcome, limit, as_json):
    """List visits."""
    case = require_case(ws, case_ref) if case_ref else None
    store = get_store(ws, store_ref) if store_ref else None
    rows = list_visits(ws, case=case, store=store, outcome=outcome, limit=limit, brief=not as_json)
    if as_json:
        echo_json(rows)
    else:
        # One case asked for: its slug on every row would only take the store's room.
        echo_result(short_ids(rows), columns=["id", *([] if case else ["case_slug"]), "visited_at", "store_name",
                    "tester_code", "outcome", "findings", "review_state"], empty="No visits.", optional=["case_slug"])


@visit.command("show")
@click.argument("visit_ref", metavar="VISIT")
@json_option
@pass_workspace
def visit_show(ws, visit_ref, as_json):
    """Show a visit: answers, findings, promises, evidence, history."""
    d = visit_detail(ws, get_visit(ws, visit_ref))
    if as_json:
        echo_json(d)
        return
    v, s = d["visit"], d["store"]
    echo(f"Visit {v['id']}\n  case {d['case']['slug']}  protocol {v['protocol']}"
               + (f" version {v['protocol_version']}" if v.get("protocol_version") is not None else "")
               + f"  round {v['round']}")
    echo(f"  store {s['name']}, {s['address'] or ''}\n  at {v['visited_at']}  tester "
               f"{d['tester_code'] or '-'} (age {v['tester_age'] if v['tester_age'] is not None else '-'})")
    echo(f"  attempt {v['attempt']}  outcome {v['outcome']}  review {v['review_state']}")
    echo("Answers:")
    for k, val in d["answers"].items():
        echo(f"  {k}: {val}")
    for f in d["findings"]:
        echo(f"Finding [{f['severity']}] {f['title']}" + (f" ({f['statute']})" if f["statute"] else ""))
    for p in d["promises"]:
        state = "kept" if p["kept"] == 1 else "broken" if p["kept"] == 0 else "open"
        echo(f"Promise {p['what']} due {p['due_at']} ({state})")
    for e in d["evidence"]:
        echo(f"Evidence {e['sha256']} {e['media_type']} {e['size']} bytes")
    echo(f"History: {len(d['history'])} audit entries")


@visit.command("amend")
@click.argument("visit_ref", metavar="VISIT")
@click.option("--reason", required=True, help="Why the record changes (kept in the audit log).")
@click.option("-a", "--answer", "answer_pairs", multiple=True, type=KeyValueType(),
              help="A corrected answer as key=value (repeatable).")
@click.option("--at", "visited_at", help="Corrected visit time.")
@click.option("--store", "store_ref", help="Corrected store.")
@click.option("--tester", "tester_ref", help="Corrected tester.")
@click.option("--observer")
@click.option("--attempt", type=click.Choice(ATTEMPT_STATUSES))
@click.option("--round", "round_", type=click.IntRange(1))
@click.option("--notes")
@json_option
@pass_workspace
def visit_amend(ws, visit_ref, reason, answer_pairs, visited_at, store_ref, tester_ref, observer,
                attempt, round_, notes, as_json):
    """Correct a visit. Needs --reason; the old values stay in the audit log and the outcome
    is derived again."""
    v = get_visit(ws, visit_ref)
    changes = {k: val for k, val in {
        "visited_at": visited_at, "observer": observer, "attempt": attempt, "round": round_, "notes": notes,
        "store_id": get_store(ws, store_ref)["id"] if store_ref else None,
        "tester_id": get_tester(ws, tester_ref)["id"] if tester_ref else None,
    }.items() if val is not None}
    if not answer_pairs and not changes:
        raise InvalidInput("nothing to amend: give --answer key=value or another field")
    new = amend_visit(ws, v, reason=reason, answers=dict(answer_pairs), **changes)
    if as_json:
        echo_json(new)
    else:
        echo(f"Amended visit {short(new['id'])}: outcome {new['outcome']}.")


@visit.command("void")
@click.argument("visit_ref", metavar="VISIT")
@click.option("--reason", required=True, help="Why the visit is void: a duplicate, a test entry… (kept in the log).")
@json_option
@pass_workspace
def visit_void(ws, visit_ref, reason, as_json):
    """Void a visit recorded by mistake: it leaves every figure.

    Public and working figures alike; it stays in the audit log with the reason. A voided
    visit cannot be reviewed or amended."""
    new = void_visit(ws, get_visit(ws, visit_ref), reason=reason)
    echo_json(new) if as_json else echo(f"Voided visit {short(new['id'])}: it no longer counts in any figure.")


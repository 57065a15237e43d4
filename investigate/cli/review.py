"""``review``, ``retest``, ``correct``, ``versions``, ``fieldwork``: the editorial workflow."""

from __future__ import annotations

import click

from ..ids import short
from ..cases import editorial
from ..cases.cases import get_case
from ..cases.review import ACTIONS, get_visit_for_review, review_queue, review_visit, review_visits, waiting_ids
from ..errors import IntegrityError
from ..cases.rotation import breaches as rotation_breaches
from ..cases.rotation import rotation_rules
from ..numbers.fieldwork import completion, rounds_summary
from .groups import DefaultCommand, DefaultCommandGroup
from .util import echo, echo_json, echo_result, json_option, pass_workspace, pct, progress, short_ids


def usage_error(message: str) -> click.UsageError:
    """A usage error of the group the user typed, not of the hidden command behind it."""
    ctx = click.get_current_context()
    return click.UsageError(message, ctx=ctx.parent or ctx)


class ReviewGroup(DefaultCommandGroup):
    default_command = "decide"
    usage_text = ("VISIT... approve|reject|issue [--comment TEXT] | --case SLUG --all-received approve|… "
                  "| queue [--case SLUG]")


@click.group(cls=ReviewGroup, invoke_without_command=False,
             context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
def review():
    """Review visits before they count; `review queue` lists them.

    `review VISIT approve|reject|issue --comment "…"`; several visits at once:
    `review A B C approve`, or every visit of a case still waiting:
    `review --case SLUG --all-received approve`. Only approved visits enter public figures."""


@review.command("decide", cls=DefaultCommand, hidden=True)
@click.argument("words", nargs=-1, required=True, metavar="VISIT... ACTION")
@click.option("--comment", help="Why (required to reject or flag an issue).")
@click.option("--case", "case_ref", help="Resolve VISIT only within this case.")
@click.option("--all-received", is_flag=True, help="Every visit of --case still waiting for review.")
@json_option
@pass_workspace
def review_decide(ws, words, comment, case_ref, all_received, as_json):
    *refs, action = words
    if action not in ACTIONS:
        raise usage_error(f"the last word must be one of {', '.join(ACTIONS)}, not {action!r}")
    if all_received and (refs or not case_ref):
        raise usage_error("--all-received takes --case SLUG and no visit ids")
    if not refs and not all_received:
        raise usage_error("name the visits to review, or --case SLUG --all-received")
    case = get_case(ws, case_ref) if case_ref else None
    if len(refs) == 1:
        row = review_visit(ws, get_visit_for_review(ws, refs[0], case=case), action, comment=comment)
        if as_json:
            echo_json(row)
        else:
            echo(f"Visit {short(row['id'])} is now {row['review_state']}.")
        return
    ids = (waiting_ids(ws, case) if all_received
           else [get_visit_for_review(ws, ref, case=case)["id"] for ref in refs])
    if not ids:
        echo(f"No visit of {case['slug']} is waiting for review.")
        return
    with progress(len(ids), "Reviewing") as bar:
        result = review_visits(ws, ids, action, comment=comment, on_batch=bar.update)
    if as_json:
        echo_json(result)
    else:
        echo(f"{result['changed']} visit(s) now {result['state']}"
             + (f"; {result['unchanged']} already were." if result["unchanged"] else "."))


@review.command("queue")
@click.option("--case", "case_ref")
@click.option("--all", "all_states", is_flag=True, help="Every visit, whatever its state.")
@json_option
@pass_workspace
def review_queue_cmd(ws, case_ref, all_states, as_json):
    """Visits waiting for review (received or with issues), oldest first."""
    case = get_case(ws, case_ref) if case_ref else None
    states = ("received", "has_issues", "approved", "rejected") if all_states else ("received", "has_issues")
    rows = review_queue(ws, case=case, states=states)
    if as_json:
        echo_json(rows)
    else:
        echo_result(short_ids(_flags_joined(rows)),
                    columns=["id", "case_slug", "visited_at", "store_name", "outcome", "review_state",
                             "last_comment", "flags"], empty="Nothing waiting for review.",
                    optional=["case_slug"])


def _flags_joined(rows):
    """The queue's rows with their flags as one cell (each row is the queue's own, fresh)."""
    for row in rows:
        row["flags"] = "; ".join(row["flags"])
        yield row


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.option("--after", default="90d", show_default=True, help="Earliest start after the last visit: 90d, 12w.")
@click.option("--slug", help="Slug of the new case (default: CASE-retest).")
@json_option
@pass_workspace
def retest(ws, case_ref, after, slug, as_json):
    """Plan a retest of the stores that sold in CASE, as a linked case."""
    result = editorial.plan_retest(ws, get_case(ws, case_ref), after=after, slug=slug)
    if as_json:
        echo_json(result)
    else:
        echo(f"Created case {result['case']['slug']}: {result['stores']} stores to retest "
                   f"from {result['planned_start']}.")


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.option("--note", required=True, help="What was wrong and what is right.")
@json_option
@pass_workspace
def correct(ws, case_ref, note, as_json):
    """Add a dated correction to a published CASE's next version."""
    row = editorial.add_correction(ws, get_case(ws, case_ref), note=note)
    if as_json:
        echo_json(row)
    else:
        echo(f"Correction recorded ({short(row['id'])}); it appears in the next published version.")


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.option("--check", "check_file", type=click.Path(exists=True, dir_okay=False),
              help="Say which published version this file is, by its SHA-256.")
@json_option
@pass_workspace
def versions(ws, case_ref, check_file, as_json):
    """List CASE's published files, or check one against them.

    Each file with its version, language and SHA-256.

    Editions of one content in several languages share a version number: a new number means
    the content changed."""
    case = get_case(ws, case_ref)
    if check_file:
        match = editorial.verify_publication(ws, case, check_file)
        if as_json:
            echo_json({"file": check_file, "match": match})
        elif match:
            echo(f"{check_file} is {match['kind']} version {match['version']} of {case['slug']} "
                       f"({match['created_at']}).")
        if not match:
            raise IntegrityError(f"{check_file} matches no published version of {case['slug']}")
        return
    rows = [{"file": r["path"], "kind": r["kind"], "edition": r["edition"], "version": r["version"],
             "language": r["language"], "sha256": r["sha256"], "size": r["size"], "created_at": r["created_at"],
             "override_reason": r["override_reason"]} for r in editorial.publications(ws, case)]
    if as_json:
        echo_json(rows)
    else:
        echo_result(rows, columns=["kind", "version", "language", "created_at", "sha256", "file", "override_reason"],
                    empty="Not published yet.")


@click.command()
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_workspace
def fieldwork(ws, case_ref, as_json):
    """Completion per stratum, rate per round, stores that changed.

    Also: stores that sold at least once, and the visits that broke the case's rotation rules."""
    case = get_case(ws, case_ref)
    data = {"completion": completion(ws, case), "rounds": rounds_summary(ws, case),
            "rotation_rules": rotation_rules(ws, case), "rotation_breaches": rotation_breaches(ws, case)}
    if as_json:
        echo_json(data)
        return
    echo_result([{**r, "stratum": r["stratum"] or "(all)", "completion_rate": pct(r["completion_rate"])}
                 for r in data["completion"]],
                columns=["stratum", "targets", "attempted", "completed", "completion_rate"], title="Completion")
    echo("")
    echo_result([{**r, "rate": pct(r["rate"]), "95% interval": f"{pct(r['ci_low'])} – {pct(r['ci_high'])}"
                  if r["ci_low"] is not None else ""} for r in data["rounds"]["rounds"]],
                columns=["round", "eligible", "violations", "rate", "95% interval"],
                title="Rounds", empty="No completed visits.")
    once = data["rounds"]["sold_at_least_once"]
    if once["eligible"]:
        echo(f"\nSold at least once: {once['violations']} of {once['eligible']} stores ({pct(once['rate'])})")
    for c in data["rounds"]["changes"]:
        echo(f"  {c['store_name']}: {c['from']} in round {c['from_round']} → {c['to']} in round {c['to_round']}")
    if data["rotation_rules"]:
        echo("")
        echo("Rotation breaches (" + ", ".join(f"{k} {v}" for k, v in data["rotation_rules"].items()) + "):")
        for b in data["rotation_breaches"]:  # one line each: a breach is a sentence, not a cell
            echo(f"  {short(b['visit_id'])}  {b['visited_at'][:16]}  {b['breach']}")
        if not data["rotation_breaches"]:
            echo("  None.")

"""``investigate tip`` and ``investigate leads``: from a consumer's story to a case."""

from __future__ import annotations

import sys

import click

from ..ids import short
from ..cases.cases import get_case
from ..cases.stores import get_store
from ..cases import tips as tips_domain
from ..errors import InvalidInput
from ..vocabulary import TIP_CHANNELS, TIP_STATUSES
from .plugins import FormatType
from .groups import DefaultCommandGroup
from .types import KeyValueType, ValueMapType, table_options, value_maps_by_column
from .util import (echo, echo_import_summary, echo_json, echo_result, json_option, pass_workspace, progress,
                   short_ids)


@click.group()
def tip():
    """Tips and complaints: what people say a business did to them."""


@tip.command("add")
@click.option("--received", "received_at", help="When the tip came in (default: now).")
@click.option("--channel", type=click.Choice(TIP_CHANNELS))
@click.option("--store", "store_ref", help="A known store (id prefix or licence number).")
@click.option("--company", help="The business as the person named it (matched to a store or chain).")
@click.option("--what", "what_happened", help="What happened, in the person's words.")
@click.option("--wants", help="What the person wants.")
@click.option("--contact", help="How to reach the source (private: never published).")
@click.option("--issue", help="Kind of problem, e.g. 'refund refused'.")
@click.option("--consent-publish/--no-consent-publish", default=None,
              help="The source agrees that the story may be quoted in public.")
@click.option("--no-input", is_flag=True, help="Never prompt; fail if something is missing.")
@json_option
@pass_workspace
def tip_add(ws, received_at, channel, store_ref, company, what_happened, wants, contact, issue, consent_publish,
            no_input, as_json):
    """Record a tip; what is missing is asked for at the prompt."""
    interactive = not no_input and sys.stdin.isatty()

    def ask(value, prompt, **kw):
        if value is not None or not interactive:
            return value
        return click.prompt(prompt, **kw)

    channel = ask(channel, "Channel", type=click.Choice(TIP_CHANNELS))
    if not store_ref and not company:
        company = ask(company, "Business (as the person named it)")
    what_happened = ask(what_happened, "What happened")
    wants = ask(wants, "What the person wants", default="", show_default=False) or None
    contact = ask(contact, "Source's contact (private)", default="", show_default=False) or None
    if consent_publish is None:
        consent_publish = click.confirm("May the story be quoted in public?", default=False) if interactive else False
    if not channel:
        raise InvalidInput("--channel is required")
    if not what_happened:
        raise InvalidInput("--what is required: what happened")
    store = get_store(ws, store_ref) if store_ref else None
    row = tips_domain.add_tip(ws, received_at=received_at, channel=channel, company=company, store=store,
                              what_happened=what_happened, wants=wants, contact=contact,
                              consent_publish=consent_publish, issue=issue)
    if as_json:
        echo_json(row)
        return
    match = row["match_note"] or (f"store {short(row['store_id'])}" if row["store_id"] else f"chain {row['chain']}")
    echo(f"Recorded tip {short(row['id'])} ({match}).")


@tip.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=FormatType("importer", kind="tips"), default="cfpb", show_default=True,
              help="The file's layout: cfpb, generic, or one a plugin adds.")
@click.option("--encoding", help="Force the file's encoding.")
@click.option("--map", "mapping", multiple=True, type=KeyValueType(),
              help='A field = the file\'s column, e.g. --map id="Ticket #" (repeatable).')
@click.option("--date-format", help='How the file writes dates, e.g. "%d-%m-%y". Default: MM/DD/YYYY or ISO.')
@click.option("--map-value", "value_maps", multiple=True, type=ValueMapType(),
              help='COLUMN:VALUE=OURS: the file\'s word for a channel or a yes/no, e.g. '
                   '"Received Via:Customer Care Call=phone" (repeatable).')
@click.option("--company", help="The business every complaint is about, for a file without a company column.")
@table_options
@json_option
@pass_workspace
def tip_import(ws, path, fmt, encoding, mapping, date_format, value_maps, company, ignore, ignore_unknown, fix_text,
               null_values, as_json):
    """Import complaints from a CSV file; re-importing adds nothing.

    The CFPB Consumer Complaint Database layout (every column kept: "Submitted via" is the
    channel; the company's response, "Timely response?" and "Consumer disputed?" are shown by
    tip list and counted by leads), or, with --format generic, the fields id, received_at,
    company, narrative, issue, channel, wants, product, consent, state, postcode,
    company_response, timely, disputed — by name or with --map.

    \b
    Example (an FCC-style export of one company's complaints):
        investigate tip import fcc.csv --format generic --company Comcast \\
            --map id="Ticket #" --map narrative="Customer Complaint" --map received_at=Date \\
            --map channel="Received Via" --map company_response=Status --date-format %d-%m-%y \\
            --map-value "Received Via:Customer Care Call=phone" --map-value "Received Via:Internet=web_form"
    """
    from ..files import count_lines
    from ..formats.plugins import importers

    run_import = importers(ws.root, kind="tips")[fmt]["run"]
    with progress(count_lines(path), "Importing complaints") as bar:
        counts = run_import(ws, path, encoding=encoding, mapping=dict(mapping), date_format=date_format,
                            value_map=value_maps_by_column(value_maps), company=company, ignore=ignore,
                            ignore_unknown=ignore_unknown, fix_text=fix_text, null_values=null_values,
                            progress=bar.update)
    echo_import_summary(counts, as_json, [
        f"{counts['rows']} rows: {counts['added']} new tips, {counts['already_known']} already known; "
        f"matched {counts['matched_store']} to a store, {counts['matched_chain']} to a chain, "
        f"{counts['ambiguous']} ambiguous, {counts['unmatched']} unmatched.",
        *(f"  {example}" for example in counts["ambiguous_examples"])])


@tip.command("list")
@click.option("--business", help="A store, chain or company name.")
@click.option("--status", type=click.Choice(TIP_STATUSES))
@click.option("--limit", type=int, default=200, show_default=True)
@json_option
@pass_workspace
def tip_list(ws, business, status, limit, as_json):
    """List tips (never the sources' contacts)."""
    rows = tips_domain.list_tips(ws, business=business, status=status, limit=limit)
    if as_json:
        echo_json(rows)
    else:
        words = {1: "yes", 0: "no", None: ""}
        rows = [{**r, "timely": words[r["timely"]], "disputed": words[r["disputed"]]} for r in rows]
        echo_result(short_ids(rows, "id", "case_id"), columns=["id", "received_at", "channel", "company", "chain",
                    "issue", "company_response", "timely", "disputed", "status"], empty="No tips.",
                    optional=["chain", "company_response", "timely", "disputed"])


@tip.command("show")
@click.argument("tip_ref", metavar="TIP")
@json_option
@pass_workspace
def tip_show(ws, tip_ref, as_json):
    """Show one tip, with its source's contact."""
    detail = tips_domain.tip_detail(ws, tips_domain.get_tip(ws, tip_ref))
    if as_json:
        echo_json(detail)
    else:
        echo_result({k: v for k, v in detail.items() if v is not None and k != "company_key"})


@tip.command("link")
@click.argument("tip_ref", metavar="TIP")
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_workspace
def tip_link(ws, tip_ref, case_ref, as_json):
    """Link TIP to CASE (status becomes 'case')."""
    row = tips_domain.link_tip(ws, tips_domain.get_tip(ws, tip_ref), get_case(ws, case_ref))
    echo_json(row) if as_json else echo(f"Tip {short(row['id'])} linked.")


@tip.command("status")
@click.argument("tip_ref", metavar="TIP")
@click.argument("status", type=click.Choice(TIP_STATUSES))
@click.option("--reason")
@json_option
@pass_workspace
def tip_status(ws, tip_ref, status, reason, as_json):
    """Set a tip's status: new, checking, case or dropped."""
    row = tips_domain.set_status(ws, tips_domain.get_tip(ws, tip_ref), status, reason=reason)
    echo_json(row) if as_json else echo(f"Tip {short(row['id'])} is now {row['status']}.")


class LeadsGroup(DefaultCommandGroup):
    default_command = "list"
    usage_text = "[--min N] [--since DATE] [--limit N] | open LEAD --protocol KEY"

    def parse_args(self, ctx, args):
        # `investigate leads` alone, or with options only, lists the leads.
        if not args or args[0].startswith("-") and args[0] not in ("-h", "--help"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group(cls=LeadsGroup)
def leads():
    """Businesses with repeated complaints: where a case may start."""


@leads.command("list")
@click.option("--min", "min_count", type=int, default=3, show_default=True, help="At least this many complaints.")
@click.option("--since", help="Only complaints received since DATE (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="Show at most N groups.")
@json_option
@pass_workspace
def leads_list(ws, min_count, since, limit, as_json):
    """Rank businesses and chains by repeated complaints of one issue. When the list is
    cut at --limit, a line (on stderr) says how many groups were left out."""
    rows = tips_domain.leads(ws, min_count=min_count, since=since, limit=limit)
    if as_json:
        echo_json(rows)
    else:
        shown = [{**r, **{k: f"{r[k]:.0%}" for k in ("answered_in_time", "disputed") if r[k] is not None}}
                 for r in rows]
        echo_result(shown, columns=["lead", "business", "issue", "complaints", "first", "last", "answered_in_time",
                                    "disputed"], optional=["answered_in_time", "disputed"],
                    empty=f"No business with {min_count} or more complaints of one kind.")
    if len(rows) == limit:
        left_out = tips_domain.count_leads(ws, min_count=min_count, since=since) - len(rows)
        if left_out:
            echo(f"{left_out} more group{'s' if left_out != 1 else ''} left out: showing the first {limit} "
                       "(raise --limit to see them).", err=True)


@leads.command("open")
@click.argument("lead_ref", metavar="LEAD")
@click.option("--protocol", help="Protocol of the new case, e.g. refund-honesty (a story's checks: phone-hotline).")
@click.option("--slug", help="Slug of the new case.")
@click.option("--title")
@click.option("--story", "story_tip", metavar="TIP", help="Open one person's story instead: TIP is one of the "
              "lead's complaints; the others count as similar complaints (see investigate story).")
@click.option("--person", "person_label", help='Story: how the person is described in print.')
@json_option
@pass_workspace
def leads_open(ws, lead_ref, protocol, slug, title, story_tip, person_label, as_json):
    """Open a case from LEAD, carrying its tips along.

    With --story, the case is one person's story."""
    if story_tip:
        from ..cases.stories import open_story_from_lead

        made = open_story_from_lead(ws, lead_ref, tips_domain.get_tip(ws, story_tip), slug=slug, title=title,
                                    protocol=protocol, person_label=person_label)
        if as_json:
            echo_json({"case": made["case"], "story": made["story"]["id"], "company": made["company"]["name"]})
        else:
            echo(f"Opened story {made['case']['slug']} about {made['company']['name']}.")
        return
    if not protocol:
        raise click.UsageError("leads open needs --protocol (or --story TIP)")
    result = tips_domain.open_lead(ws, lead_ref, protocol=protocol, slug=slug, title=title)
    if as_json:
        echo_json(result)
    else:
        echo(f"Opened case {result['case']['slug']} with {result['tips']} linked tips.")

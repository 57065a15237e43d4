"""``investigate case``: investigations."""

from __future__ import annotations

import click

from ..ids import short
from ..cases import cases
from ..cases.cases import LANGUAGES
from ..vocabulary import CASE_STATUSES
from .util import echo, echo_json, echo_result, json_option, pass_workspace, pct


@click.group()
def case():
    """Cases: one investigation each, under one protocol."""


@case.command("new")
@click.argument("slug")
@click.option("--title", required=True, help='E.g. "Tobacco sales to minors, Neukölln, Nov 2026".')
@click.option("--protocol", help="Protocol key (see: investigate protocol list); a story's checks default to "
              "phone-hotline.")
@click.option("--kind", type=click.Choice(["sample", "story"]), default="sample", show_default=True,
              help="sample: stores tested under one protocol; story: one person's account (see investigate story).")
@click.option("--tip", "tip_ref", help="Story: the tip it comes from (its company is the story's business).")
@click.option("--company", "company_ref", help="Story: the business it is about (default: the tip's company).")
@click.option("--person", "person_label", help='Story: how the person is described in print, e.g. '
              '"a customer from Neukölln".')
@click.option("--person-name", help="Story: the person's name (kept private unless --name-consent).")
@click.option("--name-consent", is_flag=True, help="Story: the person agreed in writing to be named.")
@click.option("--contact", help="Story: the person's phone or e-mail (never public; default: the tip's).")
@click.option("--person-address", help="Story: the person's postal address (never public, never in print).")
@click.option("--jurisdiction", default="", help="Where the law applies, e.g. Berlin, DE.")
@click.option("--legal-basis", default="", help="The statute the test checks, e.g. JuSchG § 10.")
@click.option("--language", type=click.Choice(LANGUAGES), help="Report language (default: workspace's).")
@click.option("--reply-days", type=click.IntRange(1, 365), default=14, show_default=True,
              help="Days a business gets to answer before it may be named.")
@click.option("--working-days", is_flag=True, help="Count the reply window in working days (see --holidays).")
@click.option("--holidays", metavar="REGION", help="Public holidays to skip: a country, or country-state "
              "(DE-BE, DE-BY, DK).")
@click.option("--description", default="", help="The method, as printed in the report.")
@json_option
@pass_workspace
def case_new(ws, slug, title, protocol, kind, tip_ref, company_ref, person_label, person_name, name_consent, contact,
             person_address, jurisdiction, legal_basis, language, reply_days, working_days, holidays, description, as_json):
    """Open a new case SLUG (lowercase, dashes)."""
    story_options = [tip_ref, company_ref, person_label, person_name, name_consent, contact, person_address]
    if kind == "story":
        from ..cases import stories
        from ..cases.companies import get_company
        from ..cases.tips import get_tip

        made = stories.create_story(
            ws, slug=slug, title=title, protocol=protocol, tip=get_tip(ws, tip_ref) if tip_ref else None,
            company=get_company(ws, company_ref) if company_ref else None, person_label=person_label,
            person_name=person_name, name_consent=name_consent, contact=contact, address=person_address,
            jurisdiction=jurisdiction,
            legal_basis=legal_basis, language=language, reply_days=reply_days, description=description,
            reply_calendar="working_days" if working_days else "days", holidays=holidays)
        row = made["case"]
        if as_json:
            echo_json({**row, "story": made["story"]["id"], "company": made["company"]["name"]})
        else:
            echo(f"Created story {row['slug']} ({short(row['id'])}) about {made['company']['name']}, "
                       "status planning.")
        return
    if any(story_options):
        raise click.UsageError("--tip, --company, --person, --person-name, --name-consent, --contact and --person-address are for "
                               "--kind story")
    if not protocol:
        raise click.UsageError("a case needs --protocol (see: investigate protocol list)")
    row = cases.create_case(ws, slug=slug, title=title, protocol=protocol, jurisdiction=jurisdiction,
                            legal_basis=legal_basis, language=language, reply_days=reply_days,
                            description=description, reply_calendar="working_days" if working_days else "days",
                            holidays=holidays)
    if as_json:
        echo_json(row)
    else:
        echo(f"Created case {row['slug']} ({short(row['id'])}), status planning.")


@case.command("list")
@click.option("--status", type=click.Choice(CASE_STATUSES))
@json_option
@pass_workspace
def case_list(ws, status, as_json):
    """List cases with their visit and violation counts."""
    rows = cases.list_cases(ws, status=status)
    if as_json:
        echo_json(rows)
    else:
        # The slug is how a case is typed everywhere: the id stays in --json.
        echo_result(rows, columns=["slug", "title", "protocol", "status", "visits", "violations", "stores"],
                    empty="No cases yet.")


@case.command("show")
@click.argument("case_ref", metavar="CASE")
@json_option
@pass_workspace
def case_show(ws, case_ref, as_json):
    """Show a case and its counts."""
    summary = cases.case_summary(ws, cases.get_case(ws, case_ref))
    if as_json:
        echo_json(summary)
        return
    c = summary["case"]
    echo(f"{c['title']}\n  slug {c['slug']}  id {c['id']}\n  protocol {c['protocol']}  status {c['status']}"
               f"  language {c['language']}  reply window {c['reply_days']} days")
    if c["jurisdiction"] or c["legal_basis"]:
        echo(f"  jurisdiction {c['jurisdiction']}  legal basis {c['legal_basis']}")
    counts = summary["counts"]
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items()) if v) or "none"
    echo(f"  visits {summary['visits']} ({outcomes}); rate {pct(counts['rate'])}"
         + (f"; {counts['provisional']} provisional" if counts["provisional"] else "")
         + (f"; {summary['rejected']} rejected, never counted" if summary["rejected"] else ""))
    echo(f"  stores tested {counts['stores_tested']} of {counts['target_stores']} targeted "
         f"(completion {pct(counts['completion_rate'])}); frame {summary['frame_size']}")
    echo(f"  findings {summary['findings']}  evidence {summary['evidence']}  open promises "
               f"{summary['promises_open']}  reply requests {summary['replies']}")
    if summary["first_visit"]:
        echo(f"  period {summary['first_visit'][:10]} – {summary['last_visit'][:10]}")


@case.command("edit")
@click.argument("case_ref", metavar="CASE")
@click.option("--title")
@click.option("--description", help="The method, as printed in the report.")
@click.option("--reply-days", type=click.IntRange(1, 365))
@click.option("--working-days/--calendar-days", "working_days", default=None,
              help="Count the reply window in working days or calendar days.")
@click.option("--holidays", metavar="REGION", help="Public holidays to skip (DE-BE, DK…).")
@click.option("--legal-basis")
@click.option("--jurisdiction")
@click.option("--lang", type=click.Choice(cases.LANGUAGES),
              help="Give --title and --description in this language (one the case publishes in).")
@click.option("--person", help="With --lang, a story: how the person is described in print in that language.")
@click.option("--reason", help="Why (kept in the audit log).")
@json_option
@pass_workspace
def case_edit(ws, case_ref, title, description, reply_days, working_days, holidays, legal_basis, jurisdiction,
              lang, person, reason, as_json):
    """Change CASE's title, method text, reply window or legal basis.

    Every change is audited.

    With --lang, the title and method text in another language (and a story's --person): a
    report in a language the case has no title in is refused."""
    case = cases.get_case(ws, case_ref)
    if person is not None and not (lang and lang != case["language"]):
        raise click.UsageError("--person needs --lang, one of the other languages the story publishes in")
    if lang and lang != case["language"]:
        if any(v is not None for v in (reply_days, working_days, holidays, legal_basis, jurisdiction)):
            raise click.UsageError("--lang changes only --title and --description (and a story's --person)")
        row = cases.translate_case(ws, case, lang, title=title, description=description, person=person,
                                   reason=reason)
        echo_json(row) if as_json else echo(f"Case {row['slug']} updated in {lang}.")
        return
    calendar = None if working_days is None else ("working_days" if working_days else "days")
    row = cases.edit_case(ws, case, reason=reason, title=title, description=description,
                          reply_days=reply_days, reply_calendar=calendar, holidays=holidays,
                          legal_basis=legal_basis, jurisdiction=jurisdiction)
    if as_json:
        echo_json(row)
    else:
        echo(f"Case {row['slug']} updated.")


@case.command("rotation")
@click.argument("case_ref", metavar="CASE")
@click.option("--max-visits-per-store-per-round", "max_visits", type=click.IntRange(1))
@click.option("--tester-lockout-days", "lockout", type=click.IntRange(0))
@click.option("--strict/--warn", "strict", default=None, help="Refuse a breaching visit instead of warning.")
@json_option
@pass_workspace
def case_rotation(ws, case_ref, max_visits, lockout, strict, as_json):
    """Show or set CASE's rotation rules.

    A case's own rules win over its protocol's [rotation]."""
    from ..cases.rotation import rotation_rules, set_case_rotation

    case = cases.get_case(ws, case_ref)
    if (max_visits, lockout, strict) != (None, None, None):
        case = set_case_rotation(ws, case, max_visits_per_store_per_round=max_visits, tester_lockout_days=lockout,
                                 strict=strict)
    echo_result(rotation_rules(ws, case), as_json=as_json)


@case.command("status")
@click.argument("case_ref", metavar="CASE")
@click.argument("status", type=click.Choice(CASE_STATUSES))
@click.option("--reason", help="Needed to move a case back.")
@click.option("--override", help="Publish although the checklist is open; the reason is recorded.")
@json_option
@pass_workspace
def case_status(ws, case_ref, status, reason, override, as_json):
    """Set a case's status: planning → fieldwork → review → published.

    'published' needs a passing checklist (investigate checklist CASE) or --override "reason"."""
    case = cases.get_case(ws, case_ref)
    if status == "published" and case["status"] != "published":
        from ..cases.editorial import mark_published

        row = mark_published(ws, case, override=override)
    else:
        row = cases.set_status(ws, case, status, reason=reason)
    if as_json:
        echo_json(row)
    else:
        echo(f"Case {row['slug']} is now {row['status']}.")

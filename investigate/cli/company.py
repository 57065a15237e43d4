"""``investigate company``: companies and their contact points (hotline, e-mail, web form, branch)."""

from __future__ import annotations

import click

from ..cases import companies
from ..cases.cases import LANGUAGES, get_case
from ..errors import InvalidInput
from ..vocabulary import REPLY_CHANNELS, STORE_CHANNELS
from .report import letter_options, write_letter
from .util import echo, echo_json, echo_result, json_option, pass_workspace, short_ids


@click.group()
def company():
    """Companies: businesses tested on every channel.

    Their hotlines, e-mail addresses, web forms and branches are contact points."""


@company.command("add")
@click.argument("name")
@click.option("--sector", help="telecom, energy, bank, retail…")
@click.option("--country")
@json_option
@pass_workspace
def add(ws, name, sector, country, as_json):
    """Add a company."""
    echo_result(companies.add_company(ws, name=name, sector=sector, country=country), as_json=as_json)


@company.command("contact")
@click.argument("company_ref", metavar="COMPANY")
@click.option("--channel", type=click.Choice(STORE_CHANNELS), required=True)
@click.option("--contact", help="Phone number, e-mail address or URL of the form.")
@click.option("--name", help="Default: the company's name with the contact.")
@click.option("--address", help="For a branch office.")
@click.option("--city")
@json_option
@pass_workspace
def contact(ws, company_ref, channel, contact, name, address, city, as_json):
    """Add a contact point of COMPANY.

    A hotline, an e-mail address, a web form or a branch. It is a store with a channel, so visits, replies and figures work as for any store."""
    row = companies.add_contact_point(ws, companies.get_company(ws, company_ref), channel=channel,
                                      contact=contact, name=name, address=address, city=city)
    echo_result(row, as_json=as_json)


@company.command("list")
@json_option
@pass_workspace
def list_(ws, as_json):
    """Companies and how many contact points each has."""
    rows = companies.list_companies(ws)
    echo_result(rows if as_json else short_ids(rows), as_json=as_json,
                columns=["id", "name", "sector", "contact_points"], empty="No companies yet.")


@company.command("ask")
@click.argument("case_ref", metavar="CASE")
@click.argument("company_ref", metavar="COMPANY")
@click.option("--channel", type=click.Choice(REPLY_CHANNELS), default="email", show_default=True)
@click.option("--at", "requested_at", help="When it was asked (default: now).")
@click.option("--deadline", help="Default: the case's reply window from the request.")
@json_option
@pass_workspace
def ask(ws, case_ref, company_ref, channel, requested_at, deadline, as_json):
    """Put CASE's findings to COMPANY, for all its channels.

    One request for every channel of it the case tested, with the same time and deadline."""
    rows = companies.request_company_reply(ws, get_case(ws, case_ref), companies.get_company(ws, company_ref),
                                           channel=channel, requested_at=requested_at, deadline=deadline)
    if as_json:
        echo_json(rows)
    else:
        echo(f"Reply requested for {len(rows)} contact point(s), deadline {rows[0]['deadline']}.")


@company.command("letter")
@click.argument("case_ref", metavar="CASE")
@click.argument("company_ref", metavar="COMPANY")
@letter_options
def letter(ws, case_ref, company_ref, lang, out, as_json):
    """Write the one letter asking COMPANY for comment on CASE.

    Every contact point the case tested, every visit and finding, the evidence kept, the
    deadline, and where to answer."""
    company = companies.get_company(ws, company_ref)
    points = companies.contact_points(ws, company)
    if not points:
        raise InvalidInput(f"{company['name']} has no contact point (investigate company contact)")
    write_letter(ws, get_case(ws, case_ref), points[0], lang=lang, out=out, as_json=as_json)


@company.command("answer")
@click.argument("case_ref", metavar="CASE")
@click.argument("company_ref", metavar="COMPANY")
@click.option("--answer", help="The company's answer, verbatim (or --answer-file).")
@click.option("--answer-file", type=click.File(encoding="utf-8"))
@click.option("--at", "answered_at", help="When it answered (default: now).")
@click.option("--correct", is_flag=True, help="A new version of its last answer (the old one stays in the audit log).")
@click.option("--reason", help="With --correct: why the answer changed.")
@click.option("--lang", "language", type=click.Choice(LANGUAGES),
              help="The language it is written in (default: the case's); other editions quote it as such.")
@json_option
@pass_workspace
def answer(ws, case_ref, company_ref, answer, answer_file, answered_at, correct, reason, language, as_json):
    """Record COMPANY's answer on CASE, verbatim.

    The answer is recorded on each of its open requests; --correct replaces its last answer
    by a new version (audited, with --reason)."""
    text = answer_file.read() if answer_file else answer
    record_answer(lambda: companies.record_company_reply(
        ws, get_case(ws, case_ref), companies.get_company(ws, company_ref), answer=text or "",
        answered_at=answered_at, language=language), lambda: companies.correct_company_answer(
        ws, get_case(ws, case_ref), companies.get_company(ws, company_ref), answer=text or "", reason=reason,
        language=language),
        correct=correct, answered_at=answered_at, as_json=as_json)


def record_answer(record, correct_it, *, correct: bool, answered_at, as_json: bool) -> None:
    """``company answer`` and ``story answer``: record an answer, or correct the last one."""
    if correct and answered_at:
        raise InvalidInput("--correct keeps the time of the answer it corrects: leave out --at")
    rows = correct_it() if correct else record()
    if as_json:
        echo_json(rows)
    else:
        echo(f"Answer {'corrected' if correct else 'recorded'} on {len(rows)} request(s).")

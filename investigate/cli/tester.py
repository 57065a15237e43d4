"""``investigate tester``: protected identities — codes, never names."""

from __future__ import annotations

import click

from ..ids import short
from ..cases import testers
from ..errors import InvalidInput
from .util import echo, echo_json, echo_result, json_option, pass_workspace, short_ids


@click.group()
def tester():
    """Testers: a code, a birth month and consent on file. Never a real name."""


@tester.command("add")
@click.argument("code")
@click.option("--birth-month", required=True, metavar="YYYY-MM", help="Month of birth (not the day).")
@click.option("--consent/--no-consent", default=False, help="Written guardian consent is on file.")
@click.option("--consent-date", metavar="YYYY-MM-DD",
              help="The day the guardian signed (default: today); a test before it is refused.")
@click.option("--consent-file", type=click.Path(exists=True, dir_okay=False),
              help="The signed consent form: its SHA-256 is recorded; the file is not copied.")
@click.option("--consent-held-by", metavar="TEXT",
              help='Where the signed paper form is kept when there is no file, e.g. "desk safe, M. Olsen".')
@json_option
@pass_workspace
def tester_add(ws, code, birth_month, consent, consent_date, consent_file, consent_held_by, as_json):
    """Register tester CODE, such as T-07.

    Consent is proven by the signed form (--consent-file) or by saying where the paper is
    (--consent-held-by); --consent alone is refused."""
    if consent and not consent_file and not (consent_held_by or "").strip():
        raise InvalidInput("--consent needs the signed form (--consent-file PATH) or where the paper is kept "
                           '(--consent-held-by "…")')
    if consent_date is None and (consent or consent_file or (consent_held_by or "").strip()):
        # A test before this day is refused: a form signed earlier needs its own date.
        consent_date = ws.now().date().isoformat()
    row = testers.add_tester(ws, code=code, birth_month=birth_month, consent=consent,
                             consent_date=consent_date, consent_file=consent_file,
                             consent_held_by=consent_held_by)
    if as_json:
        echo_json(row)
    else:
        echo(f"Added tester {row['code']} ({short(row['id'])}), consent "
                   f"{'on file ' + (row['consent_date'] or '') if row['consent'] else 'NOT on file'}.")


@tester.command("list")
@json_option
@pass_workspace
def tester_list(ws, as_json):
    """List testers with their age today and number of visits."""
    rows = testers.list_testers(ws)
    if as_json:
        echo_json(rows)
    else:
        echo_result(short_ids(rows), columns=["id", "code", "birth_month", "age_today", "consent",
                                              "consent_date", "visits"], empty="No testers yet.")


@tester.command("edit")
@click.argument("code")
@click.option("--consent", is_flag=True, help="Consent arrived: give --consent-file or --consent-held-by.")
@click.option("--consent-date", metavar="YYYY-MM-DD", help="When it was signed (default: today).")
@click.option("--consent-file", type=click.Path(exists=True, dir_okay=False),
              help="The signed consent form: its SHA-256 is recorded; the file is not copied.")
@click.option("--consent-held-by", metavar="TEXT", help="Where the signed paper form is kept.")
@click.option("--withdrawn", "withdrawn_at", metavar="AT", help="Consent was withdrawn at AT (a date or time).")
@json_option
@pass_workspace
def tester_edit(ws, code, consent, consent_date, consent_file, consent_held_by, withdrawn_at, as_json):
    """Record consent that came later, or its withdrawal.

    For tester CODE, registered before. Audited; the old values stay in the log."""
    if bool(consent or consent_file or consent_held_by) == bool(withdrawn_at):
        raise InvalidInput("tester edit needs either --consent (with --consent-file or --consent-held-by) "
                           "or --withdrawn AT")
    found = testers.get_tester(ws, code)
    if withdrawn_at:
        row = testers.record_withdrawal(ws, found, withdrawn_at=withdrawn_at)
        said = f"consent withdrawn {row['consent_withdrawn_at']}"
    else:
        row = testers.record_consent(ws, found, consent_date=consent_date, consent_file=consent_file,
                                     consent_held_by=consent_held_by)
        said = f"consent on file {row['consent_date']}"
    echo_json(row) if as_json else echo(f"Tester {row['code']}: {said}.")


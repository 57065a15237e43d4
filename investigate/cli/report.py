"""``investigate report`` and ``investigate reply letter``: the PDFs."""

from __future__ import annotations

import click

from ..cases.cases import get_case
from ..cases.stores import get_store
from .util import echo, echo_json, echo_queued_stamp, echo_witnesses, json_option, pass_workspace, progress

LANGS = ["en", "de", "da"]


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.option("--edition", type=click.Choice(["public", "internal"]), default="public", show_default=True,
              help="public: what readers get; internal: everything, for the newsroom.")
@click.option("--lang", type=click.Choice(LANGS), help="Default: the case's language.")
@click.option("--out", type=click.Path(dir_okay=False), help="Default: reports/CASE-EDITION-LANG[-vN].pdf.")
@click.option("--override", help="Render the public edition although the checklist is open; the reason is recorded.")
@json_option
@pass_workspace
def report(ws, case_ref, edition, lang, out, override, as_json):
    """Render CASE as a PDF report.

    The public edition names a store only after its reply window closed, counts approved
    visits only, merges small groups and refuses a case whose pre-publication checklist is
    open (unless --override "reason"); each public PDF gets a version and its SHA-256 is
    recorded (see `investigate versions CASE`).
    """
    from ..reports.build import build_report

    with progress(None, "Rendering the report") as bar:
        result = build_report(ws, get_case(ws, case_ref), edition=edition, lang=lang, out=out, override=override,
                              progress=bar.update, total=bar.start)
    if as_json:
        echo_json(result)
    else:
        version = f", version {result['version']}" if result.get("version") else ""
        echo(f"Wrote {result['pdf']} ({result['edition']} edition, {result['lang']}{version})")
    for warning in result.get("warnings", []):
        echo(f"Note: {warning}", err=True)
    echo_queued_stamp(result["checkpoint"].get("timestamp"))
    echo_witnesses(result["checkpoint"].get("witnesses"))


def letter_options(command):
    """The options every letter command takes: the language, the file, --json."""
    command = json_option(pass_workspace(command))
    command = click.option("--out", type=click.Path(dir_okay=False))(command)
    return click.option("--lang", type=click.Choice(LANGS), help="Default: the case's language.")(command)


def write_letter(ws, case, store, *, lang, out, as_json):
    """Write the letter for ``store`` (for all its company's channels when it has one) and say so."""
    from ..reports.build import build_letter

    result = build_letter(ws, case, store, lang=lang, out=out)
    if as_json:
        echo_json({k: v for k, v in result.items() if k != "listed"})
    else:
        echo(f"Wrote {result['pdf']}: {result['contact_points']} contact point(s), {result['visits']} test(s), "
             f"{result['findings']} finding(s)")


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.argument("store_ref", metavar="STORE")
@letter_options
def letter(ws, case_ref, store_ref, lang, out, as_json):
    """Write the letter asking STORE for comment on CASE.

    What was tested, when, what was found, and the deadline to answer. A contact point of a
    company gets the company's one letter, for all its channels (as company letter)."""
    write_letter(ws, get_case(ws, case_ref), get_store(ws, store_ref), lang=lang, out=out, as_json=as_json)


@click.command()
@click.argument("case_ref", metavar="CASE")
@click.option("--lang", type=click.Choice(LANGS), help="Default: the case's language.")
@click.option("--out", type=click.Path(dir_okay=False), help="Default: reports/CASE-custodian-statement-LANG.pdf.")
@click.option("--custodian", help='Who certifies, e.g. "Jana Berg, head of research".')
@json_option
@pass_workspace
def certify(ws, case_ref, lang, out, custodian, as_json):
    """Write the custodian's statement on CASE's evidence, for a lawyer.

    Each file's SHA-256, size, capture time and place, when it entered the log and its
    inclusion proof under a checkpoint signed for the statement (in the manner of FRE 902(14)
    or a Beweissicherung record)."""
    from ..reports.certify import build_certificate

    result = build_certificate(ws, get_case(ws, case_ref), lang=lang, out=out, custodian=custodian)
    if as_json:
        echo_json(result)
    else:
        echo(f"Wrote {result['pdf']}: {result['evidence']} evidence file(s), checkpoint of "
                   f"{result['checkpoint']['size']} entries.")

"""``init``, ``verify`` and ``protocol``: the workspace itself."""

from __future__ import annotations

import click

from ..cases.protocols import all_protocols, get_protocol
from ..errors import IntegrityError
from ..verify import verify as verify_workspace
from ..workspace import find_workspace, init_workspace
from .util import State, echo_json, echo_result, json_option, pass_workspace, progress


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--newsroom", default="My newsroom", show_default=True, help="Newsroom name for reports.")
@click.option("--language", type=click.Choice(["en", "de", "da"]), default="en", show_default=True)
@click.option("--timezone", "timezone_name", default="UTC", show_default=True,
              help="IANA time zone of the fieldwork, e.g. Europe/Berlin.")
@json_option
def init(directory, newsroom, language, timezone_name, as_json):
    """Create a workspace in DIRECTORY (default: here). Refuses to overwrite one."""
    ws = init_workspace(directory, newsroom=newsroom, language=language, timezone_name=timezone_name)
    data = {"workspace": str(ws.root), "database": str(ws.db_path), "timezone": timezone_name}
    ws.close()
    if as_json:
        echo_json(data)
    else:
        click.echo(f"Created workspace {data['workspace']}")
        click.echo("Next: investigate case new --help")


@click.command()
@json_option
@pass_workspace
def verify(ws, as_json):
    """Check the audit chain, every audited row and evidence file.

    Exits 0 when everything matches; otherwise names the first row or file that does not
    and exits 3.
    """
    with progress(ws.db.execute("select count(*) from audit_log").fetchone()[0], "Checking audit chain") as bar:
        report = verify_workspace(ws, progress=bar.update)
    if as_json:
        echo_json(report.as_dict())
    elif report.ok:
        click.echo(f"OK: {report.audit_entries} audit entries, {report.rows_checked} rows, "
                   f"{report.evidence_checked} evidence files match.")
    if not report.ok:
        first = report.problems[0]
        more = f" (and {len(report.problems) - 1} more problems)" if len(report.problems) > 1 else ""
        raise IntegrityError(f"verification failed at {first}{more}")


@click.group()
def protocol():
    """Protocols: what a visit records and how its outcome follows."""


def _workspace_root():
    ctx = click.get_current_context()
    state = ctx.find_object(State)
    try:
        return state.workspace.root if state.path else find_workspace()
    except Exception:
        return None  # protocols are readable outside a workspace: the built-ins


@protocol.command("list")
@json_option
def protocol_list(as_json):
    """List the built-in protocols and the workspace's own."""
    rows = [
        {"key": p.key, "title": p.title, "channel": p.channel,
         "ages": f"{p.tester_min_age}–{p.tester_max_age}" if p.uses_testers else "",
         "questions": len(p.questions), "source": "built-in" if p.builtin else p.source}
        for p in all_protocols(_workspace_root()).values()
    ]
    echo_result(rows, as_json=as_json)


@protocol.command("show")
@click.argument("key")
@json_option
def protocol_show(key, as_json):
    """Show a protocol's questions, their options and its rules."""
    p = get_protocol(key, _workspace_root())
    if as_json:
        echo_json(p.as_dict())
        return
    click.echo(f"{p.title} ({p.key}, version {p.version}, channel {p.channel})")
    if p.uses_testers:
        click.echo(f"Tester ages {p.tester_min_age}–{p.tester_max_age}. {p.id_policy}")
    click.echo(p.description.strip())
    click.echo("\nQuestions:")
    for q in p.questions:
        choices = f" [{'|'.join(q.choices)}]" if q.choices else ""
        click.echo(f"  {q.option:<26} {q.type}{choices}{'' if q.required else ' (optional)'}  {q.prompt}")
    click.echo("\nRules:")
    for r in p.rules:
        then = ", ".join(x for x in [r.outcome and f"outcome {r.outcome}",
                                     r.finding and f"finding {r.finding.get('code') or r.finding['title']}",
                                     r.promise and f"promise {r.promise['what']}"] if x)
        click.echo(f"  when {r.when} → {then}")

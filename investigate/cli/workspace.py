"""``init``, ``verify`` and ``protocol``: the workspace itself."""

from __future__ import annotations

import click

from ..protocol import versions as protocol_versions
from ..protocol.versions import current_protocol, used_versions
from ..protocol.protocols import get_protocol, scan_protocols
from ..errors import IntegrityError, InvalidInput, ProtocolError
from ..proof.verify import verify as verify_workspace, work as verify_work
from ..store.workspace import find_workspace, init_workspace
from .util import State, echo, echo_json, echo_result, echo_witnesses, json_option, pass_workspace, progress


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
        echo(f"Created workspace {data['workspace']}")
        echo("Next: investigate case new --help")


@click.command()
@click.option("--against", "against", metavar="FILE",
              help="A checkpoint, public PDF, public database or bundle: prove today's log extends "
                   "the checkpoint it carries.")
@click.option("--witnesses", "witnesses", type=click.IntRange(0), default=0,
              help="Also require N valid cosignatures of trusted witnesses ('witness use') on the checkpoint.")
@json_option
@pass_workspace
def verify(ws, against, witnesses, as_json):
    """Check the audit chain, every audited row and evidence file.

    Recomputes the chain, every audited row and every evidence file's SHA-256, and checks that
    the log still extends the newest checkpoint this workspace signed.

    With --against FILE, check the checkpoint FILE carries instead: its signature (this
    workspace's key, or one listed under [log] trusted_keys in investigate.toml) and a
    consistency proof that today's log is an append-only extension of it. With --witnesses N,
    the checkpoint must also carry N cosignatures that verify with trusted witnesses' keys.

    Exits 0 when everything matches; otherwise names what broke and exits 3.
    """
    if against:
        from ..proof.log import checkpoint_from_file, verify_against

        note = checkpoint_from_file(against)
        result = verify_against(ws, note)
        if witnesses:
            from ..proof.witnessing import require_cosignatures

            result["cosigned_by"] = require_cosignatures(ws, note, witnesses)
        if as_json:
            echo_json(result)
        else:
            when = (result.get("checkpoint_time") or "")[:10]
            echo(f"OK: the checkpoint{' of ' + when if when else ''} (size {result['checkpoint_size']}) "
                       f"is signed by {result['signed_by']}, and today's log of {result['size']} entries "
                       "extends it (consistency proof verified).")
            if witnesses:
                echo(f"Cosigned by {len(result['cosigned_by'])} trusted witnesses: {', '.join(result['cosigned_by'])}.")
        return
    with progress(None, "Checking audit chain and rows") as bar:
        bar.start(lambda: verify_work(ws))
        report = verify_workspace(ws, progress=bar.update)
    if witnesses and report.ok:
        from ..proof.witnessing import require_cosignatures

        if not report.checkpoint:
            raise IntegrityError("--witnesses: this workspace has signed no checkpoint yet")
        require_cosignatures(ws, report.checkpoint, witnesses)
    if as_json:
        echo_json(report.as_dict())
    elif report.ok:
        echo(f"OK: {report.audit_entries} audit entries, {report.rows_checked} rows, "
                   f"{report.evidence_checked} evidence files match"
                   + (", and the log extends its newest checkpoint." if report.checkpoint else "."))
    if not report.ok:
        first = report.problems[0]
        more = f" (and {len(report.problems) - 1} more problems)" if len(report.problems) > 1 else ""
        raise IntegrityError(f"verification failed at {first}{more}")


@click.command()
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the checkpoint to FILE.")
@click.option("--stamp", "stamp_only", is_flag=True,
              help="Send the checkpoints made offline to the timestamp authority ([timestamp] tsa_url).")
@click.option("--witness", "witness_urls", multiple=True, metavar="URL",
              help="Ask the witness at URL to cosign (repeatable; trusted first with 'witness use'). One that "
                   "is down, slow or refuses does not stop the checkpoint.")
@json_option
@pass_workspace
def checkpoint(ws, out, stamp_only, witness_urls, as_json):
    """Sign the audit log as it is now, as a checkpoint to hand out.

    A checkpoint (C2SP signed note) states the log's size and Merkle root. Hand it to someone
    outside; 'verify --against' proves later that the log only grew.

    With [timestamp] tsa_url in investigate.toml, an RFC 3161 authority vouches for when each
    checkpoint existed; offline, the request waits for 'checkpoint --stamp'.

    With --witness URL, witnesses cosign it once they have checked it extends what they saw
    ('verify --witnesses N' requires N of them); it says who signed and who did not, and why."""
    from pathlib import Path

    from ..proof.timestamps import stamp_queued
    from ..proof.witnessing import make_witnessed_checkpoint

    if stamp_only:
        results = stamp_queued(ws)
        if as_json:
            echo_json(results)
            return
        for r in results:
            echo(f"checkpoint {r['checkpoint']}: " + (f"stamped {r['stamped_at']}" if "stamped_at" in r
                                                            else f"still queued ({r['reason']})"))
        if not results:
            echo("No checkpoint waits for a timestamp.")
        return
    from ..proof.log import stored_size, sync_tree

    missing = ws.db.execute("select coalesce(max(seq), 0) from audit_log").fetchone()[0] - stored_size(ws.db)
    with progress(missing if missing > 10000 and not as_json else None, "Adding entries to the Merkle tree") as bar:
        sync_tree(ws, progress=bar.update)
    result = make_witnessed_checkpoint(ws, list(witness_urls))  # only those asked for by hand
    if not witness_urls:
        result.pop("witnesses")
    if out:
        Path(out).write_text(result["note"], encoding="utf-8")
    if as_json:
        echo_json(result)
    else:
        # The note itself (its signature line is wider than a terminal and must not be
        # wrapped) goes to the file when there is one; the screen says what was written.
        if out:
            echo(f"Wrote {out}: the log signed at {result['size']} entries, root {result['root'][:16]}…")
        else:
            echo(result["note"], nl=False)
        echo_witnesses(result.get("witnesses"))
        stamp_result = result.get("timestamp")
        if stamp_result:
            echo(f"Timestamped by {stamp_result['tsa_url']} at {stamp_result['stamped_at']}."
                       if "stamped_at" in stamp_result else
                       f"Timestamp queued: {stamp_result['reason']} (send later: investigate checkpoint --stamp)",
                       err=True)


@click.command()
@click.argument("entry", type=click.IntRange(1))
@click.option("--size", type=click.IntRange(1), help="Tree size to prove against (default: the log now).")
@json_option
@pass_workspace
def prove(ws, entry, size, as_json):
    """Prove that audit ENTRY is in the log's Merkle tree.

    ENTRY is its sequence number; the proof is against the tree now, or of --size entries."""
    from ..proof.log import inclusion

    result = inclusion(ws, entry, size)
    if as_json:
        echo_json(result)
        return
    echo(f"Entry {result['seq']} in a tree of {result['size']}: leaf {result['leaf']}")
    echo(f"root {result['root']}")
    for i, h in enumerate(result["proof"]):
        echo(f"  {i + 1:>2}. {h}")
    echo("verified" if result["verified"] else "NOT VERIFIED")


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


def _workspace_or_none():
    """The workspace if there is one (its kept protocol versions), else None."""
    try:
        return click.get_current_context().find_object(State).workspace
    except Exception:
        return None


@protocol.command("list")
@json_option
def protocol_list(as_json):
    """List the built-in protocols and the workspace's own.

    A file that does not load is listed as broken (with why) instead of stopping the list."""
    ws = _workspace_or_none()
    found, broken = scan_protocols(ws.root if ws else _workspace_root())
    rows = []
    for p in found.values():
        used = [str(u["version"]) for u in used_versions(ws, p.key)] if ws else []
        status = "ok"
        if ws:
            try:
                current_protocol(ws, p.key)
            except ProtocolError:
                status = "edited in place: raise its version"
        rows.append({"key": p.key, "title": p.title, "version": p.version, "used_versions": ", ".join(used),
                     "channel": p.channel, "ages": f"{p.tester_min_age}–{p.tester_max_age}" if p.uses_testers else "",
                     "questions": len(p.questions), "source": "built-in" if p.builtin else p.source,
                     "status": status})
    for path, declared, error in broken:
        rows.append({"key": declared or path.stem, "title": "", "version": None, "used_versions": "",
                     "channel": "", "ages": "", "questions": None, "source": str(path),
                     "status": f"broken: {str(error).removeprefix(str(path) + ': ')}"})
        echo(f"Warning: {error}", err=True)
    echo_result(rows, as_json=as_json, optional=["source", "ages", "used_versions", "questions"])


@protocol.command("diff")
@click.argument("key")
@click.argument("version_a")
@click.argument("version_b", default="current")
def protocol_diff(key, version_a, version_b):
    """Show what changed between two versions of a protocol.

    Versions are those kept in the workspace: a number, or "current" for the file as it is now."""
    text = protocol_versions.diff(_workspace_or_none(), key, version_a, version_b)
    echo(text.rstrip("\n") if text else f"No difference between {version_a} and {version_b}.")


@protocol.command("show")
@click.argument("key")
@click.option("--version", "version", help="A version kept in the workspace (default: the file as it is).")
@json_option
def protocol_show(key, version, as_json):
    """Show a protocol's questions, their options and its rules."""
    p = (protocol_versions.version_of(_workspace_or_none(), key, version) if version
         else get_protocol(key, _workspace_root()))
    if as_json:
        echo_json(p.as_dict())
        return
    echo(f"{p.title} ({p.key}, version {p.version}, channel {p.channel})")
    if p.uses_testers:
        echo(f"Tester ages {p.tester_min_age}–{p.tester_max_age}. {p.id_policy}")
    echo(p.description.strip())
    echo("\nQuestions:")
    for q in p.questions:
        choices = f" [{'|'.join(q.choices)}]" if q.choices else ""
        echo(f"  {q.option:<26} {q.type}{choices}{'' if q.required else ' (optional)'}  {q.prompt}")
    echo("\nRules:")
    for r in p.rules:
        then = ", ".join(x for x in [r.outcome and f"outcome {r.outcome}",
                                     r.finding and f"finding {r.finding.get('code') or r.finding['title']}",
                                     r.promise and f"promise {r.promise['what']}"] if x)
        echo(f"  when {r.when} → {then}")
    if p.derived:
        echo("\nDerived values:")
        for d in p.derived:
            echo(f"  {d.key:<26} {d.op}({', '.join(d.args)})")
    if p.scored:
        echo(f"\nScores ({', '.join(p.sections)}):")
        for q in p.scored_items:
            points = (", ".join(f"{k} {v:g}" for k, v in q.points.items()) if isinstance(q.points, dict) else
                      "; ".join((f"≤ {b['max']:g}: {b['points']:g}" if "max" in b else f"else {b['points']:g}")
                                for b in q.points) if isinstance(q.points, list) else f"scale {q.min:g}–{q.max:g}")
            extra = (" · n/a allowed" if q.na else "") + (f" · fatal when {q.fatal['when']}" if q.fatal else "")
            echo(f"  {q.key:<26} {q.section} ×{q.weight:g}: {points}{extra}")
        if p.promise_score:
            ps = p.promise_score
            echo(f"  {'(promises)':<26} {ps['section']} ×{ps.get('weight', 1):g}: "
                       + ", ".join(f"{k} {v:g}" for k, v in ps["points"].items()) + ", overdue as broken")


@protocol.command("xlsform")
@click.argument("key")
@click.option("--lang", "langs", default="en", show_default=True,
              help="The form's languages, comma-separated (en, de, da); the first is the phone's default.")
@click.option("--case", "case_ref", help="Offer the stores of this case's frame as a list to choose from "
                                         "(else the store's id or licence number is typed).")
@click.option("--stores-file", is_flag=True, help="With --case: the stores in stores.csv beside the form "
                                                 "(select_one_from_file; upload both), for a frame of thousands.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The XLSForm to write (.xlsx).")
@json_option
def protocol_xlsform(key, langs, case_ref, stores_file, out, as_json):
    """Write protocol KEY as an XLSForm for ODK Collect or KoboCollect.

    The form asks the protocol's questions with their labels in each language, plus store,
    tester code, observer, attempt, start and end time, GPS and a photo. Its version is the
    protocol's version and content hash; `import kobo` reads its exports without --map and
    refuses a submission made with another version.

    \b
    Example:
        investigate protocol xlsform tobacco-minors --lang de,en --case tobacco-nk --out form.xlsx
    """
    from ..cases.cases import get_case
    from ..cases.stores import list_stores
    from ..protocol.xlsform import write_xlsform

    ws = _workspace_or_none()
    proto = current_protocol(ws, key) if ws else get_protocol(key, _workspace_root())
    stores = None
    if case_ref:
        if ws is None:
            raise InvalidInput("--case needs a workspace: run inside one, or give -w DIR")
        case = get_case(ws, case_ref)
        stores = [{"id": s["id"], "name": s["name"], "address": s.get("address"), "city": s.get("city")}
                  for s in list_stores(ws, case=case)]
    if stores_file and stores is None:
        raise InvalidInput("--stores-file lists the stores of a case: give --case too")
    summary = write_xlsform(proto, out, [x.strip() for x in langs.split(",") if x.strip()], stores=stores,
                            stores_file=stores_file)
    if as_json:
        echo_json(summary)
        return
    echo(f"Wrote {summary['file']}: form {summary['form_id']} version {summary['version']}, "
         f"{summary['questions']} questions in {', '.join(summary['languages'])}"
         + (f", {summary['stores']} stores to choose from" if stores is not None else "")
         + (f" (in {summary['stores_file']})" if summary["stores_file"] else ""))

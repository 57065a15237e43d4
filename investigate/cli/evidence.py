"""``investigate evidence``: photos, audio, receipts — content-addressed and never modified."""

from __future__ import annotations

import click

from ..cases.cases import get_case
from ..cases.evidence import add_evidence, list_evidence
from ..cases.visits import get_visit
from .util import echo, echo_json, echo_result, json_option, pass_workspace, short_ids


@click.group()
def evidence():
    """Evidence files tied to visits, stored under their SHA-256."""


@evidence.command("add")
@click.argument("visit_ref", metavar="VISIT")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--notes", help="Internal note (never published).")
@json_option
@pass_workspace
def evidence_add(ws, visit_ref, files, notes, as_json):
    """Attach FILES to VISIT. Capture time and GPS are read from EXIF and compared with the
    visit's time and its store's position; a photo far from either, or a file already attached
    to another visit, is a warning here and a flag in `review queue`."""
    items = add_evidence(ws, get_visit(ws, visit_ref), list(files), notes=notes)
    if as_json:  # the warnings are in each item
        echo_json(items)
        return
    for item in items:
        extra = " (already attached)" if item.get("duplicate") else ""
        when = f", taken {item['captured_at']}" if item.get("captured_at") else ""
        echo(f"{item['sha256'][:16]}  {item['original_name']}  {item['size']} bytes{when}{extra}")
        for warning in item.get("warnings", []):
            echo(f"Warning: {item['original_name']}: {warning}", err=True)


@evidence.command("list")
@click.option("--case", "case_ref")
@click.option("--visit", "visit_ref")
@json_option
@pass_workspace
def evidence_list(ws, case_ref, visit_ref, as_json):
    """List evidence with hashes."""
    rows = list_evidence(ws, case=get_case(ws, case_ref) if case_ref else None,
                         visit=get_visit(ws, visit_ref) if visit_ref else None)
    if as_json:
        echo_json(rows)
    else:
        echo_result(short_ids(rows, "id", "visit_id"), columns=["id", "visit_id", "store_name", "sha256",
                    "media_type", "size", "captured_at"], empty="No evidence.", optional=["size", "media_type"])


@evidence.command("fingerprints")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The CSV file to write.")
@click.option("--case", "case_ref", help="Only this case's photos (default: every photo).")
@json_option
@pass_workspace
def evidence_fingerprints(ws, out, case_ref, as_json):
    """Write photo fingerprints to swap with other newsrooms.

    Every photo's perceptual hash and the day it was taken, nothing else: no image, no visit,
    store, tester or place. Newsrooms swap these files to check each other's photos for reuse
    without sharing pictures of minors (see `evidence compare`)."""
    from ..cases.fingerprints import write_fingerprints

    n = write_fingerprints(ws, out, case=get_case(ws, case_ref) if case_ref else None)
    if as_json:
        echo_json({"file": out, "fingerprints": n})
    else:
        echo(f"Wrote {n} fingerprint{'s' if n != 1 else ''} to {out}")


@evidence.command("compare")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@json_option
@pass_workspace
def evidence_compare(ws, file, as_json):
    """Find our photos in another newsroom's fingerprints.

    FILE is what `evidence fingerprints` writes; each of their fingerprints that looks like one
    of our photos is listed with our visit."""
    from ..cases.fingerprints import compare_fingerprints

    found = compare_fingerprints(ws, file)
    if as_json:
        echo_json(found)
        return
    echo_result(short_ids(found, "visit_id"), columns=["phash", "captured_on", "visit_id", "sha256", "distance"],
                empty="None of these fingerprints looks like one of our photos.")

"""Several newsrooms' publications as one figure (``network combine``, issue 28).

Ten local newsrooms test the same chains in ten cities and publish each their own case. A
national figure is their stores' results together, each weighted with the design weight its
newsroom published (``design_weights``): per chain and round, and per round over every chain.
Nothing is trusted before it is checked, and a check that fails names the file and refuses:

- each folder's ``manifest.json`` is read (at most 1 MiB); its checkpoint must be signed by the
  key it names, whose name is the checkpoint's origin (and, with ``keys``, be one of those), and
  carry as many cosignatures of the witnesses given as asked (a newsroom that rewrote its log
  and re-published cannot also have it cosigned);
- every file it lists must hash to its SHA-256, and each Parquet file must carry the same
  checkpoint in its metadata (a file of another publication is not mixed in);
- every case must judge visits by the same rules (``Protocol.outcome_hash``): a tobacco case
  and an alcohol case, or two versions of a protocol that count different things as a
  violation, are not one figure; and one newsroom's case may come only once.

Then DuckDB reads the Parquet files (one view per table over every folder, each row marked with
its newsroom's log origin) and runs ``COMBINED``: SQL anyone can rerun on the same files, or on
the union of the public databases. The output is itself a publication: ``combined_rates.parquet``
with that SQL in its metadata, and a manifest naming each input (its manifest's SHA-256, its
checkpoint) and each file written.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import IntegrityError, InvestigateError
from ..files import file_sha256
from ..files.nesting import load_json
from ..keys import parse_verifier_key
from ..proof.cosign import cosigned_by
from ..proof.log import check_signature, parse_checkpoint
from .design_weights import first_results_sql
from .parquet import FORMAT, MANIFEST, PARQUET_DIR

MAX_MANIFEST_BYTES = 1 << 20
TABLES = ("visits", "stores", "design_weights")
COMBINED_FORMAT = "investigate-combined/1"
NOT_NAMED = "(not named)"

#: The combined figures, over views that carry each row's ``source`` (a newsroom's log origin).
#: A store's result is its first completed test of the round (visit ids are in time order),
#: when a violation or compliant; its weight is the one its newsroom published.
COMBINED = f"""
with firsts as (
  {first_results_sql("source")}
), results as (
  select f.source, f.round, coalesce(s.chain, '{NOT_NAMED}') as chain, w.weight,
         case when f.outcome = 'violation' then 1 else 0 end as violation
  from firsts f
  join design_weights w on w.source = f.source and w.case_slug = f.case_slug and w.store_id = f.store_id
                       and w.round = f.round
  join stores s on s.source = f.source and s.id = f.store_id
)
select chain, round, count(distinct source) as newsrooms, count(*) as stores_tested,
       cast(sum(violation) as bigint) as violations,
       sum(weight * violation) / sum(weight) as weighted_rate
from results group by chain, round
union all
select '(all)' as chain, round, count(distinct source), count(*), cast(sum(violation) as bigint),
       sum(weight * violation) / sum(weight)
from results group by round
order by chain, round
"""


def read_manifest(folder: Path, keys: list[str] | None = None, *, witness_keys: list[str] | None = None,
                  witnesses: int = 0) -> dict:
    """A published folder's manifest, checked: its checkpoint's signature (and ``witnesses``
    cosignatures of ``witness_keys``), every file's hash, the checkpoint in each Parquet file.
    Raises IntegrityError naming the file."""
    path = folder / MANIFEST
    try:
        size = path.stat().st_size
    except OSError:
        raise InvestigateError(f"{path}: no manifest (publish it with 'investigate publish --parquet')")
    if size > MAX_MANIFEST_BYTES:
        raise IntegrityError(f"{path}: {size:,} bytes, more than a manifest holds: refused unread")
    try:
        manifest = load_json(path.read_bytes())
    except ValueError as ex:
        raise IntegrityError(f"{path}: not a readable manifest ({ex})")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IntegrityError(f"{path}: not a manifest of an investigate publication ({FORMAT})")
    try:
        parsed = parse_checkpoint(manifest["checkpoint"])
        name, _ = parse_verifier_key(manifest["public_key"])
        if name != parsed["origin"]:
            raise IntegrityError(f"its key is {name}'s, the checkpoint is {parsed['origin']}'s")
        if keys is not None and manifest["public_key"] not in keys:
            raise IntegrityError(f"signed by {name}, a key not among those trusted for combining")
        check_signature(parsed, [manifest["public_key"]])
        cosigners = sorted(cosigned_by(parsed, witness_keys or []))
        if len(cosigners) < witnesses:
            raise IntegrityError(f"its checkpoint carries {len(cosigners)} valid cosignatures of the witnesses "
                                 f"given, {witnesses} required")
        files = [(f["path"], f["sha256"], f.get("table")) for f in manifest["files"]]
        database = (manifest["database"]["path"], manifest["database"]["sha256"])
        cases = [(c["slug"], c["protocol"], c["outcome_hash"]) for c in manifest["cases"]]
    except (KeyError, TypeError, ValueError, InvestigateError) as ex:
        raise IntegrityError(f"{path}: the manifest's checkpoint or lists do not verify: {ex}")
    import pyarrow.parquet as pq

    for rel, digest, table in [*files, (*database, None)]:
        file = folder / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts or not file.is_file():
            raise IntegrityError(f"{file}: listed in {path} but missing (or outside the folder)")
        if file_sha256(file) != digest:
            raise IntegrityError(f"{file}: its SHA-256 is not the one {path} lists: altered or replaced")
        if table is None:
            continue
        meta = pq.read_schema(file).metadata or {}
        if meta.get(b"investigate.checkpoint", b"").decode() != manifest["checkpoint"]:
            raise IntegrityError(f"{file}: carries another checkpoint than {path}: a file of another publication")
    return {"folder": folder, "manifest": manifest, "origin": parsed["origin"], "size": parsed["size"],
            "root": parsed["root"].hex(), "sha256": file_sha256(path),
            "files": {table: folder / rel for rel, _, table in files}, "cases": cases}


def check_combinable(inputs: list[dict]) -> str:
    """The one outcome hash all cases share; InvestigateError naming the two that differ, or a
    newsroom's case that comes twice."""
    seen: dict[tuple[str, str], Path] = {}
    first = None
    for item in inputs:
        for slug, protocol, outcome_hash in item["cases"]:
            key = (item["origin"], slug)
            if key in seen:
                raise InvestigateError(f"{item['folder']}: case {slug} of {item['origin']} is also in {seen[key]}: "
                                       "one newsroom's case counts once")
            seen[key] = item["folder"]
            if first is None:
                first = (item["folder"], slug, protocol, outcome_hash)
            elif outcome_hash != first[3]:
                raise InvestigateError(
                    f"{item['folder']}: case {slug} ({protocol}, rules {outcome_hash[:12]}) does not judge visits as "
                    f"{first[0]}'s case {first[1]} ({first[2]}, rules {first[3][:12]}) does: not one figure, refused")
    if first is None:
        raise InvestigateError("no case in the published folders")
    return first[3]


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def combined_figures(inputs: list[dict]) -> tuple[list[dict], object]:
    """Run ``COMBINED`` in DuckDB over the inputs' Parquet files: the rows, and the Arrow table."""
    import duckdb

    con = duckdb.connect()
    try:
        for table in TABLES:
            parts = []
            for item in inputs:
                if table not in item["files"]:
                    raise IntegrityError(f"{item['folder'] / MANIFEST}: lists no {table} file")
                parts.append(f"select {_literal(item['origin'])} as source, * "
                             f"from read_parquet({_literal(item['files'][table])})")
            con.execute(f"create view {table} as " + " union all ".join(parts))
        arrow = con.sql(COMBINED).to_arrow_table()
    finally:
        con.close()
    return arrow.to_pylist(), arrow


def combine(folders: list[Path | str], out_dir: Path | str, *, keys: list[str] | None = None,
            witness_keys: list[str] | None = None, witnesses: int = 0) -> dict:
    """Check and combine the published ``folders`` into ``out_dir`` (combined_rates.parquet and
    manifest.json); with ``witnesses``, each publication's checkpoint must carry that many
    cosignatures of ``witness_keys``. Returns the figures and what was written."""
    import pyarrow.parquet as pq

    folders = [Path(f) for f in folders]
    if not folders:
        raise InvestigateError("name at least one published folder")
    inputs = [read_manifest(f, keys, witness_keys=witness_keys, witnesses=witnesses) for f in folders]
    outcome_hash = check_combinable(inputs)
    rows, arrow = combined_figures(inputs)
    out_dir = Path(out_dir)
    (out_dir / PARQUET_DIR).mkdir(parents=True, exist_ok=True)
    target = out_dir / PARQUET_DIR / "combined_rates.parquet"
    sources = [{"origin": i["origin"], "checkpoint_size": i["size"], "checkpoint_root": i["root"],
                "manifest_sha256": i["sha256"], "cases": [c[0] for c in i["cases"]]} for i in inputs]
    metadata = {"investigate.table": "combined_rates", "investigate.figures": json.dumps({"combined": COMBINED}),
                "investigate.sources": json.dumps(sources)}
    pq.write_table(arrow.replace_schema_metadata(metadata), target, compression="zstd")
    manifest = {"format": COMBINED_FORMAT, "outcome_hash": outcome_hash, "sources": sources,
                "files": [{"path": f"{PARQUET_DIR}/combined_rates.parquet", "table": "combined_rates",
                           "rows": len(rows), "bytes": target.stat().st_size, "sha256": file_sha256(target)}],
                "figures": {"combined": COMBINED}}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return {"figures": rows, "sources": sources, "manifest": str(out_dir / MANIFEST), "parquet": str(target)}

"""Field bundles: a case packed to travel, and the sources a merge reads.

Reporters work offline, each in a workspace of their own. ``bundle`` packs a case — its rows,
its evidence files and the audit entries of those rows (proven against the bundle's signed
checkpoint without the rest of the log: ``proof.partial``) — into one zip with a manifest of
SHA-256 sums, to travel by USB stick or mail. Bundles are internal: they carry tester rows
and notes, like the workspace itself.

A merge reads a bundle (``read_bundle``: judged by its zip directory before anything is
inflated, every member's size, sum and JSON shape checked) or another workspace, opened to read
only (``read_workspace``), into one ``Source``; ``merge`` decides what of it is new.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..files.json_array import NotAList, json_array, read_json_array
from ..errors import InvalidInput, InvestigateError
from ..proof.partial import decode_proof
from ..store.leftovers import noted
from ..store.workspace import CONFIG_NAME, Workspace, utc_now
from .bundle_format import (AUDIT_PROOF_MEMBER, CHUNK, FORMAT, HASH, SOURCE_TABLES, SOURCES_KEY_MEMBER, TABLES,
                            BundleError, check_directory, check_entry, check_row, check_row_sizes, json_member,
                            member_chunks, read_member)
from .spool import Spool


def workspace_id(ws: Workspace) -> str:
    return ws.db.execute("select value from workspace_meta where key = 'workspace_id'").fetchone()[0]


def applied_migrations(ws: Workspace) -> list[str]:
    return [r[0] for r in ws.db.execute("select name from _sqlite_migrations order by applied_at, name")]


def _selections(cases: list[dict], *, with_sources: bool = False) -> tuple[dict[str, str], dict]:
    """Which rows of each table a bundle of ``cases`` carries, as a condition on the table's
    rows (SQL) and its parameters: the rows themselves and their audit entries are chosen by it.
    What hangs off the cases' visits is found through ``_gather_visits``' table, which must
    exist on the connection that asks."""
    # The cases as a JSON list (json_each): any number of cases, one named parameter.
    args = {"cases": json.dumps([c["id"] for c in cases])}
    of_cases = "(select value from json_each(:cases))"
    of_visits = "(select id from temp.bundle_visits)"  # made by _gather_visits
    of_replies = f"(select id from replies where case_id in {of_cases})"
    stores = (f"select store_id from case_stores where case_id in {of_cases} union "
              f"select store_id from visits where case_id in {of_cases} union "
              f"select store_id from replies where case_id in {of_cases}")
    if with_sources:
        stores += f" union select store_id from tips where case_id in {of_cases}"
    where = {
        "cases": f"id in {of_cases}",
        "case_stores": f"case_id in {of_cases}",
        "visits": f"case_id in {of_cases}",
        "findings": f"visit_id in {of_visits}",
        "evidence": f"visit_id in {of_visits}",
        "promises": f"visit_id in {of_visits}",
        "replies": f"case_id in {of_cases}",
        "reviews": f"visit_id in {of_visits}",
        "reply_items": f"reply_id in {of_replies}",
        # A story's timeline and what its requests put to the company (issue 18).
        "stories": f"case_id in {of_cases}",
        "story_events": f"case_id in {of_cases}",
        "story_reply_items": f"reply_id in {of_replies}",
        "stores": f"id in ({stores})",
        # The protocol versions that judged the visits travel with them (issue 17), so that the
        # receiving workspace shows, amends and scores each visit by its own rules.
        "protocol_versions": f"id in (select protocol_hash from visits where case_id in {of_cases})",
        # The companies the stores belong to travel with them (a service case's contact points).
        "companies": f"id in (select company_id from stores where id in ({stores}) "
                     f"union select company_id from stories where case_id in {of_cases})",
        # Every tester travels, not only those with visits: a coordinator registers the testers
        # and hands them to the reporters in the first bundle.
        "testers": "1",
    }
    if with_sources:
        # A story's documents are the person's (a forwarded e-mail names them, with their address
        # and number): they travel, files and all, only with the sources (issue 31).
        where |= {"tips": f"case_id in {of_cases}",
                  "tip_sources": f"tip_id in (select id from tips where case_id in {of_cases})",
                  "story_sources": f"story_id in (select id from stories where case_id in {of_cases})",
                  "story_documents": f"case_id in {of_cases}",
                  "story_document_sources": f"document_id in (select id from story_documents where "
                                            f"case_id in {of_cases})"}
    return {t: where[t] for t in TABLES + (SOURCE_TABLES if with_sources else [])}, args


def _gather_visits(ws: Workspace, cases: list[dict]) -> None:
    """The ids of the visits of ``cases``, in a temporary table of the connection
    (``temp.bundle_visits``, made afresh here, gone with the connection), through which
    ``_selections`` finds what hangs off them. Asked as ``visit_id in (select id from visits
    where case_id …)``, SQLite listed the million visit ids of a big case again for each table
    and each question (findings, evidence, promises, reviews, their audit entries, the bar's
    count): 0.6 s of CPU each, five of a 35-second bundle, even for the tables holding no row.
    An indexed table is looked into as it stands."""
    ws.db.execute("drop table if exists temp.bundle_visits")
    ws.db.execute("create temp table bundle_visits (id text primary key) without rowid")
    ws.db.execute("insert into temp.bundle_visits select id from visits where case_id in "
                  "(select value from json_each(?))", [json.dumps([c["id"] for c in cases])])


def _gathered_selections(ws: Workspace, cases: list[dict], *, with_sources: bool) -> tuple[dict[str, str], dict]:
    """``_selections`` of ``cases``, their visits gathered first on ``ws``'s connection, as the
    conditions ask."""
    _gather_visits(ws, cases)
    return _selections(cases, with_sources=with_sources)


def collect(ws: Workspace, cases: list[dict], *, with_sources: bool = False) -> dict[str, Iterator[dict]]:
    """The rows of the given cases, table by table, and every tester; with ``with_sources``
    also the cases' tips, their sources' contacts and the stories' documents. Each table comes
    as a generator: a bundle of a million visits is written row by row, never held."""
    where, args = _gathered_selections(ws, cases, with_sources=with_sources)
    return {t: ws.db.query(f"select * from [{t}] where {w} order by id", args) for t, w in where.items()}


def collect_texts(ws: Workspace, cases: list[dict], *, with_sources: bool = False) -> dict[str, Iterator[str]]:
    """``collect``'s rows as the bundle writes them, each already its JSON text (``_row_texts``)."""
    where, args = _gathered_selections(ws, cases, with_sources=with_sources)
    return {t: (text for _, text in _row_texts(ws, t, f"from [{t}] t where {w} order by t.id", args))
            for t, w in where.items()}


def _carried_seqs(cases: list[dict], *, with_sources: bool) -> tuple[str, dict]:
    """SQL for the seqs of the audit entries of the rows a bundle of ``cases`` carries: every
    version of each. Other cases' entries, and the sources' when they stay at home, are left
    out (``proof.partial`` proves the carried ones without them)."""
    where, args = _selections(cases, with_sources=with_sources)
    ids = {t: f"(select id from [{t}] where {w})" for t, w in where.items()}
    ids["visits"] = "(select id from temp.bundle_visits)"  # looked into, not listed again
    return " union all ".join(f"select seq from audit_log where table_name = '{t}' and row_id in {ids[t]}"
                              for t in where), args


#: The tables whose rows a bundle's progress bar counts: the long ones in any case.
_LONG_TABLES = ("visits", "findings")


def _bundle_sizes(ws: Workspace, carried: int) -> dict[str, int]:
    """How many rows of the long tables (and audit entries: ``carried``) a bundle writes, of the
    visits ``_gather_visits`` gathered."""
    return {
        "visits": ws.db.execute("select count(*) from temp.bundle_visits").fetchone()[0],
        "findings": ws.db.execute("select count(*) from findings where visit_id in "
                                  "(select id from temp.bundle_visits)").fetchone()[0],
        "audit_log": carried,
    }


def _carried_entries(ws: Workspace, cases: list[dict], size: int, *, with_sources: bool) -> tuple[str, int]:
    """Where the audit entries a bundle of ``cases`` carries (up to seq ``size``) are read from,
    in seq order (``from …``, the entries as ``t``: for ``_row_texts``), and how many they are.
    Their seqs are gathered once, into a temporary table of the connection (made afresh here,
    dropped once the bundle is written): the bar's count and the entries themselves asked SQLite
    for the union of the carried rows' entries each (0.43 s each at 100,000 visits)."""
    seqs, args = _carried_seqs(cases, with_sources=with_sources)
    ws.db.execute("drop table if exists temp.bundle_seqs")
    ws.db.execute("create temp table bundle_seqs (seq integer primary key)")
    count = ws.db.execute(f"insert or ignore into temp.bundle_seqs select seq from ({seqs}) where seq <= :size",
                          args | {"size": size}).rowcount
    return "from temp.bundle_seqs c join audit_log t on t.seq = c.seq order by c.seq", count


def counted(rows: Iterable[dict], progress, every: int = 1000) -> Iterable[dict]:
    """``rows`` as they come, calling ``progress(n)`` every ``every`` rows and for the rest;
    ``rows`` themselves when there is no ``progress``."""
    return rows if progress is None else _counting(rows, progress, every)


def _counting(rows: Iterable[dict], progress, every: int) -> Iterator[dict]:
    n = 0
    for row in rows:
        yield row
        n += 1
        if n == every:
            progress(n)
            n = 0
    if n:
        progress(n)


#: One encoder for every row: ``json.dumps`` with options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
#: Bytes of JSON gathered before they are hashed, compressed and written.
_CHUNK = 1 << 20


def _json_sql(columns: list[str]) -> str:
    """SQL spelling a row of ``columns`` (of the table named ``t``) as ``_ENCODE`` does, or NULL
    where a value is a real or a blob: SQLite writes a real's digits its own way (``0.1 + 0.2``
    as 0.3), and JSON holds no blob. Its text quoting is Python's, character for character
    (``test_a_row_spelt_by_sqlite_is_the_text_python_spells``)."""
    names = [(c, 't."' + c.replace('"', '""') + '"') for c in sorted(columns)]  # sort_keys' order
    odd = " or ".join(f"typeof({q}) in ('real', 'blob')" for _, q in names)
    pairs = ", ".join("'" + c.replace("'", "''") + "', " + q for c, q in names)
    return f"case when {odd} then null else json_object({pairs}) end"


def _row_texts(ws: Workspace, table: str, source: str, args: dict | None = None,
               key: str = "id") -> Iterator[tuple[object, str]]:
    """Each row of ``table`` that ``source`` (``from … t …``: the table as ``t``) selects, as its
    ``key`` and its JSON text in ``_ENCODE``'s form. SQLite spells the text: building a dict and
    encoding it in Python for each of the 2.4 million rows and entries of a million visits' bundle
    was half its time (8 s of CPU). A row SQLite leaves to Python is read again by its key."""
    columns = ws.columns(table)
    for row_key, text in ws.db.execute(f"select t.[{key}], {_json_sql(columns)} {source}", args or {}):
        if text is None:
            row = ws.db.execute(f"select * from [{table}] where [{key}] = ?", [row_key]).fetchone()
            text = _ENCODE(dict(zip(columns, row)))
        yield row_key, text


def _write_json_array(zf: zipfile.ZipFile, name: str, texts: Iterable[str]) -> tuple[str, int]:
    """Write the rows' ``texts`` (each in ``_ENCODE``'s form) as the member ``name``, a JSON
    array, a megabyte at a time (written row by row, zlib and the zip's CRC were called 280,000
    times for a case of 100,000 visits, a third of its bundle's time); returns its SHA-256 and
    the number of rows. Memory stays flat whatever the count."""
    digest, count = hashlib.sha256(), -1  # the closing piece is no row
    with zf.open(name, "w", force_zip64=True) as fp:
        pieces: list[str] = []
        size = 0

        def flush() -> None:
            data = "".join(pieces).encode("utf-8")
            digest.update(data)
            fp.write(data)
            pieces.clear()

        for piece in json_array(texts, lambda text: text):  # spelt already
            pieces.append(piece)
            size += len(piece)
            count += 1
            if size >= _CHUNK:
                flush()
                size = 0
        flush()
    return digest.hexdigest(), count


def write_bundle(ws: Workspace, cases: list[dict], out: Path | str, *, progress=None, total=None,
                 with_sources: bool = False) -> dict:
    """Write a bundle of ``cases`` to ``out`` (a .zip). Returns its manifest.

    Sources — tips, the people of stories, their documents — are left out unless
    ``with_sources``; the audit log holds their texts only as keyed hashes either way, and the
    bundle carries only its own rows' entries, proven against its signed checkpoint by the
    subtree hashes of the rest (``proof.partial``). A bundle with sources also carries the key,
    so that the receiving workspace can check those rows against their entries."""
    from ..proof.log import record_checkpoint
    from ..proof.partial import encode_proof, prove_entries
    from ..proof.witnessing import sign_witnessed

    out = Path(out)
    if not out.parent.is_dir():
        raise InvalidInput(f"{out.parent}: no such folder to write the bundle into")
    # Recorded only once the bundle is in place: a failed bundle leaves no checkpoint row.
    checkpoint = sign_witnessed(ws, purpose="bundle " + ",".join(c["slug"] for c in cases))
    rows = collect_texts(ws, cases, with_sources=with_sources)
    documents = (" union select sha256 from story_documents where case_id in (select value from json_each(:cases))"
                 if with_sources else "")
    shas = sorted({r[0] for r in ws.db.execute(
        "select sha256 from evidence where visit_id in (select id from temp.bundle_visits)" + documents,
        {"cases": json.dumps([c["id"] for c in cases])})})
    carried, n_carried = _carried_entries(ws, cases, checkpoint["size"], with_sources=with_sources)
    counting = bool(total and progress)
    if counting:
        # One step per row of the long tables (visits, findings, the audit entries) and per
        # evidence file: a bar that moves through the whole of a big case, not just its files.
        total(len(shas) + sum(_bundle_sizes(ws, n_carried).values()))
        rows = {t: counted(r, progress) if t in _LONG_TABLES else r for t, r in rows.items()}
    manifest = {
        "format": FORMAT,
        "workspace_id": workspace_id(ws),
        "migrations": applied_migrations(ws),
        "created_at": utc_now(),
        "cases": [c["slug"] for c in cases],
        "counts": {},
        "with_sources": with_sources,
        "checkpoint": checkpoint["note"],
        "public_key": ws.setting("log", "public_key"),
        "members": {},
    }
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    # A kill -9 leaves tmp beside --out, where nothing else looks: the note in the workspace is how
    # the next command finds it (store.leftovers).
    with noted(ws.root, tmp):
        try:
            # zlib's fastest level: at its default (6) compressing was a third of a big case's bundle,
            # for a file a tenth smaller (20.3 instead of 22.3 MB for 100,000 visits).
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
                for table, table_rows in rows.items():
                    name = f"rows/{table}.json"
                    manifest["members"][name], manifest["counts"][table] = _write_json_array(zf, name, table_rows)
                written: list[int] = []  # the seqs carried, for their proof

                def keeping_seqs(entries: Iterable[tuple[int, str]]) -> Iterator[str]:
                    for seq, text in entries:
                        written.append(seq)
                        yield text

                audit = keeping_seqs(_row_texts(ws, "audit_log", carried, key="seq"))
                manifest["members"]["audit.json"], _ = _write_json_array(
                    zf, "audit.json", counted(audit, progress) if counting else audit)
                proof = json.dumps(encode_proof(prove_entries(ws.db, written, checkpoint["size"]))).encode()
                zf.writestr(AUDIT_PROOF_MEMBER, proof)
                manifest["members"][AUDIT_PROOF_MEMBER] = hashlib.sha256(proof).hexdigest()
                if with_sources:
                    key = ws.sources_key.hex().encode()
                    zf.writestr(SOURCES_KEY_MEMBER, key)
                    manifest["members"][SOURCES_KEY_MEMBER] = hashlib.sha256(key).hexdigest()
                for sha in shas:
                    name = f"evidence/{sha}"
                    path = ws.evidence_path(sha)
                    manifest["members"][name] = sha  # content-addressed: its name is its hash
                    zf.write(path, name, compress_type=zipfile.ZIP_STORED)
                    if progress:
                        progress(1)
                zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    ws.db.execute("drop table temp.bundle_seqs")
    ws.db.execute("drop table temp.bundle_visits")
    recorded = record_checkpoint(ws, checkpoint)
    # Not in the zip's manifest (written already): what became of the stamp, for the command to say.
    return manifest | ({"timestamp": recorded["timestamp"]} if "timestamp" in recorded else {})


# -- reading ---------------------------------------------------------------------------------


class Source:
    """A bundle zip or another workspace, read and checked: its rows and audit chain in a
    ``Spool`` on disk, the rest as plain data. Evidence is not held either: ``stage(sha,
    folder)`` streams one file into ``folder`` while hashing it."""

    def __init__(self, origin: str, migrations: list[str], spool: Spool, stage: Callable[[str, Path], Path],
                 label: str, sources_key: bytes | None = None, checkpoint: str | None = None,
                 public_key: str | None = None, is_bundle: bool = False, proof: list[bytes] | None = None,
                 announced: bool = False):
        self.origin, self.migrations, self.spool = origin, migrations, spool
        self.stage, self.label, self.sources_key = stage, label, sources_key
        #: A bundle's signed checkpoint and the key it names; None for a workspace folder.
        self.checkpoint, self.public_key, self.is_bundle = checkpoint, public_key, is_bundle
        #: The subtree hashes proving the chain (a bundle's own rows' entries) against the
        #: checkpoint; empty when the chain is the whole log.
        self.proof = proof or []
        #: Whether reading started the progress bar (for the rows read, then merged).
        self.announced = announced

    def close(self) -> None:
        self.spool.close()


#: Where a workspace keeps the key each other workspace signed its first merged bundle with.
ORIGIN_KEY = "origin_key:"


def check_checkpoint(ws: Workspace, source: Source) -> str | None:
    """A bundle's signed checkpoint must hold and cover its audit chain, signed by the key its
    origin used before (trust on first use). Returns the key to record when this origin is new
    (``record_origin_key``, inside the merge's transaction), else None. A bundle whose
    checkpoint is missing, garbage, signed by another key or over another chain is refused."""
    from ..errors import IntegrityError
    from ..proof.partial import check_entries

    if not source.is_bundle:
        return None  # another workspace folder on this machine: its chain is read directly
    if not isinstance(source.checkpoint, str) or not isinstance(source.public_key, str):
        raise BundleError(f"{source.label}: the bundle carries no signed checkpoint of its audit chain")
    try:
        parsed = check_entries(source.spool.chain(), source.proof, source.checkpoint, [source.public_key])
    except IntegrityError as ex:
        raise BundleError(f"{source.label}: {ex}")
    if parsed["origin"] != f"investigate.log/{source.origin}":
        raise BundleError(f"{source.label}: its checkpoint is another workspace's log ({parsed['origin']})")
    known = ws.db.execute("select value from workspace_meta where key = ?", [ORIGIN_KEY + source.origin]).fetchone()
    if known and known[0] != source.public_key:
        raise BundleError(f"{source.label}: signed with another key than the bundles merged before from workspace "
                          f"{source.origin[:8]}: refused (a replaced key is how a forged bundle looks)")
    return None if known else source.public_key


def record_origin_key(ws: Workspace, source: Source, key: str) -> None:
    """Trust on first use: the key an origin's first merged bundle was signed with."""
    ws.db.execute("insert or ignore into workspace_meta (key, value) values (?, ?)", [ORIGIN_KEY + source.origin, key])


def _checked(items: Iterable[tuple[dict, str]], check: Callable[[int, object], None]) -> Iterator[tuple[dict, str]]:
    """``items`` (each a value and its JSON text) as they come, each held to ``check(i, value)``
    first (``i`` from 1): a row or entry that is not one ends the reading there."""
    for i, (value, text) in enumerate(items, 1):
        check(i, value)
        yield value, text


#: The members a merge reads into its spool, item by item: every table's rows and the chain.
_SPOOLED = {f"rows/{t}.json": t for t in TABLES + SOURCE_TABLES} | {"audit.json": None}


def _spool_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, expected: str, spool: Spool,
                  table: str | None, progress=None) -> None:
    """Read a rows/TABLE.json member (``table``) or audit.json (None) into ``spool`` item by
    item, each checked as it comes. A member whose bytes are not the ones the manifest summed is
    refused as such, even where its text is also broken: the rest of it is read for its sum
    before a fault in the text is told. ``progress(n)`` as rows are read."""
    name = info.filename
    digest = hashlib.sha256()
    chunks = member_chunks(zf, info, path, digest)
    items = read_json_array(chunks)
    try:
        if table is None:
            spool.add_chain(_checked(items, lambda i, entry: check_entry(path, i, entry)))
        else:
            spool.add_rows(table, counted(_checked(items, lambda i, row: check_row(path, table, i, row)), progress))
        fault = None
    except (ValueError, BundleError) as ex:
        fault = ex
        for _ in chunks:  # the rest of the member, for its sum
            pass
    if digest.hexdigest() != expected:
        raise BundleError(f"{path}: {name} does not match its SHA-256 in the manifest")
    if isinstance(fault, NotAList):
        raise BundleError(f"{path}: {name} is not a JSON list")
    if isinstance(fault, ValueError):  # UnicodeDecodeError and TooDeep are ValueErrors
        raise BundleError(f"{path}: {name} is not valid JSON ({fault})")
    if fault is not None:
        raise fault


def _proof_and_key(path: Path, data: dict[str, bytes]) -> tuple[list[bytes], bytes | None]:
    """What proves a bundle's chain against its checkpoint, and the sources' key it carries."""
    try:
        proof = decode_proof(json_member(path, AUDIT_PROOF_MEMBER, data[AUDIT_PROOF_MEMBER], list)
                             if AUDIT_PROOF_MEMBER in data else [])
    except ValueError as ex:
        raise BundleError(f"{path}: {AUDIT_PROOF_MEMBER}: {ex}")
    if SOURCES_KEY_MEMBER not in data:
        return proof, None
    try:
        return proof, bytes.fromhex(data[SOURCES_KEY_MEMBER].decode())
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"{path}: {SOURCES_KEY_MEMBER} is not a key")


def read_bundle(path: Path, spool_path: Path, *, progress=None, total=None) -> Source:
    """A bundle, judged by its directory and manifest, its rows and chain read into a spool at
    ``spool_path`` member by member, every member checked against its sum. With ``total``, the
    bar is started for the rows the manifest counts, twice (read here, then merged: a big
    bundle's reading is a third of its merge) and ``progress`` moves as rows are read."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as ex:
        raise BundleError(f"{path}: not a readable zip ({ex})")
    with zf:
        infos = zf.infolist()
        check_directory(path, infos)
        by_name = {i.filename: i for i in infos}
        if "manifest.json" not in by_name:
            raise BundleError(f"{path}: no manifest.json: not an investigate bundle")
        manifest = json_member(path, "manifest.json", read_member(zf, by_name["manifest.json"], path)[1], dict)
        if manifest.get("format") != FORMAT:
            raise BundleError(f"{path}: format {manifest.get('format')!r} is not {FORMAT}")
        check_row_sizes(path, manifest, by_name)
        listed = manifest.get("members")
        if not isinstance(listed, dict) or not all(isinstance(k, str) and isinstance(v, str) and HASH.match(v)
                                                   for k, v in listed.items()):
            raise BundleError(f"{path}: the manifest's members are not a list of names with SHA-256 sums")
        if not isinstance(manifest.get("workspace_id"), str) or not isinstance(manifest.get("migrations", []), list):
            raise BundleError(f"{path}: the manifest names no workspace id or migrations")
        for name in by_name:
            if name != "manifest.json" and name not in listed:
                raise BundleError(f"{path}: member {name!r} is not in the manifest")
        for name in listed:
            if name not in by_name:
                raise BundleError(f"{path}: {name} is listed in the manifest but missing (truncated?)")
        if "audit.json" not in listed:
            raise BundleError(f"{path}: no audit.json: the bundle carries no audit chain")
        announced = total is not None and progress is not None
        if announced:
            declared = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
            total(2 * sum(n for t, n in declared.items() if f"rows/{t}.json" in _SPOOLED and type(n) is int and n > 0))
        spool = Spool(spool_path)
        try:
            data: dict[str, bytes] = {}
            for name, expected in listed.items():
                if name.startswith("evidence/"):
                    if not HASH.match(name[len("evidence/"):]) or expected != name[len("evidence/"):]:
                        raise BundleError(f"{path}: {name!r} is not named for its SHA-256")
                    continue  # streamed into staging when merged, and hashed there
                if name in _SPOOLED:
                    _spool_member(zf, by_name[name], path, expected, spool, _SPOOLED[name],
                                  progress if announced else None)
                    continue
                digest, blob = read_member(zf, by_name[name], path)
                if digest != expected:
                    raise BundleError(f"{path}: {name} does not match its SHA-256 in the manifest")
                data[name] = blob
            spool.finish()
            proof, key = _proof_and_key(path, data)
        except BaseException:
            spool.close()
            raise

    def stage(sha: str, folder: Path) -> Path:
        name = f"evidence/{sha}"
        if name not in listed:
            raise BundleError(f"{path}: evidence {sha[:16]}… is not in the bundle")
        target = folder / sha
        with zipfile.ZipFile(path) as again, open(target, "wb") as out:
            digest, _ = read_member(again, again.getinfo(name), path, sink=out)
        if digest != sha:
            raise BundleError(f"{path}: evidence {sha[:16]}… does not match its hash")
        return target

    return Source(manifest["workspace_id"], manifest.get("migrations", []), spool, stage, str(path), key,
                  checkpoint=manifest.get("checkpoint"), public_key=manifest.get("public_key"), is_bundle=True,
                  proof=proof, announced=announced)


def read_workspace(path: Path, spool_path: Path) -> Source:
    """Another workspace as a merge source, opened to read only: merging from it migrates,
    signs and writes nothing there. Its cases' rows and its whole chain are read into a spool
    at ``spool_path``, as a bundle's are."""
    other = Workspace(path, read_only=True)
    root = other.root
    spool = Spool(spool_path)
    try:
        cases = list(other.db.query("select * from cases order by id"))
        if cases:
            for table, rows in collect(other, cases).items():
                spool.add_rows(table, _checked(((row, _ENCODE(row)) for row in rows),
                                               lambda i, row: check_row(root, table, i, row)))
        spool.add_chain((e, _ENCODE(e)) for e in other.db.query("select * from audit_log order by seq"))
        spool.finish()
        origin, migrations = workspace_id(other), applied_migrations(other)
    except BaseException:
        spool.close()
        raise
    finally:
        other.close()

    def stage(sha: str, folder: Path) -> Path:
        if not HASH.match(sha):
            raise BundleError(f"{root}: evidence hash {sha[:70]!r} is not a SHA-256")
        target = folder / sha
        digest = hashlib.sha256()
        try:
            with open(root / "evidence" / sha[:2] / sha, "rb") as src, open(target, "wb") as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except FileNotFoundError:
            raise BundleError(f"{root}: evidence {sha[:16]}… is missing")
        if digest.hexdigest() != sha:
            raise BundleError(f"{root}: evidence {sha[:16]}… does not match its hash")
        return target

    return Source(origin, migrations, spool, stage, str(root))


def open_source(path: Path | str, spool_path: Path, *, progress=None, total=None) -> Source:
    """A bundle or workspace folder at ``path`` as a merge source, its rows spooled into a
    file at ``spool_path`` (closed with the source: ``Source.close``); a bundle's reading moves
    the bar (``read_bundle``)."""
    path = Path(path)
    if path.is_dir():
        if not (path / CONFIG_NAME).exists():
            raise InvalidInput(f"{path} is neither a bundle nor a workspace")
        return read_workspace(path, spool_path)
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    return read_bundle(path, spool_path, progress=progress, total=total)

"""``investigate verify``: recompute the audit chain, every audited row and every evidence file.

What a lawyer asks, one day: were the records or the evidence changed after the fact? This
answers it from the data alone. The chain is walked in order (each link hashes the one
before it); the newest audit entry of each row must carry the hash of the row as it is now;
a row with no audit entry was written around the audit API; a deleted row must have a delete
entry; and every evidence file must still hash to its name and its recorded SHA-256.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from itertools import chain as chain_items, zip_longest

from ..errors import IntegrityError, InvestigateError
from ..files import file_sha256
from ..ids import short
from ..store import audit
from ..store.leftovers import killed_runs
from ..store.tables import AUDITED_TABLES
from ..store.workspace import Workspace
from . import merkle
from .log import StreamingTree, latest_checkpoint, parse_checkpoint, verify_against
from .timestamps import check_timestamps


@dataclass
class Problem:
    kind: str  # chain, row, unaudited, deleted, evidence
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


@dataclass
class VerifyReport:
    audit_entries: int = 0
    rows_checked: int = 0
    evidence_checked: int = 0
    checkpoint: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "audit_entries": self.audit_entries,
            "rows_checked": self.rows_checked,
            "evidence_checked": self.evidence_checked,
            "checkpoint": self.checkpoint,
            "problems": [p.__dict__ for p in self.problems],
        }


#: How many entries or rows go by between two calls of ``progress``.
STEP = 10_000
#: A row hash that is missing or no SHA-256: it matches no row.
NO_HASH = bytes(32)
#: The columns ``_walk_chain`` reads of each entry, ahead of its fields (``audit.ENTRY_FIELDS``),
#: and where its row holds the entry's row hash and its action.
WALKED = ["seq", "prev_hash", "hash"]
ROW_HASH, ACTION = (len(WALKED) + audit.ENTRY_FIELDS.index(f) for f in ("row_hash", "action"))


def _digest(row_hash) -> bytes:
    try:
        digest = bytes.fromhex(row_hash)
    except (TypeError, ValueError):
        return NO_HASH
    return digest if len(digest) == 32 else NO_HASH


def _walk_chain(db, report: VerifyReport, tree: StreamingTree | None, progress) -> tuple[bytearray, set] | None:
    """Walk the log in seq order, checking each link and feeding each entry to the Merkle
    ``tree`` (without a checkpoint, None). The log is read as a stream: a million entries are
    never held in memory. What the rows are checked against comes back: each entry's row hash
    by its place in the chain (32 bytes an entry) and the seqs of the entries that delete, since
    looking each row's newest entry up in the log was a fifth of verify at a million visits.
    None when the numbering broke (an entry missing, or numbered before the first): the rows are
    then held to the entries the log holds under their seqs."""
    numbered, sha256 = True, hashlib.sha256
    for (seq,) in db.conn.execute("select seq from audit_log where seq < 1 order by seq limit 1"):
        numbered = False  # the walk below starts at 1
        report.problems.append(Problem("chain", f"audit_log seq {seq}",
                                       "an entry numbered before the first: it was written around the audit log"))
    recorded, deleting, row_hash_at, action_at = bytearray(), set(), ROW_HASH, ACTION
    prev, expected_seq, entries = audit.GENESIS, 1, 0
    for row, data in audit.entries_with_bytes(db.conn, WALKED):
        seq, prev_hash, link = row[0], row[1], row[2]
        entries += 1
        if seq != expected_seq:
            numbered = False
            report.problems.append(Problem("chain", f"audit_log seq {seq}",
                                           f"expected entry {expected_seq}: an entry is missing"))
        if prev_hash != prev or sha256(prev.encode() + b"\x1f" + data).hexdigest() != link:
            report.problems.append(Problem("chain", f"audit_log seq {seq}",
                                           "the chain link does not match: this entry or the one before it was altered"))
        recorded += _digest(row[row_hash_at])
        if row[action_at] == "delete":
            deleting.add(seq)
        if tree is not None and seq == tree.size + 1:
            tree.add(merkle.leaf_hash(data))
        prev = link
        expected_seq = seq + 1
        if progress and not entries % STEP:
            progress(STEP)
    if progress and entries % STEP:
        progress(entries % STEP)
    report.audit_entries = entries
    return (recorded, deleting) if numbered else None


def _check_rows(ws: Workspace, report: VerifyReport, table: str, chain: tuple[bytearray, set] | None,
                progress=None) -> None:
    """Each row of ``table`` against the newest entry that names it, as a merge of two streams
    sorted by id: the rows' digests (``Workspace.row_digests``) and the newest entry's seq per
    row from the (table_name, row_id, seq) index alone, its row hash from the ``chain`` walked
    (from the log itself where its numbering broke: SQLite takes bare columns from the row
    holding max(seq)). While every row has its entry, the two streams go in step: the merge
    proper takes over from the first row or entry without its partner."""
    if chain is not None:
        recorded, deleting = chain
        latest = ws.db.conn.execute("select row_id, max(seq) from audit_log where table_name = ? and row_id is "
                                    "not null group by row_id order by row_id", [table])

        def logged(known):
            return recorded[32 * known[1] - 32:32 * known[1]], known[1] in deleting
    else:
        latest = ws.db.conn.execute("select row_id, max(seq), row_hash, action = 'delete' from audit_log where "
                                    "table_name = ? and row_id is not null group by row_id order by row_id", [table])

        def logged(known):
            return _digest(known[2]), bool(known[3])

    rows, in_step = ws.row_digests(table), 0
    if chain is not None:
        for row, known in zip_longest(rows, latest):
            if row is None or known is None or row[0] != known[0]:
                rows, latest = chain_items([row] if row else [], rows), chain_items([known] if known else [], latest)
                break
            in_step += 1
            if progress and not in_step % STEP:
                progress(STEP)
            seq = known[1]
            if seq in deleting or recorded[32 * seq - 32:32 * seq] != row[1]:
                _check_row(ws, report, table, row, known, logged)
        else:  # every row had its entry: nothing is left to merge
            rows, latest = (), iter(())
    merged = in_step
    known = next(latest, None)
    for row in rows:
        row_id = row[0]
        merged += 1
        if progress and not merged % STEP:
            progress(STEP)
        while known is not None and _order(known[0]) < _order(row_id):
            _missing(report, table, known, logged(known)[1])
            known = next(latest, None)
        if known is None or known[0] != row_id:
            report.problems.append(Problem("unaudited", f"{table} {row_id}",
                                           "row has no audit entry: it was written around the audit log"))
            continue
        _check_row(ws, report, table, row, known, logged)
        known = next(latest, None)
    while known is not None:
        _missing(report, table, known, logged(known)[1])
        known = next(latest, None)
    report.rows_checked += merged
    if progress and merged % STEP:
        progress(merged % STEP)


def _order(value) -> tuple:
    """An id's place in SQLite's order (NULL, numbers, text, blobs), where a tampered id is not
    text: Python compares no text with a blob."""
    if isinstance(value, str):
        return 2, value
    return (0, 0) if value is None else (3, bytes(value)) if isinstance(value, (bytes, memoryview)) else (1, value)


def _check_row(ws: Workspace, report: VerifyReport, table: str, row: tuple, known: tuple, logged) -> None:
    """A row against its newest entry: it must not have been deleted, and it must hash to the
    entry's row hash, as Python spells it (``Workspace.row_digest``) where the digest given,
    perhaps spelt by SQLite, does not."""
    row_id, digest = row
    row_hash, deleted = logged(known)
    if deleted:
        report.problems.append(Problem("row", f"{table} {row_id}",
                                       f"row was deleted in audit entry {known[1]} but is present"))
    elif row_hash != digest and row_hash != ws.row_digest(table, row_id):
        report.problems.append(Problem("row", f"{table} {row_id}",
                                       f"row differs from audit entry {known[1]}: it was altered after it was written"))


def _missing(report: "VerifyReport", table: str, known: tuple, deleted: bool) -> None:
    row_id, seq = known[:2]
    if not deleted:
        report.problems.append(Problem("deleted", f"{table} {row_id}", f"row recorded in audit entry {seq} is missing"))


def verify_foreign_chains(ws: Workspace) -> list[str]:
    """Recompute every chain a merge brought in (kept in ``foreign_audit``): problems as text,
    empty when all hold. Entries from a workspace folder form its chain from the first link; a
    bundle's (issue 31: its own rows' entries only, with gaps) are proven again against the
    signed checkpoint they came with (``foreign_proofs``). An entry neither proves is a problem."""
    import json

    from .partial import check_entries, decode_proof

    problems = []
    if "foreign_audit" not in ws.db.table_names():
        return problems
    proofs = "foreign_proofs" in ws.db.table_names()
    for (origin,) in ws.db.execute("select distinct origin from foreign_audit").fetchall():
        entries = {e["seq"]: e for e in ws.db.query("select * from foreign_audit where origin = ? order by seq",
                                                    [origin])}
        broken = audit.broken_link(entries.values(), gaps=True)
        if broken is not None:
            problems.append(f"foreign_audit {short(origin)} seq {broken}: the merged chain does not match")
            continue
        proven: set[int] = set()
        key = ws.db.execute("select value from workspace_meta where key = ?", ["origin_key:" + origin]).fetchone()
        for row in ws.db.query("select * from foreign_proofs where origin = ? order by id", [origin]) if proofs else []:
            seqs = json.loads(row["seqs"])
            missing = [s for s in seqs if s not in entries]
            try:
                if missing:
                    raise IntegrityError(f"entry {missing[0]} of a merged bundle is missing")
                check_entries([entries[s] for s in seqs], decode_proof(json.loads(row["proof"])), row["checkpoint"],
                              [key[0]] if key else [])
            except (IntegrityError, ValueError) as ex:
                problems.append(f"foreign_proofs {row['id']} ({short(origin)}): {ex}")
            proven.update(seqs)
        chained = 0  # entries 1, 2, … merged whole from a workspace folder: the chain proves them
        while chained + 1 in entries:
            chained += 1
        unproven = [s for s in entries if s > chained and s not in proven]
        if unproven:
            problems.append(f"foreign_audit {short(origin)} seq {unproven[0]}: no merged checkpoint or chain "
                            "proves this entry")
    return problems


def work(ws: Workspace) -> int:
    """The steps ``verify`` counts to its ``progress``: every audit entry and every audited row
    (the rows are over half of its time at a million visits)."""
    tables = set(ws.db.table_names())
    return ws.db.execute("select count(*) from audit_log where seq > 0").fetchone()[0] + sum(
        ws.db.execute(f"select count(*) from [{t}]").fetchone()[0] for t in AUDITED_TABLES if t in tables)


def verify(ws: Workspace, *, progress=None) -> VerifyReport:
    """Check everything; ``progress(n)`` is called as work is done, for a progress bar, until
    ``work`` steps are counted. Problems are listed in the order found: the first is the
    earliest place that breaks."""
    report = VerifyReport()
    db = ws.db

    note = latest_checkpoint(ws)
    try:
        signed_size = parse_checkpoint(note)["size"] if note else 0
    except InvestigateError:
        signed_size = 0
    # The Merkle roots serve only to hold the log to its newest checkpoint: without one, no leaf.
    tree = StreamingTree({signed_size}) if note else None
    chain = _walk_chain(db, report, tree, progress)
    if tree is not None:
        head = tree.root()
        tree.roots[tree.n] = head

    present_tables = set(db.table_names())
    for table in AUDITED_TABLES:
        if table in present_tables:
            _check_rows(ws, report, table, chain, progress)

    if "foreign_audit" in present_tables:
        for problem in verify_foreign_chains(ws):
            where, _, detail = problem.partition(": ")
            report.problems.append(Problem("chain", where, detail))

    # The newest checkpoint this workspace signed: the log must still extend it.
    if note:
        report.checkpoint = note
        try:
            verify_against(ws, note, computed=(tree.n, tree.roots))
        except IntegrityError as ex:
            report.problems.append(Problem("checkpoint", "log", str(ex)))
        except InvestigateError as ex:
            report.problems.append(Problem("checkpoint", "log", f"the recorded checkpoint cannot be checked: {ex}"))

    for problem in check_timestamps(ws):
        report.problems.append(Problem("timestamp", "log_checkpoints", problem))

    # What a killed merge or publish left behind: the next run cleans it; until then, say so.
    for folder in sorted(ws.root.glob(".incoming-*")):
        report.problems.append(Problem("leftover", folder.name, "staging folder of an interrupted merge "
                                                                "(the next merge finishes or removes it)"))
    for _, path in killed_runs(ws.root):
        if path.is_file():
            report.problems.append(Problem("leftover", str(path), "temporary file of an interrupted bundle (the "
                                                                  "next command removes it)"))
    for path in sorted((ws.root / "public").glob(".public.db.*.tmp*")) if (ws.root / "public").is_dir() else []:
        report.problems.append(Problem("leftover", f"public/{path.name}", "temporary file of an interrupted "
                                                                           "publish (the next publish removes it)"))

    # A story's documents are evidence too, stored the same way.
    sources = [t for t in ("evidence", "story_documents") if t in present_tables]
    if sources:
        sql = " union all ".join(f"select id, sha256, added_at from {t}" for t in sources)
        for item in db.query(f"select id, sha256 from ({sql}) order by added_at, id"):
            report.evidence_checked += 1
            path = ws.evidence_path(item["sha256"])
            if not path.exists():
                report.problems.append(Problem("evidence", str(path.relative_to(ws.root)),
                                               f"evidence file of item {item['id']} is missing"))
                continue
            actual = file_sha256(path)
            if actual != item["sha256"]:
                report.problems.append(Problem("evidence", str(path.relative_to(ws.root)),
                                               f"file content changed: SHA-256 is now {actual}"))
    _unrecorded_evidence(ws, sources, report)
    _keys_without_their_log(ws, report)
    return report


_SHA256_NAME = re.compile(r"[0-9a-f]{64}")


def _unrecorded_evidence(ws: Workspace, sources: list[str], report: VerifyReport) -> None:
    """Evidence files no row holds. Evidence is never deleted, so such a file means its records
    were removed — a wiped database, tables dropped with the checkpoints — or that a killed
    ``evidence add`` left it: either way a log of "0 entries" must not read as OK."""
    if not ws.evidence_dir.is_dir():
        return
    known = {r[0] for t in sources for r in ws.db.execute(f"select sha256 from {t}")}
    for folder in sorted(p for p in ws.evidence_dir.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if _SHA256_NAME.fullmatch(path.name) and path.name not in known:
                report.problems.append(Problem("evidence", str(path.relative_to(ws.root)),
                                               "evidence file that no record holds: its records were removed "
                                               "(or an interrupted evidence add left it)"))


def _keys_without_their_log(ws: Workspace, report: VerifyReport) -> None:
    """Keys that outlived their log. The signing key is named for the workspace whose database
    it was made with (``[log] public_key``): a database wiped by dropping its tables comes back
    with another workspace id, and an empty log beside the old key read "OK: 0 audit entries".
    The sources key is made when a source is first recorded, which writes the log: beside a log
    of no entries, the log was wiped. (A signing key alone is no sign: ``init`` makes one.)"""
    from ..keys import KEY_FILE, KEYS_DIR, SOURCES_KEY

    made_for = str(ws.setting("log", "public_key") or "").split("+", 1)[0]
    if made_for and made_for != ws.key_name:
        report.problems.append(Problem("keys", f"{KEYS_DIR}/{KEY_FILE}",
                                       f"the signing key was made for {made_for}, but the database is "
                                       f"{ws.key_name}: the database was wiped or replaced"))
    if report.audit_entries == 0 and (ws.root / KEYS_DIR / SOURCES_KEY).exists():
        report.problems.append(Problem("keys", f"{KEYS_DIR}/{SOURCES_KEY}",
                                       "a sources key, made when a source was first recorded, beside a log of no "
                                       "entries: the log was wiped"))

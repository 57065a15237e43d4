"""``investigate verify``: recompute the audit chain, every audited row and every evidence file.

What a lawyer asks, one day: were the records or the evidence changed after the fact? This
answers it from the data alone. The chain is walked in order (each link hashes the one
before it); the newest audit entry of each row must carry the hash of the row as it is now;
a row with no audit entry was written around the audit API; a deleted row must have a delete
entry; and every evidence file must still hash to its name and its recorded SHA-256.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from . import audit
from .schema import AUDITED_TABLES
from .workspace import Workspace


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


def file_sha256(path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        while block := fp.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify(ws: Workspace, *, progress=None) -> VerifyReport:
    """Check everything; ``progress(n)`` is called as work is done, for a progress bar.
    Problems are listed in the order found: the first is the earliest place that breaks."""
    report = VerifyReport()
    db = ws.db

    prev = audit.GENESIS
    expected_seq = 1
    latest: dict[tuple[str, str], tuple[int, str | None, str]] = {}
    for entry in db.query("select * from audit_log order by seq"):
        report.audit_entries += 1
        if entry["seq"] != expected_seq:
            report.problems.append(Problem("chain", f"audit_log seq {entry['seq']}",
                                           f"expected entry {expected_seq}: an entry is missing"))
        if entry["prev_hash"] != prev or audit.link_hash(prev, entry) != entry["hash"]:
            report.problems.append(Problem("chain", f"audit_log seq {entry['seq']}",
                                           "the chain link does not match: this entry or the one before it was altered"))
        prev = entry["hash"]
        expected_seq = entry["seq"] + 1
        if entry["table_name"] and entry["row_id"]:
            latest[(entry["table_name"], entry["row_id"])] = (entry["seq"], entry["row_hash"], entry["action"])
        if progress and report.audit_entries % 10000 == 0:
            progress(10000)

    present_tables = set(db.table_names())
    for table in AUDITED_TABLES:
        if table not in present_tables:
            continue
        seen = set()
        for row in db.query(f"select * from [{table}] order by rowid"):
            report.rows_checked += 1
            key = (table, row["id"])
            seen.add(row["id"])
            known = latest.get(key)
            if known is None:
                report.problems.append(Problem("unaudited", f"{table} {row['id']}",
                                               "row has no audit entry: it was written around the audit log"))
            elif known[2] == "delete":
                report.problems.append(Problem("row", f"{table} {row['id']}",
                                               f"row was deleted in audit entry {known[0]} but is present"))
            elif known[1] != ws.row_hash(table, row):
                report.problems.append(Problem("row", f"{table} {row['id']}",
                                               f"row differs from audit entry {known[0]}: it was altered after it was written"))
        for (tname, row_id), (seq, _, action) in latest.items():
            if tname == table and action != "delete" and row_id not in seen:
                report.problems.append(Problem("deleted", f"{table} {row_id}",
                                               f"row recorded in audit entry {seq} is missing"))

    if "foreign_audit" in present_tables:
        from .teamwork import verify_foreign_chains

        for problem in verify_foreign_chains(ws):
            where, _, detail = problem.partition(": ")
            report.problems.append(Problem("chain", where, detail))

    # The newest checkpoint this workspace signed: the log must still extend it.
    from .errors import IntegrityError, InvestigateError
    from .log import latest_checkpoint, verify_against

    note = latest_checkpoint(ws)
    if note:
        report.checkpoint = note
        try:
            verify_against(ws, note)
        except IntegrityError as ex:
            report.problems.append(Problem("checkpoint", "log", str(ex)))
        except InvestigateError as ex:
            report.problems.append(Problem("checkpoint", "log", f"the recorded checkpoint cannot be checked: {ex}"))

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
    return report

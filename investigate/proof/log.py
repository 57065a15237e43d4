"""The provable log: the audit entries as a Merkle tree, signed checkpoints, proofs.

The link chain (``audit.py``) is a fast local check, but whoever holds the database can
rewrite it with its own hash functions, truncate it or wipe it. A signed checkpoint that
left the newsroom — printed in a public PDF, in the public database, in a letter to a
business, in a bundle — cannot be rewritten. So:

- each audit entry is a leaf of an RFC 6962 tree (``entry_leaf``: SHA-256(0x00 ‖ the entry's
  canonical bytes)); perfect subtrees are stored in ``log_nodes`` as the log grows (derived
  data, rebuilt from the entries when missing, never trusted by ``verify``);
- a checkpoint is a C2SP signed note: origin line, tree size, base64 root hash, an extension
  line with the time, an empty line, then ``— <key name> <base64(key id ‖ Ed25519 signature)>``;
  every checkpoint made is recorded in ``log_checkpoints``;
- ``verify_against`` checks a checkpoint's signature and proves with a consistency proof that
  today's log is an append-only extension of what it committed to, and names what broke.

The Ed25519 key is made by the workspace at ``init`` (or when an older workspace is first
opened, ``Workspace.ensure_signing_key``): the private key in keys/log.key (``investigate.keys``),
the public key in investigate.toml as a note verifier key
(``<name>+<key id hex>+<base64(0x01 ‖ public key)>``).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..store import audit
from . import merkle
from .. import clock
from ..errors import IntegrityError, InvestigateError
from ..keys import key_id, load_private_key, parse_verifier_key
from ..store.workspace import Workspace
from ..files.nesting import load_json
from .timestamps import stamp

CHECKPOINT_DIR = "checkpoints"
#: A checkpoint file is a few hundred bytes; one of 200 MB is not read into memory to find out.
MAX_NOTE_BYTES = 64 << 10
DASH = "\u2014"


# -- leaves and the stored tree ---------------------------------------------------------------


def entry_leaf(entry: dict) -> bytes:
    """The leaf hash of one audit entry: every field the link hash covers, in a fixed order."""
    return merkle.leaf_hash(audit.entry_bytes(entry))


#: Leaves are stored a run at a time (``log_leaves``: one row of RUN leaf hashes, 32 bytes each),
#: and only the perfect subtrees of a run and above as rows of ``log_nodes``: a node of a run is
#: hashed again from its leaves when a proof asks for it (1,023 hashes, under a millisecond).
#: Storing every node as a row was two rows per entry: two fifths of a first checkpoint's CPU
#: at 100k visits, and 107 MB of a file of 1.2 million entries (the runs take 37 MB).
RUN_LEVEL = 10
RUN = 1 << RUN_LEVEL
HASH_BYTES = 32


def stored_size(db) -> int:
    """The leaves the stored tree holds: those of every run before the last, and the last's."""
    row = db.execute("select run, length(hashes) from log_leaves order by run desc limit 1").fetchone()
    return row[0] * RUN + row[1] // HASH_BYTES if row else 0


def split_leaves(blob: bytes) -> list[bytes]:
    """The leaf hashes a ``log_leaves`` blob (or several joined) holds, in order."""
    return [bytes(blob[i:i + HASH_BYTES]) for i in range(0, len(blob), HASH_BYTES)]


def forget_tree(db) -> None:
    """Drop the stored tree: derived data, rebuilt from the entries by the next ``sync_tree``."""
    db.execute("delete from log_leaves")
    db.execute("delete from log_nodes")


def sync_tree(ws: Workspace, *, progress=None) -> int:
    """Add the leaves and perfect subtrees of audit entries not yet in the stored tree; returns
    the tree size. Incremental: the right edge of the stored tree is read back (its whole runs
    from ``log_nodes``, the leaves of its last run if that is not whole), not rebuilt."""
    db = ws.db
    size = stored_size(db)
    if size > db.execute("select coalesce(max(seq), 0) from audit_log").fetchone()[0]:
        forget_tree(db)  # a tree of entries the log no longer has: never sign it
        return sync_tree(ws, progress=progress)
    whole = size - size % RUN
    # The right edge of the whole runs: one perfect subtree per set bit of ``whole``, largest first.
    edge: list[tuple[int, bytes]] = []
    start = 0
    for level in range(whole.bit_length() - 1, RUN_LEVEL - 1, -1):
        if whole >> level & 1:
            h = db.execute("select hash from log_nodes where level = ? and idx = ?",
                           [level, start >> level]).fetchone()
            if h is None:  # the stored tree is incomplete: rebuild it from the entries
                forget_tree(db)
                return sync_tree(ws, progress=progress)
            edge.append((level, h[0]))
            start += 1 << level
    nodes: list[tuple[int, int, bytes]] = []
    tree = StreamingTree(edge=edge, n=whole, record=nodes, record_from=RUN_LEVEL)
    run = whole // RUN
    leaves = bytearray()
    if size > whole:  # the last run so far: its leaves folded again, and written again once it grows
        leaves += db.execute("select hashes from log_leaves where run = ?", [run]).fetchone()[0]
        for leaf in split_leaves(leaves):
            tree.add(leaf)
    runs: list[tuple[int, bytes]] = []
    reported = size

    def write() -> None:
        db.conn.executemany("insert or replace into log_leaves (run, hashes) values (?, ?)", runs)
        db.conn.executemany("insert or replace into log_nodes (level, idx, hash) values (?, ?, ?)", nodes)
        runs.clear()
        nodes.clear()

    with ws.transaction():
        for (seq, *_), data in audit.entries_with_bytes(db.conn, ["seq"], after=size):
            if seq != tree.size + 1:
                raise IntegrityError(f"audit_log seq {seq}: expected entry {tree.size + 1}: an entry is missing")
            leaf = merkle.leaf_hash(data)
            tree.add(leaf)
            leaves += leaf
            if len(leaves) == RUN * HASH_BYTES:
                runs.append((run, bytes(leaves)))
                run, leaves = run + 1, bytearray()
                if len(runs) >= 20:
                    write()
                    if progress:
                        progress(tree.n - reported)
                        reported = tree.n
        tree.flush()
        if leaves and tree.n > size:
            runs.append((run, bytes(leaves)))
        write()
    return tree.n


def run_levels(db, run: int) -> list[list[bytes]]:
    """Every perfect subtree of one stored run, level by level (its leaves first)."""
    row = db.execute("select hashes from log_leaves where run = ?", [run]).fetchone()
    blob = row[0] if row else b""
    return merkle.perfect_levels(split_leaves(blob))


def subtree_reader(db):
    """``subtree(start, end)`` for merkle.*: perfect subtrees from ``log_nodes``, or within a
    run from its leaves (the few runs a proof walks through kept, in the order it walks them)."""
    cache: dict[tuple[int, int], bytes] = {}
    runs: dict[int, list[list[bytes]]] = {}

    def subtree(start: int, end: int) -> bytes:
        level = (end - start).bit_length() - 1
        key = (level, start >> level)
        if key in cache:
            return cache[key]
        if level >= RUN_LEVEL:
            row = db.execute("select hash from log_nodes where level = ? and idx = ?", list(key)).fetchone()
            node = row[0] if row else None
        else:
            run = start >> RUN_LEVEL
            if run not in runs:
                if len(runs) >= 16:
                    del runs[next(iter(runs))]
                runs[run] = run_levels(db, run)
            level_nodes = runs[run][level] if level < len(runs[run]) else []
            offset = key[1] - (run << (RUN_LEVEL - level))
            node = level_nodes[offset] if offset < len(level_nodes) else None
        if node is None:
            raise InvestigateError(f"log tree node {key} is missing: run 'investigate checkpoint' to rebuild it")
        cache[key] = node
        return node

    return subtree


def root(ws: Workspace, size: int | None = None) -> tuple[int, bytes]:
    """(size, root hash) of the log now, or of its first ``size`` entries."""
    current = sync_tree(ws)
    size = current if size is None else size
    if size > current:
        raise InvestigateError(f"the log has {current} entries, not {size}")
    return size, merkle.mth(subtree_reader(ws.db), 0, size)


def _entries(ws: Workspace, upto: int | None = None):
    sql = "select seq, at, actor, action, table_name, row_id, row_hash, data from audit_log"
    rows = ws.db.conn.execute(sql + (" where seq <= ?" if upto is not None else "") + " order by seq",
                              [upto] if upto is not None else [])
    for row in rows:
        yield dict(zip(audit.ENTRY_FIELDS, row))


class StreamingTree:
    """Roots of a growing list of leaves with O(log n) memory: the right edge of perfect
    subtrees, folded when a root is asked for. ``sizes`` are the sizes whose roots to keep;
    ``edge`` and ``n`` continue a tree of ``n`` leaves; ``record`` receives every node made
    of height ``record_from`` or more as (level, index, hash), leaves included from 0
    (``sync_tree`` stores those of a run and above). Leaves are folded a run at a time: an
    aligned run is one perfect subtree, hashed level by level (``merkle.perfect_levels``)
    rather than one stack step per leaf."""

    def __init__(self, sizes=(), *, edge=(), n: int = 0, record: list | None = None, record_from: int = 0):
        self.sizes = set(sizes)
        self.stack: list[tuple[int, bytes]] = list(edge)
        self.n = n  # leaves folded into the stack
        self.pending: list[bytes] = []
        self.record = record
        self.record_from = record_from
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in self.sizes else {}

    @property
    def size(self) -> int:
        return self.n + len(self.pending)

    def add(self, leaf: bytes) -> None:
        self.pending.append(leaf)
        if (self.n + len(self.pending)) % RUN == 0:
            self.flush()

    def flush(self) -> None:
        """Fold the pending leaves: a whole aligned run at once unless a size asked for falls
        inside it, else one by one."""
        leaves, self.pending = self.pending, []
        if len(leaves) == RUN and not any(self.n < s < self.n + RUN for s in self.sizes):
            levels = merkle.perfect_levels(leaves)
            if self.record is not None:
                for level, hashes in enumerate(levels[self.record_from:], self.record_from):
                    first = self.n >> level
                    self.record.extend([(level, first + i, h) for i, h in enumerate(hashes)])
            self._push(len(levels) - 1, levels[-1][0])
            return
        for leaf in leaves:
            if self.record is not None and self.record_from == 0:
                self.record.append((0, self.n, leaf))
            self._push(0, leaf)

    def _push(self, height: int, node: bytes) -> None:
        """Put the perfect subtree of 2**height leaves after the n folded ones on the right edge:
        two of the same height make one of the next."""
        stack, index = self.stack, self.n >> height
        self.n += 1 << height
        stack.append((height, node))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            height, right = stack.pop()
            _, left = stack.pop()
            node, height, index = merkle.node_hash(left, right), height + 1, index >> 1
            if self.record is not None and height >= self.record_from:
                self.record.append((height, index, node))
            stack.append((height, node))
        if self.n in self.sizes:
            self.roots[self.n] = self.root()

    def root(self) -> bytes:
        self.flush()
        if not self.stack:
            return merkle.EMPTY_ROOT
        acc = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            acc = merkle.node_hash(h, acc)
        return acc


def streaming_roots(ws: Workspace, sizes: set[int]) -> tuple[int, dict[int, bytes]]:
    """The roots of the log at each of ``sizes`` and now, recomputed from the entries in one
    pass: a million entries need no list of a million hashes."""
    tree = StreamingTree(sizes)
    for (seq, *_), data in audit.entries_with_bytes(ws.db.conn, ["seq"]):
        if seq != tree.size + 1:
            raise IntegrityError(f"the log has a gap: entry {tree.size + 1} is missing (next is {seq})")
        tree.add(merkle.leaf_hash(data))
    head = tree.root()
    tree.roots[tree.n] = head
    return tree.n, tree.roots


def inclusion(ws: Workspace, seq: int, size: int | None = None) -> dict:
    """The inclusion proof of audit entry ``seq`` in the tree of ``size`` (default: now)."""
    size, head = root(ws, size)
    if not 1 <= seq <= size:
        raise InvestigateError(f"entry {seq} is not in a log of {size} entries")
    entry = dict(zip(audit.ENTRY_FIELDS, ws.db.conn.execute(
        "select seq, at, actor, action, table_name, row_id, row_hash, data from audit_log where seq = ?",
        [seq]).fetchone()))
    leaf = entry_leaf(entry)
    proof = merkle.inclusion_proof(subtree_reader(ws.db), seq - 1, size)
    return {"seq": seq, "index": seq - 1, "size": size, "leaf": leaf.hex(), "root": head.hex(),
            "proof": [p.hex() for p in proof],
            "verified": merkle.root_from_inclusion(seq - 1, size, leaf, proof) == head}


# -- checkpoints -----------------------------------------------------------------------------


def checkpoint_body(origin: str, size: int, root_hash: bytes, made_at: str) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root_hash).decode()}\ntime {made_at}\n"


def make_checkpoint(ws: Workspace, *, purpose: str = "checkpoint") -> dict:
    """Sign the log as it is now and record the checkpoint. Returns size, root, note, time."""
    return record_checkpoint(ws, sign_checkpoint(ws, purpose=purpose))


def sign_checkpoint(ws: Workspace, *, purpose: str = "checkpoint") -> dict:
    """Sign the log as it is now, recording nothing: a command that carries a checkpoint in
    its output (a bundle, a public database) signs first and records only once its output is
    in place, so that a refused or failed run leaves no checkpoint row behind."""
    ws.ensure_signing_key()
    size, head = root(ws)
    made_at = clock.utc_now().replace("+00:00", "Z")
    name = ws.key_name
    body = checkpoint_body(name, size, head, made_at)
    private = load_private_key(ws.root)
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signature = private.sign(body.encode())
    note = body + "\n" + f"{DASH} {name} {base64.b64encode(key_id(name, public) + signature).decode()}\n"
    return {"size": size, "root": head.hex(), "note": note, "made_at": made_at, "origin": name, "purpose": purpose}


def record_checkpoint(ws: Workspace, signed: dict) -> dict:
    """Record a checkpoint ``sign_checkpoint`` made, its copy beside the database and, with a
    timestamp authority configured, its stamp."""
    with ws.transaction():
        ws.db.execute("insert into log_checkpoints (size, root_hash, note, made_at, purpose) values (?, ?, ?, ?, ?)",
                      [signed["size"], signed["root"], signed["note"], signed["made_at"], signed["purpose"]])
    # A copy beside the database: a wiped or truncated database cannot take it along.
    folder = ws.root / CHECKPOINT_DIR
    folder.mkdir(exist_ok=True)
    (folder / f"{signed['size']:012d}.txt").write_text(signed["note"], encoding="utf-8")
    result = {k: v for k, v in signed.items() if k != "purpose"}
    url = ws.setting("timestamp", "tsa_url")
    if url:
        cid = ws.db.execute("select max(id) from log_checkpoints").fetchone()[0]
        ws.db.execute("update log_checkpoints set tsa_url = ? where id = ?", [url, cid])
        result["timestamp"] = stamp(ws, cid)
    return result


def parse_checkpoint(note: str) -> dict:
    """A signed note → origin, size, root, time, body and its signature lines."""
    text = note.replace("\r\n", "\n")
    body, sep, sigs = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3:
        raise InvestigateError("not a checkpoint: expected origin, size, root hash, an empty line and a signature")
    try:
        size = int(lines[1])
        head = base64.b64decode(lines[2], validate=True)
    except ValueError:
        raise InvestigateError("not a checkpoint: the size or root hash line is malformed")
    if len(head) != 32 or size < 0:
        raise InvestigateError("not a checkpoint: the root hash is not 32 bytes")
    made_at = next((line[5:] for line in lines[3:] if line.startswith("time ")), None)
    signatures = []
    for line in sigs.strip("\n").split("\n"):
        m = re.fullmatch(DASH + r" (\S+) (\S+)", line)
        if m:
            try:
                raw = base64.b64decode(m.group(2), validate=True)
            except ValueError:
                raise InvestigateError(f"not a checkpoint: the signature of {m.group(1)} is not base64")
            signatures.append((m.group(1), raw[:4], raw[4:]))
    return {"origin": lines[0], "size": size, "root": head, "made_at": made_at, "body": body + "\n",
            "signatures": signatures}


def check_signature(parsed: dict, keys: list[str]) -> str:
    """The name of the key that signed the checkpoint, or IntegrityError."""
    for vkey in keys:
        name, public = parse_verifier_key(vkey)
        kid = key_id(name, public)
        for sig_name, sig_kid, sig in parsed["signatures"]:
            if sig_name == name and sig_kid == kid:
                try:
                    Ed25519PublicKey.from_public_bytes(public).verify(sig, parsed["body"].encode())
                    return name
                except InvalidSignature:
                    raise IntegrityError(f"the checkpoint's signature by {name} does not verify: it was forged or altered")
    raise IntegrityError("the checkpoint is signed by an unknown key (not this workspace's, nor a listed newsroom's)")


def trusted_keys(ws: Workspace) -> list[str]:
    keys = [ws.setting("log", "public_key")] + list(ws.setting("log", "trusted_keys", []) or [])
    return [k for k in keys if k]


def _when(parsed: dict) -> str:
    return (parsed["made_at"] or "")[:10] or "unknown date"


def verify_against(ws: Workspace, note: str, *, computed: tuple[int, dict[int, bytes]] | None = None) -> dict:
    """Check a checkpoint from outside against today's log. Raises IntegrityError naming what
    broke; returns what was proved. ``computed`` = (size, roots) when the caller has already
    recomputed the roots from the entries (``verify`` does, in its walk of the chain)."""
    parsed = parse_checkpoint(note)
    signer = check_signature(parsed, trusted_keys(ws))
    if parsed["origin"] != ws.key_name and signer == ws.key_name:
        raise IntegrityError(f"the checkpoint names another log ({parsed['origin']})")
    m, old_root = parsed["size"], parsed["root"]
    n = ws.db.execute("select coalesce(max(seq), 0) from audit_log").fetchone()[0]
    when = _when(parsed)
    if n < m:
        raise IntegrityError(f"the log is shorter than the checkpoint of {when} (size {m}, now {n})")
    # The prefix is recomputed from the entries themselves: stored tree nodes are not trusted.
    if computed is not None and (m in computed[1] or computed[0] < m):
        n, roots = computed
    else:
        n, roots = streaming_roots(ws, {m})
    if n < m:
        raise IntegrityError(f"the log is shorter than the checkpoint of {when} (size {m}, now {n})")
    if roots[m] != old_root:
        raise IntegrityError(_first_difference(ws, m, old_root, when))
    new_root = roots[n]
    result = {"signed_by": signer, "checkpoint_size": m, "checkpoint_time": parsed["made_at"], "size": n,
              "root": new_root.hex(), "consistent": True}
    if m == 0 or m == n:
        return result | {"consistency_proof": []}
    # The proof comes from the stored tree; if that was tampered with, rebuild it once.
    for attempt in range(2):
        sync_tree(ws)
        proof = merkle.consistency_proof(subtree_reader(ws.db), m, n)
        if merkle.verify_consistency(m, n, old_root, new_root, proof):
            return result | {"consistency_proof": [p.hex() for p in proof]}
        forget_tree(ws.db)
    raise IntegrityError(f"today's log is not an extension of the checkpoint of {when}")  # pragma: no cover


def _first_difference(ws: Workspace, m: int, old_root: bytes, when: str) -> str:
    """Name the entry that changed, when the stored leaves still hold what was signed."""
    try:
        blob = b"".join(r[0] for r in ws.db.execute("select hashes from log_leaves where run <= ? order by run",
                                                    [(m - 1) // RUN]))
        stored = split_leaves(blob[:m * HASH_BYTES])
    except Exception:
        stored = []
    if len(stored) == m and merkle.root_of(stored) == old_root:
        for i, (a, b) in enumerate(zip(stored, (entry_leaf(e) for e in _entries(ws, m)))):
            if a != b:
                return f"entry {i + 1} differs from what the checkpoint of {when} committed to"
    return (f"the first {m} entries no longer hash to the root the checkpoint of {when} committed to: "
            "an entry among them was changed, removed or reordered")


def latest_checkpoint(ws: Workspace) -> str | None:
    """The largest checkpoint recorded, in the database or in the checkpoints/ folder beside it
    (which a wiped database does not take along)."""
    notes = []
    if "log_checkpoints" in ws.db.table_names():
        notes += [r[0] for r in ws.db.execute("select note from log_checkpoints order by size desc limit 1")]
    folder = ws.root / CHECKPOINT_DIR
    if folder.is_dir():
        files = sorted(folder.glob("*.txt"))
        if files:
            notes.append(files[-1].read_text(encoding="utf-8"))
    best = None
    for note in notes:
        try:
            size = parse_checkpoint(note)["size"]
        except InvestigateError:
            continue
        if best is None or size > best[0]:
            best = (size, note)
    return best[1] if best else None


# -- finding a checkpoint in a publication ---------------------------------------------------


def checkpoint_from_file(path: Path | str) -> str:
    """The checkpoint a file carries: a checkpoint itself, a public PDF, a public database or a
    bundle."""
    path = Path(path)
    try:
        with open(path, "rb") as fp:  # the first bytes say what it is: never the whole file
            head = fp.read(16)
            size = fp.seek(0, 2)
    except FileNotFoundError:
        raise InvestigateError(f"{path}: no such file")
    except OSError as ex:
        raise InvestigateError(f"{path}: cannot be read ({ex.strerror})")
    if head.startswith(b"%PDF"):
        return _from_pdf(path)
    if head.startswith(b"SQLite format 3"):
        import sqlite3

        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("select note from log_checkpoint order by size desc limit 1").fetchone()
        except sqlite3.DatabaseError:
            row = None
        finally:
            conn.close()
        if not row:
            raise InvestigateError(f"{path}: the database carries no log checkpoint")
        return row[0]
    if head.startswith(b"PK"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as zf:
                manifest = load_json(zf.read("manifest.json"))
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):  # TooDeep is a ValueError
            raise InvestigateError(f"{path}: not a bundle with a readable manifest")
        if not isinstance(manifest, dict) or not isinstance(manifest.get("checkpoint"), str):
            raise InvestigateError(f"{path}: the bundle's manifest carries no log checkpoint")
        return manifest["checkpoint"]
    if size > MAX_NOTE_BYTES:
        raise InvestigateError(f"{path}: {size:,} bytes, not a checkpoint (one is a few hundred bytes)")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvestigateError(f"{path}: neither a checkpoint, a PDF, a database nor a bundle")


#: The name a PDF carries its checkpoint under (``reports.build`` attaches it).
CHECKPOINT_ATTACHMENT = "log-checkpoint.txt"


def _from_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        attached = None
        for item in reader.attachment_list:
            if item.name != CHECKPOINT_ATTACHMENT:
                continue
            # An attachment is inflated when read. A checkpoint is a few hundred bytes and our
            # PDFs declare its size (/Params /Size): one that declares none or more is not read
            # at all. (One that lies about it is stopped by pypdf's own inflate limit.)
            if item.size is None or item.size > MAX_NOTE_BYTES:
                raise InvestigateError(f"{path}: the PDF's {CHECKPOINT_ATTACHMENT} declares no size, or more than "
                                       "a checkpoint holds: refused unread")
            attached = item.content
            break
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as ex:
        raise InvestigateError(f"{path}: the PDF cannot be read ({type(ex).__name__}: {str(ex)[:200]})")
    if attached is None:
        raise InvestigateError(f"{path}: the PDF carries no log checkpoint")
    try:
        return attached.decode("utf-8")
    except UnicodeDecodeError:
        raise InvestigateError(f"{path}: the PDF's {CHECKPOINT_ATTACHMENT} is not UTF-8 text: not a checkpoint")

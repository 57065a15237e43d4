"""What a bundle is, and what a received one must keep to before it is read: the tables it
carries, the members it may hold, the limits a crafted zip (a "bomb", junk, an oversized
manifest) is refused by from its directory alone, and each member read and checked as it is
inflated. ``bundles`` writes bundles and reads them through here."""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Iterator

from ..errors import InvestigateError
from ..files.nesting import load_json

FORMAT = "investigate-bundle/1"
#: Tables a bundle carries, parents before children (foreign keys).
TABLES = ["companies", "stores", "testers", "cases", "case_stores", "protocol_versions", "visits", "findings", "evidence",
          "promises", "replies", "reviews", "reply_items", "stories", "story_events", "story_reply_items"]
#: Tips and their sources travel only when asked for (``bundle --with-sources``): a field
#: reporter's bundle must not carry who told the newsroom what. A story's documents are the
#: person's (issue 31: a forwarded e-mail names them, with address and number), files and all.
SOURCE_TABLES = ["tips", "tip_sources", "story_sources", "story_documents", "story_document_sources"]
SOURCES_KEY_MEMBER = "sources.key"
#: The subtree hashes that prove the bundle's audit entries against its checkpoint without the
#: log's other entries (``proof.partial``); a bundle without it carries the whole log.
AUDIT_PROOF_MEMBER = "audit-proof.json"


class BundleError(InvestigateError):
    """A bundle that is broken, tampered with, or from a newer schema."""


#: Limits on what a bundle may make us read, so that a crafted zip (a "bomb" of a few MB that
#: inflates to gigabytes) is refused from its directory, before anything is decompressed.
MAX_MEMBERS = 200_000
MAX_TOTAL_BYTES = 64 << 30        # all members, uncompressed
MAX_JSON_BYTES = 2 << 30          # one rows/*.json or audit.json member, uncompressed
MAX_RATIO = 200                   # uncompressed / compressed, for members over 1 MiB
#: Budgets relative to what the bundle says it holds (issue 31): a 3 MB zip listing 3,000 junk
#: members of 1 MiB, a 150 MB manifest or 300 MB of rows for a case of ten visits is refused
#: from the directory, before it is read.
MAX_OTHER_MEMBERS = 100           # members no table reads (a newer version's): at most this many
MAX_OTHER_BYTES = 1 << 20         # and this many bytes together
MANIFEST_BYTES = 64 << 10         # the manifest: this, plus per member of the zip
MANIFEST_BYTES_PER_MEMBER = 256
ROW_BYTES = 4 << 20               # a rows/TABLE.json member: at most this per row its manifest counts
HASH = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20


def safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return not (p.is_absolute() or ".." in p.parts or "\\" in name or name.startswith("/") or ":" in p.parts[0])


def known_member(name: str) -> bool:
    if name in ("manifest.json", "audit.json", AUDIT_PROOF_MEMBER, SOURCES_KEY_MEMBER):
        return True
    if name.startswith("evidence/"):
        return bool(HASH.match(name[len("evidence/"):]))
    return name.startswith("rows/") and name.endswith(".json") and name[5:-5] in TABLES + SOURCE_TABLES


def check_directory(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a bundle by its zip directory alone: too many members, too large, too compressed,
    a manifest too large for the members it lists, or junk no table reads."""
    if len(infos) > MAX_MEMBERS:
        raise BundleError(f"{path}: {len(infos):,} members, more than the {MAX_MEMBERS:,} a bundle may hold")
    total = 0
    for info in infos:
        if not safe_name(info.filename):
            raise BundleError(f"{path}: member {info.filename!r} would be written outside the workspace")
        total += info.file_size
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BundleError(f"{path}: member {info.filename!r} inflates {info.file_size // max(info.compress_size, 1):,} "
                              f"times (more than {MAX_RATIO}): refused as a zip bomb")
        if not info.filename.startswith("evidence/") and info.file_size > MAX_JSON_BYTES:
            raise BundleError(f"{path}: member {info.filename!r} is larger than {MAX_JSON_BYTES >> 30} GiB")
    if total > MAX_TOTAL_BYTES:
        raise BundleError(f"{path}: {total >> 30} GiB uncompressed, more than the {MAX_TOTAL_BYTES >> 30} GiB allowed")
    other = [i for i in infos if not known_member(i.filename)]
    if len(other) > MAX_OTHER_MEMBERS or sum(i.file_size for i in other) > MAX_OTHER_BYTES:
        raise BundleError(f"{path}: {len(other):,} members that no table reads ({other[0].filename!r} …), "
                          f"{sum(i.file_size for i in other):,} bytes: refused as junk")
    budget = MANIFEST_BYTES + MANIFEST_BYTES_PER_MEMBER * len(infos)
    for info in infos:
        if info.filename == "manifest.json" and info.file_size > budget:
            raise BundleError(f"{path}: its manifest.json is {info.file_size:,} bytes, more than a manifest of "
                              f"{len(infos):,} members can be")


def check_row_sizes(path: Path, manifest: dict, by_name: dict[str, zipfile.ZipInfo]) -> None:
    """Each rows/TABLE.json at most ``ROW_BYTES`` per row the manifest counts for it (the rows
    are counted again once read): 300 MB of "visits" for a case of ten is refused unread."""
    counts = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
    for name, info in by_name.items():
        if name.startswith("rows/") and name.endswith(".json"):
            declared = counts.get(name[5:-5], 0)
            declared = declared if isinstance(declared, int) and declared >= 0 else 0
            if info.file_size > ROW_BYTES * max(declared, 1):
                raise BundleError(f"{path}: {name} is {info.file_size:,} bytes for the {declared:,} rows its "
                                  "manifest counts: refused unread")


def member_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, digest) -> Iterator[bytes]:
    """Stream one member in chunks, each added to ``digest`` (a hashlib object) as it passes.
    Never reads past the size the directory declared."""
    seen = 0
    try:
        with zf.open(info) as fp:
            while chunk := fp.read(CHUNK):
                seen += len(chunk)
                if seen > info.file_size:
                    raise BundleError(f"{path}: member {info.filename!r} is longer than its directory says")
                digest.update(chunk)
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as ex:
        raise BundleError(f"{path}: {info.filename} cannot be read ({ex}); the bundle is damaged")


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, sink=None) -> tuple[str, bytes | None]:
    """One member whole: its SHA-256, and its bytes unless ``sink`` (a file) takes them."""
    digest = hashlib.sha256()
    parts = []
    for chunk in member_chunks(zf, info, path, digest):
        if sink is None:
            parts.append(chunk)
        else:
            sink.write(chunk)
    return digest.hexdigest(), (b"".join(parts) if sink is None else None)


def json_member(path: Path, name: str, blob: bytes, kind: type):
    try:
        value = load_json(blob)
    except ValueError as ex:  # UnicodeDecodeError and TooDeep are ValueErrors
        raise BundleError(f"{path}: {name} is not valid JSON ({ex})")
    if not isinstance(value, kind):
        raise BundleError(f"{path}: {name} is not a JSON {'list' if kind is list else 'object'}")
    return value


def check_row(path: Path, table: str, i: int, row) -> None:
    """Item ``i`` (from 1) of ``table``'s rows must be a row: a text id and plain values."""
    if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"]:
        raise BundleError(f"{path}: rows/{table}.json item {i} is not a row with a text id")
    bad = [k for k, v in row.items() if not isinstance(k, str) or isinstance(v, (dict, list))]
    if bad:
        raise BundleError(f"{path}: rows/{table}.json row {row['id']!r}: column {bad[0]!r} holds no plain value")
    if table in ("evidence", "story_documents") and not HASH.match(str(row.get("sha256"))):
        raise BundleError(f"{path}: evidence {row['id']!r} has sha256 {str(row.get('sha256'))[:70]!r}, "
                          "which is not a SHA-256 (64 hexadecimal digits)")


CHAIN_TYPES = {"seq": int, "hash": str, "prev_hash": str}


def check_entry(path: Path, i: int, entry) -> None:
    """Item ``i`` (from 1) of audit.json must be an audit entry, its seq one SQLite can hold."""
    if not isinstance(entry, dict) or any(not isinstance(entry.get(k), t) for k, t in CHAIN_TYPES.items()) \
            or not 0 <= entry["seq"] < 1 << 63:
        raise BundleError(f"{path}: audit.json entry {i} is not an audit entry (seq, hash, prev_hash)")


__all__ = ["FORMAT", "TABLES", "SOURCE_TABLES", "SOURCES_KEY_MEMBER", "AUDIT_PROOF_MEMBER", "BundleError", "HASH", "CHUNK",
           "check_directory", "check_row_sizes", "member_chunks", "read_member", "json_member", "check_row",
           "check_entry"]

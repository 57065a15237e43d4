"""Perceptual fingerprints of photos: the same picture found again after it was resized,
recompressed or cropped a little, where its SHA-256 has changed with every byte.

A tester who hands in another visit's photo — or one from last year's round, sent through a
messenger that shrank it — passes every byte-for-byte check. Mystery-shopping platforms and
Truepic flag such near-duplicates; here each image keeps imagehash's pHash (a 64-bit DCT hash,
robust to scaling and JPEG quality, not to a new photo of the same shop) beside its SHA-256,
and a photo within ``MAX_DISTANCE`` bits of another visit's is "possibly reused", naming that
visit. ``bench/fingerprint_bench.py`` measures how often two different photos come that close.

``fingerprint_rows`` is what newsrooms may swap to check each other's photos for reuse without
sharing pictures of minors: the hashes and the day each photo was taken, nothing else.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from pathlib import Path

from ..files.atomic import write_csv
from ..store.workspace import Workspace

#: Bits (of 64) two pHashes may differ by and still be the same picture: a photo recompressed
#: at 60 % and halved differs by 0–2, one cropped by 2 % a side by a few, another photo
#: of the same shop front from a step aside by 20 or more (bench/fingerprint_bench.py).
MAX_DISTANCE = 8
ALGORITHM = "imagehash.phash/64"


def perceptual_hash(path: Path | str) -> str | None:
    """The photo's pHash as 16 hex digits; None for a file Pillow cannot read as an image."""
    import imagehash
    from PIL import Image

    try:
        with Image.open(path) as img:
            return str(imagehash.phash(img))
    except Exception:  # not an image, or a broken one: it has no fingerprint, nothing more
        return None


def distance(a: str, b: str) -> int:
    """How many of the 64 bits two pHashes differ in."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


#: The stored fingerprints per workspace, kept while nothing is written (see ``_stored``).
_STORED: "weakref.WeakKeyDictionary[Workspace, tuple]" = weakref.WeakKeyDictionary()


def _stored(ws: Workspace) -> tuple[list[str], list[str], "numpy.ndarray"]:
    """(visit ids, SHA-256s, pHashes as uint64) of every stored photo. The review queue asks
    for each visit in turn: read once and compared in numpy, 20,000 photos take well under a
    millisecond a photo instead of 40 ms. Read again as soon as this connection wrote anything
    or another one committed (``total_changes``, ``PRAGMA data_version``)."""
    import numpy

    conn = ws.db.conn
    key = (conn.total_changes, conn.execute("pragma data_version").fetchone()[0])
    cached = _STORED.get(ws)
    if cached is not None and cached[0] == key:
        return cached[1]
    rows = conn.execute("select visit_id, sha256, phash from evidence where phash is not null").fetchall()
    stored = ([r[0] for r in rows], [r[1] for r in rows],
              numpy.array([int(r[2], 16) for r in rows], dtype=numpy.uint64))
    _STORED[ws] = (key, stored)
    return stored


def _within(ws: Workspace, phash: str) -> list[tuple[int, int]]:
    """(index into ``_stored``, bits apart) of every stored photo within ``MAX_DISTANCE``."""
    import numpy

    hashes = _stored(ws)[2]
    apart = numpy.bitwise_count(hashes ^ numpy.uint64(int(phash, 16)))
    return [(int(i), int(apart[i])) for i in numpy.flatnonzero(apart <= MAX_DISTANCE)]


def near_photos(ws: Workspace, item: dict, visit_id: str) -> list[dict]:
    """Other visits' photos within ``MAX_DISTANCE`` of this item's fingerprint, nearest first:
    ``{"visit_id", "distance"}``. The very same file is ``same_file``'s, not repeated here."""
    phash = item.get("phash")
    if not phash:
        return []
    visits, shas, _ = _stored(ws)
    found: dict[str, int] = {}
    for i, bits in _within(ws, phash):
        other = visits[i]
        if other != visit_id and shas[i] != item.get("sha256") and bits < found.get(other, MAX_DISTANCE + 1):
            found[other] = bits
    return [{"visit_id": v, "distance": d} for v, d in sorted(found.items(), key=lambda x: (x[1], x[0]))]


def compare_fingerprints(ws: Workspace, path: Path | str) -> list[dict]:
    """Another newsroom's fingerprints (a file ``write_fingerprints`` made) against ours: for
    each of theirs within ``MAX_DISTANCE`` of one of our photos, their hash and day and our
    visit and file, nearest first. A line that is not a fingerprint stops it, naming the line."""
    from ..errors import InputFileError
    from ..files import iter_csv

    table, rows = iter_csv(path)
    try:
        if "phash" not in table.header:
            raise InputFileError(path, "no 'phash' column: expected the file 'evidence fingerprints' writes "
                                       "(algorithm, phash, captured_on)", line=1)
        visits, shas, _ = _stored(ws)
        found = []
        for line, row in rows:
            algorithm, theirs = row.get("algorithm") or ALGORITHM, (row.get("phash") or "").lower()
            if algorithm != ALGORITHM:
                raise InputFileError(path, f"fingerprints made by {algorithm!r}; only {ALGORITHM} ones compare",
                                     line=line, column="algorithm")
            if len(theirs) != 16 or any(c not in "0123456789abcdef" for c in theirs):
                raise InputFileError(path, f"{theirs!r} is not a fingerprint (16 hex digits)", line=line,
                                     column="phash")
            found += [{"phash": theirs, "captured_on": row.get("captured_on") or None, "visit_id": visits[i],
                       "sha256": shas[i], "distance": bits} for i, bits in _within(ws, theirs)]
    finally:
        rows.close()
    return sorted(found, key=lambda m: (m["distance"], m["phash"], m["visit_id"]))


def fingerprint_rows(ws: Workspace, *, case: dict | None = None) -> list[dict]:
    """Every photo's fingerprint and the day it was taken (EXIF; empty when unknown), each
    pair once, sorted by hash so that the order tells nothing of visits or times: no
    image, no visit, store, tester, time of day or place."""
    sql = "select e.phash, e.captured_at from evidence e"
    params: list = []
    if case:
        sql += " join visits v on v.id = e.visit_id where v.case_id = ? and e.phash is not null"
        params.append(case["id"])
    else:
        sql += " where e.phash is not null"
    days: dict[str, set[str]] = {}
    for phash, captured_at in ws.db.execute(sql, params):
        day = ""
        if captured_at:
            try:
                day = datetime.fromisoformat(captured_at).date().isoformat()
            except ValueError:
                day = ""
        days.setdefault(phash, set()).add(day)
    return [{"algorithm": ALGORITHM, "phash": phash, "captured_on": day}
            for phash in sorted(days) for day in sorted(days[phash])]


def write_fingerprints(ws: Workspace, path: Path | str, *, case: dict | None = None) -> int:
    """Write ``fingerprint_rows`` as CSV (algorithm, phash, captured_on); the rows written."""
    return write_csv(path, ["algorithm", "phash", "captured_on"], fingerprint_rows(ws, case=case))

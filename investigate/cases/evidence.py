"""Evidence: files tied to a visit, stored content-addressed and never modified.

Like ProofMode: the original is copied byte for byte into ``evidence/ab/abcd…`` under its
SHA-256, its capture time and GPS position are read from EXIF where present and kept beside
it, and the same file added twice is stored once. A redacted copy is a new item that points
to its original (``redacted_from``).
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from ..ids import short
from ..errors import InvalidInput
from ..files import file_sha256
from ..store.workspace import Workspace
from .credentials import credential_facts, read_credentials
from .fingerprints import MAX_DISTANCE, near_photos, perceptual_hash



def _gps_degrees(values, ref) -> float | None:
    try:
        d, m, s = (float(v) for v in values)
    except (TypeError, ValueError):
        return None
    deg = d + m / 60 + s / 3600
    return -deg if ref in ("S", "W", b"S", b"W") else deg


_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")


def read_exif(path: Path) -> dict:
    """Capture time (ISO 8601, with offset when the camera wrote one) and GPS position from
    a photo's EXIF; an empty dict for files without it or that Pillow cannot read."""
    from PIL import Image
    from PIL.ExifTags import GPS, IFD, Base

    try:
        with Image.open(path) as img:
            exif = img.getexif()
    except Exception:
        return {}
    out: dict = {}
    sub = exif.get_ifd(IFD.Exif) if exif else {}
    stamp = sub.get(Base.DateTimeOriginal) or exif.get(Base.DateTime)
    if stamp:
        try:
            when = datetime.strptime(str(stamp).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            offset = str(sub.get(Base.OffsetTimeOriginal) or "").strip("\x00 ")
            # A camera may write an empty or partial offset (":"): then the time is local.
            out["captured_at"] = when.isoformat() + (offset if _OFFSET.match(offset) else "")
        except ValueError:
            pass
    gps = exif.get_ifd(IFD.GPSInfo) if exif else {}
    if gps and GPS.GPSLatitude in gps and GPS.GPSLongitude in gps:
        lat = _gps_degrees(gps[GPS.GPSLatitude], gps.get(GPS.GPSLatitudeRef))
        lon = _gps_degrees(gps[GPS.GPSLongitude], gps.get(GPS.GPSLongitudeRef))
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            out["gps_lat"], out["gps_lon"] = round(lat, 7), round(lon, 7)
    return out


def store_file(ws: Workspace, path: Path) -> tuple[str, int]:
    """Copy a file into the content-addressed store (atomically: a temp file then a rename,
    so a crash never leaves a half-copied file under a good name). Returns (sha256, size)."""
    sha, size = file_sha256(path), os.stat(path).st_size
    target = ws.evidence_path(sha)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            if file_sha256(tmp) != sha:
                raise InvalidInput(f"{path} changed while it was being copied; try again")
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return sha, size


def add_evidence(ws: Workspace, visit: dict, paths: list[Path | str], *, notes: str | None = None,
                 redacted_from: dict | None = None) -> list[dict]:
    """Add files to a visit. All files are checked before any is stored; a file already
    attached to this visit is returned as it is, not added again."""
    files = [Path(p) for p in paths]
    for f in files:
        if not f.is_file():
            raise InvalidInput(f"{f}: no such file")
    items = []
    with ws.transaction():
        for f in files:
            sha, size = store_file(ws, f)
            existing = list(ws.db.query(
                "select * from evidence where visit_id = ? and sha256 = ?", [visit["id"], sha]))
            if existing:
                items.append(dict(existing[0], duplicate=True))
                continue
            media_type = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
            photo = media_type.startswith("image/")
            exif = read_exif(f) if photo else {}
            items.append(ws.insert("evidence", {
                "visit_id": visit["id"], "sha256": sha, "size": size, "media_type": media_type,
                "original_name": f.name, "captured_at": exif.get("captured_at"),
                "gps_lat": exif.get("gps_lat"), "gps_lon": exif.get("gps_lon"),
                "redacted_from": redacted_from["id"] if redacted_from else None,
                "notes": notes, "added_at": ws.now().isoformat(),
                "phash": perceptual_hash(f) if photo else None,
                **read_credentials(f, media_type),
            }))
    for item in items:
        item["warnings"] = evidence_flags(ws, item, visit)
    return items


#: How far a photo's EXIF capture time and GPS may be from its visit's time and store before
#: it is flagged; ``[evidence] max_hours`` and ``max_metres`` in the workspace config change them.
MAX_HOURS = 2.0
MAX_METRES = 500.0


def evidence_limits(ws: Workspace) -> tuple[float, float]:
    """(hours, metres): the workspace's limits for a photo's distance from its visit."""
    return (float(ws.setting("evidence", "max_hours", MAX_HOURS)),
            float(ws.setting("evidence", "max_metres", MAX_METRES)))


def evidence_flag_facts(ws: Workspace, item: dict, visit: dict, store: dict | None = None) -> list[dict]:
    """Why this piece of evidence may not belong to its visit, or cannot show that it does, as
    plain facts (``kind`` and its figures) that any output words in its language:

    - ``no_capture_time``: a photo without an EXIF capture time (nothing dates it);
    - ``time_apart``: taken more than the limit before or after the visit (``hours``, ``before``);
    - ``location_removed``: GPS 0/0, how phones write a location they were told to remove — not
      a place in the Gulf of Guinea thousands of kilometres from the store;
    - ``no_location``: a photo without GPS (nothing places it);
    - ``far``: taken farther than the limit from the store (``metres``);
    - ``same_file``: the same file attached to other visits (``visits``);
    - ``possibly_reused``: a photo that looks like another visit's (resized, recompressed,
      cropped a little: ``fingerprints.near_photos``), with those visits and the bits apart;
    - ``credentials_failed``: C2PA Content Credentials that do not verify (``failures``: codes).

    Computed from what is stored, so a changed limit applies to all."""
    hours, metres = evidence_limits(ws)
    photo = (item.get("media_type") or "").startswith("image/")
    facts = []
    if photo and not item.get("captured_at"):
        facts.append({"kind": "no_capture_time"})
    if item.get("captured_at") and visit.get("visited_at"):
        try:
            taken = datetime.fromisoformat(item["captured_at"])
            when = datetime.fromisoformat(visit["visited_at"])
        except ValueError:
            taken = when = None
        if taken is not None:
            # EXIF without an offset is the camera's clock: read it in the workspace's zone.
            taken = taken if taken.tzinfo else taken.replace(tzinfo=ws.tz)
            when = when if when.tzinfo else when.replace(tzinfo=ws.tz)
            apart = abs((taken - when).total_seconds()) / 3600
            if apart > hours:
                facts.append({"kind": "time_apart", "hours": apart, "before": taken < when, "limit": hours})
    lat, lon = item.get("gps_lat"), item.get("gps_lon")
    if lat is not None and lon is not None and lat == 0 and lon == 0:
        facts.append({"kind": "location_removed"})
    elif lat is None or lon is None:
        if photo:
            facts.append({"kind": "no_location"})
    else:
        store = store or ws.get("stores", visit["store_id"])
        if store and store.get("lat") is not None:
            from geopy.distance import geodesic

            apart = geodesic((lat, lon), (store["lat"], store["lon"])).meters
            if apart > metres:
                facts.append({"kind": "far", "metres": apart, "limit": metres})
    others = [r[0] for r in ws.db.execute(
        "select visit_id from evidence where sha256 = ? and visit_id != ? order by added_at",
        [item["sha256"], visit["id"]])]
    if others:
        facts.append({"kind": "same_file", "visits": others})
    near = near_photos(ws, item, visit["id"])
    if near:
        facts.append({"kind": "possibly_reused", "visits": [n["visit_id"] for n in near],
                      "distance": near[0]["distance"], "limit": MAX_DISTANCE})
    return facts + credential_facts(item)


def flag_words(fact: dict) -> str:
    """A flag in the newsroom's working English (CLI, review queue, editors' pages)."""
    kind = fact["kind"]
    if kind == "time_apart":
        return (f"photo taken {_hours(fact['hours'])} {'before' if fact['before'] else 'after'} the visit "
                f"(limit {fact['limit']:g} h)")
    if kind == "far":
        return f"photo taken {_metres(fact['metres'])} from the store (limit {fact['limit']:g} m)"
    if kind == "same_file":
        others = fact["visits"]
        return (f"the same file is attached to visit{'s' if len(others) > 1 else ''} "
                + ", ".join(short(o) for o in others))
    if kind == "possibly_reused":
        others = fact["visits"]
        return (f"possibly reused: looks like the photo of visit{'s' if len(others) > 1 else ''} "
                + ", ".join(short(o) for o in others) + f" ({fact['distance']} of 64 bits apart)")
    if kind == "credentials_failed":
        return "Content Credentials (C2PA) fail" + (f": {', '.join(fact['failures'])}" if fact["failures"] else "")
    return {"no_capture_time": "no capture time", "location_removed": "location removed (0/0)",
            "no_location": "no location"}[kind]


def evidence_flags(ws: Workspace, item: dict, visit: dict, store: dict | None = None) -> list[str]:
    """The flags of ``evidence_flag_facts`` in words."""
    return [flag_words(f) for f in evidence_flag_facts(ws, item, visit, store)]


def visit_evidence_flags(ws: Workspace, visit: dict) -> list[str]:
    """Every flag of every piece of evidence of a visit, each naming its file."""
    store = ws.get("stores", visit["store_id"])
    out = []
    for item in ws.db.query("select * from evidence where visit_id = ? order by added_at", [visit["id"]]):
        out += [f"{item['original_name'] or item['sha256'][:12]}: {f}" for f in evidence_flags(ws, item, visit, store)]
    return out


def _hours(h: float) -> str:
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} days"


def _metres(m: float) -> str:
    return f"{m:.0f} m" if m < 10_000 else f"{m / 1000:.1f} km"


def list_evidence(ws: Workspace, *, case: dict | None = None, visit: dict | None = None) -> list[dict]:
    where, params = [], []
    if case:
        where.append("v.case_id = ?")
        params.append(case["id"])
    if visit:
        where.append("e.visit_id = ?")
        params.append(visit["id"])
    sql = ("select e.*, v.visited_at, s.name as store_name from evidence e "
           "join visits v on v.id = e.visit_id join stores s on s.id = v.store_id"
           + (" where " + " and ".join(where) if where else "") + " order by e.added_at, e.id")
    return list(ws.db.query(sql, params))

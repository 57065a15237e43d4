"""Stores: business locations, or a hotline / e-mail address with a channel other than in-person."""

from __future__ import annotations

import re
import unicodedata

from ..errors import AmbiguousPrefix, InvalidInput, NotFound
from ..files.text import control_character
from ..store.lookup import resolve
from ..store.workspace import Workspace
from ..vocabulary import STORE_CHANNELS

COORD_SOURCES = ("typed", "exif", "geocoded", "import")

#: Legal forms at the END of a name ("Acme Bank, N.A.", "Møller A/S"): "Co-op Foods" keeps its "Co".
_LEGAL_SUFFIX = re.compile(
    r"[\s,]+(inc|incorporated|llc|l\.l\.c|llp|ltd|limited|corp|corporation|co|company|gmbh|ag|kg|ohg|ug|"
    r"e\.k|a/s|aps|i/s|p/s|plc|sa|s\.a|sarl|bv|nv|ab|n\.a)\.?\s*$",
    re.I,
)
#: Letters NFKD does not take apart.
_FOLD = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "ß": "ss", "ł": "l", "Ł": "l", "đ": "d", "þ": "th"})

STORE_FIELDS = ("name", "chain", "licence_number", "address", "postcode", "city", "district",
                "state", "country", "channel", "contact", "lat", "lon", "coord_precision",
                "external_id", "notes")


def normalise_name(name: str) -> str:
    """A key that survives the ways people spell a business: case, accents, punctuation,
    legal suffixes (Inc., GmbH, A/S, ApS…). "Smart-Shop GmbH" and "smartshop" agree."""
    text = unicodedata.normalize("NFKD", (name or "").translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().strip()
    text = text.replace("&", " and ")
    while True:  # "Acme Holdings Co., Ltd." has two
        shorter = _LEGAL_SUFFIX.sub("", text)
        if shorter == text or not shorter.strip():
            break
        text = shorter
    return re.sub(r"[^a-z0-9]+", "", text)


def normalise_address(address: str) -> str:
    text = unicodedata.normalize("NFKD", address or "").lower()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"\b(street|str|strasse|straße)\b\.?", "st", text)
    text = re.sub(r"\b(road)\b\.?", "rd", text)
    text = re.sub(r"\b(avenue)\b\.?", "ave", text)
    return re.sub(r"[^a-z0-9]+", "", text)


def name_key(name: str, address: str | None, postcode: str | None = None, district: str | None = None,
             lat: float | None = None, lon: float | None = None) -> str:
    """Normalised name + address: how an import recognises a store it already has.

    With the address blank (New York's registry gives name, borough and ZIP only), the
    postcode and district stand in for it, so that a chain's outlets in different places
    stay different stores instead of collapsing into one per name; and the coordinates, when
    given, join it to about 10 m (four decimals), so that two outlets in one ZIP keep two
    keys (matching them is ``store_keys.StoreMatcher``'s, with a tolerance)."""
    if (address or "").strip() or not ((postcode or "").strip() or (district or "").strip()):
        key = f"{normalise_name(name)}|{normalise_address(address or '')}"
    else:
        key = f"{normalise_name(name)}|@{normalise_address(postcode or '')}/{normalise_address(district or '')}"
    if not (address or "").strip() and lat is not None and lon is not None:
        key += f"#{float(lat):.4f},{float(lon):.4f}"
    return key


def check_coordinates(lat, lon, *, where: str = "") -> tuple[float | None, float | None]:
    if lat in (None, "") and lon in (None, ""):
        return None, None
    prefix = f"{where}: " if where else ""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise InvalidInput(f"{prefix}coordinates {lat!r}, {lon!r} are not numbers")
    if not -90 <= lat <= 90:
        raise InvalidInput(f"{prefix}latitude {lat} is out of range (-90..90); are lat and lon swapped?")
    if not -180 <= lon <= 180:
        raise InvalidInput(f"{prefix}longitude {lon} is out of range (-180..180)")
    return lat, lon


_LAT_LON = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")
_POINT = re.compile(r"POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)", re.I)


def location_coordinates(text: str | None) -> tuple[float | None, float | None]:
    """(lat, lon) from a registry's location cell: "(40.7128, -74.006)" anywhere in it — New
    York's cells hold the address on lines above — or a WKT "POINT (lon lat)", as Socrata
    writes. (None, None) when the cell holds neither."""
    if not text:
        return None, None
    if m := _LAT_LON.search(text):
        return float(m.group(1)), float(m.group(2))
    if m := _POINT.search(text):
        return float(m.group(2)), float(m.group(1))
    return None, None


#: Store fields that may span lines; every other one is a single line of text.
MULTILINE_STORE_FIELDS = {"notes", "location"}  # a registry's location cell: "(lat, lon)" on a line of its own


def key_problem(fields: dict, key: str) -> str | None:
    """Why ``fields[key]`` cannot be stored: a control character (a line break outside notes)."""
    value = fields.get(key)
    if not isinstance(value, str):
        return None
    bad = control_character(value, multiline=key in MULTILINE_STORE_FIELDS)
    return f"{bad} is not allowed here" if bad else None


def single_line_problems(fields: dict) -> list[str]:
    """The fields holding a control character they may not hold."""
    return [k for k in fields if key_problem(fields, k)]


def store_row(ws: Workspace, fields: dict, *, source: str = "manual", coord_source: str = "typed") -> dict:
    """A complete stores row from user fields: validated, normalised, ready to insert."""
    name = (fields.get("name") or "").strip()
    if not name:
        raise InvalidInput("a store needs a name")
    for key in single_line_problems(fields):
        raise InvalidInput(f"{key}: {key_problem(fields, key)}")
    channel = fields.get("channel") or "in_person"
    if channel not in STORE_CHANNELS:
        raise InvalidInput(f"channel {channel!r} is not one of {', '.join(STORE_CHANNELS)}")
    lat, lon = check_coordinates(fields.get("lat"), fields.get("lon"))
    row = {k: (str(fields[k]).strip() or None) if fields.get(k) not in (None, "") else None
           for k in STORE_FIELDS if k not in ("lat", "lon")}
    row.update(
        name=name,
        channel=channel,
        lat=lat,
        lon=lon,
        coord_source=coord_source if lat is not None else None,
        coord_precision=fields.get("coord_precision") or ("exact" if lat is not None else None),
        source=source,
        name_key=name_key(name, fields.get("address"), fields.get("postcode"), fields.get("district"), lat, lon),
        created_at=ws.now().isoformat(),
    )
    if fields.get("company_id"):  # a contact point of a company (cases/companies.py)
        row["company_id"] = fields["company_id"]
    return row


def add_store(ws: Workspace, **fields) -> dict:
    """Add one store. Names are stored exactly as given — quotes, HTML and emoji included —
    and escaped wherever they are shown."""
    return ws.insert("stores", store_row(ws, fields))


#: What ``store edit`` may change (the channel, source and coordinates' provenance follow).
EDITABLE_STORE_FIELDS = ("name", "chain", "licence_number", "address", "postcode", "city", "district", "state",
                         "country", "contact", "lat", "lon", "notes")


def edit_store(ws: Workspace, store: dict, *, reason: str | None = None, **fields) -> dict:
    """Correct a store's fields by an audited update: a blank value clears a field, coordinates
    typed here are ``typed`` (an import will not overwrite them), and the key imports
    recognise the store by (``name_key``) follows the name and address."""
    unknown = set(fields) - set(EDITABLE_STORE_FIELDS)
    if unknown:
        raise InvalidInput(f"cannot edit {', '.join(sorted(unknown))} (editable: {', '.join(EDITABLE_STORE_FIELDS)})")
    if not fields:
        raise InvalidInput("nothing to edit: give --address, --chain or another field")
    merged = {**{k: store.get(k) for k in STORE_FIELDS}, **fields}
    if "lat" in fields or "lon" in fields:
        merged["coord_precision"] = None  # typed here: exact, whatever a geocoder had said
    row = store_row(ws, merged, source=store["source"], coord_source="typed")
    if "lat" not in fields and "lon" not in fields:
        row["name_key"] = name_key(row["name"], row["address"], row["postcode"], row["district"], store["lat"],
                                   store["lon"])
    changes = {k: row[k] for k in (*fields, "name_key")}
    if "lat" in fields or "lon" in fields:
        changes.update(lat=row["lat"], lon=row["lon"], coord_source=row["coord_source"],
                       coord_precision=row["coord_precision"])
    return ws.update("stores", store["id"], changes, reason=reason or "store edit", action="store_edit")


def get_store(ws: Workspace, ref: str) -> dict:
    """A store by id, unique id prefix or licence number."""
    return resolve(ws, "stores", ref)


#: How alike (0–100, rapidfuzz WRatio) a typed name must be to a store's to be offered.
FUZZY_CUTOFF = 80


def find_stores(ws: Workspace, text: str, *, case: dict | None = None, limit: int | None = 9) -> list[dict]:
    """Stores a person may mean by ``text``, best first: the one an id, id prefix or licence
    number names; else those whose name or address contains it (case and accents ignored);
    else those whose name and address are like it (a typo, a word left out). Within a case
    its frame's stores come first. Empty when nothing is close; every match with ``limit=None``."""
    text = (text or "").strip()
    if not text:
        return []
    try:
        return [resolve(ws, "stores", text)]
    except AmbiguousPrefix:
        pass
    except NotFound:
        pass
    frame = set()
    if case:
        frame = {r[0] for r in ws.db.execute("select store_id from case_stores where case_id = ?", [case["id"]])}
    needle = _fold(text)
    rows = list(ws.db.query("select * from stores order by name, address, id"))
    contained = [r for r in rows if needle in _fold(f"{r['name']} {r['address'] or ''} {r['city'] or ''}")]
    if contained:
        contained.sort(key=lambda r: r["id"] not in frame)
        return contained[:limit]
    from rapidfuzz import fuzz, process

    labels = {r["id"]: _fold(f"{r['name']} {r['address'] or ''}") for r in rows}
    by_id = {r["id"]: r for r in rows}
    found = process.extract(needle, labels, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF,
                            limit=None if limit is None else limit * 3)
    found.sort(key=lambda m: (m[2] not in frame, -m[1]))
    return [by_id[m[2]] for m in found[:limit]]


def _fold(text: str) -> str:
    """Lower case without accents: "Späti" is found by "spati"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def list_stores(ws: Workspace, *, case: dict | None = None, chain: str | None = None,
                search: str | None = None, limit: int | None = None) -> list[dict]:
    where, params = [], []
    if case:
        where.append("(id in (select store_id from case_stores where case_id = ?) "
                     "or id in (select store_id from visits where case_id = ?))")
        params += [case["id"], case["id"]]
    if chain:
        where.append("chain = ?")
        params.append(chain)
    if search:
        where.append("(name like ? or address like ?)")
        params += [f"%{search}%", f"%{search}%"]
    sql = "select * from stores" + (" where " + " and ".join(where) if where else "") + " order by name, id"
    if limit:
        sql += f" limit {int(limit)}"
    return list(ws.db.query(sql, params))


def add_to_frame(ws: Workspace, case: dict, stores: list[dict], *, stratum_column: str | None = None) -> int:
    """Put stores into a case's frame (the stores the case may test). Already there: skipped."""
    have = {r[0] for r in ws.db.execute("select store_id from case_stores where case_id = ?", [case["id"]])}
    rows = [
        {"case_id": case["id"], "store_id": s["id"],
         "stratum": (s.get(stratum_column) if stratum_column else None),
         "added_at": ws.now().isoformat()}
        for s in stores if s["id"] not in have
    ]
    return ws.insert_many("case_stores", rows, action="insert")


def store_history(ws: Workspace, store: dict) -> list[dict]:
    return list(ws.db.query(
        "select v.id, v.visited_at, v.outcome, v.kind, c.slug as case_slug from visits v "
        "join cases c on c.id = v.case_id where v.store_id = ? order by v.visited_at", [store["id"]]))

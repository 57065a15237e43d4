"""Where: geocoding stores with geopy (cached, rate limited) and stores near places.

Geocoding asks a Nominatim or Photon server — the public one or a newsroom's own — at most
once per address: every answer, found or not, is kept in ``geocode_cache``. Requests go
through geopy's RateLimiter (1 per second by default, as the public Nominatim policy asks).
Each store is saved as soon as its answer arrives, so Ctrl-C or a network failure keeps all
done so far. Coordinates a reporter typed, or a photo's EXIF gave, are never overwritten.

``near`` finds every store within a radius of any place (schools, playgrounds…), with the
nearest place and the geodesic distance. A grid of cells about one radius wide means each
store is compared only with places in its own and the eight neighbouring cells.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
import urllib.error
import urllib.parse
from collections import defaultdict
from pathlib import Path
from typing import Callable

from geopy.adapters import AdapterHTTPError, BaseSyncAdapter
from geopy.distance import geodesic
from geopy.exc import GeocoderParseError, GeocoderTimedOut, GeocoderUnavailable

from ..errors import InputFileError, InvalidInput, InvestigateError
from ..network import DeadlinePassed, fetch
from ..store.workspace import Workspace

#: Provider -> its geocoder class in geopy.geocoders.
PROVIDERS = {"nominatim": "Nominatim", "photon": "Photon"}
NEVER_OVERWRITE = ("typed", "exif")
EARTH_M_PER_DEG = 111_320.0


class GeocodingStopped(InvestigateError):
    """The geocoder failed part way; what was done before is kept."""


def query_for(store: dict) -> str | None:
    parts = [store.get(k) for k in ("address", "postcode", "city", "state", "country")]
    parts = [str(p).strip() for p in parts if p and str(p).strip()]
    return ", ".join(parts) if len(parts) >= 2 or (parts and store.get("address")) else None


def query_key(provider: str, domain: str, query: str) -> str:
    text = unicodedata.normalize("NFKC", query).casefold()
    text = " ".join(text.replace(",", " , ").split())
    return hashlib.sha256(f"{provider}|{domain}|{text}".encode()).hexdigest()


def _precision(raw: dict) -> str:
    """How precise an answer is, from Nominatim's class/type or Photon's type."""
    props = raw.get("properties", {}) if isinstance(raw, dict) else {}
    kind = raw.get("addresstype") or raw.get("type") or props.get("type") or ""
    if kind in ("house", "building", "shop", "amenity") or raw.get("class") in ("shop", "amenity", "building"):
        return "address"
    if kind in ("street", "road", "residential"):
        return "street"
    if kind in ("postcode",):
        return "postcode"
    if kind in ("city", "town", "village", "suburb", "district", "city_district", "neighbourhood"):
        return "locality"
    return kind or "unknown"


class DeadlineAdapter(BaseSyncAdapter):
    """geopy's HTTP client with one deadline per request (``network.fetch``): geopy's own
    adapters give the timeout to each read, and a trickling server never lets one run out."""

    def get_json(self, url, *, timeout, headers):
        text = self.get_text(url, timeout=timeout, headers=headers)
        try:
            return json.loads(text)
        except ValueError as ex:
            raise GeocoderParseError(f"the answer is not JSON ({ex})") from ex

    def get_text(self, url, *, timeout, headers):
        parts = urllib.parse.urlsplit(url)
        try:
            body = fetch(url, seconds=timeout, headers=headers, what=f"{parts.scheme}://{parts.netloc}")
        except DeadlinePassed as ex:
            raise GeocoderTimedOut(str(ex)) from ex
        except urllib.error.HTTPError as ex:  # geopy turns the status into its own error (429, 503…)
            raise AdapterHTTPError(str(ex), status_code=ex.code,
                                   headers={k.lower(): v for k, v in ex.headers.items()},
                                   text=ex.read(1 << 16).decode("utf-8", "replace")) from ex
        except (urllib.error.URLError, OSError, ValueError) as ex:
            raise GeocoderUnavailable(str(getattr(ex, "reason", ex))) from ex
        return body.decode("utf-8", "replace")


def make_geocoder(provider: str, *, domain: str, scheme: str, user_agent: str, timeout: float):
    """geopy's geocoder for settings ``geocoder_settings`` checked (the provider is one of
    ``PROVIDERS``)."""
    import geopy.geocoders

    geocoder = getattr(geopy.geocoders, PROVIDERS[provider])
    return geocoder(user_agent=user_agent, domain=domain, scheme=scheme, timeout=timeout,
                    adapter_factory=DeadlineAdapter)


def stores_to_geocode(ws: Workspace, case: dict | None = None) -> list[dict]:
    sql = "select * from stores where lat is null and channel = 'in_person'"
    params: list = []
    if case:
        sql += (" and (id in (select store_id from case_stores where case_id = ?) "
                "or id in (select store_id from visits where case_id = ?))")
        params = [case["id"], case["id"]]
    return list(ws.db.query(sql + " order by name, id", params))


def geocoder_settings(ws: Workspace, *, provider: str | None = None, domain: str | None = None,
                      scheme: str | None = None, user_agent: str | None = None, min_delay: float | None = None,
                      timeout: float | None = None) -> dict:
    """The geocoder's settings: each one given, else [geocoder] in investigate.toml, else the
    public Nominatim's. Checked here, before any store is looked at, so that a missing user
    agent or a negative delay is said before a progress bar starts."""
    settings = {
        "provider": provider or ws.setting("geocoder", "provider", "nominatim"),
        "domain": domain or ws.setting("geocoder", "domain", "nominatim.openstreetmap.org"),
        "scheme": scheme or ws.setting("geocoder", "scheme", "https"),
        "user_agent": user_agent or ws.setting("geocoder", "user_agent", ""),
        "min_delay": float(ws.setting("geocoder", "min_delay_seconds", 1.0) if min_delay is None else min_delay),
        "timeout": float(ws.setting("geocoder", "timeout_seconds", 10.0) if timeout is None else timeout),
    }
    if settings["min_delay"] < 0:
        raise InvalidInput("the delay between requests cannot be negative")
    if not settings["user_agent"]:
        raise InvalidInput("the geocoder needs a user agent naming your newsroom and a contact "
                           "([geocoder] user_agent in investigate.toml), as Nominatim's policy requires")
    if settings["provider"] not in PROVIDERS:
        raise InvalidInput(f"provider {settings['provider']!r} is not one of {', '.join(PROVIDERS)}")
    return settings


def geocode_stores(
    ws: Workspace,
    *,
    case: dict | None = None,
    provider: str | None = None,
    domain: str | None = None,
    scheme: str | None = None,
    user_agent: str | None = None,
    min_delay: float | None = None,
    timeout: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Fill in coordinates for stores that have none. Options default to [geocoder] in
    investigate.toml. Raises GeocodingStopped on a network failure, after saving progress."""
    from geopy.exc import GeocoderServiceError, GeopyError
    from geopy.extra.rate_limiter import RateLimiter

    settings = geocoder_settings(ws, provider=provider, domain=domain, scheme=scheme, user_agent=user_agent,
                                 min_delay=min_delay, timeout=timeout)
    provider, domain, scheme, user_agent, min_delay, timeout = (
        settings[k] for k in ("provider", "domain", "scheme", "user_agent", "min_delay", "timeout"))
    geocoder = make_geocoder(provider, domain=domain, scheme=scheme, user_agent=user_agent, timeout=timeout)
    # geopy's RateLimiter logs each failed try with its traceback; with no handler configured
    # Python's last-resort handler prints it on stderr before our one-line error. The failure is
    # reported (once, in a line) by GeocodingStopped below.
    import logging

    geopy_log = logging.getLogger("geopy")
    if not geopy_log.handlers:
        geopy_log.addHandler(logging.NullHandler())
    limited = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay, max_retries=1,
                          error_wait_seconds=min(5.0, max(min_delay, 0.1)), swallow_exceptions=False)
    counts = {"stores": 0, "found": 0, "not_found": 0, "from_cache": 0, "requests": 0, "no_address": 0}
    for store in stores_to_geocode(ws, case):
        counts["stores"] += 1
        query = query_for(store)
        if not query:
            counts["no_address"] += 1
            progress and progress(1)
            continue
        key = query_key(provider, domain, query)
        cached = ws.db.execute("select found, lat, lon, precision from geocode_cache where query_key = ?",
                               [key]).fetchone()
        if cached is None:
            counts["requests"] += 1
            try:
                # Each request within ``timeout`` overall (DeadlineAdapter); one retry at most.
                location = limited(query, exactly_one=True)
            except (GeocoderServiceError, GeopyError, OSError) as ex:
                done = counts["found"] + counts["not_found"]
                raise GeocodingStopped(f"geocoder {scheme}://{domain} failed on store {store['name']!r} "
                                       f"({type(ex).__name__}: {ex}); {done} store(s) done before are kept")
            raw = getattr(location, "raw", None) or {}
            cached = (1, location.latitude, location.longitude, _precision(raw)) if location else (0, None, None, None)
            ws.db["geocode_cache"].insert({
                "query_key": key, "query": query, "provider": provider, "domain": domain, "found": cached[0],
                "lat": cached[1], "lon": cached[2], "precision": cached[3],
                "display_name": location.address if location else None,
                "raw": json.dumps(raw, ensure_ascii=False) if location else None,
                "fetched_at": ws.now().isoformat()}, replace=True)
        else:
            counts["from_cache"] += 1
        found, lat, lon, precision = cached
        if found:
            fresh = ws.get("stores", store["id"])
            if fresh["lat"] is None and fresh["coord_source"] not in NEVER_OVERWRITE:
                ws.update("stores", store["id"], {"lat": lat, "lon": lon, "coord_source": "geocoded",
                                                  "coord_precision": f"{precision} ({provider})"},
                          reason=f"geocoded by {provider} at {domain}")
            counts["found"] += 1
        else:
            counts["not_found"] += 1
        if progress:
            progress(1)
    return counts


# -- stores near places ---------------------------------------------------------------------


def read_places(path: Path | str) -> list[dict]:
    """Places from a CSV with name, lat, lon (and optional kind), comma, semicolon or tab
    separated, decimal commas allowed. Coordinates are checked: missing, out of range, or
    apparently swapped is an error naming the line."""
    from ..files import iter_csv, match_columns

    path = Path(path)
    table, rows = iter_csv(path)
    # Headings in any case or spacing ("Latitude", "LAT"); other columns are simply not needed.
    found = match_columns(path, table.header, ("lat", "lon", "name", "kind"), {
        "lat": ["latitude"], "lon": ["lng", "long", "longitude"], "name": ["place", "school"],
        "kind": ["type", "category"]}).columns
    lat_col, lon_col, name_col, kind_col = (found.get(f) for f in ("lat", "lon", "name", "kind"))
    if not lat_col or not lon_col:
        raise InputFileError(path, f"no coordinates: need lat and lon columns (found: {', '.join(table.header)})",
                             line=1)
    places = []
    for line, row in rows:
        raw_lat, raw_lon = row[lat_col], row[lon_col]
        if not raw_lat or not raw_lon:
            raise InputFileError(path, "missing coordinates", line=line, column=lat_col if not raw_lat else lon_col)
        try:
            lat, lon = float(raw_lat.replace(",", ".")), float(raw_lon.replace(",", "."))
        except ValueError:
            raise InputFileError(path, f"{raw_lat!r}, {raw_lon!r} are not numbers", line=line, column=lat_col)
        if not -90 <= lat <= 90:
            hint = " (lat and lon swapped?)" if -90 <= lon <= 90 else ""
            raise InputFileError(path, f"latitude {lat} is out of range{hint}", line=line, column=lat_col)
        if not -180 <= lon <= 180:
            raise InputFileError(path, f"longitude {lon} is out of range", line=line, column=lon_col)
        places.append({"name": row[name_col] if name_col else f"place at line {line}",
                       "kind": (row[kind_col] if kind_col else "") or "place", "lat": lat, "lon": lon, "line": line})
    if not places:
        raise InputFileError(path, "no places in the file", line=1)
    return places


class PlaceGrid:
    """Places bucketed in cells at least ``radius`` wide, so a store is compared only with the
    places in the 3 × 3 cells around it."""

    def __init__(self, places: list[dict], radius_m: float):
        self.radius = radius_m
        max_lat = max(abs(p["lat"]) for p in places)
        self.cell_lat = radius_m / EARTH_M_PER_DEG
        self.cell_lon = radius_m / (EARTH_M_PER_DEG * max(math.cos(math.radians(min(max_lat + 1, 89.9))), 1e-6))
        self.cells: dict[tuple[int, int], list[dict]] = defaultdict(list)
        for p in places:
            self.cells[self._cell(p["lat"], p["lon"])].append(p)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.cell_lat), math.floor(lon / self.cell_lon)

    def candidates(self, lat: float, lon: float):
        i, j = self._cell(lat, lon)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                yield from self.cells.get((i + di, j + dj), ())


def nearest_within(grid: PlaceGrid, lat: float, lon: float) -> tuple[dict, float] | None:
    """The nearest place within the radius and its geodesic distance in metres. A flat-earth
    distance rules out most candidates before the exact (slower) geodesic is computed."""
    best = None
    coslat = math.cos(math.radians(lat))
    for p in grid.candidates(lat, lon):
        dy = (p["lat"] - lat) * EARTH_M_PER_DEG
        dx = (p["lon"] - lon) * EARTH_M_PER_DEG * coslat
        if dx * dx + dy * dy > (grid.radius * 1.02 + 5) ** 2:
            continue
        d = geodesic((lat, lon), (p["lat"], p["lon"])).meters
        if d <= grid.radius and (best is None or d < best[1]):
            best = (p, d)
    return best


#: Coordinate precisions that place a store only near where it is: a street's centre, a
#: postcode's or a town's. A distance from them is not a distance from the shop's door.
APPROXIMATE_PRECISIONS = ("street", "postcode", "locality", "city", "unknown")


def is_approximate(precision: str | None) -> bool:
    """Whether ``coord_precision`` ("street (nominatim)", "exact", "address (photon)"…) is only
    street-, postcode- or city-precise. No precision recorded counts as precise (typed or EXIF)."""
    return bool(precision) and precision.split(" ", 1)[0].strip().lower() in APPROXIMATE_PRECISIONS


#: How many stores without coordinates ``near`` names (all are counted).
UNCHECKED_SHOWN = 20


def near_scope(case: dict | None) -> tuple[str, list]:
    """The stores ``near`` looks at: every store, or a case's (its frame and the stores it
    visited), as a condition over ``stores`` and its values."""
    if not case:
        return "1", []
    return ("(id in (select store_id from case_stores where case_id = ?) "
            "or id in (select store_id from visits where case_id = ?))", [case["id"], case["id"]])


def count_placed(ws: Workspace, case: dict | None) -> int:
    """The stores in ``near``'s scope that have coordinates: the stores it measures."""
    cond, params = near_scope(case)
    return ws.db.execute(f"select count(*) from stores where lat is not null and {cond}", params).fetchone()[0]


def stores_near(ws: Workspace, places_path: Path | str, *, radius_m: float, case: dict | None = None,
                progress: Callable[[int], None] | None = None, include_approximate: bool = False) -> dict:
    """Save every store within ``radius_m`` of a place, with the nearest place and distance,
    replacing earlier results for the same case (or for all stores). Stores whose coordinates
    are only street- or city-precise are left out (counted as ``approximate_excluded``) unless
    ``include_approximate``, and then marked ``approximate``. Stores without coordinates
    cannot be checked: counted (``not_checked``) and the first named (``not_checked_stores``),
    so that "520 of 3240 stores" never hides 3,159 stores nobody measured."""
    if radius_m <= 0:
        raise InvalidInput("the radius must be more than 0")
    places = read_places(places_path)
    grid = PlaceGrid(places, radius_m)
    cond, params = near_scope(case)
    stores = ws.db.execute(f"select id, name, lat, lon, coord_precision from stores where lat is not null and {cond}",
                           params).fetchall()
    not_checked = ws.db.execute(f"select count(*) from stores where lat is null and {cond}", params).fetchone()[0]
    unchecked = [{"store_id": r[0], "name": r[1]} for r in ws.db.execute(
        f"select id, name from stores where lat is null and {cond} order by name, id limit {UNCHECKED_SHOWN}",
        params)]
    now = ws.now().isoformat()
    results = []
    excluded = 0
    for n, (sid, name, lat, lon, precision) in enumerate(stores, 1):
        hit = nearest_within(grid, lat, lon)
        approximate = is_approximate(precision)
        if hit and approximate and not include_approximate:
            excluded += 1
        elif hit:
            p, d = hit
            results.append((case["id"] if case else None, sid, p["name"], p["kind"], p["lat"], p["lon"],
                            round(d, 1), radius_m, Path(places_path).name, now, int(approximate)))
        if progress:
            progress(1)
    with ws.transaction():
        if case:
            ws.db.execute("delete from near_results where case_id = ?", [case["id"]])
        else:
            ws.db.execute("delete from near_results where case_id is null")
        ws.db.conn.executemany(
            "insert into near_results (case_id, store_id, place_name, place_kind, place_lat, place_lon, distance_m, "
            "radius_m, places_file, computed_at, approximate) values (?,?,?,?,?,?,?,?,?,?,?)", results)
    return {"stores_checked": len(stores), "places": len(places), "radius_m": radius_m, "stores_near": len(results),
            "approximate_excluded": excluded, "not_checked": not_checked, "not_checked_stores": unchecked,
            "results": [{"store_id": r[1], "place": r[2], "kind": r[3], "distance_m": r[6],
                         "approximate": bool(r[10])} for r in results]}


def near_summary(ws: Workspace, case: dict) -> dict | None:
    """For the report: of the stores that sold, how many were within the radius of a place.
    ("9 of the 14 shops that sold were within 200 m of a school.") None if `near` never ran."""
    row = ws.db.execute("select max(radius_m), group_concat(distinct place_kind) from near_results where case_id = ?",
                        [case["id"]]).fetchone()
    if row[0] is None:
        return None
    sold = {r[0] for r in ws.db.execute(
        "select distinct store_id from visits where case_id = ? and kind = 'undercover' and outcome = 'violation'",
        [case["id"]])}
    near = {r[0] for r in ws.db.execute("select store_id from near_results where case_id = ?", [case["id"]])}
    return {"sold": len(sold), "sold_near": len(sold & near), "radius_m": row[0], "kinds": row[1],
            "stores_near": len(near)}

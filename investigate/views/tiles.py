"""A basemap for the report's store map, from the newsroom's own tile server, cached on disk.

``[map] tile_url`` in investigate.toml names a slippy-map tile server
(``https://tiles.example.org/{z}/{x}/{y}.png``). Tiles are Web Mercator, 256 px; each one
fetched is kept under ``tiles/{z}/{x}/{y}.png`` in the workspace, so a report renders offline
after one online run. A tile that cannot be fetched is left out (the map is drawn without it);
nothing else is ever fetched, and WeasyPrint reads the cached files only (its URL fetcher
serves the workspace's files, never the network).
"""

from __future__ import annotations

import math
import os
import urllib.error
from pathlib import Path

from ..errors import InvestigateError
from ..network import DeadlinePassed, fetch
from ..store.workspace import Workspace

TILE = 256
EARTH_M_PER_PX_Z0 = 156_543.033_92  # metres per pixel at the equator, zoom 0
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
MAX_TILES = 64


def world_px(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """Web Mercator pixel coordinates of a point at ``zoom`` (OSM's slippy-map scheme)."""
    n = TILE * (2 ** zoom)
    lat = max(min(lat, 85.0511), -85.0511)
    x = (lon + 180.0) / 360.0 * n
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return x, y


def metres_per_px(lat: float, zoom: int) -> float:
    return EARTH_M_PER_PX_Z0 * math.cos(math.radians(lat)) / (2 ** zoom)


def cached_tile(ws: Workspace, z: int, x: int, y: int, *, url: str, timeout: float = 5.0) -> Path | None:
    """The tile's file, fetched once (within ``timeout`` seconds overall) and then read from
    the cache; None when unavailable. A server that does not answer in time raises
    DeadlinePassed, so that the map stops asking it for the other tiles."""
    path = ws.root / "tiles" / str(z) / str(x) / f"{y}.png"
    if path.exists():
        return path
    agent = ws.setting("geocoder", "user_agent") or f"investigate ({ws.newsroom or 'newsroom'})"
    try:
        data = fetch(url.format(z=z, x=x, y=y, s="a"), seconds=timeout, headers={"User-Agent": agent},
                     limit=2 << 20)
    except (urllib.error.URLError, OSError, ValueError, KeyError, IndexError):
        return None
    if not data.startswith(IMAGE_MAGIC):
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def basemap(ws: Workspace, points: list[tuple[float, float]], *, width: int, height: int, pad: int = 30) -> dict | None:
    """The zoom, the pixel window and the cached tiles that cover ``points`` (lat, lon) in a
    map of ``width`` × ``height``; None without a tile server or points."""
    url = (ws.setting("map", "tile_url") or "").strip()
    if not url or not points:
        return None
    for zoom in range(18, 1, -1):
        pxs = [world_px(lat, lon, zoom) for lat, lon in points]
        xs, ys = [p[0] for p in pxs], [p[1] for p in pxs]
        if max(xs) - min(xs) <= width - 2 * pad and max(ys) - min(ys) <= height - 2 * pad:
            break
    left = (max(xs) + min(xs)) / 2 - width / 2
    top = (max(ys) + min(ys)) / 2 - height / 2
    tiles, missing, late = [], 0, None
    limit = 2 ** zoom
    timeout = float(ws.setting("map", "tile_timeout_seconds", 5.0))
    for tx in range(int(left // TILE), int((left + width) // TILE) + 1):
        for ty in range(max(0, int(top // TILE)), min(limit, int((top + height) // TILE) + 1)):
            if len(tiles) >= MAX_TILES:
                break
            path = None
            if late is None:
                try:
                    path = cached_tile(ws, zoom, tx % limit, ty, url=url, timeout=timeout)
                except DeadlinePassed as ex:
                    late = str(ex)  # one deadline is enough: the other tiles are not asked for
            else:
                cached = ws.root / "tiles" / str(zoom) / str(tx % limit) / f"{ty}.png"
                path = cached if cached.exists() else None
            if path is None:
                missing += 1
            else:
                tiles.append({"href": path.as_uri(), "x": tx * TILE - left, "y": ty * TILE - top})
    lat0 = sum(lat for lat, _ in points) / len(points)
    return {"zoom": zoom, "left": left, "top": top, "tiles": tiles, "metres_per_px": metres_per_px(lat0, zoom),
            "missing_tiles": missing, "tile_server_late": late,
            "attribution": ws.setting("map", "attribution", "") or ""}


def boundaries(ws: Workspace) -> list[list[tuple[float, float]]]:
    """The outer rings (lat, lon) of the polygons in ``[map] boundaries`` (a GeoJSON file the
    newsroom supplies, e.g. its city's districts); empty when none is set. A file that cannot
    be read is a one-line error naming it: a map without the districts it promised is wrong."""
    from ..files.nesting import load_json

    name = (ws.setting("map", "boundaries") or "").strip()
    if not name:
        return []
    path = (ws.root / name).expanduser()
    try:
        data = load_json(path.read_text(encoding="utf-8"))
    except OSError as ex:
        raise InvestigateError(f"investigate.toml [map] boundaries: {path}: {ex.strerror}")
    except ValueError as ex:  # not JSON, not UTF-8, or nested too deep
        raise InvestigateError(f"{path}: not GeoJSON ({ex})")
    features = data.get("features", [data]) if isinstance(data, dict) else []
    if not isinstance(features, list):
        raise InvestigateError(f"{path}: not GeoJSON (its features are not a list)")
    rings = []
    for feature in features:
        geometry = (feature or {}).get("geometry", feature) if isinstance(feature, dict) else None
        if not isinstance(geometry, dict):
            continue
        kind, coords = geometry.get("type"), geometry.get("coordinates") or []
        polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
        for polygon in polygons:
            try:
                rings.append([(float(lat), float(lon)) for lon, lat, *_ in polygon[0]])
            except (TypeError, ValueError, IndexError, KeyError):
                raise InvestigateError(f"{path}: a polygon's coordinates are not [lon, lat] pairs")
    return rings

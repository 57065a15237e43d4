"""Which store a row of a registry is: recognised by what the file has.

A licence number is the best key. Without one, a store is its normalised name and address;
a registry without addresses (New York's, or one whose only location is a "(lat, lon)" cell)
leaves name, postcode and district — and there two outlets of a chain in one ZIP are two
stores only if the coordinates tell them apart. So, where the address is blank, the
coordinates join the key: rows of one name and place within ``SAME_PLACE_METRES`` are one
store (a registry lists a shop once per licence year, its point moved by a few metres), rows
further apart are two. Every merge says why, so that the summary can list it.
"""

from __future__ import annotations

from dataclasses import dataclass

from geopy.distance import geodesic

from .stores import name_key

#: Rows of one name and place further apart than this are different stores.
SAME_PLACE_METRES = 50
#: Coordinates closer than this to the stored ones are the same point: not an update.
SAME_POINT_METRES = 10


@dataclass
class Known:
    """A store the matcher knows: stored already, or new in this import (``row``)."""

    id: str
    lat: float | None
    lon: float | None
    address: bool
    row: dict | None = None  # the pending row of a store new in this import


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return geodesic(a, b).meters


def same_point(old: dict, new: dict) -> bool:
    """Whether ``new``'s coordinates are ``old``'s, give or take ``SAME_POINT_METRES``."""
    if None in (old.get("lat"), old.get("lon"), new.get("lat"), new.get("lon")):
        return False
    return metres((old["lat"], old["lon"]), (new["lat"], new["lon"])) < SAME_POINT_METRES


class StoreMatcher:
    """Stores without a licence number by name and address, and by name and place."""

    def __init__(self, rows=()):
        self.by_key: dict[str, list[Known]] = {}  # name + address (or place, when no address)
        self.by_place: dict[str, list[Known]] = {}  # name + postcode + district, address ignored
        for r in rows:
            self.add(r)

    def add(self, r: dict, *, pending: bool = False) -> None:
        known = Known(r["id"], r.get("lat"), r.get("lon"), bool((r.get("address") or "").strip()),
                      r if pending else None)
        key = name_key(r["name"], r.get("address"), r.get("postcode"), r.get("district"))
        self.by_key.setdefault(key, []).append(known)
        self.by_place.setdefault(name_key(r["name"], None, r.get("postcode"), r.get("district")), []).append(known)

    def match(self, new: dict) -> tuple[Known | None, str | None]:
        """The store ``new`` (a stores row) is, and why; (None, None) for a new store."""
        has_address = bool((new.get("address") or "").strip())
        place = self.by_place.get(name_key(new["name"], None, new.get("postcode"), new.get("district")), [])
        if has_address:
            hits = self.by_key.get(name_key(new["name"], new["address"], new.get("postcode"), new.get("district")))
            if hits:
                return hits[0], "same name and address"
            bare = [k for k in place if not k.address]
            if len(bare) == 1 and (new.get("postcode") or new.get("district")):
                return bare[0], "same name and postcode; the address is new"
            return None, None
        if new.get("lat") is None:
            if len(place) == 1:
                return place[0], "same name and postcode"
            without = [k for k in place if k.lat is None]
            if without:
                return without[0], "same name and postcode (no coordinates to tell the stores apart)"
            return (place[0], f"same name and postcode, one of {len(place)} stores") if place else (None, None)
        near = sorted((metres((new["lat"], new["lon"]), (k.lat, k.lon)), i, k)
                      for i, k in enumerate(place) if k.lat is not None)
        if near and near[0][0] <= SAME_PLACE_METRES:
            return near[0][2], f"same name and postcode, {near[0][0]:.0f} m apart"
        without = [k for k in place if k.lat is None and not k.address]
        if len(without) == 1:
            return without[0], "same name and postcode; the store had no coordinates"
        return None, None


__all__ = ["StoreMatcher", "SAME_PLACE_METRES", "SAME_POINT_METRES", "same_point"]

"""A small HTTP server on 127.0.0.1 that answers like Nominatim's /search?format=json.

Tests point geopy at it (domain="127.0.0.1:PORT", scheme="http"). It records every request
with its time, so tests can check caching and rate limiting, and it can be told to answer
slowly (timeouts) or with a 5xx.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlparse

from local_server import LocalServer


class FakeNominatim(LocalServer):
    def __init__(self, places: dict[str, tuple[float, float, str]]):
        super().__init__()
        self.places = {k.lower(): v for k, v in places.items()}
        self.requests: list[tuple[float, str]] = []
        self.delay = 0.0
        self.fail_with: int | None = None

    def answer(self, method, path, body):
        query = parse_qs(urlparse(path).query).get("q", [""])[0]
        self.requests.append((time.monotonic(), query))
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with:
            return self.fail_with, None, b""
        hit = next((v for k, v in self.places.items() if query.lower().startswith(k)), None)
        found = [] if hit is None else [{
            "place_id": 1, "lat": str(hit[0]), "lon": str(hit[1]), "display_name": query,
            "class": "building" if hit[2] == "house" else "highway", "type": hit[2],
            "addresstype": hit[2], "importance": 0.5}]
        return 200, "application/json", json.dumps(found).encode()

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

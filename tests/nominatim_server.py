"""A small HTTP server on 127.0.0.1 that answers like Nominatim's /search?format=json.

Tests point geopy at it (domain="127.0.0.1:PORT", scheme="http"). It records every request
with its time, so tests can check caching and rate limiting, and it can be told to answer
slowly (timeouts) or with a 5xx.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeNominatim:
    def __init__(self, places: dict[str, tuple[float, float, str]]):
        self.places = {k.lower(): v for k, v in places.items()}
        self.requests: list[tuple[float, str]] = []
        self.delay = 0.0
        self.fail_with: int | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                query = parse_qs(urlparse(self.path).query).get("q", [""])[0]
                server.requests.append((time.monotonic(), query))
                if server.delay:
                    time.sleep(server.delay)
                if server.fail_with:
                    self.send_response(server.fail_with)
                    self.end_headers()
                    return
                hit = next((v for k, v in server.places.items() if query.lower().startswith(k)), None)
                body = [] if hit is None else [{
                    "place_id": 1, "lat": str(hit[0]), "lon": str(hit[1]), "display_name": query,
                    "class": "building" if hit[2] == "house" else "highway", "type": hit[2],
                    "addresstype": hit[2], "importance": 0.5}]
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

"""An HTTP server on 127.0.0.1 for the tests, on a thread, stopped when the ``with`` ends.

Subclasses say what to answer in ``answer(method, path, body) -> (status, content type,
body)``; every request is counted in ``hits``. The geocoder, the tile server and the timestamp authority
of the tests are all this server with another answer.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _QuietServer(ThreadingHTTPServer):
    """A client that gives up mid-answer (geopy after a 503, a timeout) is normal here. The
    stock server prints that as a traceback on sys.stderr, which is the CLI's stderr while
    CliRunner runs it, so a test of 'one line, never a traceback' failed under load for the
    server's words, not the program's: kept in ``errors`` instead."""

    def __init__(self, *args, errors: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.errors = errors

    def handle_error(self, request, client_address):
        self.errors.append(sys.exc_info()[1])


class LocalServer:
    def __init__(self):
        self.hits = 0
        self.errors: list[BaseException] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def serve(self):
                outer.hits += 1
                length = int(self.headers.get("Content-Length", 0) or 0)
                status, content_type, body = outer.answer(self.command, self.path,
                                                          self.rfile.read(length) if length else b"")
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = serve

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler, errors=self.errors)
        self.port = self.server.server_address[1]

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, str | None, bytes]:
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

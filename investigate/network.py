"""One overall deadline for every call to another server: the timestamp authority, the tile
server, the geocoder.

A socket timeout bounds each read, not the call: a server that trickles one byte every few
seconds (or sends its headers so) keeps every read alive and the call never returns — it kept
``checkpoint``, ``bundle`` and ``report`` waiting forever. Here the deadline is the socket's:
before every read and write the socket's timeout is set to what is left of the call's time, so
the connect, a TLS handshake, the headers and the body together last at most ``seconds``, and
past that the caller gets ``DeadlinePassed`` and goes on without the answer (a stamp stays
queued, a map is drawn without tiles, geocoding stops with what it found kept).

Why not a thread the caller stops waiting for: nothing is left running, and a thread's timed
wait (``Thread.join(t)``, ``Event.wait(t)``) is a wait until an absolute moment of
CLOCK_MONOTONIC (``sem_clockwait`` since Python 3.11), which libfaketime — CI's second run, the
system clock a year ahead — moves a year on without moving the wait: the join lasted until the
socket's own timeout. Socket timeouts are relative waits (``poll``) and durations here are
differences of ``time.monotonic``, which a moved clock shifts but does not stretch.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.request
from functools import lru_cache, partial

from .errors import InvestigateError


class DeadlinePassed(InvestigateError):
    """The server did not answer in time; the work goes on without it."""


class Deadline:
    """The moment a call to ``what`` must be over, ``seconds`` from now."""

    def __init__(self, seconds: float, *, what: str):
        self.seconds = seconds
        self.what = what
        self.ends = time.monotonic() + seconds

    def passed(self) -> DeadlinePassed:
        return DeadlinePassed(f"{self.what}: no complete answer within {self.seconds:g} s")

    def left(self) -> float:
        """The seconds still allowed; DeadlinePassed when none are."""
        remaining = self.ends - time.monotonic()
        if remaining <= 0:
            raise self.passed()
        return remaining


class _Bounded:
    """A socket whose every read and write may last only what is left of its call's deadline.
    The connection that opens it gives it the deadline (``bound``) before the first read."""

    deadline: Deadline | None = None

    def bound(self, deadline: Deadline):
        self.deadline = deadline
        return self

    def _within(self, operation, *args):
        if self.deadline is None:  # a TLS handshake: bounded by the timeout its socket was made with
            return operation(*args)
        self.settimeout(self.deadline.left())
        try:
            return operation(*args)
        except TimeoutError as ex:  # the timeout was the time left: the deadline has passed
            raise self.deadline.passed() from ex

    def recv(self, *args):
        return self._within(super().recv, *args)

    def recv_into(self, *args):
        return self._within(super().recv_into, *args)

    def send(self, *args):
        return self._within(super().send, *args)

    def sendall(self, *args):
        return self._within(super().sendall, *args)


class _BoundedSocket(_Bounded, socket.socket):
    pass


class _BoundedTLSSocket(_Bounded, ssl.SSLSocket):
    pass


class _BoundedTLSContext(ssl.SSLContext):
    """The default client context (certificates checked, host names matched) whose sockets are
    bounded: ssl's documented way to choose the class ``wrap_socket`` returns."""

    sslsocket_class = _BoundedTLSSocket


class _BoundedConnection:
    """An HTTP(S) connection opened (with a proxy's tunnel and TLS) within what is left of its
    deadline, whose socket then bounds every read and write by it."""

    def __init__(self, host, *, deadline: Deadline, timeout=None, **options):
        super().__init__(host, timeout=deadline.left(), **options)  # urllib's per-read timeout is ignored
        self.deadline = deadline

    def connect(self):
        try:
            super().connect()
        except TimeoutError as ex:
            raise self.deadline.passed() from ex
        if isinstance(self.sock, _Bounded):  # TLS: the context made it bounded
            self.sock.bound(self.deadline)
        else:
            plain = self.sock
            self.sock = _BoundedSocket(plain.family, plain.type, plain.proto, fileno=plain.detach()).bound(self.deadline)


class _BoundedHTTP(_BoundedConnection, http.client.HTTPConnection):
    pass


class _BoundedHTTPS(_BoundedConnection, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline):
        super().__init__()
        self.deadline = deadline

    def http_open(self, req):
        return self.do_open(partial(_BoundedHTTP, deadline=self.deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline):
        super().__init__()
        self.deadline = deadline

    def https_open(self, req):
        return self.do_open(partial(_BoundedHTTPS, deadline=self.deadline), req, context=_tls_context())


@lru_cache(maxsize=1)
def _tls_context() -> _BoundedTLSContext:
    """What ``ssl.create_default_context()`` makes (certificates checked against the system's,
    host names matched), made once: a map asks for many tiles."""
    context = _BoundedTLSContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_default_certs()
    return context


def fetch(url: str, *, seconds: float, data: bytes | None = None, headers: dict | None = None,
          limit: int = 1 << 20, what: str | None = None) -> bytes:
    """The body of a GET (or a POST of ``data``) to ``url``, at most ``limit`` bytes, within
    ``seconds`` overall, redirects included. Raises DeadlinePassed naming ``what`` (the URL
    unless told), or what urllib raises (URLError, HTTPError, OSError, ValueError)."""
    deadline = Deadline(seconds, what=what or url)
    opener = urllib.request.build_opener(_HTTPHandler(deadline), _HTTPSHandler(deadline))
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with opener.open(request, timeout=seconds) as answer:
        return answer.read(limit)

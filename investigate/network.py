"""One overall deadline for every call to another server: the timestamp authority, the tile
server, the geocoder.

A socket timeout bounds each read, not the call: a server that trickles one byte every few
seconds (or sends its headers so) keeps every read alive and the call never returns — it kept
``checkpoint``, ``bundle`` and ``report`` waiting forever. Here the call runs on a daemon thread
and the caller waits for it at most ``seconds``; past that it gets ``DeadlinePassed`` and goes
on without the answer (a stamp stays queued, a map is drawn without tiles, geocoding stops with
what it found kept). The abandoned thread ends with its socket's own timeout, or with the process.
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

from .errors import InvestigateError

T = TypeVar("T")


class DeadlinePassed(InvestigateError):
    """The server did not answer in time; the work goes on without it."""


def within_deadline(call: Callable[[], T], seconds: float, *, what: str) -> T:
    """``call()``'s result if it returns within ``seconds``; its exception if it raises; else
    DeadlinePassed naming ``what``."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as ex:  # handed to the caller's thread as it was raised
            outcome["error"] = ex

    worker = threading.Thread(target=run, name=f"network: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlinePassed(f"{what}: no complete answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def fetch(url: str, *, seconds: float, data: bytes | None = None, headers: dict | None = None,
          limit: int = 1 << 20) -> bytes:
    """The body of a GET (or a POST of ``data``) to ``url``, at most ``limit`` bytes, within
    ``seconds`` overall. Raises DeadlinePassed, or what urllib raises (URLError, OSError,
    ValueError)."""
    import urllib.request

    def call() -> bytes:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        with urllib.request.urlopen(request, timeout=seconds) as answer:
            return answer.read(limit)

    return within_deadline(call, seconds, what=url)

"""A witness for other newsrooms' logs: C2SP tlog-witness ``add-checkpoint`` over HTTP.

A newsroom chooses the logs it witnesses (``trust_log``: an origin and that log's verifier
key). For each it keeps the checkpoint it last cosigned, in its own workspace database
(``witnessed_logs``, written through the audited path, so whom it vouched for and when is part
of its own record). A request carries the size the log believes the witness last saw, a
consistency proof from there and the new checkpoint; the witness cosigns only when that proof
shows the new tree extends the one it cosigned, and answers with C2SP's status codes otherwise:

- 400 a malformed request or note, or an old size above the checkpoint's;
- 403 no signature of the log's trusted key verifies;
- 404 a log (origin) it does not witness;
- 409 the old size is not the size it last cosigned (the body says which, ``text/x.tlog.size``),
  or the same size with another root hash — a rewritten history;
- 422 the consistency proof does not verify.

A refusal stores nothing. The check and the update are one ``BEGIN IMMEDIATE`` transaction, so
two requests cannot roll the stored size back (the race the spec describes). The witness has
a key of its own (``keys/witness.key``): a cosigner must not share the log's.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Callable

from .. import clock
from ..errors import IntegrityError, InvestigateError
from ..keys import ALG_COSIGNATURE, WITNESS_KEY_FILE, load_private_key, parse_verifier_key, public_key_bytes, \
    verifier_key
from ..store.workspace import Workspace
from . import merkle
from .cosign import cosignature_line
from .log import MAX_NOTE_BYTES, check_signature, parse_checkpoint

#: The spec allows at most 63 proof lines; with the old size line and the note, a request is small.
MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = MAX_NOTE_BYTES + 64 * 48
#: A client that opens a connection and trickles its request is dropped after this long.
REQUEST_SECONDS = 10
SIZE_TYPE = "text/x.tlog.size"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass
class Answer:
    """What the witness answers: an HTTP status, its body and one line saying why."""

    status: int
    body: bytes
    reason: str
    content_type: str = TEXT_TYPE


class Refused(InvestigateError):
    def __init__(self, status: int, reason: str, *, body: str | None = None, content_type: str = TEXT_TYPE):
        super().__init__(reason)
        self.answer = Answer(status, (body if body is not None else reason + "\n").encode(), reason, content_type)


def witness_name(ws: Workspace) -> str:
    """The witness's key name: this workspace, as a witness."""
    return ws.key_name.replace("investigate.log/", "investigate.witness/", 1)


def witness_key(ws: Workspace) -> str:
    """The witness's cosignature verifier key (made on first use), for the logs it witnesses to
    trust (``witness use``)."""
    return verifier_key(witness_name(ws), public_key_bytes(ws.root, WITNESS_KEY_FILE), ALG_COSIGNATURE)


def trust_log(ws: Workspace, origin: str, log_key: str) -> dict:
    """Witness the log ``origin`` signed by ``log_key`` (a signed-note verifier key). Trusting
    the same again changes nothing; another key for a witnessed origin is refused (a log whose
    key changed is a new log to its witnesses)."""
    if not origin or origin != origin.strip() or "\n" in origin:
        raise InvestigateError(f"{origin!r} is not a log origin (one line, no surrounding spaces)")
    parse_verifier_key(log_key)
    row = ws.db.execute("select id, verifier_key from witnessed_logs where origin = ?", [origin]).fetchone()
    if row and row[1] == log_key:
        return ws.get("witnessed_logs", row[0])
    if row:
        raise InvestigateError(f"{origin} is witnessed here with another key already: a log whose key changed "
                               "is a new log")
    return ws.insert("witnessed_logs", {"origin": origin, "verifier_key": log_key, "size": 0, "root_hash": None,
                                        "note": None, "trusted_at": clock.utc_now(), "cosigned_at": None})


def witnessed_logs(ws: Workspace) -> list[dict]:
    return list(ws.db.query("select origin, verifier_key, size, cosigned_at from witnessed_logs order by origin"))


def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """An add-checkpoint body → (old size, consistency proof, the checkpoint note)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the request is not UTF-8 text")
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not re.fullmatch(r"old (0|[1-9][0-9]*)", lines[0]):
        raise Refused(400, "the request does not begin with an 'old SIZE' line and end its proof with an empty line")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refused(400, f"{len(lines) - 1} proof lines: at most {MAX_PROOF_LINES}")
    proof = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            node = base64.b64decode(line, validate=True)
        except ValueError:
            node = b""
        if len(node) != 32:
            raise Refused(400, f"proof line {n} is not a base64 SHA-256 hash")
        proof.append(node)
    return int(lines[0][4:]), proof, note


def add_checkpoint(ws: Workspace, body: bytes, *, name: str, private) -> Answer:
    """Check one add-checkpoint request and cosign it, or refuse it with C2SP's status. The
    check and the update of the stored checkpoint are one transaction."""
    try:
        old, proof, note = parse_request(body)
        try:
            parsed = parse_checkpoint(note)
        except InvestigateError as ex:
            raise Refused(400, str(ex))
        if not re.fullmatch(r"0|[1-9][0-9]*", note.split("\n", 2)[1]):
            raise Refused(400, "not a checkpoint: the size line is not a decimal number")
        origin, size, new_root = parsed["origin"], parsed["size"], parsed["root"]
        with ws.transaction():
            row = ws.db.execute("select id, verifier_key, size, root_hash from witnessed_logs where origin = ?",
                                [origin]).fetchone()
            if row is None:
                raise Refused(404, f"{origin}: not a log witnessed here")
            row_id, log_key, known, known_root = row
            try:
                check_signature(parsed, [log_key])
            except IntegrityError as ex:
                raise Refused(403, f"{origin}: {ex}")
            if old > size:
                raise Refused(400, f"{origin}: old size {old} is larger than the checkpoint's {size}")
            if old != known:
                raise Refused(409, f"{origin}: old size {old}, but the checkpoint last cosigned here has size {known}",
                              body=f"{known}\n", content_type=SIZE_TYPE)
            known_root = base64.b64decode(known_root) if known_root else merkle.EMPTY_ROOT
            if old == size and new_root != known_root:
                raise Refused(409, f"{origin}: size {size} again with another root hash: the log's history was "
                                   "rewritten", body=f"{known}\n", content_type=SIZE_TYPE)
            if old == 0 and proof:
                raise Refused(422, f"{origin}: a consistency proof from size 0 must be empty")
            if 0 < old < size and not merkle.verify_consistency(old, size, known_root, new_root, proof):
                raise Refused(422, f"{origin}: the consistency proof from size {old} to {size} does not verify: "
                                   "the new checkpoint does not extend the one cosigned here")
            now = clock.now()
            ws.update("witnessed_logs", row_id, {"size": size, "root_hash": base64.b64encode(new_root).decode(),
                                                 "note": note, "cosigned_at": now.isoformat()},
                      reason=f"cosigned size {size}", action="cosign")
            line = cosignature_line(private, name, parsed["body"], int(now.timestamp()))
        return Answer(200, line.encode(), f"{origin}: cosigned size {size}")
    except Refused as refusal:
        return refusal.answer


def witness_server(ws: Workspace, host: str, port: int, *, on_answer: Callable[[str], None] | None = None) -> HTTPServer:
    """An HTTP server answering ``POST /add-checkpoint`` for ``ws``'s witnessed logs, one request
    at a time (the workspace's connection is this thread's). ``on_answer(line)`` hears each
    answer: the CLI prints it. Call ``serve_forever()`` on it; ``server_address`` has the port."""
    name = witness_name(ws)
    witness_key(ws)  # the key is made before the first request, not during one
    private = load_private_key(ws.root, WITNESS_KEY_FILE)

    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_SECONDS
        server_version = "investigate-witness"

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            if on_answer:
                on_answer(f"{answer.status} {answer.reason}")

        def do_POST(self):
            if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
                return self._send(Answer(404, b"not found: POST /add-checkpoint\n", f"no such path {self.path[:80]}"))
            try:
                length = int(self.headers.get("Content-Length") or -1)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_REQUEST_BYTES:
                return self._send(Answer(400, b"a Content-Length of at most 64 KiB is required\n",
                                         "request without a Content-Length, or too long"))
            self._send(add_checkpoint(ws, self.rfile.read(length), name=name, private=private))

        def do_GET(self):
            self._send(Answer(404, b"not found: POST /add-checkpoint\n", f"GET {self.path[:80]}"))

        def log_message(self, *args):  # the CLI prints the answers, through on_answer
            pass

    try:
        return HTTPServer((host, port), Handler)
    except OSError as ex:  # a port in use, an address not of this machine: one line, not a traceback
        raise InvestigateError(f"{host}:{port}: cannot listen there ({ex.strerror or ex})")

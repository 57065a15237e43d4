"""Timestamps from outside (RFC 3161): an authority vouches for when a checkpoint existed.

With ``[timestamp] tsa_url`` every checkpoint is sent to the authority (``rfc3161-client``
builds the request and verifies the token; we only POST); offline it stays queued and
``checkpoint --stamp`` sends it later; ``verify`` checks every token against the PEM roots of
``[timestamp] tsa_roots``.
"""

from __future__ import annotations

import base64
import hashlib

from ..errors import InvestigateError
from ..store.workspace import Workspace

def _tsa_roots(ws: Workspace) -> list:
    from cryptography import x509

    roots = []
    for name in ws.setting("timestamp", "tsa_roots", []) or []:
        path = (ws.root / name).expanduser()
        try:
            data = path.read_bytes()
        except OSError as ex:
            raise InvestigateError(f"investigate.toml [timestamp] tsa_roots: {path}: {ex.strerror}")
        try:
            roots += x509.load_pem_x509_certificates(data)
        except ValueError:
            raise InvestigateError(f"investigate.toml [timestamp] tsa_roots: {path} holds no PEM certificate")
    return roots


def stamp(ws: Workspace, checkpoint_id: int, *, timeout: float | None = None) -> dict:
    """Ask the timestamp authority of [timestamp] tsa_url to vouch for when the checkpoint
    existed. Offline, silent or trickling past [timestamp] timeout_seconds (default 10, one
    deadline for the whole call), the checkpoint stays queued ('investigate checkpoint --stamp'
    sends it) and the command goes on, saying so."""
    import urllib.error

    import rfc3161_client as tsp

    from ..network import DeadlinePassed, fetch

    if timeout is None:
        timeout = float(ws.setting("timestamp", "timeout_seconds", 10.0))
    row = ws.db.execute("select note, tsa_url from log_checkpoints where id = ?", [checkpoint_id]).fetchone()
    note, url = row
    request = tsp.TimestampRequestBuilder().data(note.encode("utf-8")).build()
    try:
        body = fetch(url, seconds=timeout, data=request.as_bytes(),
                     headers={"Content-Type": "application/timestamp-query"})
    except DeadlinePassed as ex:
        return {"queued": True, "reason": str(ex)}
    except (urllib.error.URLError, OSError, ValueError) as ex:
        return {"queued": True, "reason": f"{url}: {getattr(ex, 'reason', ex)}"}
    try:
        response = tsp.decode_timestamp_response(body)
    except ValueError as ex:
        return {"queued": True, "reason": f"{url}: the answer is not a timestamp response ({ex})"}
    roots = _tsa_roots(ws)
    if roots:
        verifier = tsp.VerifierBuilder.from_request(request)
        for cert in roots:
            verifier = verifier.add_root_certificate(cert)
        try:
            verifier.build().verify(response, hashlib.sha512(note.encode("utf-8")).digest())
        except tsp.VerificationError as ex:
            return {"queued": True, "reason": f"{url}: the timestamp does not verify ({ex})"}
    when = response.tst_info.gen_time.isoformat()
    ws.db.execute("update log_checkpoints set tsa_token = ?, stamped_at = ? where id = ?",
                  [response.as_bytes(), when, checkpoint_id])
    return {"stamped_at": when, "tsa_url": url, "token": base64.b64encode(response.as_bytes()).decode()}


def stamp_queued(ws: Workspace) -> list[dict]:
    """Send every checkpoint still waiting for its timestamp (made offline)."""
    url = ws.setting("timestamp", "tsa_url")
    if not url:
        raise InvestigateError("no timestamp authority: set [timestamp] tsa_url in investigate.toml")
    ids = [r[0] for r in ws.db.execute("select id from log_checkpoints where tsa_token is null order by id")]
    out = []
    for cid in ids:
        ws.db.execute("update log_checkpoints set tsa_url = ? where id = ?", [url, cid])  # the authority now
        out.append({"checkpoint": cid, **stamp(ws, cid)})
    return out


def check_timestamps(ws: Workspace) -> list[str]:
    """Every stored timestamp token must be for its checkpoint and verify against the
    configured authority's roots; returns problems as text."""
    if "log_checkpoints" not in ws.db.table_names():
        return []
    rows = list(ws.db.execute("select id, size, note, tsa_token from log_checkpoints where tsa_token is not null"))
    if not rows:
        return []
    import rfc3161_client as tsp  # only where there are tokens: 35 ms of every verify otherwise

    roots = _tsa_roots(ws)
    if not roots:
        return ["timestamps cannot be checked: list the authority's certificates in [timestamp] tsa_roots"]
    verifier = tsp.VerifierBuilder()
    for cert in roots:
        verifier = verifier.add_root_certificate(cert)
    verifier = verifier.build()
    problems = []
    for cid, size, note, token in rows:
        try:
            verifier.verify(tsp.decode_timestamp_response(token), hashlib.sha512(note.encode("utf-8")).digest())
        except (tsp.VerificationError, ValueError) as ex:
            problems.append(f"the timestamp of checkpoint {cid} (size {size}) does not verify: {ex}")
    return problems

"""The log's side of witnessing: asking witnesses to cosign a checkpoint, and counting the
cosignatures a checkpoint carries.

``checkpoint --witness URL`` signs the log, sends each witness (C2SP tlog-witness
``add-checkpoint``) the size it is believed to have cosigned last with a consistency proof
from there, and adds every cosignature that verifies against that witness's trusted key to the
note before it is recorded. A witness that is down, slow or refuses does not stop the
checkpoint: all are asked at once under one overall deadline (``network.fetch``), the
checkpoint is recorded with the cosignatures that came, and the result says who signed and why
the others did not. Nothing needs queueing: the next checkpoint sends that witness a proof from
whatever size it last saw (its 409 says which), so it catches up then.
"""

from __future__ import annotations

import base64
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor

from .. import clock
from ..errors import IntegrityError, InvestigateError
from ..keys import ALG_COSIGNATURE, parse_verifier_key
from ..network import DeadlinePassed, fetch
from ..store.workspace import Workspace
from . import merkle
from .cosign import cosigned_by
from .log import parse_checkpoint, record_checkpoint, sign_checkpoint, subtree_reader

DEFAULT_SECONDS = 10
#: A witness answers a few signature lines; more than this is not read.
ANSWER_LIMIT = 16 << 10


def use_witness(ws: Workspace, witness_key: str, url: str | None = None) -> dict:
    """Trust the witness whose cosignature verifier key is ``witness_key`` (and ask it at ``url``).
    Its name is the key's; trusting a name again replaces its key or URL (audited)."""
    name, _ = parse_verifier_key(witness_key, ALG_COSIGNATURE)
    if url is not None and not url.startswith(("http://", "https://")):
        raise InvestigateError(f"{url!r} is not a witness URL (http:// or https:// expected)")
    url = url.rstrip("/") if url else None
    row = ws.db.execute("select id from log_witnesses where name = ?", [name]).fetchone()
    if row:
        return ws.update("log_witnesses", row[0], {"verifier_key": witness_key, "url": url},
                         reason="witness key or URL changed")
    return ws.insert("log_witnesses", {"name": name, "verifier_key": witness_key, "url": url,
                                       "added_at": clock.utc_now()})


def log_witnesses(ws: Workspace) -> list[dict]:
    return list(ws.db.query("select name, verifier_key, url, added_at from log_witnesses order by name"))


def witness_keys(ws: Workspace) -> list[str]:
    return [w["verifier_key"] for w in log_witnesses(ws)]


def _witness_at(ws: Workspace, url: str) -> dict:
    url = url.rstrip("/")
    for w in log_witnesses(ws):
        if w["url"] == url:
            return w
    raise InvestigateError(f"no witness is known at {url}: trust it first with "
                           f"'investigate witness use KEY --url {url}' (its key from 'investigate witness key' there)")


def _last_cosigned_size(ws: Workspace, key: str) -> int:
    """The largest checkpoint of ours that carries this witness's cosignature: the size it most
    likely saw last (if not, its 409 says which)."""
    for (note,) in ws.db.execute("select note from log_checkpoints where note like ? order by size desc limit 20",
                                 [f"%\u2014 {parse_verifier_key(key, ALG_COSIGNATURE)[0]} %"]):
        parsed = parse_checkpoint(note)
        if cosigned_by(parsed, [key]):
            return parsed["size"]
    return 0


def _request(ws: Workspace, old: int, signed: dict) -> bytes:
    proof = merkle.consistency_proof(subtree_reader(ws.db), old, signed["size"]) if 0 < old < signed["size"] else []
    lines = [f"old {old}"] + [base64.b64encode(p).decode() for p in proof]
    return ("\n".join(lines) + "\n\n" + signed["note"]).encode()


def _post(url: str, body: bytes, seconds: float) -> tuple[int, str, bytes]:
    """(status, content type, body) of one add-checkpoint request within ``seconds`` overall
    (``network.fetch``: the deadline is kept by the socket, under any clock); a refusal is an
    answer too."""
    try:
        return 200, "", fetch(url + "/add-checkpoint", seconds=seconds, data=body, limit=ANSWER_LIMIT,
                              headers={"Content-Type": "text/plain; charset=utf-8"}, what="add-checkpoint")
    except urllib.error.HTTPError as ex:
        return ex.code, ex.headers.get("Content-Type", ""), ex.read(ANSWER_LIMIT)


def _post_all(bodies: dict[str, bytes], until: float, overall: float) -> dict[str, tuple | Exception]:
    """Every request at once, all within the time left until ``until`` (monotonic seconds) of
    the ``overall`` deadline."""
    seconds = max(until - time.monotonic(), 0.1)

    def one(url: str, body: bytes):
        try:
            return _post(url, body, seconds)
        except DeadlinePassed:
            return DeadlinePassed(f"no complete answer within {overall:g} s")
        except urllib.error.URLError as ex:
            return OSError(f"not reached ({getattr(ex, 'reason', ex)})")
        except (InvestigateError, OSError, ValueError) as ex:
            return ex

    with ThreadPoolExecutor(max_workers=max(len(bodies), 1)) as pool:
        futures = {url: pool.submit(one, url, body) for url, body in bodies.items()}
        return {url: f.result() for url, f in futures.items()}


def collect_cosignatures(ws: Workspace, signed: dict, urls: list[str], *, seconds: float | None = None) -> list[dict]:
    """Ask each witness at ``urls`` to cosign the signed checkpoint; add the cosignatures that
    verify to ``signed["note"]``. Returns per witness: its name, URL, whether it cosigned, the
    HTTP status and why not."""
    seconds = float(seconds or ws.setting("log", "witness_timeout_seconds", DEFAULT_SECONDS))
    until = time.monotonic() + seconds
    witnesses = {url.rstrip("/"): _witness_at(ws, url) for url in urls}
    size = signed["size"]
    olds = {url: _last_cosigned_size(ws, w["verifier_key"]) for url, w in witnesses.items()}
    olds = {url: old if old <= size else 0 for url, old in olds.items()}
    answers = _post_all({url: _request(ws, olds[url], signed) for url in witnesses}, until, seconds)
    # A 409 names the size the witness last cosigned: ask once more, with a proof from there.
    again = {}
    for url, answer in answers.items():
        if isinstance(answer, tuple) and answer[0] == 409 and answer[2].strip().isdigit():
            seen = int(answer[2].strip())
            if seen != olds[url] and seen <= size:
                olds[url] = seen
                again[url] = _request(ws, seen, signed)
    if again:
        answers.update(_post_all(again, until, seconds))
    results = []
    parsed = parse_checkpoint(signed["note"])
    for url, w in witnesses.items():
        answer = answers[url]
        result = {"witness": w["name"], "url": url, "cosigned": False, "status": None}
        if isinstance(answer, Exception):
            result["reason"] = str(answer) or type(answer).__name__
        else:
            status, _, body = answer
            result["status"] = status
            text = body.decode("utf-8", "replace")
            if status == 200:
                lines = [line + "\n" for line in text.split("\n") if line.startswith("\u2014 ")]
                good = [line for line in lines
                        if cosigned_by(parse_checkpoint(parsed["body"] + "\n" + line), [w["verifier_key"]])]
                if good:
                    signed["note"] += "".join(good)
                    result["cosigned"] = True
                else:
                    result["reason"] = "its answer carries no cosignature that verifies with its trusted key"
            elif status == 409 and text.strip().isdigit() and int(text.strip()) > size:
                result["reason"] = (f"it has cosigned a larger log (size {text.strip()}) than this one ({size}): "
                                    "was this log cut back?")
            else:
                result["reason"] = text.strip().split("\n")[0][:300] or f"HTTP {status}"
        results.append(result)
    return results


def sign_witnessed(ws: Workspace, *, purpose: str = "checkpoint", urls: list[str] | None = None) -> dict:
    """``log.sign_checkpoint``, cosigned by the witnesses at ``urls`` — by default every trusted
    witness with a URL, so that a public PDF, a public database and a bundle carry the
    cosigned checkpoint. ``witnesses`` in the result says who cosigned and why the others did
    not; recording it stays the caller's (``record_checkpoint``), as for an unwitnessed one."""
    if urls is None:
        urls = [w["url"] for w in log_witnesses(ws) if w["url"]] if "log_witnesses" in ws.db.table_names() else []
    for url in urls:  # an unknown witness is refused before anything is signed
        _witness_at(ws, url)
    signed = sign_checkpoint(ws, purpose=purpose)
    signed["witnesses"] = collect_cosignatures(ws, signed, urls) if urls else []
    return signed


def make_witnessed_checkpoint(ws: Workspace, urls: list[str] | None = None, *, purpose: str = "checkpoint") -> dict:
    """Sign the log, collect the witnesses' cosignatures into the note, record it."""
    return record_checkpoint(ws, sign_witnessed(ws, purpose=purpose, urls=urls))


def require_cosignatures(ws: Workspace, note: str, needed: int) -> list[str]:
    """The trusted witnesses whose cosignatures on ``note`` verify; IntegrityError when fewer
    than ``needed``."""
    names = sorted(cosigned_by(parse_checkpoint(note), witness_keys(ws)))
    if len(names) < needed:
        which = f" ({', '.join(names)})" if names else ""
        raise IntegrityError(f"the checkpoint carries {len(names)} valid cosignature{'s' if len(names) != 1 else ''} "
                             f"of trusted witnesses{which}; {needed} required")
    return names

"""Cosignatures of checkpoints (C2SP tlog-cosignature, Ed25519 ``cosignature/v1``).

A log whose only signer is its owner proves consistency to whoever kept an old checkpoint, and
to nobody else: a newsroom that rewrote its history can sign the rewrite too. A *witness* — an
independent party — cosigns a checkpoint only after checking that it extends the last one it
cosigned for that log (``witness.py``); a reader who trusts a few witnesses then needs no old
checkpoint of their own.

A cosignature is a signed-note signature line, ``— <witness name> base64(key id ‖ timestamp ‖
signature)``: the key id is SHA-256(name ‖ "\\n" ‖ 0x04 ‖ public key)[:4], the timestamp a
big-endian u64 of POSIX seconds, and the Ed25519 signature covers ``cosignature/v1\\n``,
``time <timestamp>\\n`` and the checkpoint's body (every line before the empty one). Lines from
keys a reader does not trust are ignored, as the spec says, never an error.
"""

from __future__ import annotations

import base64
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..keys import ALG_COSIGNATURE, key_id, parse_verifier_key
from .log import DASH

HEADER = "cosignature/v1\n"


def signed_message(body: str, timestamp: int) -> bytes:
    """What a v1 cosignature signs: the header line, the time line, the checkpoint's body."""
    return f"{HEADER}time {timestamp}\n{body}".encode()


def cosignature_line(private: Ed25519PrivateKey, name: str, body: str, timestamp: int) -> str:
    """One cosignature of the checkpoint ``body`` at ``timestamp``, as a note signature line."""
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signature = private.sign(signed_message(body, timestamp))
    raw = key_id(name, public, ALG_COSIGNATURE) + struct.pack(">Q", timestamp) + signature
    return f"{DASH} {name} {base64.b64encode(raw).decode()}\n"


def cosigned_by(parsed: dict, witness_keys: list[str]) -> dict[str, int]:
    """The witnesses among ``witness_keys`` (cosignature verifier keys) whose cosignature on the
    parsed checkpoint verifies: name → the time they cosigned (POSIX seconds). A line that
    carries a trusted witness's name and key id but does not verify is a forgery or an
    alteration, and counts for nothing; lines of other keys are ignored."""
    found: dict[str, int] = {}
    for vkey in witness_keys:
        name, public = parse_verifier_key(vkey, ALG_COSIGNATURE)
        kid = key_id(name, public, ALG_COSIGNATURE)
        for sig_name, sig_kid, rest in parsed["signatures"]:
            if sig_name != name or sig_kid != kid or len(rest) != 8 + 64:
                continue
            (timestamp,) = struct.unpack(">Q", rest[:8])
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(rest[8:], signed_message(parsed["body"], timestamp))
            except InvalidSignature:
                continue
            found[name] = timestamp
    return found

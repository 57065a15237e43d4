"""Some entries of a signed log, proven without the others (issue 31).

A bundle carries the audit entries of its own rows, not the whole log: the whole log held every
other case's entries, and with them what tips and stories said. Its signed checkpoint still
covers them all. So the bundle carries, beside its entries, the hashes of the largest subtrees
of the log's Merkle tree that hold none of them (``merkle.partial_proof``): the receiver hashes
the entries it got into leaves, folds them with those subtree hashes into a root, and compares
it with the checkpoint's — each carried entry is then proven to be in the signed log at its
place, and nothing is learnt of the entries left out but hashes of whole subtrees.
"""

from __future__ import annotations

import base64
from typing import Iterable, Iterator

from ..errors import IntegrityError, InvestigateError
from . import merkle
from .log import check_signature, entry_leaf, parse_checkpoint, subtree_reader


def prove_entries(db, seqs: list[int], size: int) -> list[bytes]:
    """The subtree hashes that prove the entries ``seqs`` (ascending) in the first ``size``
    entries of the log (its tree synced that far, as signing a checkpoint does)."""
    return merkle.partial_proof(subtree_reader(db), size, [s - 1 for s in seqs])


def encode_proof(proof: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in proof]


def decode_proof(proof) -> list[bytes]:
    """The proof as carried (base64 strings); ValueError when it is not that."""
    if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
        raise ValueError("the proof is not a list of base64 hashes")
    out = [base64.b64decode(h, validate=True) for h in proof]
    if any(len(h) != 32 for h in out):
        raise ValueError("a hash of the proof is not 32 bytes")
    return out


def check_entries(entries: Iterable[dict], proof: list[bytes], note: str, keys: list[str]) -> dict:
    """That ``entries`` (each with its ``seq``, in ascending order, as a chain holds them) are
    in the log ``note`` signed, by one of ``keys``, proven by ``proof``; the parsed checkpoint.
    IntegrityError says what fails. The entries are hashed into leaves and folded as they come
    (a merge reads them from its spool), never held."""
    try:
        parsed = parse_checkpoint(note)
        check_signature(parsed, keys)
    except (InvestigateError, ValueError) as ex:
        raise IntegrityError(f"its checkpoint does not hold ({ex})")
    size = parsed["size"]

    def leaves() -> Iterator[tuple[int, bytes]]:
        last = 0
        for entry in entries:
            seq = entry["seq"]
            if seq <= last or not 1 <= seq <= size:
                raise IntegrityError(f"audit entry {seq} is twice, out of order or outside the {size} entries signed")
            last = seq
            yield seq - 1, entry_leaf(entry)

    try:
        root = merkle.root_from_partial(size, leaves(), proof)
    except ValueError as ex:
        raise IntegrityError(f"its audit chain is not the one its checkpoint signed ({ex})")
    if root != parsed["root"]:
        raise IntegrityError("its audit chain is not the one its checkpoint signed")
    return parsed

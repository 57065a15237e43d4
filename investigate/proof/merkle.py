"""RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

The audit log's entries are the leaves of the tree a transparency log uses (Certificate
Transparency, Go's checksum database, Sigstore): leaf hash = SHA-256(0x00 ‖ entry), node hash
= SHA-256(0x01 ‖ left ‖ right), a tree of n leaves split at the largest power of two below n.
A signed checkpoint of (size, root) then lets anyone check, with a few dozen hashes, that an
entry is in the log (inclusion proof) and that today's log extends the one that was signed
(consistency proof) — without trusting the newsroom's copy.

No maintained Python library implements the proofs over an external store of subtree hashes,
so the ~100 lines are here, tested against RFC 6962's reference vectors and an independent
verifier in the tests. ``subtree(start, end)`` is supplied by the caller: it must return the
hash of the leaves [start, end), which the log answers from stored perfect subtrees.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from typing import Callable, Iterable

EMPTY_ROOT = hashlib.sha256(b"").digest()
Subtree = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def perfect_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the perfect tree over ``leaves`` (a power of two of them), leaves first,
    the root last: a level is hashed in one comprehension, not one stack step per node. Of any
    other number of leaves, the aligned perfect subtrees (an odd last node has no parent)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        pairs = iter(levels[-1])
        levels.append([node_hash(left, right) for left, right in zip(pairs, pairs)])
    return levels


def split(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: list[bytes]) -> bytes:
    """MTH over a list of leaf hashes, bottom-up: every level pairs neighbours and carries an odd
    last node up unchanged, which is the same tree as RFC 6962's recursive definition."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def mth(subtree: Subtree, start: int, end: int) -> bytes:
    """The hash of leaves [start, end) from perfect subtrees: O(log n) calls of ``subtree``
    for perfect, aligned ranges only."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return subtree(start, end)
    k = split(n)
    return node_hash(mth(subtree, start, start + k), mth(subtree, start + k, end))


def inclusion_proof(subtree: Subtree, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 2.1.1 for leaf ``index`` in a tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            proof.append(mth(subtree, start + k, end))
            end = start + k
        else:
            proof.append(mth(subtree, start, start + k))
            start += k
    return list(reversed(proof))


def consistency_proof(subtree: Subtree, old: int, new: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 2.1.2: that the first ``old`` leaves are a prefix of ``new``."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from size {old} to {new}")

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [mth(subtree, start, end)]
        k = split(n)
        if m <= k:
            return subproof(m, start, start + k, whole) + [mth(subtree, start + k, end)]
        return subproof(m - k, start + k, end, False) + [mth(subtree, start, start + k)]

    return subproof(old, 0, new, True)


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root a leaf and its proof lead to (RFC 9162 2.1.3.2); compare with a trusted root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the inclusion proof is too short")
    return r


def partial_proof(subtree: Subtree, size: int, indexes: list[int]) -> list[bytes]:
    """What proves a few leaves of a tree without the others (a multi-leaf inclusion proof):
    the hash of every largest subtree of RFC 6962's split that holds none of the sorted leaf
    ``indexes``, left to right. With the leaves themselves, ``root_from_partial`` recomputes the
    root; the leaves left out are never seen, only subtrees that cover them."""
    out: list[bytes] = []

    def walk(start: int, end: int, inside: list[int]) -> None:
        if not inside:
            out.append(mth(subtree, start, end))
        elif end - start > 1:
            middle = start + split(end - start)
            cut = bisect_left(inside, middle)
            walk(start, middle, inside[:cut])
            walk(middle, end, inside[cut:])

    if size:
        walk(0, size, indexes)
    return out


def root_from_partial(size: int, leaves: dict[int, bytes] | Iterable[tuple[int, bytes]], proof: list[bytes]) -> bytes:
    """The root of a tree of ``size`` leaves from some of its leaves and their
    ``partial_proof``; compare with a trusted root. ValueError when they cannot make one.

    ``leaves`` is a dict (index → leaf hash) or (index, leaf hash) pairs in ascending order of
    index, folded as they come: a merge proves a bundle's entries as it reads them from disk,
    holding a path of the tree, not every leaf (a dict of a million leaves is 140 MB)."""
    pairs = iter(sorted(leaves.items()) if isinstance(leaves, dict) else leaves)
    given = iter(proof)
    pending = next(pairs, None)

    def walk(start: int, end: int) -> bytes:
        nonlocal pending
        if pending is None or pending[0] >= end:  # no leaf of ours in this subtree: its hash is given
            node = next(given, None)
            if node is None:
                raise ValueError("the proof is too short")
            return node
        if end - start == 1:
            if pending[0] != start:  # below the subtrees already folded: out of order or twice
                raise ValueError(f"leaf {pending[0]} is out of order, twice or outside a tree of {size}")
            leaf, pending = pending[1], next(pairs, None)
            return leaf
        middle = start + split(end - start)
        left = walk(start, middle)
        return node_hash(left, walk(middle, end))

    result = walk(0, size) if size else EMPTY_ROOT
    if pending is not None:
        raise ValueError(f"leaf {pending[0]} is outside a tree of {size}")
    if next(given, None) is not None:
        raise ValueError("the proof is too long")
    return result


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2: does ``proof`` show that the tree of ``old_root`` is a prefix of the
    tree of ``new_root``?"""
    if old == new:
        return not proof and old_root == new_root
    if not 0 < old < new or not proof:
        return False
    if old & (old - 1) == 0:  # a power of two: the old root is the first node of the path
        proof = [old_root, *proof]
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root

"""The log's Merkle tree against RFC 6962's reference vectors, and against a verifier written
here from the RFC's recursive definitions, independent of investigate.merkle."""

from __future__ import annotations

import hashlib
import random

import pytest

from investigate.proof import merkle

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
INCLUSION = [(0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
             (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
             (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
             (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"])]
CONSISTENCY = [(1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                       "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                       "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
               (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                       "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                       "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
               (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                       "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"])]


def subtree_of(hashes):
    return lambda start, end: merkle.root_of(hashes[start:end])


def random_leaves(seed: int, count: int) -> list[bytes]:
    rnd = random.Random(seed)
    return [merkle.leaf_hash(bytes([rnd.randrange(256)]) * rnd.randrange(1, 9)) for _ in range(count)]


# -- an independent verifier, straight from RFC 6962 2.1's recursive definitions -------------


def ref_mth(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m, leaves):
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, leaves[:k]) + [ref_mth(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [ref_mth(leaves[:k])]


def ref_proof(m, leaves, whole=True):
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_proof(m, leaves[:k], whole) + [ref_mth(leaves[k:])]
    return ref_proof(m - k, leaves[k:], False) + [ref_mth(leaves[:k])]


def test_roots_of_every_size_match_rfc_6962():
    hashes = [merkle.leaf_hash(x) for x in LEAVES]
    for n in range(9):
        assert merkle.root_of(hashes[:n]).hex() == ROOTS[n]
        assert merkle.mth(subtree_of(hashes), 0, n).hex() == ROOTS[n]


@pytest.mark.parametrize("index, size, expected", INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(index, size, expected):
    hashes = [merkle.leaf_hash(x) for x in LEAVES]
    proof = merkle.inclusion_proof(subtree_of(hashes), index, size)
    assert [p.hex() for p in proof] == expected
    assert merkle.root_from_inclusion(index, size, hashes[index], proof).hex() == ROOTS[size]


@pytest.mark.parametrize("old, new, expected", CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(old, new, expected):
    hashes = [merkle.leaf_hash(x) for x in LEAVES]
    proof = merkle.consistency_proof(subtree_of(hashes), old, new)
    assert [p.hex() for p in proof] == expected
    assert merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)
    assert not merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old - 1] if old > 1 else ROOTS[2]),
                                         bytes.fromhex(ROOTS[new]), proof)


def test_every_proof_of_every_shape_agrees_with_the_independent_verifier():
    hashes = random_leaves(6962, 37)
    sub = subtree_of(hashes)
    for n in range(1, len(hashes) + 1):
        root = ref_mth(hashes[:n])
        assert merkle.mth(sub, 0, n) == root
        for i in range(n):
            proof = merkle.inclusion_proof(sub, i, n)
            assert proof == ref_path(i, hashes[:n])
            assert merkle.root_from_inclusion(i, n, hashes[i], proof) == root
            assert merkle.root_from_inclusion(i, n, hashes[(i + 1) % n], proof) != root or n == 1
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(sub, m, n)
            assert proof == ref_proof(m, hashes[:n])
            assert merkle.verify_consistency(m, n, ref_mth(hashes[:m]), root, proof)
            if m < n:
                forged = hashes[:m - 1] + [merkle.leaf_hash(b"forged")]
                assert not merkle.verify_consistency(m, n, ref_mth(forged), root, proof)


def root_or_none(size, leaves, proof):
    try:
        return merkle.root_from_partial(size, leaves, proof)
    except ValueError:
        return None


def test_a_partial_proof_of_any_leaves_leads_to_the_root_and_nothing_else_does():
    hashes, rnd = random_leaves(9162, 41), random.Random(9162)
    sub = subtree_of(hashes)
    for n in range(0, len(hashes) + 1):
        root = ref_mth(hashes[:n])
        for _ in range(12):
            kept = sorted(rnd.sample(range(n), rnd.randrange(0, n + 1))) if n else []
            proof = merkle.partial_proof(sub, n, kept)
            assert len(proof) <= max(1, len(kept)) * max(1, n.bit_length())
            assert merkle.root_from_partial(n, {i: hashes[i] for i in kept}, proof) == root
            if kept:  # a changed leaf, one left out, or a hash over: never the root
                changed = {i: hashes[i] for i in kept} | {kept[0]: merkle.leaf_hash(b"forged")}
                assert root_or_none(n, changed, proof) != root
                if len(kept) < n:
                    assert root_or_none(n, {i: hashes[i] for i in kept[1:]}, proof) != root
            with pytest.raises(ValueError, match="too long"):
                merkle.root_from_partial(n, {i: hashes[i] for i in kept}, proof + [hashes[0]])
    assert merkle.partial_proof(sub, 8, list(range(8))) == []  # every leaf carried: nothing more to say


def test_leaves_folded_as_they_come_give_the_same_root_and_refuse_disorder():
    # A merge folds a bundle's entries into the root as it reads them: pairs in ascending order,
    # never a dict of them all. The same root; a leaf twice, out of order or past the tree is no root.
    hashes, rnd = random_leaves(6962, 37), random.Random(6962)
    sub = subtree_of(hashes)
    for n in range(1, len(hashes) + 1):
        for _ in range(8):
            kept = sorted(rnd.sample(range(n), rnd.randrange(1, n + 1)))
            proof = merkle.partial_proof(sub, n, kept)
            assert merkle.root_from_partial(n, ((i, hashes[i]) for i in kept), proof) == ref_mth(hashes[:n])
            for bad in ([*kept, kept[-1]], kept[::-1] if len(kept) > 1 else [*kept, n], [*kept, n]):
                assert root_or_none(n, ((i, hashes[i % len(hashes)]) for i in bad), proof) is None


def test_the_streaming_tree_folds_runs_into_the_same_roots_and_stored_nodes():
    # Across whole runs (hashed level by level) and ragged ends (one leaf at a time), continued
    # from a stored right edge as sync_tree continues one, with sizes asked for inside a run.
    from investigate.proof.log import RUN, StreamingTree

    rng = random.Random(30)
    leaves = [rng.randbytes(32) for _ in range(2 * RUN + 300)]
    sizes = {0, 1, 5, RUN - 1, RUN, RUN + 17, 2 * RUN, len(leaves)}
    for start in (0, 3, RUN):
        head = StreamingTree()
        for leaf in leaves[:start]:
            head.add(leaf)
        head.flush()
        nodes: list = []
        tree = StreamingTree(sizes, edge=head.stack, n=start, record=nodes)
        for leaf in leaves[start:]:
            tree.add(leaf)
        assert tree.root() == merkle.root_of(leaves)
        assert tree.roots == {s: merkle.root_of(leaves[:s]) for s in sizes if s > start or s == 0}
        expected = {(level, i, merkle.root_of(leaves[i << level:(i + 1) << level]))
                    for level in range(12) for i in range(len(leaves) >> level) if (i + 1) << level > start}
        assert sorted(nodes) == sorted(expected)

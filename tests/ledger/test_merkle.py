"""RFC 9162 tree, proofs and verifiers: the RFC 6962 vectors, every proof for sizes 1..64,
and thousands of mutated proofs, none of which may verify."""

from __future__ import annotations

import random

import pytest

from hub.ledger import merkle

# RFC 6962 §2.1.3 test inputs (the leaves of the reference test data)
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def _tree(n: int) -> merkle.MemoryTree:
    return merkle.MemoryTree([merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)])


def _recursive_mth(hashes: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 §2.1.1 writes it, to check the incremental code against."""
    if not hashes:
        return merkle.EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = merkle.split(len(hashes))
    return merkle.node_hash(_recursive_mth(hashes[:k]), _recursive_mth(hashes[k:]))


def test_rfc6962_roots() -> None:
    tree = merkle.MemoryTree([merkle.leaf_hash(leaf) for leaf in LEAVES])
    for size, expected in ROOTS.items():
        assert tree.root(size).hex() == expected
    assert merkle.root(0, tree.node) == merkle.EMPTY_ROOT


def test_rfc6962_inclusion_and_consistency_examples() -> None:
    tree = merkle.MemoryTree([merkle.leaf_hash(leaf) for leaf in LEAVES])
    # the RFC's worked examples (§2.1.5): PATH(0, D[7]) has three nodes, PROOF(3, D[7]) four
    assert len(merkle.inclusion_proof(0, 7, tree.node)) == 3
    assert len(merkle.consistency_proof(3, 7, tree.node)) == 4
    assert len(merkle.consistency_proof(4, 7, tree.node)) == 1
    assert len(merkle.consistency_proof(6, 7, tree.node)) == 3


def test_incremental_roots_equal_the_recursive_definition() -> None:
    tree = _tree(300)
    for size in range(0, 301):
        assert tree.root(size) == _recursive_mth(tree.levels[0][:size])


def test_every_proof_for_sizes_1_to_64_verifies() -> None:
    tree = _tree(64)
    for size in range(1, 65):
        root = tree.root(size)
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, tree.node)
            assert merkle.verify_inclusion(index, size, tree.levels[0][index], proof, root)
        for old in range(1, size + 1):
            proof = merkle.consistency_proof(old, size, tree.node)
            assert merkle.verify_consistency(old, size, tree.root(old), root, proof), (old, size)


def _mutations(proof: list[bytes], rng: random.Random) -> list[list[bytes]]:
    junk = bytes(rng.getrandbits(8) for _ in range(32))
    out = [[*proof, junk], [*proof, proof[-1]] if proof else [junk]]
    if proof:
        out.append(proof[:-1])
        out.append(proof[1:])
        i = rng.randrange(len(proof))
        flipped = bytearray(proof[i])
        flipped[rng.randrange(32)] ^= 1 << rng.randrange(8)
        out.append([*proof[:i], bytes(flipped), *proof[i + 1 :]])
        if len(proof) > 1:
            j = (i + 1) % len(proof)
            swapped = list(proof)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            if swapped != proof:
                out.append(swapped)
    return [m for m in out if m != proof]


def test_mutated_proofs_never_verify() -> None:
    rng = random.Random(6962)
    tree = _tree(64)
    other = merkle.MemoryTree([merkle.leaf_hash(b"fork" + bytes([i])) for i in range(64)])
    rejected = 0
    for size in range(1, 65):
        root = tree.root(size)
        for index in range(size):
            leaf = tree.levels[0][index]
            proof = merkle.inclusion_proof(index, size, tree.node)
            for bad in _mutations(proof, rng):
                assert not merkle.verify_inclusion(index, size, leaf, bad, root)
                rejected += 1
            if size > 1:
                wrong_index = (index + 1) % size
                assert not merkle.verify_inclusion(wrong_index, size, leaf, proof, root) or (
                    tree.levels[0][wrong_index] == leaf
                )
                rejected += 1
            assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"x"), proof, root)
            assert not merkle.verify_inclusion(index, size, leaf, proof, other.root(size))
            # (a size that does not belong to the root is not a mutation we can test: size and
            # root are only ever taken together, from one signed checkpoint)
            rejected += 2
        for old in range(1, size):
            proof = merkle.consistency_proof(old, size, tree.node)
            old_root = tree.root(old)
            for bad in _mutations(proof, rng):
                assert not merkle.verify_consistency(old, size, old_root, root, bad)
                rejected += 1
            # a forked prefix: the same sizes, another history
            assert not merkle.verify_consistency(old, size, other.root(old), root, proof)
            assert not merkle.verify_consistency(old, size, old_root, other.root(size), proof)
            rejected += 2
    assert rejected > 10_000


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, 0)])
def test_bad_proof_requests(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        merkle.inclusion_ranges(index, size)


def test_bad_consistency_requests() -> None:
    for old, new in [(0, 5), (6, 5), (-1, 3)]:
        with pytest.raises(ValueError, match="no consistency proof"):
            merkle.consistency_ranges(old, new)

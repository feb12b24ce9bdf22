"""RFC 9162 §2.1 Merkle tree hashes, inclusion and consistency proofs, and their verifiers.

Standard library only: `hub ledger verify` and offline receipt checks import this module
without the rest of the hub. Trees are described by ranges of leaf indices [lo, hi): the
RFC's recursion always splits a range of n > 1 leaves at k, the largest power of two below n,
so every left part is a perfect, aligned subtree that never changes once complete. A
`HashSource` gives the hash of such perfect subtrees (from storage, or computed); any other
range hash is built from them, which is what keeps roots and proofs incremental.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

Node = tuple[
    int, int
]  # (level, index): the perfect subtree of leaves [index*2^level, (index+1)*2^level)
HashSource = Callable[[Node], bytes]


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_nodes(lo: int, hi: int) -> list[Node]:
    """The perfect subtrees whose hashes make up MTH(leaves[lo:hi]), left to right."""
    nodes: list[Node] = []
    while lo < hi:
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            nodes.append((n.bit_length() - 1, lo // n))
            break
        k = split(n)
        nodes.append(((k.bit_length() - 1), lo // k))
        lo += k
    return nodes


def range_hash(lo: int, hi: int, source: HashSource) -> bytes:
    """MTH of leaves[lo:hi] for a range that occurs in the RFC recursion."""
    if hi <= lo:
        return EMPTY_ROOT
    parts = [source(node) for node in perfect_nodes(lo, hi)]
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def root(size: int, source: HashSource) -> bytes:
    return range_hash(0, size, source)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1 as leaf ranges, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = split(hi - lo)
        if m < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m = lo + k, m - k
    return list(reversed(ranges))


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 as leaf ranges, in proof order."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from size {old} to {new}")
    if old == new:
        return []
    ranges: list[tuple[int, int]] = []

    def subproof(m: int, lo: int, hi: int, whole: bool) -> None:
        n = hi - lo
        if m == n:
            if not whole:
                ranges.append((lo, hi))
            return
        k = split(n)
        if m <= k:
            subproof(m, lo, lo + k, whole)
            ranges.append((lo + k, hi))
        else:
            subproof(m - k, lo + k, hi, False)
            ranges.append((lo, lo + k))

    subproof(old, 0, new, True)
    return ranges


def needed_nodes(ranges: Sequence[tuple[int, int]]) -> set[Node]:
    return {node for lo, hi in ranges for node in perfect_nodes(lo, hi)}


def inclusion_proof(index: int, size: int, source: HashSource) -> list[bytes]:
    return [range_hash(lo, hi, source) for lo, hi in inclusion_ranges(index, size)]


def consistency_proof(old: int, new: int, source: HashSource) -> list[bytes]:
    return [range_hash(lo, hi, source) for lo, hi in consistency_ranges(old, new)]


def verify_inclusion(
    index: int, size: int, leaf_digest: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf_digest
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if old < 1 or old > new:
        return False
    if old == new:
        return len(proof) == 0 and old_root == new_root
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root heads the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class MemoryTree:
    """All perfect-subtree hashes of a list of leaf hashes, for verifiers and tests."""

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf_digest: bytes) -> None:
        self.levels[0].append(leaf_digest)
        level = 0
        while len(self.levels[level]) % 2 == 0:
            pair = self.levels[level][-2:]
            if level + 1 == len(self.levels):
                self.levels.append([])
            self.levels[level + 1].append(node_hash(pair[0], pair[1]))
            level += 1

    def node(self, node: Node) -> bytes:
        level, index = node
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return root(self.size if size is None else size, self.node)

"""RFC 9162 (Certificate Transparency v2) Merkle trees: tree hash, proofs, and verifiers.

Pure functions with no Django import, so an outsider can read (or copy) exactly what the log does.

Vocabulary: leaves are numbered 0..n-1; a *perfect subtree* at (level, position) covers leaves
[position·2^level, (position+1)·2^level) and its hash is the MTH of those leaves. Every subtree
that RFC 9162's recursive definitions touch is either perfect or a "right edge" range whose hash
is its perfect pieces folded from the right, so a `SubtreeSource` that can hand out perfect
subtree hashes (from memory, or from a table of cached nodes) is all the proof code needs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """Asked for a proof that RFC 9162 does not define (e.g. index ≥ tree size)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two strictly smaller than n (n ≥ 2)."""
    if n < 2:
        raise ValueError("split needs at least two leaves")
    return 1 << ((n - 1).bit_length() - 1)


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


class SubtreeSource(Protocol):
    def perfect(self, level: int, position: int) -> bytes:
        """The hash of the perfect subtree at (level, position); it lies wholly inside the tree."""
        ...


def perfect_levels(hashes: Sequence[bytes]) -> list[list[bytes]]:
    """All perfect-subtree hashes over `hashes`, bottom-up: levels[l][p] is the node at (l, p).
    An odd last node of a level has no parent yet (its subtree is not complete)."""
    levels = [list(hashes)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


class ListSource:
    """Perfect-subtree hashes of an in-memory list of leaf hashes, built in O(n) once."""

    def __init__(self, hashes: Sequence[bytes]) -> None:
        self.size = len(hashes)
        self.levels = perfect_levels(hashes)

    def perfect(self, level: int, position: int) -> bytes:
        return self.levels[level][position]


def range_hash(source: SubtreeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range the RFC recursion produces (start aligned to the split).

    The left part of every split is a perfect subtree; only the right edge recurses, so this
    costs one `perfect` lookup per level instead of visiting every leaf."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    pieces: list[bytes] = []
    while n > 0:
        size = 1 << (n.bit_length() - 1)  # pieces: the binary digits of n, largest first
        level = size.bit_length() - 1
        if start % size:
            raise ValueError(f"range [{start}, {end}) is not aligned to its split")
        pieces.append(source.perfect(level, start >> level))
        start += size
        n -= size
    result = pieces[-1]
    for piece in reversed(pieces[:-1]):
        result = node_hash(piece, result)
    return result


def root(source: SubtreeSource, size: int) -> bytes:
    """MTH(D[0:size]); the empty tree hashes to SHA-256 of the empty string."""
    return range_hash(source, 0, size)


def root_of_hashes(hashes: Sequence[bytes]) -> bytes:
    return root(ListSource(hashes), len(hashes))


def inclusion_path(source: SubtreeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf-side sibling first."""
    if not 0 <= index < size:
        raise ProofError("index must be in [0, tree_size)")
    siblings: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            siblings.append(range_hash(source, start + k, end))
            end = start + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            siblings.append(range_hash(source, start, start + k))
            start += k
    siblings.reverse()  # collected root-side first; the RFC lists the deepest sibling first
    return siblings


def consistency_path(source: SubtreeSource, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) = SUBPROOF(first, D[0:second], true), RFC 9162 §2.1.4.1.

    first == second gives the empty proof; first == 0 is not defined by the RFC."""
    if not 0 < first <= second:
        raise ProofError("need 0 < first <= second")
    collected: list[bytes] = []
    start, end, m, known = 0, second, first, True
    while True:
        n = end - start
        if m == n:
            if not known:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
                collected.append(range_hash(source, start, end))
            break
        k = split_point(n)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            collected.append(range_hash(source, start + k, end))
            end = start + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            collected.append(range_hash(source, start, start + k))
            start += k
            m -= k
            known = False
    collected.reverse()
    return collected


def verify_inclusion(
    *, leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root_hash: bytes
) -> bool:
    """RFC 9162 §2.1.3.2, step by step. `leaf` is the leaf hash (SHA-256(0x00 ‖ entry))."""
    if index >= tree_size or index < 0:
        return False
    fn, sn = index, tree_size - 1
    r = leaf
    for p in path:
        if len(p) != HASH_SIZE or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    *, first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, step by step, for 0 < first < second; first == second holds
    only with an empty proof and equal roots."""
    if first <= 0 or first > second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path or any(len(c) != HASH_SIZE for c in path):
        return False
    proof = list(path)
    if is_power_of_two(first):
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
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
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


class Accumulator:
    """Streaming tree hash: feed leaf hashes in order, ask for the root at any size reached.

    Keeps one hash per set bit of the size (the perfect subtrees of the left-heavy RFC tree),
    so a full scan of a million-entry log needs O(log n) memory. `on_complete` sees every
    perfect subtree as it is finished, which lets the verifier check cached nodes on the way."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing

    def add(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; returns the perfect subtrees (level, position, hash) it completed."""
        completed: list[tuple[int, int, bytes]] = []
        level, value = 0, leaf
        position = self.size
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            value = node_hash(left, value)
            level += 1
            position >>= 1
            completed.append((level, position, value))
        self._stack.append((level, value))
        self.size += 1
        return completed

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.add(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1][1]
        for _, value in reversed(self._stack[:-1]):
            result = node_hash(value, result)
        return result

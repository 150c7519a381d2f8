"""The pure Merkle code against RFC 9162's definitions, published vectors and tampering."""

from __future__ import annotations

import hashlib

import pytest

from shanzhi.audit import merkle
from shanzhi.audit.tests.brute import Brute, entry_leaf

# The Certificate Transparency reference inputs and their roots for sizes 1..8.
CT_INPUTS = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATH_0_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]

MAX = 70
LEAVES = [entry_leaf(f"entry-{i}".encode()) for i in range(MAX)]
BRUTE = Brute(LEAVES)
SOURCE = merkle.ListSource(LEAVES)


def flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def test_hash_primitives():
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    assert [merkle.split_point(n) for n in (2, 3, 4, 5, 8, 9, 70)] == [1, 2, 2, 4, 4, 8, 64]
    assert merkle.root_of_hashes([]) == merkle.EMPTY_ROOT


def test_published_vectors():
    leaves = [merkle.leaf_hash(d) for d in CT_INPUTS]
    for n in range(1, 9):
        assert merkle.root_of_hashes(leaves[:n]).hex() == CT_ROOTS[n - 1]
    path = merkle.inclusion_path(merkle.ListSource(leaves), 0, 8)
    assert [h.hex() for h in path] == CT_PATH_0_8


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_root_matches_brute_force(n):
    assert merkle.root(SOURCE, n) == BRUTE.mth(0, n)
    assert merkle.root_of_hashes(LEAVES[:n]) == BRUTE.mth(0, n)
    acc = merkle.Accumulator()
    acc.extend(LEAVES[:n])
    assert acc.root() == BRUTE.mth(0, n)


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_every_inclusion_proof(n):
    root = BRUTE.mth(0, n)
    for m in range(n):
        path = merkle.inclusion_path(SOURCE, m, n)
        assert path == BRUTE.path(m, 0, n)
        assert merkle.verify_inclusion(leaf=LEAVES[m], index=m, tree_size=n, path=path, root_hash=root)


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_every_consistency_proof(n):
    second_root = BRUTE.mth(0, n)
    for m in range(1, n + 1):
        path = merkle.consistency_path(SOURCE, m, n)
        assert path == BRUTE.proof(m, n)
        assert merkle.verify_consistency(
            first=m, second=n, first_root=BRUTE.mth(0, m), second_root=second_root, path=path
        )


def test_accumulator_reports_completed_subtrees():
    acc = merkle.Accumulator()
    seen = {}
    for leaf in LEAVES[:64]:
        for level, position, value in acc.add(leaf):
            seen[(level, position)] = value
    assert seen[(6, 0)] == BRUTE.mth(0, 64)
    assert seen[(3, 5)] == BRUTE.mth(40, 48)
    assert len(seen) == 63  # every interior node of a perfect 64-leaf tree, exactly once


@pytest.mark.parametrize(("m", "n"), [(0, 1), (5, 8), (6, 7), (13, 21), (64, 70), (69, 70)])
def test_inclusion_verifier_rejects_tampering(m, n):
    root = BRUTE.mth(0, n)
    path = merkle.inclusion_path(SOURCE, m, n)
    assert merkle.verify_inclusion(leaf=LEAVES[m], index=m, tree_size=n, path=path, root_hash=root)
    ok = merkle.verify_inclusion
    assert not ok(leaf=flip(LEAVES[m]), index=m, tree_size=n, path=path, root_hash=root)
    assert not ok(leaf=LEAVES[m], index=m, tree_size=n, path=path, root_hash=flip(root))
    for i in range(len(path)):
        bad = [*path[:i], flip(path[i]), *path[i + 1 :]]
        assert not ok(leaf=LEAVES[m], index=m, tree_size=n, path=bad, root_hash=root)
    assert not ok(
        leaf=LEAVES[m], index=m, tree_size=n, path=[*path, path[-1] if path else root], root_hash=root
    )
    if path:
        assert not ok(leaf=LEAVES[m], index=m, tree_size=n, path=path[:-1], root_hash=root)
        if len(path) > 1:
            assert not ok(leaf=LEAVES[m], index=m, tree_size=n, path=path[::-1], root_hash=root)
    # The size is not hashed, so only sizes that change the path's shape must fail.
    assert not ok(leaf=LEAVES[m], index=m, tree_size=2 * n + 1, path=path, root_hash=root)
    assert not ok(leaf=LEAVES[m], index=n, tree_size=n, path=path, root_hash=root)
    assert not ok(leaf=LEAVES[m], index=-1, tree_size=n, path=path, root_hash=root)
    if n > 1:
        other = (m + 1) % n
        assert not ok(leaf=LEAVES[m], index=other, tree_size=n, path=path, root_hash=root)


@pytest.mark.parametrize(("m", "n"), [(1, 2), (3, 7), (4, 8), (6, 8), (5, 13), (32, 70), (63, 64), (1, 70)])
def test_consistency_verifier_rejects_tampering(m, n):
    r1, r2 = BRUTE.mth(0, m), BRUTE.mth(0, n)
    path = merkle.consistency_path(SOURCE, m, n)
    ok = merkle.verify_consistency
    assert ok(first=m, second=n, first_root=r1, second_root=r2, path=path)
    assert not ok(first=m, second=n, first_root=flip(r1), second_root=r2, path=path)
    assert not ok(first=m, second=n, first_root=r1, second_root=flip(r2), path=path)
    for i in range(len(path)):
        bad = [*path[:i], flip(path[i]), *path[i + 1 :]]
        assert not ok(first=m, second=n, first_root=r1, second_root=r2, path=bad)
    assert not ok(first=m, second=n, first_root=r1, second_root=r2, path=[])
    assert not ok(first=m, second=n, first_root=r1, second_root=r2, path=[*path, path[-1]])
    assert not ok(first=m, second=n, first_root=r1, second_root=r2, path=path[:-1])
    assert not ok(first=n, second=m, first_root=r2, second_root=r1, path=path)
    assert not ok(first=0, second=n, first_root=merkle.EMPTY_ROOT, second_root=r2, path=path)


def test_equal_sizes_and_undefined_requests():
    r = BRUTE.mth(0, 9)
    assert merkle.consistency_path(SOURCE, 9, 9) == []
    assert merkle.verify_consistency(first=9, second=9, first_root=r, second_root=r, path=[])
    assert not merkle.verify_consistency(first=9, second=9, first_root=r, second_root=flip(r), path=[])
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_path(SOURCE, 5, 5)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_path(SOURCE, 0, 5)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_path(SOURCE, 6, 5)

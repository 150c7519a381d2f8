"""The Merkle tree over the stored log: roots and proofs that read few rows.

Perfect subtrees of 2^CACHE_LEVEL leaves and above are cached in AuditNode once complete, so a
root or a proof over a million entries needs a few dozen cached hashes plus at most one chunk of
256 leaf hashes. Missing nodes are built from the leaves once, streaming, and then kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from shanzhi.audit import merkle
from shanzhi.audit.models import AuditEntry, AuditLogHead, AuditNode
from shanzhi.core.errors import ServiceError

CACHE_LEVEL = 8  # cache subtrees of ≥ 256 leaves: ~2 rows per 256 entries
CHUNK = 1 << CACHE_LEVEL
READ_AHEAD_CHUNKS = 64  # when filling the cache, read 16 384 leaf hashes per query

Key = tuple[int, int]


class LogCorrupt(ServiceError):
    """The stored entries do not form a gap-free log; proofs would be wrong, so none are given."""

    status = 500

    def __init__(self, *, index: int) -> None:
        super().__init__(
            "audit_log_corrupt",
            f"审计日志第 {index} 条记录缺失或顺序错误,请运行 shanzhi audit verify 检查",
            details={"index": index},
        )


def log_size() -> int:
    """Entries committed so far. Appends lock the head row and bump it in the entry's
    transaction, so every index below this value belongs to a committed entry."""
    value = AuditLogHead.objects.filter(pk=1).values_list("next_index", flat=True).first()
    return int(value or 0)


def leaf_hashes(start: int, end: int) -> list[bytes]:
    """Stored leaf hashes for indexes [start, end), refusing to paper over a gap."""
    rows = (
        AuditEntry.objects.filter(index__gte=start, index__lt=end)
        .order_by("index")
        .values_list("index", "leaf_hash")
    )
    out: list[bytes] = []
    for expected, (index, value) in enumerate(rows, start=start):
        if index != expected:
            raise LogCorrupt(index=expected)
        out.append(bytes(value))
    if len(out) != end - start:
        raise LogCorrupt(index=start + len(out))
    return out


class _KeyRecorder:
    """A dry-run source: notes which perfect subtrees a computation will ask for."""

    def __init__(self) -> None:
        self.keys: set[Key] = set()

    def perfect(self, level: int, position: int) -> bytes:
        self.keys.add((level, position))
        return bytes(merkle.HASH_SIZE)


class StoredSource:
    """Perfect-subtree hashes of the first `size` stored leaves, cache first."""

    def __init__(self, *, size: int) -> None:
        self.size = size
        self._memo: dict[Key, bytes] = {}
        self._chunks: dict[int, merkle.ListSource] = {}
        self._ahead: dict[int, list[bytes]] = {}
        self._fill_end = 0
        self._new: list[Key] = []

    # -- the SubtreeSource protocol ------------------------------------------------------------
    def perfect(self, level: int, position: int) -> bytes:
        if (position + 1) << level > self.size:
            raise ValueError(f"subtree ({level}, {position}) is not complete at size {self.size}")
        if level < CACHE_LEVEL:
            chunk = (position << level) >> CACHE_LEVEL
            local = position - (chunk << (CACHE_LEVEL - level))
            return self._chunk_source(chunk).perfect(level, local)
        key = (level, position)
        if key not in self._memo:
            self.prefetch([key])
        if key not in self._memo:
            self._fill(level, position)
        return self._memo[key]

    # -- cache access --------------------------------------------------------------------------
    def prefetch(self, keys: Iterable[Key]) -> None:
        """Load the cached nodes among `keys` with one query."""
        wanted = [k for k in keys if k[0] >= CACHE_LEVEL and k not in self._memo]
        if not wanted:
            return
        cond = Q()
        for level, position in wanted:
            cond |= Q(level=level, position=position)
        for level, position, value in AuditNode.objects.filter(cond).values_list("level", "position", "hash"):
            self._memo[(level, position)] = bytes(value)

    def save(self) -> None:
        """Keep the nodes built during this computation (other processes may race: first wins)."""
        if not self._new:
            return
        rows = [AuditNode(level=lv, position=pos, hash=self._memo[(lv, pos)]) for lv, pos in self._new]
        with transaction.atomic():
            AuditNode.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        self._new = []

    # -- building ------------------------------------------------------------------------------
    def _chunk_source(self, chunk: int) -> merkle.ListSource:
        if chunk not in self._chunks:
            start = chunk * CHUNK
            self._chunks[chunk] = merkle.ListSource(leaf_hashes(start, min(start + CHUNK, self.size)))
        return self._chunks[chunk]

    def _fill(self, level: int, position: int) -> None:
        """Build (level, position) from cached descendants where they exist, else from leaves."""
        start, end = position << level, (position + 1) << level
        cond = Q()
        for lv in range(CACHE_LEVEL, level):
            cond |= Q(level=lv, position__gte=start >> lv, position__lt=end >> lv)
        rows = AuditNode.objects.filter(cond).values_list("level", "position", "hash") if cond else []
        for lv, pos, value in rows:
            self._memo[(lv, pos)] = bytes(value)
        self._fill_end = end
        self._build(level, position)
        self._ahead.clear()

    def _build(self, level: int, position: int) -> bytes:
        key = (level, position)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        if level == CACHE_LEVEL:
            value = merkle.perfect_levels(self._take_chunk(position))[CACHE_LEVEL][0]
        else:
            value = merkle.node_hash(
                self._build(level - 1, 2 * position), self._build(level - 1, 2 * position + 1)
            )
        self._memo[key] = value
        self._new.append(key)
        return value

    def _take_chunk(self, chunk: int) -> list[bytes]:
        """Leaf hashes of one full chunk, read ahead in larger slices while filling."""
        if chunk not in self._ahead:
            start = chunk * CHUNK
            end = min(start + READ_AHEAD_CHUNKS * CHUNK, self._fill_end)
            hashes = leaf_hashes(start, end)
            for i in range(0, len(hashes), CHUNK):
                self._ahead[chunk + i // CHUNK] = hashes[i : i + CHUNK]
        return self._ahead.pop(chunk)


def _prepared(size: int, recorder: _KeyRecorder) -> StoredSource:
    """A source with every cached node the real computation will need loaded in one query."""
    source = StoredSource(size=size)
    source.prefetch(recorder.keys)
    return source


def tree_root(*, size: int) -> bytes:
    recorder = _KeyRecorder()
    merkle.root(recorder, size)
    source = _prepared(size, recorder)
    value = merkle.root(source, size)
    source.save()
    return value


def tree_inclusion_path(*, index: int, size: int) -> tuple[list[bytes], bytes]:
    """(path, root at `size`) for the leaf at `index`."""
    recorder = _KeyRecorder()
    merkle.inclusion_path(recorder, index, size)
    merkle.root(recorder, size)
    source = _prepared(size, recorder)
    path = merkle.inclusion_path(source, index, size)
    value = merkle.root(source, size)
    source.save()
    return path, value


def tree_consistency_path(*, first: int, second: int) -> list[bytes]:
    recorder = _KeyRecorder()
    merkle.consistency_path(recorder, first, second)
    source = _prepared(second, recorder)
    path = merkle.consistency_path(source, first, second)
    source.save()
    return path

"""Check the whole log from its raw rows, trusting nothing derived.

One streaming pass over the entries in index order: each leaf hash is recomputed from
`entry_bytes`, the entry's columns are compared with what its bytes say, indexes must be
gap-free, the tree is rebuilt from the recomputed leaves (O(log n) memory), every stored tree
head's root is compared when the pass reaches its size, its signature is checked, and every
cached Merkle node is compared with the rebuilt subtree."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from shanzhi.audit import keys, merkle
from shanzhi.audit.canonical import canonical_json
from shanzhi.audit.models import AuditEntry, AuditNode, TreeHead
from shanzhi.audit.tree import CACHE_LEVEL, log_size

BATCH = 5000
COLUMNS = ("index", "actor", "action", "object_type", "object_id", "state_digest")
COLUMN_LABELS = {
    "index": "序号",
    "timestamp": "时间",
    "actor": "操作人",
    "action": "操作",
    "object_type": "对象类型",
    "object_id": "对象编号",
    "state_digest": "状态摘要",
}


@dataclass
class Problem:
    kind: str
    message: str
    index: int | None = None
    tree_size: int | None = None


@dataclass
class VerifyReport:
    log_size: int = 0
    entries_checked: int = 0
    tree_heads_checked: int = 0
    cached_nodes_checked: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    duration_ms: int = 0
    max_problems: int = 1000

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, kind: str, message: str, *, index: int | None = None, tree_size: int | None = None) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:  # a wrecked log must not exhaust memory
            self.problems.append(Problem(kind=kind, message=message, index=index, tree_size=tree_size))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def _check_entry(report: VerifyReport, row: tuple[Any, ...]) -> bytes:
    """Check one entry; returns the leaf hash its bytes imply (what the tree must contain)."""
    index, timestamp, actor, action, object_type, object_id, digest, entry_bytes, stored_leaf = row
    data = bytes(entry_bytes)
    leaf = merkle.leaf_hash(data)
    if leaf != bytes(stored_leaf):
        report.add("leaf_hash_mismatch", f"第 {index} 条:叶哈希与记录内容不符", index=index)
    try:
        record = json.loads(data.decode())
        if not isinstance(record, dict):
            raise ValueError("not an object")
    except (UnicodeDecodeError, ValueError):
        report.add("bad_entry_bytes", f"第 {index} 条:记录内容不是有效的 JSON 对象", index=index)
        return leaf
    if canonical_json(record) != data:
        report.add("not_canonical", f"第 {index} 条:记录内容不是规范 JSON", index=index)
    columns = {
        "index": index,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "state_digest": digest,
    }
    for name in COLUMNS:
        if record.get(name) != columns[name]:
            report.add(
                "column_mismatch",
                f"第 {index} 条:字段「{COLUMN_LABELS[name]}」为 {columns[name]!r},"
                f"记录内容为 {record.get(name)!r}",
                index=index,
            )
    try:
        recorded_at = dt.datetime.fromisoformat(str(record.get("timestamp")))
        same_time = recorded_at == timestamp
    except (TypeError, ValueError):
        same_time = False
    if not same_time:
        report.add("column_mismatch", f"第 {index} 条:字段「时间」与记录内容不符", index=index)
    return leaf


def _check_head_signature(report: VerifyReport, head: TreeHead, public: Any, current_kid: str) -> None:
    ok = keys.verify_tree_head(
        tree_size=head.tree_size,
        root_hash=bytes(head.root_hash),
        timestamp=keys.timestamp_ms(head.timestamp),
        signature=bytes(head.signature),
        key=public,
    )
    if not ok:
        other = "" if head.key_id == current_kid else "(签名密钥与当前公钥不同)"
        report.add(
            "tree_head_bad_signature",
            f"树头(大小 {head.tree_size}):签名无效{other}",
            tree_size=head.tree_size,
        )


def audit_verify(*, max_problems: int = 1000) -> VerifyReport:
    started = time.monotonic()
    report = VerifyReport(max_problems=max_problems)
    # Tree heads first, then the size: every honest head then lies within the size.
    heads = list(TreeHead.objects.order_by("tree_size", "id"))
    size = log_size()
    report.log_size = size
    public = keys.public_key()
    current_kid = keys.key_id(public)
    cached = {
        (lv, pos): bytes(value)
        for lv, pos, value in AuditNode.objects.values_list("level", "position", "hash")
    }

    for head in heads:
        _check_head_signature(report, head, public, current_kid)
        if head.tree_size > size:
            report.add(
                "tree_head_beyond_log",
                f"树头(大小 {head.tree_size})超出日志长度 {size}",
                tree_size=head.tree_size,
            )
    pending = [h for h in heads if h.tree_size <= size]
    next_head = 0

    acc = merkle.Accumulator()
    expected = 0  # the next index the log should hold
    intact = True  # no entry missing so far: the rebuilt tree is the real one

    def reach(count: int) -> None:
        """Compare the heads whose size the pass has just reached."""
        nonlocal next_head
        while next_head < len(pending) and pending[next_head].tree_size <= count:
            head = pending[next_head]
            next_head += 1
            report.tree_heads_checked += 1
            if not intact:
                report.add(
                    "tree_head_unverifiable",
                    f"树头(大小 {head.tree_size}):所覆盖的记录有缺失,无法复核根哈希",
                    tree_size=head.tree_size,
                )
            elif acc.root() != bytes(head.root_hash):
                report.add(
                    "tree_head_root_mismatch",
                    f"树头(大小 {head.tree_size}):根哈希与重新计算的结果不符",
                    tree_size=head.tree_size,
                )

    def missing(start: int, end: int) -> None:
        nonlocal intact
        intact = False
        for i in range(start, end):
            report.add("missing_entry", f"第 {i} 条记录缺失", index=i)

    reach(0)
    last = -1
    while True:
        rows = list(
            AuditEntry.objects.filter(index__gt=last, index__lt=size)
            .order_by("index")
            .values_list(
                "index",
                "timestamp",
                "actor",
                "action",
                "object_type",
                "object_id",
                "state_digest",
                "entry_bytes",
                "leaf_hash",
            )[:BATCH]
        )
        if not rows:
            break
        for row in rows:
            index = row[0]
            if index != expected:
                missing(expected, index)
                expected = index
                reach(expected)  # heads inside the gap are unverifiable
            leaf = _check_entry(report, row)
            report.entries_checked += 1
            for level, position, value in acc.add(leaf):
                key = (level, position)
                if intact and level >= CACHE_LEVEL and key in cached:
                    report.cached_nodes_checked += 1
                    if cached[key] != value:
                        report.add(
                            "cached_node_mismatch",
                            f"缓存节点(层 {level},位置 {position})与记录不符,"
                            f"涉及第 {position << level}–{((position + 1) << level) - 1} 条",
                            index=position << level,
                        )
            expected += 1
            reach(expected)
        last = rows[-1][0]
    if expected < size:
        missing(expected, size)
        reach(size)
    report.duration_ms = int((time.monotonic() - started) * 1000)
    return report

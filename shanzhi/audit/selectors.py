"""Reads of the audit log, for auditors and administrators only.

The log is county-wide (it is one tree), so access is by role rather than by jurisdiction.
Proof reads may store newly completed Merkle cache nodes; that is derived data, not a change
of governed state, so it writes no audit entry."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from shanzhi.audit.models import AuditEntry, TreeHead
from shanzhi.audit.services import AUDIT_ROLES
from shanzhi.audit.tree import log_size, tree_consistency_path, tree_inclusion_path
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.selectors import has_role


def audit_reader_check(*, user: Any) -> None:
    if not has_role(user=user, roles=AUDIT_ROLES):
        raise PermissionDenied("只有审计人员或系统管理员可以查看审计日志")


def audit_log_size(*, user: Any) -> int:
    audit_reader_check(user=user)
    return log_size()


def tree_head_latest(*, user: Any) -> TreeHead | None:
    audit_reader_check(user=user)
    return TreeHead.objects.order_by("-tree_size", "-timestamp", "-id").first()


def entry_get(*, user: Any, index: int) -> AuditEntry:
    audit_reader_check(user=user)
    entry = AuditEntry.objects.filter(index=index).first()
    if entry is None:
        raise NotFound(f"审计日志中没有第 {index} 条记录")
    return entry


def entry_list_recent(*, user: Any, limit: int = 50) -> QuerySet[AuditEntry]:
    audit_reader_check(user=user)
    return AuditEntry.objects.order_by("-index")[:limit]


def inclusion_proof(*, user: Any, index: int, tree_size: int) -> tuple[list[bytes], bytes]:
    """(path, root at tree_size) proving the entry at `index` is in the tree of `tree_size`."""
    audit_reader_check(user=user)
    if index < 0 or tree_size < 0:
        raise ServiceError("invalid_range", "index 和 tree_size 不能为负数")
    size = log_size()
    if tree_size > size:
        raise ServiceError("tree_size_too_large", f"tree_size 不能超过当前日志长度 {size}")
    if index >= tree_size:
        raise ServiceError("index_out_of_range", "index 必须小于 tree_size")
    return tree_inclusion_path(index=index, size=tree_size)


def consistency_proof(*, user: Any, first: int, second: int) -> list[bytes]:
    audit_reader_check(user=user)
    if first < 0 or second < 0:
        raise ServiceError("invalid_range", "first 和 second 不能为负数")
    if first == 0:
        raise ServiceError("invalid_range", "first 必须大于 0(RFC 9162 未定义空树的一致性证明)")
    if first > second:
        raise ServiceError("invalid_range", "first 不能大于 second")
    size = log_size()
    if second > size:
        raise ServiceError("tree_size_too_large", f"second 不能超过当前日志长度 {size}")
    return tree_consistency_path(first=first, second=second)

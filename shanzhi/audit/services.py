"""Writes to the audit ledger. Every service that changes governed data calls `audit_append`
inside its own transaction, so the entry commits or rolls back with the change."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from shanzhi.audit import keys
from shanzhi.audit.canonical import canonical_json, state_digest
from shanzhi.audit.models import AuditEntry, AuditLogHead, TreeHead
from shanzhi.audit.tree import log_size, tree_root
from shanzhi.core.errors import PermissionDenied
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role

AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})


def actor_label(actor: Any) -> str:
    """The username of the acting user, or "system" for scheduled and command-line work."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "system"
    return str(actor.get_username())


def _entry(
    *, index: int, actor: str, action: str, object_type: str, object_id: str, state: Any
) -> AuditEntry:
    """An unsaved entry whose columns are copies of its canonical bytes."""
    now = timezone.now()
    record: dict[str, Any] = {
        "index": index,
        "timestamp": now.isoformat(),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "state_digest": state_digest(state),
    }
    entry_bytes = canonical_json(record)
    return AuditEntry(
        index=index,
        timestamp=now,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        state_digest=record["state_digest"],
        entry_bytes=entry_bytes,
        leaf_hash=hashlib.sha256(b"\x00" + entry_bytes).digest(),
    )


def _require_transaction(name: str) -> None:
    # An entry outside the change's transaction could survive a rolled-back change.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} must be called inside the service's transaction")


def audit_append(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    state: Any,
) -> AuditEntry:
    """Append one entry: who did `action` to which object, with a digest of its new state.

    Must run inside the caller's `transaction.atomic()`; raises if it does not.
    """
    _require_transaction("audit_append")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    if not object_type or not action:
        raise ValueError("audit entries need an action and an object type")
    head, _ = AuditLogHead.objects.select_for_update().get_or_create(pk=1)
    entry = _entry(
        index=head.next_index,
        actor=actor_label(actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        state=state,
    )
    entry.save(force_insert=True)
    head.next_index += 1
    head.save(update_fields=["next_index"])
    return entry


def audit_append_many(*, actor: Any, items: list[tuple[str, models.Model, Any]]) -> list[AuditEntry]:
    """One entry per (action, obj, state), exactly as that many `audit_append` calls would make,
    with one head lock, one insert and one head update (for batch work such as the SLA sweep)."""
    _require_transaction("audit_append_many")
    if not items:
        return []
    head, _ = AuditLogHead.objects.select_for_update().get_or_create(pk=1)
    label = actor_label(actor)
    entries = [
        _entry(
            index=head.next_index + offset,
            actor=label,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            state=state,
        )
        for offset, (action, obj, state) in enumerate(items)
    ]
    AuditEntry.objects.bulk_create(entries)
    head.next_index += len(entries)
    head.save(update_fields=["next_index"])
    return entries


def tree_head_sign(*, actor: Any = None, force: bool = False) -> TreeHead:
    """Sign the log's current root, unless the latest tree head already covers it.

    `force` signs again at the same size (a fresh timestamp, e.g. to show the log is alive).
    Signing writes no audit entry: that entry would grow the log, and the next run would have
    to sign again, forever. The root is computed before taking the head lock so appends wait
    only for the insert; the lock makes two signers at once produce one tree head."""
    if actor is not None and not has_role(user=actor, roles=AUDIT_ROLES):
        raise PermissionDenied("只有审计人员或系统管理员可以签署树头")
    size = log_size()
    latest = TreeHead.objects.order_by("-tree_size", "-timestamp", "-id").first()
    if latest is not None and latest.tree_size >= size and not force:
        return latest
    root_hash = tree_root(size=size)
    with transaction.atomic():
        AuditLogHead.objects.select_for_update().get_or_create(pk=1)
        latest = TreeHead.objects.order_by("-tree_size", "-timestamp", "-id").first()
        if latest is not None and latest.tree_size >= size and not force:
            return latest
        now = timezone.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # the signature covers whole ms
        stamp = keys.timestamp_ms(now)
        return TreeHead.objects.create(
            tree_size=size,
            root_hash=root_hash,
            timestamp=now,
            signature=keys.sign_tree_head(tree_size=size, root_hash=root_hash, timestamp=stamp),
            key_id=keys.key_id(),
        )

"""Writes to the audit ledger. Every service that changes governed data calls `audit_append`
inside its own transaction, so the entry commits or rolls back with the change."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from shanzhi.audit.canonical import canonical_json, state_digest
from shanzhi.audit.models import AuditEntry, AuditLogHead


def actor_label(actor: Any) -> str:
    """The username of the acting user, or "system" for scheduled and command-line work."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "system"
    return str(actor.get_username())


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

    Must run inside the caller's `transaction.atomic()`; raises if it does not, because an
    entry outside the change's transaction could survive a rolled-back change.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_append must be called inside the service's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    if not object_type or not action:
        raise ValueError("audit entries need an action and an object type")
    head, _ = AuditLogHead.objects.select_for_update().get_or_create(pk=1)
    index = head.next_index
    now = timezone.now()
    record = {
        "index": index,
        "timestamp": now.isoformat(),
        "actor": actor_label(actor),
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "state_digest": state_digest(state),
    }
    entry_bytes = canonical_json(record)
    entry = AuditEntry.objects.create(
        index=index,
        timestamp=now,
        actor=record["actor"],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        state_digest=record["state_digest"],
        entry_bytes=entry_bytes,
        leaf_hash=hashlib.sha256(b"\x00" + entry_bytes).digest(),
    )
    head.next_index = index + 1
    head.save(update_fields=["next_index"])
    return entry

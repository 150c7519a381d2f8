"""Ways to grow the log in tests."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone

from shanzhi.audit.canonical import canonical_json, state_digest
from shanzhi.audit.models import AuditEntry, AuditLogHead
from shanzhi.audit.services import audit_append


def append_real(n: int, *, action: str = "thing.touch") -> None:
    """n entries through the real `audit_append`, in one transaction."""
    with transaction.atomic():
        for i in range(n):
            audit_append(
                actor=None, action=action, object_type="test.thing", object_id=str(i), state={"i": i}
            )


def append_bulk(n: int) -> None:
    """n entries in audit_append's exact format, bulk-inserted: for trees big enough to use the
    node cache without thousands of round trips. `verify` checks the format agrees."""
    head, _ = AuditLogHead.objects.get_or_create(pk=1)
    start = head.next_index
    now = timezone.now()
    rows = []
    for index in range(start, start + n):
        record: dict[str, Any] = {
            "index": index,
            "timestamp": now.isoformat(),
            "actor": "system",
            "action": "bulk.fill",
            "object_type": "test.bulk",
            "object_id": str(index),
            "state_digest": state_digest({"i": index}),
        }
        data = canonical_json(record)
        rows.append(
            AuditEntry(
                index=index,
                timestamp=now,
                actor="system",
                action="bulk.fill",
                object_type="test.bulk",
                object_id=str(index),
                state_digest=record["state_digest"],
                entry_bytes=data,
                leaf_hash=hashlib.sha256(b"\x00" + data).digest(),
            )
        )
    AuditEntry.objects.bulk_create(rows, batch_size=500)
    head.next_index = start + n
    head.save(update_fields=["next_index"])


def stored_leaves() -> list[bytes]:
    return [bytes(h) for h in AuditEntry.objects.order_by("index").values_list("leaf_hash", flat=True)]

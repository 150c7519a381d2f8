"""The append-only audit ledger and its signed tree heads."""

from __future__ import annotations

from django.db import models


class AuditLogHead(models.Model):
    """One row: the next free index. Locked (SELECT … FOR UPDATE) by every append so that
    indexes are gap-free and ordered even with many app servers."""

    next_index = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "审计日志头"


class AuditEntry(models.Model):
    """One state change of governed data. `entry_bytes` is the canonical serialization that
    the Merkle leaf hashes (RFC 9162: SHA-256(0x00 ‖ entry_bytes)); the other columns are
    copies for querying and must agree with it."""

    index = models.BigIntegerField(unique=True)
    timestamp = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    state_digest = models.CharField(max_length=64)
    entry_bytes = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["index"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"

    def __str__(self) -> str:
        return f"#{self.index} {self.action} {self.object_type}:{self.object_id}"

"""The append-only audit ledger and its signed tree heads."""

from __future__ import annotations

from django.db import models


class AuditLogHead(models.Model):
    """One row: the next free index. Locked (SELECT … FOR UPDATE) by every append so that
    indexes are gap-free and ordered even with many app servers."""

    next_index = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "审计日志头"

    def __str__(self) -> str:
        return f"next index {self.next_index}"


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


class TreeHead(models.Model):
    """A signed tree head (STH): the log's root at `tree_size`, signed with the log's Ed25519 key.
    The signed bytes are described in docs/audit.md and built by `keys.tree_head_message`."""

    tree_size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    timestamp = models.DateTimeField(help_text="whole milliseconds; the signature covers them")
    signature = models.BinaryField(max_length=64)
    key_id = models.CharField(max_length=64, help_text="SHA-256 (hex) of the raw public key that signed")

    class Meta:
        ordering = ["-tree_size", "-timestamp", "-id"]
        indexes = [models.Index(fields=["tree_size"])]
        verbose_name = "签名树头"
        verbose_name_plural = "签名树头"

    def __str__(self) -> str:
        return f"STH {self.tree_size} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class AuditNode(models.Model):
    """A cached hash of a completed perfect subtree (leaves [position·2^level, (position+1)·2^level)).

    Derived data: it only saves rehashing old leaves for roots and proofs. `verify` recomputes
    every cached node from the entries and reports any that disagree."""

    level = models.PositiveSmallIntegerField()
    position = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "position"], name="audit_node_unique")]
        verbose_name = "默克尔缓存节点"
        verbose_name_plural = "默克尔缓存节点"

    def __str__(self) -> str:
        return f"node ({self.level}, {self.position})"

"""The outbox: every message the platform sends, with its delivery record."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MessageChannel(models.TextChoices):
    IN_APP = "in_app", "站内消息"
    SMS = "sms", "短信"
    EMAIL = "email", "电子邮件"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "待发送"
    DELIVERED = "delivered", "已送达"
    FAILED = "failed", "发送失败"


class Message(models.Model):
    channel = models.CharField(max_length=8, choices=MessageChannel.choices)
    kind = models.CharField(max_length=32, help_text="what it is about, e.g. case.escalation")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    phone = models.CharField(max_length=11, blank=True)
    subject = models.CharField(max_length=128, blank=True)
    body = models.TextField()
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        verbose_name = "消息"
        verbose_name_plural = "消息"

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.kind} → {self.recipient or self.phone}"

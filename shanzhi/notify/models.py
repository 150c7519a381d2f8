"""The outbox: every message the platform sends, each delivery attempt, and the editable templates."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shanzhi.core.masking import mask_phone


class MessageChannel(models.TextChoices):
    IN_APP = "in_app", "站内消息"
    SMS = "sms", "短信"
    EMAIL = "email", "电子邮件"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "待发送"
    DELIVERED = "delivered", "已送达"
    FAILED = "failed", "发送失败"


class Message(models.Model):
    """One message to one person on one channel.

    In-app messages are delivered by being stored. SMS and e-mail stay `queued` until a worker
    delivers them; `next_attempt_at` is when a worker may (next) try, and doubles as a lease while
    one is trying, so two workers never send the same message at once.
    """

    channel = models.CharField("渠道", max_length=8, choices=MessageChannel.choices)
    kind = models.CharField("类型", max_length=64, help_text="what it is about, e.g. case.escalation")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name="接收人",
    )
    phone = models.CharField("手机号", max_length=11, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    subject = models.CharField("标题", max_length=128, blank=True)
    body = models.TextField("内容")
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送", null=True, blank=True, db_index=True)
    last_error = models.CharField("最近错误", max_length=255, blank=True)
    provider_id = models.CharField("服务商回执号", max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]
        verbose_name = "消息"
        verbose_name_plural = "消息"

    def __str__(self) -> str:
        to = self.recipient or mask_phone(self.phone) or self.email
        return f"{self.get_channel_display()} {self.kind} → {to}"


class MessageAttempt(models.Model):
    """One try to hand a message to the SMS provider or the mail server."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveSmallIntegerField("第几次")
    at = models.DateTimeField("时间")
    ok = models.BooleanField("成功")
    provider_id = models.CharField("服务商回执号", max_length=64, blank=True)
    error = models.CharField("错误", max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField("耗时(毫秒)", default=0)

    class Meta:
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="notify_attempt_number_unique")
        ]
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"

    def __str__(self) -> str:
        return f"#{self.message_id} 第 {self.number} 次 {'成功' if self.ok else '失败'}"


class MessageTemplate(models.Model):
    """The wording of one kind of message on one channel, editable in the back office.

    `code` is a message kind ("rating.rectified") or a family ("case.*"); `body` and `subject`
    take {placeholders} filled from the message's context. A kind without a row uses the
    built-in default in notify/wording.py.
    """

    code = models.CharField("消息类型", max_length=64)
    channel = models.CharField("渠道", max_length=8, choices=MessageChannel.choices)
    subject = models.CharField("标题", max_length=128, blank=True)
    body = models.TextField("内容", help_text="可用 {占位符},如 {body}、{number}")
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        ordering = ["code", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["code", "channel"], name="notify_template_code_channel_unique")
        ]
        verbose_name = "消息模板"
        verbose_name_plural = "消息模板"

    def __str__(self) -> str:
        return f"{self.code} ({self.get_channel_display()})"

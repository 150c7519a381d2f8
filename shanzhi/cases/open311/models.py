"""Open311 clients (external systems holding an api_key) and the requests they created."""

from __future__ import annotations

from django.db import models

from shanzhi.cases.models import Case, Category


class Open311Client(models.Model):
    """One api_key issued to an external system. Only the key's SHA-256 is stored; the key is
    shown once. Several keys may share a name (rotation): they are the same client, and share
    its Idempotency-Key namespace."""

    name = models.CharField("客户端名称", max_length=64)
    prefix = models.CharField("密钥前缀", max_length=16, help_text="first characters, to tell keys apart")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        ordering = ["name", "created_at", "id"]
        verbose_name = "Open311 客户端"
        verbose_name_plural = "Open311 客户端"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Open311Request(models.Model):
    """A case created through Open311: which client sent it, the service_code it chose, the
    token returned to it, and the client-side ids the spec lets it send."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="open311")
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    service = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="+", verbose_name="客户端选择的类别"
    )
    token = models.CharField(max_length=32, unique=True)
    account_id = models.CharField(max_length=64, blank=True)
    device_id = models.CharField(max_length=64, blank=True)
    address_id = models.CharField(max_length=64, blank=True)
    media_url = models.URLField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "Open311 请求"
        verbose_name_plural = "Open311 请求"

    def __str__(self) -> str:
        return f"{self.token} → {self.case_id}"

"""The hall's windows and queue numbers (取号): who waited how long, and how long each window took.

Waiting = called − taken; handling = finished − started. The seed's target is 15 minutes of
waiting (from 45); the window page shows each window's averages against it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shanzhi.core.models import Region


class ServiceWindow(models.Model):
    """A counter in a service hall (the county centre or a township's 便民服务中心)."""

    hall = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="service_windows", verbose_name="服务大厅"
    )
    code = models.CharField("窗口号", max_length=8)
    name = models.CharField("窗口名称", max_length=64)
    themes = models.JSONField("办理主题", default=list, blank=True, help_text="空 = 综合窗口,各主题都办")
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["hall__path", "code"]
        constraints = [models.UniqueConstraint(fields=["hall", "code"], name="service_window_code_unique")]
        verbose_name = "服务窗口"
        verbose_name_plural = "服务窗口"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def serves(self, theme: str) -> bool:
        return not self.themes or not theme or theme in self.themes


class TicketStatus(models.TextChoices):
    WAITING = "waiting", "等候中"
    CALLED = "called", "已叫号"
    SERVING = "serving", "办理中"
    DONE = "done", "已办完"
    SKIPPED = "skipped", "过号"


class QueueTicket(models.Model):
    hall = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="服务大厅")
    day = models.DateField()
    number = models.CharField("号码", max_length=8)
    theme = models.CharField("办理主题", max_length=24, blank=True)
    phone = models.CharField("手机号", max_length=11, blank=True)
    status = models.CharField(max_length=8, choices=TicketStatus.choices, default=TicketStatus.WAITING)
    window = models.ForeignKey(
        ServiceWindow, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    application = models.ForeignKey(
        "onewindow.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    taken_at = models.DateTimeField("取号时间")
    called_at = models.DateTimeField("叫号时间", null=True, blank=True)
    started_at = models.DateTimeField("开始办理", null=True, blank=True)
    finished_at = models.DateTimeField("办理完毕", null=True, blank=True)

    class Meta:
        ordering = ["hall", "day", "taken_at", "id"]
        indexes = [models.Index(fields=["hall", "status", "taken_at"])]
        constraints = [
            models.UniqueConstraint(fields=["hall", "day", "number"], name="queue_ticket_number_unique")
        ]
        verbose_name = "排队号"
        verbose_name_plural = "排队号"

    def __str__(self) -> str:
        return f"{self.day} {self.number}"


class QueueSequence(models.Model):
    hall = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hall", "day"], name="queue_sequence_hall_day")]

    def __str__(self) -> str:
        return f"{self.hall_id} {self.day}: {self.last}"

"""Warnings (预警): CAP 1.2 alerts received or issued, the feeds they are polled from, and what
each one reached — grids, households (by SMS or a visit) and grid tasks.

Imported at the end of emergency/models.py, so these are models of the `emergency` app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shanzhi.core.models import Region
from shanzhi.emergency.models import GridTask, Incident
from shanzhi.grid.models import Grid, Household

__all__ = [
    "DeliveryChannel",
    "FeedFormat",
    "Warning",
    "WarningDelivery",
    "WarningFeed",
    "WarningGrid",
    "WarningSource",
    "WarningState",
    "WarningTask",
]


class WarningSource(models.TextChoices):
    API = "api", "接口推送"
    FEED = "feed", "订阅源"
    COUNTY = "county", "本县发布"


class WarningState(models.TextChoices):
    ACTIVE = "active", "生效中"
    UPDATED = "updated", "已被更新"
    CANCELLED = "cancelled", "已撤销"
    EXPIRED = "expired", "已过期"


class FeedFormat(models.TextChoices):
    ATOM = "atom", "Atom 订阅(条目链接或内嵌 CAP)"
    CAP = "cap", "单条 CAP 消息"


class WarningFeed(models.Model):
    """A URL polled for alerts with a conditional GET; errors are kept on the row for the admin."""

    name = models.CharField("名称", max_length=64)
    url = models.URLField("地址", max_length=500, unique=True)
    format = models.CharField("格式", max_length=8, choices=FeedFormat.choices, default=FeedFormat.ATOM)
    enabled = models.BooleanField("启用", default=True)
    interval_minutes = models.PositiveSmallIntegerField("轮询间隔(分钟)", default=5)
    last_polled_at = models.DateTimeField("最近轮询", null=True, blank=True)
    last_ok_at = models.DateTimeField("最近成功", null=True, blank=True)
    etag = models.CharField(max_length=255, blank=True, editable=False)
    last_modified = models.CharField(max_length=64, blank=True, editable=False)
    last_status = models.CharField("最近结果", max_length=64, blank=True, editable=False)
    last_error = models.TextField("最近错误", blank=True, editable=False)
    received_count = models.PositiveIntegerField("已接收预警数", default=0, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "预警订阅源"
        verbose_name_plural = "预警订阅源"

    def __str__(self) -> str:
        return self.name


class Warning(models.Model):
    """One CAP message as received or issued. The raw XML is kept as it came; the columns are the
    primary <info> block (the Chinese one when there is one), for lists and decisions."""

    identifier = models.CharField("编号", max_length=255)
    sender = models.CharField("发送方", max_length=255)
    sent = models.DateTimeField("发送时间")
    status = models.CharField("CAP 状态", max_length=16)  # Actual, Exercise, System, Test, Draft
    msg_type = models.CharField("消息类型", max_length=16)  # Alert, Update, Cancel
    scope = models.CharField("范围类型", max_length=16)
    source = models.CharField("来源", max_length=8, choices=WarningSource.choices)
    feed = models.ForeignKey(
        WarningFeed, null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings"
    )
    version = models.CharField("CAP 版本", max_length=8, default="1.2")
    language = models.CharField("语言", max_length=35, blank=True)
    category = models.CharField("类别", max_length=16, blank=True)
    event = models.CharField("事件", max_length=255, blank=True)
    event_kind = models.CharField(
        "防御清单类型", max_length=16, blank=True, help_text="typhoon/flood/rainstorm/heat/earthquake/generic"
    )
    urgency = models.CharField("紧迫程度", max_length=16, blank=True)
    severity = models.CharField("严重程度", max_length=16, blank=True, db_index=True)
    certainty = models.CharField("确定程度", max_length=16, blank=True)
    sender_name = models.CharField("发布单位", max_length=255, blank=True)
    headline = models.CharField("标题", max_length=255, blank=True)
    description = models.TextField("内容", blank=True)
    instruction = models.TextField("防御指引", blank=True)
    effective = models.DateTimeField("生效时间", null=True, blank=True)
    onset = models.DateTimeField("开始时间", null=True, blank=True)
    expires = models.DateTimeField("失效时间", null=True, blank=True, db_index=True)
    area_desc = models.TextField("范围描述", blank=True)
    area = models.JSONField("范围(GeoJSON)", default=dict, blank=True)
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="warnings",
        verbose_name="所属区域",
        help_text="包含全部受影响网格的最小区域",
    )
    references = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="referenced_by", verbose_name="所更新/撤销的预警"
    )
    references_text = models.TextField("引用", blank=True)
    state = models.CharField(
        "状态", max_length=16, choices=WarningState.choices, default=WarningState.ACTIVE, db_index=True
    )
    raw_xml = models.TextField("CAP 原文")
    digest = models.CharField("原文 SHA-256", max_length=64)
    level = models.CharField("响应级别", max_length=8, blank=True, help_text="high / medium / low / none")
    grid_count = models.PositiveIntegerField("涉及网格数", default=0)
    household_count = models.PositiveIntegerField("涉及户数", default=0)
    care_household_count = models.PositiveIntegerField("重点关爱户数", default=0)
    sms_count = models.PositiveIntegerField("短信条数", default=0)
    visit_count = models.PositiveIntegerField("需上门告知户数", default=0)
    task_count = models.PositiveIntegerField("网格任务数", default=0)
    received_at = models.DateTimeField("接收时间", auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="提交人",
    )
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="warnings",
        verbose_name="据此启动的应急事件",
    )
    state_changed_at = models.DateTimeField("状态变更时间", null=True, blank=True)

    class Meta:
        ordering = ["-sent", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["sender", "identifier"], name="warning_sender_identifier_unique")
        ]
        indexes = [models.Index(fields=["state", "expires"], name="warning_state_expires")]
        verbose_name = "预警"
        verbose_name_plural = "预警"

    def __str__(self) -> str:
        return self.headline or self.event or self.identifier


class WarningGrid(models.Model):
    """A grid the warning reaches, with its household counts (for the page and jurisdiction)."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="grids")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="warnings")
    households = models.PositiveIntegerField("户数", default=0)
    care_households = models.PositiveIntegerField("重点关爱户数", default=0)

    class Meta:
        ordering = ["grid__code"]
        constraints = [models.UniqueConstraint(fields=["warning", "grid"], name="warning_grid_unique")]
        verbose_name = "预警涉及网格"
        verbose_name_plural = "预警涉及网格"

    def __str__(self) -> str:
        return f"{self.warning_id} → {self.grid_id}"


class DeliveryChannel(models.TextChoices):
    SMS = "sms", "短信"
    VISIT = "visit", "网格员上门/电话告知"


class WarningDelivery(models.Model):
    """How one household is told of one warning. `rank` is the order of sending: households with
    care flags first, then the rest."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="deliveries")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="warning_deliveries")
    channel = models.CharField("方式", max_length=8, choices=DeliveryChannel.choices)
    rank = models.PositiveIntegerField("顺序")
    care = models.BooleanField("重点关爱户", default=False)
    message = models.ForeignKey(
        "notify.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task = models.ForeignKey(GridTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["warning", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["warning", "household"], name="warning_delivery_unique")
        ]
        verbose_name = "预警送达"
        verbose_name_plural = "预警送达"

    def __str__(self) -> str:
        return f"{self.warning_id} → 户 {self.household_id}({self.get_channel_display()})"


class WarningTask(models.Model):
    """A grid task created for (or carried over to) a warning: a visit list or a defence checklist."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="task_links")
    task = models.ForeignKey(GridTask, on_delete=models.PROTECT, related_name="warning_links")

    class Meta:
        ordering = ["warning", "task"]
        constraints = [models.UniqueConstraint(fields=["warning", "task"], name="warning_task_unique")]
        verbose_name = "预警任务"
        verbose_name_plural = "预警任务"

    def __str__(self) -> str:
        return f"{self.warning_id} → 任务 {self.task_id}"

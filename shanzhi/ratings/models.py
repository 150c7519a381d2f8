"""好差评: one rating per rated object, rectification of bad ratings, appeals, and 办不成事 reports.

A rating points at any rated object by (object_type, object_id) — "case" and a case number,
later "application" and an application number — through the registry in registry.py. Region,
responsible unit and staff are copied onto the rating when it is made, so jurisdiction and
rankings never need to reach back into the rated app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shanzhi.core.models import Handler, Region, Staff


class Level(models.TextChoices):
    """The five levels of GB/T 39734-2020 (政务服务评价工作指南)."""

    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"
    VERY_UNSATISFIED = "very_unsatisfied", "非常不满意"


GOOD_LEVELS = (Level.VERY_SATISFIED, Level.SATISFIED, Level.BASIC)
BAD_LEVELS = (Level.UNSATISFIED, Level.VERY_UNSATISFIED)


class RatingChannel(models.TextChoices):
    WINDOW = "window", "窗口评价器"
    APP = "app", "移动端"
    SMS = "sms", "短信"
    HOTLINE = "hotline", "热线电话"
    KIOSK = "kiosk", "自助终端"
    WEB = "web", "网站"


class Rating(models.Model):
    object_type = models.CharField("评价对象类型", max_length=32)
    object_id = models.CharField("评价对象编号", max_length=64)
    object_title = models.CharField("评价对象", max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="所属区域")
    handler = models.ForeignKey(
        Handler,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
        verbose_name="责任单位",
    )
    staff = models.ForeignKey(
        Staff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ratings",
        verbose_name="责任人",
    )
    level = models.CharField("评价等级", max_length=16, choices=Level.choices)
    comment = models.CharField("评价内容", max_length=500, blank=True)
    channel = models.CharField("评价渠道", max_length=8, choices=RatingChannel.choices)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ratings_given",
        verbose_name="评价人",
    )
    rater_phone = models.CharField("评价人手机号", max_length=11, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="who typed it in, when not the rater (e.g. a hotline operator)",
    )
    created_at = models.DateTimeField("评价时间", db_index=True)
    # An upheld appeal (恶意差评) keeps the rating, marked, but out of rankings.
    excluded = models.BooleanField("不计入排名", default=False)
    excluded_reason = models.CharField("不计入原因", max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "object_id"], name="ratings_one_per_object"),
        ]
        indexes = [
            models.Index(fields=["staff", "created_at"]),
            models.Index(fields=["level", "created_at"]),
        ]
        verbose_name = "评价"
        verbose_name_plural = "评价"

    def __str__(self) -> str:
        return f"{self.object_title}:{self.get_level_display()}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS


class RectificationStatus(models.TextChoices):
    OPEN = "open", "待回访"
    CALLED_BACK = "called_back", "已回访,整改中"
    FIXED = "fixed", "已整改"
    OVERDUE = "overdue", "已超期"
    WITHDRAWN = "withdrawn", "申诉成立,已撤销"


OPEN_RECTIFICATION = (RectificationStatus.OPEN, RectificationStatus.CALLED_BACK, RectificationStatus.OVERDUE)


class Rectification(models.Model):
    """The responsible unit's answer to a bad rating: call the rater back, fix, report the result."""

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="rectification")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    handler = models.ForeignKey(
        Handler,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
        verbose_name="责任单位",
    )
    status = models.CharField(
        "状态", max_length=16, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    opened_at = models.DateTimeField("开始时间")
    deadline = models.DateTimeField("整改期限", db_index=True)
    called_back_at = models.DateTimeField("回访时间", null=True, blank=True)
    called_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rater_said = models.TextField("回访情况(评价人意见)", blank=True)
    fixed_at = models.DateTimeField("整改完成时间", null=True, blank=True)
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.TextField("整改结果", blank=True)
    overdue_at = models.DateTimeField("超期时间", null=True, blank=True)

    class Meta:
        ordering = ["deadline", "pk"]
        indexes = [models.Index(fields=["status", "deadline"])]
        verbose_name = "差评整改"
        verbose_name_plural = "差评整改"

    def __str__(self) -> str:
        return f"整改:{self.rating.object_title}"

    @property
    def fixed_late(self) -> bool:
        return self.fixed_at is not None and self.fixed_at > self.deadline


class AppealStatus(models.TextChoices):
    PENDING = "pending", "待裁定"
    UPHELD = "upheld", "申诉成立"
    REFUSED = "refused", "申诉不成立"


class Appeal(models.Model):
    """A responsible unit's claim that a bad rating is malicious (恶意差评), for a supervisor to decide."""

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="appeal")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("申诉理由")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField("申诉时间")
    status = models.CharField(
        "状态", max_length=16, choices=AppealStatus.choices, default=AppealStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("裁定时间", null=True, blank=True)
    decision_note = models.TextField("裁定意见", blank=True)

    class Meta:
        ordering = ["filed_at", "pk"]
        indexes = [models.Index(fields=["status", "filed_at"])]
        verbose_name = "差评申诉"
        verbose_name_plural = "差评申诉"

    def __str__(self) -> str:
        return f"申诉:{self.rating.object_title}"


class ReportStatus(models.TextChoices):
    OPEN = "open", "待响应"
    RESPONDED = "responded", "已响应,办理中"
    RESOLVED = "resolved", "已解决"


class CannotGetDoneReport(models.Model):
    """“办不成事”反映: something a resident could not get done, straight to a supervisor.

    respond_by / resolve_by are the clock's thresholds in working time; the sweep escalates a
    report whose threshold passed and whose step has not fired yet (respond_escalated_at,
    resolve_escalated_at), like the case ladder.
    """

    number = models.CharField("编号", max_length=20, unique=True)
    what = models.TextField("想办什么事、遇到什么问题")
    where = models.CharField("在哪里办(窗口、部门或地点)", max_length=200, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="所属区域")
    contact_name = models.CharField("联系人", max_length=64, blank=True)
    contact_phone = models.CharField("联系电话", max_length=11, blank=True)
    channel = models.CharField("反映渠道", max_length=8, choices=RatingChannel.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("反映时间", db_index=True)
    status = models.CharField("状态", max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    respond_by = models.DateTimeField("响应时限", db_index=True)
    resolve_by = models.DateTimeField("解决时限", db_index=True)
    responded_at = models.DateTimeField("响应时间", null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response = models.TextField("响应情况", blank=True)
    resolved_at = models.DateTimeField("解决时间", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField("解决结果", blank=True)
    respond_escalated_at = models.DateTimeField(null=True, blank=True)
    resolve_escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["respond_by", "pk"]
        indexes = [models.Index(fields=["status", "created_at"])]
        verbose_name = "办不成事反映"
        verbose_name_plural = "办不成事反映"

    def __str__(self) -> str:
        return self.number

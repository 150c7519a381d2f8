"""The triage model's versions, the dispatchers' labelled examples, and the auto-dispatch setting.

A fitted pipeline is stored as bytes in the database, never in a local file: every app server
reads the same active version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class TriageModel(models.Model):
    """One trained version. Exactly one row is active at a time (a partial unique index)."""

    version = models.PositiveIntegerField("版本", unique=True)
    created_at = models.DateTimeField("训练时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="训练人",
    )
    blob = models.BinaryField("模型数据", editable=False)
    blob_sha256 = models.CharField("模型摘要", max_length=64, editable=False)
    sklearn_version = models.CharField("scikit-learn 版本", max_length=32, editable=False)
    n_examples = models.PositiveIntegerField("训练样本数", default=0)
    n_corrections = models.PositiveIntegerField("其中纠正样本数", default=0)
    metrics = models.JSONField("评估指标", default=dict, blank=True)
    active = models.BooleanField("启用", default=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="triage_one_active_model"
            )
        ]
        verbose_name = "分拨模型"
        verbose_name_plural = "分拨模型"

    def __str__(self) -> str:
        return f"v{self.version}"


class ExampleSource(models.TextChoices):
    CORPUS = "corpus", "批量导入"
    CORRECTION = "correction", "调度纠正"


class TriageExample(models.Model):
    """A labelled request added after shipping: a dispatcher's correction or an imported record.

    Training uses the shipped corpus plus every row here (later rows win for the same text).
    """

    text = models.TextField("诉求内容")
    category = models.CharField("类别代码", max_length=8, db_index=True)
    source = models.CharField(
        "来源", max_length=16, choices=ExampleSource.choices, default=ExampleSource.CORRECTION
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="添加人",
    )
    created_at = models.DateTimeField("添加时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "分拨样本"
        verbose_name_plural = "分拨样本"

    def __str__(self) -> str:
        return f"{self.category} {self.text[:20]}"


class TriageSettings(models.Model):
    """One row (pk=1). Also the row that training locks, so two processes never store the
    first model twice."""

    auto_dispatch_threshold = models.FloatField(
        "自动派遣置信度阈值",
        default=0.85,
        help_text="分拨置信度不低于此值且承办单位齐全时,案件自动派遣;否则进入调度员队列",
    )

    class Meta:
        verbose_name = "分拨设置"
        verbose_name_plural = "分拨设置"

    def __str__(self) -> str:
        return "分拨设置"

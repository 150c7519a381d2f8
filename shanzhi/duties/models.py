"""权责清单: township duty lists (乡镇履职事项清单) and village assist lists (村级协助事项清单).

A list belongs to one region and one year and moves draft → published → superseded. Items are
only edited on drafts; a yearly revision is a new draft copied from the last published list, so
every published version stays as it was and versions can be compared.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DutyListKind(models.TextChoices):
    TOWNSHIP = "township", "乡镇履职事项清单"
    VILLAGE_ASSIST = "village_assist", "村级协助事项清单"


class DutyListStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    SUPERSEDED = "superseded", "已被替代"


class DutyType(models.TextChoices):
    LICENSING = "licensing", "行政许可"
    PENALTY = "penalty", "行政处罚"
    INSPECTION = "inspection", "行政检查"
    ENFORCEMENT = "enforcement", "行政强制"
    CONFIRMATION = "confirmation", "行政确认"
    PAYMENT = "payment", "行政给付"
    REWARD = "reward", "行政奖励"
    PUBLIC_SERVICE = "public_service", "公共服务"
    OTHER = "other", "其他职权"


class DutyList(models.Model):
    region = models.ForeignKey(
        "core.Region", on_delete=models.PROTECT, related_name="duty_lists", verbose_name="所属区域"
    )
    kind = models.CharField("清单类别", max_length=16, choices=DutyListKind.choices)
    year = models.PositiveSmallIntegerField("年度")
    version = models.PositiveIntegerField("版本号")
    status = models.CharField(
        "状态", max_length=16, choices=DutyListStatus.choices, default=DutyListStatus.DRAFT
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
        verbose_name="修订自",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["region__path", "-year", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "version"], name="duty_list_version_unique"),
            # The database, not only the service, keeps one published and one draft per region and year.
            models.UniqueConstraint(
                fields=["region", "year"],
                condition=models.Q(status="published"),
                name="duty_list_one_published",
            ),
            models.UniqueConstraint(
                fields=["region", "year"], condition=models.Q(status="draft"), name="duty_list_one_draft"
            ),
        ]
        verbose_name = "权责清单"
        verbose_name_plural = "权责清单"

    def __str__(self) -> str:
        return f"{self.region.name}{self.year}年{self.get_kind_display()}(第{self.version}版)"

    @property
    def is_draft(self) -> bool:
        return self.status == DutyListStatus.DRAFT


class Duty(models.Model):
    """One duty of a township (履职事项)."""

    duty_list = models.ForeignKey(DutyList, on_delete=models.CASCADE, related_name="duties")
    position = models.PositiveIntegerField("序号", default=0)
    code = models.CharField("事项编码", max_length=32)
    name = models.CharField("事项名称", max_length=200)
    type = models.CharField("职权类型", max_length=16, choices=DutyType.choices)
    legal_basis = models.TextField("设定依据")
    lead_handler = models.CharField(
        "牵头承办单位", max_length=64, help_text="承办单位类型代码(如 urban_mgmt)或部门名称"
    )
    category_codes = models.JSONField("涉及诉求类别", default=list, blank=True)
    notes = models.TextField("备注", blank=True)

    class Meta:
        ordering = ["duty_list", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["duty_list", "code"], name="duty_code_unique_in_list")]
        verbose_name = "履职事项"
        verbose_name_plural = "履职事项"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AssistItem(models.Model):
    """One matter a village committee assists a government department with (协助事项)."""

    duty_list = models.ForeignKey(DutyList, on_delete=models.CASCADE, related_name="assist_items")
    position = models.PositiveIntegerField("序号", default=0)
    code = models.CharField("事项编码", max_length=32)
    name = models.CharField("事项名称", max_length=200)
    assists = models.CharField("协助部门", max_length=64, help_text="承办单位类型代码或部门名称")
    basis = models.TextField("依据")
    category_codes = models.JSONField("涉及诉求类别", default=list, blank=True)
    notes = models.TextField("备注", blank=True)

    class Meta:
        ordering = ["duty_list", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["duty_list", "code"], name="assist_code_unique_in_list")
        ]
        verbose_name = "村级协助事项"
        verbose_name_plural = "村级协助事项"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

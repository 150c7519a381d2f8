"""The org tree: regions, handler bodies, estates, staff and their roles, API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RegionLevel(models.TextChoices):
    COUNTY = "county", "县"
    TOWNSHIP = "township", "乡镇/街道"
    VILLAGE = "village", "村/社区"


class Region(models.Model):
    """A node of county → township/sub-district → village/community.

    `path` is the chain of division codes from the county down ("331199000000/331199101000/"),
    so "this subtree" is one indexed prefix filter on every database.
    """

    code = models.CharField("统计用区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=16, choices=RegionLevel.choices)
    kind = models.CharField("类别", max_length=16, blank=True, help_text="镇/乡/街道, 村/社区")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = "行政区域"
        verbose_name_plural = "行政区域"

    def __str__(self) -> str:
        return self.name


class HandlerKind(models.TextChoices):
    DEPARTMENT = "department", "县直部门"
    ORG_LEVEL = "org_level", "属地组织"
    ENTERPRISE = "enterprise", "企业"


class HandlerType(models.Model):
    """A row of the county's adopted handler catalogue (spec/handlers.csv)."""

    code = models.SlugField(max_length=32, unique=True)
    kind = models.CharField(max_length=16, choices=HandlerKind.choices)
    name_zh = models.CharField("名称", max_length=64)
    name_en = models.CharField("English name", max_length=128)

    class Meta:
        ordering = ["id"]
        verbose_name = "承办单位类型"
        verbose_name_plural = "承办单位类型"

    def __str__(self) -> str:
        return self.name_zh


class Handler(models.Model):
    """A real body that takes work: a county department, one township government,
    one village committee, or one property company."""

    code = models.SlugField("代码", max_length=64, unique=True)
    type = models.ForeignKey(HandlerType, on_delete=models.PROTECT, related_name="handlers")
    name = models.CharField("名称", max_length=128)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="handlers")
    phone = models.CharField("联系电话", max_length=32, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["region__path", "code"]
        verbose_name = "承办单位"
        verbose_name_plural = "承办单位"

    def __str__(self) -> str:
        return self.name


class Estate(models.Model):
    """A residential estate (小区) and the property company that serves it."""

    name = models.CharField("小区名称", max_length=128)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="estates")
    property_company = models.ForeignKey(
        Handler, null=True, blank=True, on_delete=models.SET_NULL, related_name="estates"
    )

    class Meta:
        ordering = ["region__path", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="estate_unique_in_region")]
        verbose_name = "小区"
        verbose_name_plural = "小区"

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    RESIDENT = "resident", "群众"
    OPERATOR = "operator", "话务员"
    DISPATCHER = "dispatcher", "指挥中心调度员"
    HANDLER = "handler", "承办人员"
    GRIDWORKER = "gridworker", "网格员"
    CLERK = "clerk", "窗口人员"
    APPROVER = "approver", "部门审批人员"
    SUPERVISOR = "supervisor", "督查人员"
    LEADER = "leader", "领导"
    AUDITOR = "auditor", "审计人员"
    SENSOR = "sensor", "物联感知设备"  # a device account: reports through its API token only
    # A self-service terminal in a service hall: its pages only (onewindow.kiosk_access).
    KIOSK = "kiosk", "自助终端"
    ADMIN = "admin", "系统管理员"


class Staff(models.Model):
    """A person who works in the platform: a user, the region they answer for, their body, roles.

    Residents get a Staff row too (role `resident`, region = where they live) so that every
    actor is resolved the same way; their jurisdiction reads only their own records.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField("姓名", max_length=64)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="staff", verbose_name="所属区域"
    )
    handler = models.ForeignKey(
        Handler,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name="所属单位",
    )
    phone = models.CharField("手机号", max_length=11, blank=True)

    class Meta:
        ordering = ["region__path", "name"]
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"

    def __str__(self) -> str:
        return self.name


class StaffRole(models.Model):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField("角色", max_length=16, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["staff", "role"], name="staff_role_unique")]
        verbose_name = "角色"
        verbose_name_plural = "角色"

    def __str__(self) -> str:
        return self.get_role_display()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64, blank=True)
    prefix = models.CharField(max_length=8, help_text="first characters, to tell tokens apart")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

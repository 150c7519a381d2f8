"""Grids (网格), their grid workers, and the boundaries of regions.

Geometry is GeoJSON (WGS-84) in a JSON column; the bounding box is kept in plain columns so
a database can pre-filter candidates without parsing JSON.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from shanzhi.core.models import Region, Staff


class Grid(models.Model):
    """One grid: a polygon inside a village or community, served by its grid workers."""

    code = models.CharField(
        "网格编码", max_length=20, unique=True, help_text="村/社区代码-序号,如 331199101201-01"
    )
    name = models.CharField("网格名称", max_length=64)
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="grids", verbose_name="所属村/社区"
    )
    geometry = models.JSONField("范围(GeoJSON)", help_text="WGS-84 经纬度的 Polygon 或 MultiPolygon")
    centroid_lon = models.FloatField("中心经度")
    centroid_lat = models.FloatField("中心纬度")
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    area_m2 = models.FloatField("面积(平方米)")
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"], name="grid_bbox")]
        verbose_name = "网格"
        verbose_name_plural = "网格"

    def __str__(self) -> str:
        return f"{self.name}({self.code})"


class GridWorker(models.Model):
    """A grid worker's membership of a grid; `is_leader` marks the grid's head (网格长)."""

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="workers", verbose_name="网格")
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="grid_memberships", verbose_name="网格员"
    )
    is_leader = models.BooleanField("网格长", default=False)
    since = models.DateField("任职日期", default=timezone.localdate)

    class Meta:
        ordering = ["grid__code", "-is_leader", "staff__name"]
        constraints = [models.UniqueConstraint(fields=["grid", "staff"], name="grid_worker_unique")]
        verbose_name = "网格员"
        verbose_name_plural = "网格员"

    def __str__(self) -> str:
        return f"{self.staff} @ {self.grid.code}"


class RegionShape(models.Model):
    """The boundary of a county, township or village (for maps and area targeting)."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="shape", verbose_name="区域")
    geometry = models.JSONField("边界(GeoJSON)")
    centroid_lon = models.FloatField("中心经度")
    centroid_lat = models.FloatField("中心纬度")
    area_m2 = models.FloatField("面积(平方米)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region__path"]
        verbose_name = "区域边界"
        verbose_name_plural = "区域边界"

    def __str__(self) -> str:
        return f"{self.region} 边界"


class GridIndexVersion(models.Model):
    """One row, bumped by every write that changes what point → grid answers.

    Each process keeps its own spatial index and compares (`version`, `token`) with this row
    before answering; the random token makes a version number reused after a rollback look
    different.
    """

    version = models.PositiveBigIntegerField(default=0)
    token = models.CharField(max_length=32, default="")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "网格索引版本"
        verbose_name_plural = "网格索引版本"

    def __str__(self) -> str:
        return f"v{self.version}"


class Household(models.Model):
    """One household (户) in a grid: where it lives and who in it may need help first.

    The point is WGS-84; warnings and incidents target households by point in polygon. The phone
    is stored whole (SMS needs it) and masked on every page and export except for the grid's own
    workers. The care flags decide who is reached first, and by a visit when there is no phone.
    """

    code = models.CharField("户编号", max_length=32, unique=True, help_text="网格编码-门牌序号")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="households", verbose_name="网格")
    # The grid's village, kept on the row so jurisdiction is one prefix filter like elsewhere.
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="households", verbose_name="村/社区"
    )
    address = models.CharField("地址", max_length=255)
    head_name = models.CharField("户主", max_length=64)
    lon = models.FloatField("经度(WGS-84)")
    lat = models.FloatField("纬度(WGS-84)")
    members = models.PositiveSmallIntegerField("人口数", default=1)
    phone = models.CharField("联系电话", max_length=11, blank=True)
    elderly_alone = models.BooleanField("独居老人", default=False)
    disabled = models.BooleanField("残疾人", default=False)
    bedridden = models.BooleanField("卧床", default=False)
    left_behind_children = models.BooleanField("留守儿童", default=False)
    no_phone = models.BooleanField("无手机", default=False)
    note = models.CharField("备注", max_length=255, blank=True)
    active = models.BooleanField("在册", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    CARE_FLAGS = ("elderly_alone", "disabled", "bedridden", "left_behind_children", "no_phone")

    class Meta:
        ordering = ["code"]
        indexes = [
            models.Index(fields=["lon", "lat"], name="household_point"),
            models.Index(fields=["grid", "active"], name="household_grid"),
        ]
        verbose_name = "户"
        verbose_name_plural = "户"

    def __str__(self) -> str:
        return f"{self.head_name}户({self.code})"

    @property
    def needs_care(self) -> bool:
        return any(getattr(self, flag) for flag in self.CARE_FLAGS)


class PatrolCheckin(models.Model):
    """A grid worker's patrol check-in (巡查打卡): where they were, and whether that was their grid.

    `client_id` is made on the phone when the check-in is taken, so a check-in queued offline
    and sent twice is stored once.
    """

    staff = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="patrol_checkins", verbose_name="网格员"
    )
    # The grid the point lies in (any grid, or none); `inside_grid` says whether it is one of the worker's.
    grid = models.ForeignKey(
        Grid,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checkins",
        verbose_name="所在网格",
    )
    lon = models.FloatField("经度(WGS-84)")
    lat = models.FloatField("纬度(WGS-84)")
    accuracy_m = models.FloatField("定位精度(米)", null=True, blank=True)
    manual = models.BooleanField("手工填写位置", default=False)
    at = models.DateTimeField("打卡时间", db_index=True)
    received_at = models.DateTimeField("收到时间", auto_now_add=True)
    inside_grid = models.BooleanField("在本人网格内", default=False)
    note = models.CharField("备注", max_length=255, blank=True)
    client_id = models.CharField("客户端编号", max_length=64)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["staff", "client_id"], name="patrol_checkin_client")]
        indexes = [models.Index(fields=["staff", "at"], name="patrol_checkin_staff_at")]
        verbose_name = "巡查打卡"
        verbose_name_plural = "巡查打卡"

    def __str__(self) -> str:
        return f"{self.staff} 打卡 {self.at:%Y-%m-%d %H:%M}"


class VisitKind(models.TextChoices):
    VISIT = "visit", "入户走访"
    STATUS_REPORT = "status_report", "状况报告"


class HealthStatus(models.TextChoices):
    NORMAL = "normal", "正常"
    FEVER = "fever", "发热"
    ISOLATED = "isolated", "隔离"
    HOSPITAL = "hospital", "就医"
    OTHER = "other", "其他"


class HouseholdVisit(models.Model):
    """A visit to a household, or a report on its state (e.g. health during an outbreak)."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="visits", verbose_name="户"
    )
    staff = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="household_visits", verbose_name="网格员"
    )
    at = models.DateTimeField("走访时间", db_index=True)
    received_at = models.DateTimeField("收到时间", auto_now_add=True)
    kind = models.CharField("类型", max_length=16, choices=VisitKind.choices, default=VisitKind.VISIT)
    health = models.CharField(
        "健康状况", max_length=16, choices=HealthStatus.choices, default=HealthStatus.NORMAL
    )
    needs_help = models.BooleanField("需要帮助", default=False)
    help_note = models.CharField("需要的帮助", max_length=255, blank=True)
    supplies_requested = models.CharField("需要的物资", max_length=255, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    client_id = models.CharField("客户端编号", max_length=64)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["staff", "client_id"], name="household_visit_client")]
        indexes = [models.Index(fields=["household", "at"], name="household_visit_at")]
        verbose_name = "入户走访"
        verbose_name_plural = "入户走访"

    def __str__(self) -> str:
        return f"{self.household} {self.get_kind_display()} {self.at:%Y-%m-%d}"

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

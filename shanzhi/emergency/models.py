"""Emergency mode (平战结合): incident types and their checklists, declared incidents, and the
tasks each affected grid works through (door-to-door checks and the like).

Warnings (CAP) keep their own tables in models_warnings.py, imported at the end of this module;
they link to tasks through their own rows, never by columns here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shanzhi.core.models import Region
from shanzhi.grid.models import Grid, Household


class ClockUnit(models.TextChoices):
    NATURAL_HOURS = "natural_hours", "自然小时"
    WORKING_HOURS = "working_hours", "工作小时"


class IncidentType(models.Model):
    """A kind of incident (台风, 洪涝, …) and what each affected grid must do when one is declared."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    checklist = models.JSONField("处置清单", default=list, help_text="按顺序排列的检查事项,每项一句话")
    task_hours = models.PositiveSmallIntegerField("任务时限(小时)", default=2)
    clock = models.CharField(
        "计时方式", max_length=16, choices=ClockUnit.choices, default=ClockUnit.NATURAL_HOURS
    )
    notify_text = models.TextField(
        "通知网格员的话",
        blank=True,
        help_text=(
            "发给网格员和网格长的通知正文,可用 {title}(事件)、{grid}(网格)、{due}(时限)、{households}(户数)"
        ),
    )
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "事件类型"
        verbose_name_plural = "事件类型"

    def __str__(self) -> str:
        return self.name


class AreaKind(models.TextChoices):
    POLYGON = "polygon", "地图绘制范围"
    GEOJSON = "geojson", "上传 GeoJSON"
    CIRCLE = "circle", "圆形范围"
    GRIDS = "grids", "网格/村社区列表"
    WARNING = "warning", "预警范围"


class IncidentStatus(models.TextChoices):
    ACTIVE = "active", "应急中"
    CLOSED = "closed", "已恢复常态"


class Incident(models.Model):
    """One declared incident over an area; its tasks are GridTask rows with incident = this.

    `region` is the smallest region containing every affected grid, so the incident is seen by
    exactly those whose jurisdiction covers it (and by the township whose grids it touches).
    """

    # Set right after the insert from the id (YJ + date + id), so no sequence table is needed.
    number = models.CharField("事件编号", max_length=24, unique=True, null=True, blank=True)
    type = models.ForeignKey(
        IncidentType, on_delete=models.PROTECT, related_name="incidents", verbose_name="类型"
    )
    title = models.CharField("标题", max_length=128)
    note = models.TextField("说明", blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.ACTIVE, db_index=True
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="incidents", verbose_name="所属区域"
    )
    area_kind = models.CharField("范围方式", max_length=16, choices=AreaKind.choices)
    area = models.JSONField("范围(GeoJSON)", help_text="FeatureCollection,WGS-84 经纬度")
    grid_count = models.PositiveIntegerField("涉及网格数", default=0)
    household_count = models.PositiveIntegerField("涉及户数", default=0)
    care_household_count = models.PositiveIntegerField("重点关爱户数", default=0)
    started_at = models.DateTimeField("开始时间")
    declared_at = models.DateTimeField("发布时间", auto_now_add=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name="发布人"
    )
    closed_at = models.DateTimeField("恢复常态时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_reason = models.CharField("恢复常态说明", max_length=255, blank=True)
    summary = models.JSONField("总结", default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "应急事件"
        verbose_name_plural = "应急事件"

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class TaskKind(models.TextChoices):
    INCIDENT = "incident", "应急处置"
    WARNING_VISIT = "warning_visit", "预警上门告知"
    DEFENCE = "defence", "防御部署"


class TaskStatus(models.TextChoices):
    OPEN = "open", "待处理"
    IN_PROGRESS = "in_progress", "处理中"
    DONE = "done", "已完成"
    CLOSED = "closed", "已关闭"


OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class GridTask(models.Model):
    """One grid's piece of work with a checklist and a due time; reported on by its grid workers."""

    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="emergency_tasks", verbose_name="网格"
    )
    kind = models.CharField("类别", max_length=16, choices=TaskKind.choices, default=TaskKind.INCIDENT)
    title = models.CharField("任务", max_length=160)
    checklist = models.JSONField("清单", default=list)
    checked = models.JSONField("已完成事项", default=list, help_text="与清单一一对应的 true/false")
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
        verbose_name="应急事件",
    )
    due_at = models.DateTimeField("时限")
    status = models.CharField("状态", max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    households = models.ManyToManyField(
        Household, blank=True, related_name="emergency_tasks", verbose_name="涉及户"
    )
    households_reached = models.PositiveIntegerField("已走访户数", default=0)
    people_need_help = models.PositiveIntegerField("需帮扶人数", default=0)
    supplies_requested = models.TextField("物资需求", blank=True)
    note = models.TextField("情况说明", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField("开始处理时间", null=True, blank=True)
    reported_at = models.DateTimeField("最近上报时间", null=True, blank=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    close_reason = models.CharField("关闭原因", max_length=255, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["grid", "status"], name="gridtask_grid_status"),
            models.Index(fields=["incident", "status"], name="gridtask_incident_status"),
        ]
        verbose_name = "网格任务"
        verbose_name_plural = "网格任务"

    def __str__(self) -> str:
        return f"{self.title} @ {self.grid_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


from shanzhi.emergency.models_warnings import *  # noqa: E402, F403  (warning tables, same app)

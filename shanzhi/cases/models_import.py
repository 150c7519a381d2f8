"""The historical import's bookkeeping: one job per file, one row per imported source id.

Imported by `cases.models` so the app registry and migrations see them. A job is keyed by the
file's SHA-256, so re-running the same file (under any name) resumes it; `ImportedRow.source_id`
is unique, so a 工单编号 is imported once whichever file brings it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportJobStatus(models.TextChoices):
    RUNNING = "running", "导入中"
    FAILED = "failed", "已中断"
    DONE = "done", "已完成"


class ImportJob(models.Model):
    digest = models.CharField("文件 SHA-256", max_length=64, unique=True)
    path = models.CharField("文件路径", max_length=1024)
    file_format = models.CharField("格式", max_length=8)
    encoding = models.CharField("编码", max_length=16, blank=True)
    size = models.BigIntegerField("文件大小(字节)")
    crs = models.CharField("坐标系", max_length=8, default="wgs84")
    status = models.CharField(
        "状态", max_length=16, choices=ImportJobStatus.choices, default=ImportJobStatus.RUNNING
    )
    # Data rows settled by committed batches (imported, skipped or written to the error file);
    # a resumed run starts after them.
    rows_done = models.PositiveIntegerField("已处理行数", default=0)
    last_source_id = models.CharField("最后工单编号", max_length=64, blank=True)
    imported = models.PositiveIntegerField("已导入", default=0)
    skipped = models.PositiveIntegerField("已导入过而跳过", default=0)
    errors = models.PositiveIntegerField("错误行", default=0)
    errors_path = models.CharField("错误文件", max_length=1024, blank=True)
    # Bytes of the error file written by committed batches: a resumed run cuts the file back to
    # this, dropping the lines of a batch that never committed.
    errors_offset = models.BigIntegerField(default=0)
    message = models.CharField("说明", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField("开始时间")
    updated_at = models.DateTimeField("更新时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "历史导入任务"
        verbose_name_plural = "历史导入任务"

    def __str__(self) -> str:
        return f"{self.path} ({self.get_status_display()})"


class ImportedRow(models.Model):
    """Which case a source 工单编号 became (and from which file and row)."""

    job = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="rows")
    row = models.PositiveIntegerField("行号")
    source_id = models.CharField("工单编号", max_length=64, unique=True)
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="import_source")

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"

    def __str__(self) -> str:
        return self.source_id

"""`shanzhi cases import FILE`: the historical import of a 12345 hotline export (docs/import.md).

`shanzhi cases imports` lists the import jobs and how far each got.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils import timezone

from shanzhi.cases.imports import ImportInterrupted, ImportResult, case_import
from shanzhi.cases.imports.importer import BATCH_SIZE
from shanzhi.cases.models_import import ImportJob, ImportJobStatus
from shanzhi.core.errors import ServiceError


def _local(moment: dt.datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "-"


class _Raw:
    """Django's OutputWrapper adds a newline to every write; the progress line redraws in place."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str, /) -> None:
        self.wrapper.write(text, ending="")

    def flush(self) -> None:
        self.wrapper.flush()

    def isatty(self) -> bool:
        return bool(self.wrapper.isatty())


class Command(BaseCommand):
    help = "Cases: `import FILE` imports a 12345 hotline export (CSV or XLSX); `imports` lists the jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser(
            "import",
            help="import (or resume importing) a hotline export; bad rows go to FILE.errors.csv",
        )
        run.add_argument("file", type=Path, help="the export: .csv (UTF-8, UTF-8 BOM or GB18030) or .xlsx")
        run.add_argument(
            "--crs",
            choices=["wgs84", "gcj02", "bd09"],
            default="wgs84",
            help="datum of the 经度/纬度 columns (default wgs84)",
        )
        run.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per transaction")
        run.add_argument("--sheet", help="XLSX: the worksheet to read (default: the first)")
        run.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
        sub.add_parser("imports", help="list import jobs")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "imports":
            self._list()
            return
        path: Path = options["file"]
        started = time.perf_counter()
        try:
            result = case_import(
                actor=None,
                path=path,
                crs=options["crs"],
                batch_size=options["batch_size"],
                sheet=options["sheet"],
                progress=None if options["no_progress"] else _Raw(self.stderr),
            )
        except ServiceError as exc:
            raise CommandError(self._stopped(path, exc.message)) from None
        except (ImportInterrupted, KeyboardInterrupt):
            raise CommandError(self._stopped(path, "导入被中断")) from None
        self._summary(result, seconds=time.perf_counter() - started)

    def _stopped(self, path: Path, why: str) -> str:
        job = ImportJob.objects.filter(path=str(path.resolve())).order_by("-updated_at").first()
        if job is None or job.status == ImportJobStatus.DONE:
            return why
        return (
            f"{why}\n已提交 {job.rows_done:,} 行(导入 {job.imported:,} 件,跳过 {job.skipped:,} 行,"
            f"错误 {job.errors:,} 行);修正问题后重新运行同一命令,将从中断处继续。"
        )

    def _summary(self, result: ImportResult, *, seconds: float) -> None:
        job = result.job
        kind = job.file_format.upper() + (f",{job.encoding}" if job.encoding else "")
        self.stdout.write(f"文件:{job.path}({kind})")
        if result.already_done:
            self.stdout.write(
                f"该文件已于 {_local(job.finished_at)} 导入完成,没有新的行:共导入 {job.imported:,} 件,"
                f"已导入过而跳过 {job.skipped:,} 行,错误 {job.errors:,} 行。"
            )
        else:
            if result.resumed_from:
                self.stdout.write(f"从上次中断处继续(此前已处理 {result.resumed_from:,} 行)。")
            rate = result.read / seconds if seconds > 0 else 0.0
            self.stdout.write(
                f"读取 {result.read:,} 行:导入 {result.imported:,} 件,已导入过而跳过 {result.skipped:,} 行,"
                f"错误 {result.errors:,} 行。用时 {seconds:.1f} 秒({rate:,.0f} 行/秒)。"
            )
            if result.resumed_from:
                self.stdout.write(
                    f"该文件合计:导入 {job.imported:,} 件,跳过 {job.skipped:,} 行,错误 {job.errors:,} 行。"
                )
        if result.errors_path is not None:
            self.stdout.write(f"错误明细(行号、出错列、原因和原始行)见:{result.errors_path}")

    def _list(self) -> None:
        jobs = ImportJob.objects.order_by("-started_at")[:50]
        if not jobs:
            self.stdout.write("还没有导入任务。")
            return
        for job in jobs:
            self.stdout.write(
                f"#{job.pk} {job.get_status_display()} {_local(job.started_at)} {job.path}\n"
                f"    已处理 {job.rows_done:,} 行:导入 {job.imported:,},跳过 {job.skipped:,},"
                f"错误 {job.errors:,}" + (f";{job.message}" if job.message else "")
            )

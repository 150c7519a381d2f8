"""Resuming an interrupted import, re-running a finished one, overlapping exports, the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shanzhi.audit.models import AuditEntry
from shanzhi.cases.imports import ImportInterrupted, case_import
from shanzhi.cases.models import Case, TimelineEvent
from shanzhi.cases.models_import import ImportedRow, ImportJob, ImportJobStatus
from shanzhi.cases.tests.test_import import errors_path, mapped, read_errors, write_csv

__all__ = ["mapped"]  # the fixture, shared with test_import


def export_rows(n: int, *, prefix: str = "R", bad_every: int = 7) -> list[list[str]]:
    """n rows over a few days; every `bad_every`-th has no text."""
    rows = []
    for i in range(1, n + 1):
        text = "" if i % bad_every == 0 else f"上溪村第{i}组路灯不亮,晚上出行不便"
        closed = f"2025-03-{5 + i % 3:02d} 18:00" if i % 2 else ""
        rows.append(
            [
                f"{prefix}-{i:03d}",
                f"2025-03-0{1 + i % 4} 0{i % 10}:30",
                text,
                "青石镇上溪村",
                "",
                "",
                closed,
                "",
            ]
        )
    return rows


def import_actions(before: int) -> list[str]:
    return list(
        AuditEntry.objects.filter(index__gte=before, object_type="cases.importjob")
        .order_by("index")
        .values_list("action", flat=True)
    )


def test_resume_after_an_interruption_continues_after_the_last_committed_batch(mapped, tmp_path):
    rows = export_rows(25)
    path = write_csv(tmp_path / "export.csv", rows)
    before = AuditEntry.objects.count()

    with pytest.raises(ImportInterrupted):
        case_import(actor=None, path=path, batch_size=10, stop_after=1)
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.FAILED and "simulated crash" in job.message
    assert (job.rows_done, job.imported, job.errors) == (10, 9, 1)  # batch 2 rolled back entirely
    assert job.last_source_id == "R-010"
    assert Case.objects.count() == 9 and ImportedRow.objects.count() == 9
    # The error file holds the committed batch's errors only, though batch 2 had written its own.
    assert [line[0] for line in read_errors(errors_path(path))[1:]] == ["8"]
    assert job.errors_offset == errors_path(path).stat().st_size

    result = case_import(actor=None, path=path, batch_size=10)
    assert result.resumed_from == 10 and not result.already_done
    assert (result.read, result.imported, result.errors) == (15, 13, 2)
    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE and job.message == ""
    assert (job.rows_done, job.imported, job.skipped, job.errors) == (25, 22, 0, 3)
    assert Case.objects.count() == 22 == TimelineEvent.objects.count()
    assert sorted(ImportedRow.objects.values_list("source_id", flat=True)) == [
        f"R-{i:03d}" for i in range(1, 26) if i % 7
    ]
    assert len(set(Case.objects.values_list("number", flat=True))) == 22
    assert [line[0] for line in read_errors(errors_path(path))[1:]] == ["8", "15", "22"]
    assert import_actions(before) == [
        "case.import_start",
        "case.import_batch",
        "case.import_stop",
        "case.import_batch",
        "case.import_batch",
        "case.import_finish",
    ]


def test_a_hard_crash_leaves_error_lines_that_the_next_run_cuts_away(mapped, tmp_path):
    """A process killed between writing a batch's error lines and committing it (so nothing
    could tidy up): the next run cuts the file back to what the job says is committed."""
    path = write_csv(tmp_path / "export.csv", export_rows(20))
    with pytest.raises(ImportInterrupted):
        case_import(actor=None, path=path, batch_size=10, stop_after=1)
    committed = errors_path(path).read_bytes()
    with errors_path(path).open("ab") as handle:
        handle.write("15,诉求内容,诉求内容为空,R-015,…\r\n".encode())  # the dead batch's line
    case_import(actor=None, path=path, batch_size=10)
    lines = read_errors(errors_path(path))
    assert errors_path(path).read_bytes().startswith(committed)
    assert [line[0] for line in lines[1:]] == ["8", "15"]
    assert lines[2][3] == "R-014"  # row 15 holds R-014 (row 1 is the header)


def test_rerunning_a_finished_file_changes_nothing(mapped, tmp_path):
    path = write_csv(tmp_path / "export.csv", export_rows(12))
    first = case_import(actor=None, path=path)
    numbers = set(Case.objects.values_list("number", flat=True))
    error_bytes = errors_path(path).read_bytes()
    entries = AuditEntry.objects.count()

    again = case_import(actor=None, path=path)
    assert again.already_done and again.job.pk == first.job.pk
    assert (again.read, again.imported) == (0, 0)
    assert set(Case.objects.values_list("number", flat=True)) == numbers
    assert errors_path(path).read_bytes() == error_bytes and again.errors_path == errors_path(path)
    assert AuditEntry.objects.count() == entries


def test_an_overlapping_export_skips_what_was_imported(mapped, tmp_path):
    case_import(actor=None, path=write_csv(tmp_path / "march.csv", export_rows(10)))
    assert Case.objects.count() == 9
    # The next export repeats rows 6-10 and adds 11-14; it is another file (another digest).
    later = export_rows(14)[5:]
    path = write_csv(tmp_path / "march-update.csv", later)
    result = case_import(actor=None, path=path)
    assert (result.read, result.imported, result.skipped, result.errors) == (9, 3, 4, 2)
    assert Case.objects.count() == 12
    assert ImportJob.objects.count() == 2
    lines = read_errors(errors_path(path))
    assert [(line[0], line[3]) for line in lines[1:]] == [("3", "R-007"), ("10", "R-014")]


def test_a_repeated_id_in_a_later_batch_is_a_duplicate_not_a_skip(mapped, tmp_path):
    rows = export_rows(6, bad_every=100)
    rows.append(["R-002", "2025-03-09 10:00", "又一次反映路灯", "", "", "", "", ""])
    path = write_csv(tmp_path / "dup.csv", rows)
    result = case_import(actor=None, path=path, batch_size=3)
    assert (result.imported, result.skipped, result.errors) == (6, 0, 1)
    assert read_errors(errors_path(path))[1][:3] == ["8", "工单编号", "工单编号“R-002”与第 3 行重复"]


def test_command_imports_prints_a_summary_and_progress(mapped, tmp_path):
    path = write_csv(tmp_path / "export.csv", export_rows(15))
    out, err = io.StringIO(), io.StringIO()
    call_command("cases", "import", str(path), "--batch-size", "5", stdout=out, stderr=err)
    text = out.getvalue()
    assert "读取 15 行:导入 13 件,已导入过而跳过 0 行,错误 2 行" in text
    assert str(errors_path(path)) in text
    assert "15/15 行" in err.getvalue() and "行/秒" in err.getvalue()

    out = io.StringIO()
    call_command("cases", "import", str(path), stdout=out, stderr=io.StringIO())
    assert "导入完成,没有新的行" in out.getvalue()

    out = io.StringIO()
    call_command("cases", "imports", stdout=out)
    assert "已完成" in out.getvalue() and "导入 13" in out.getvalue()


def test_command_refusals_are_command_errors(mapped, tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command(
            "cases", "import", str(tmp_path / "nope.csv"), stdout=io.StringIO(), stderr=io.StringIO()
        )
    bad = write_csv(tmp_path / "bad.csv", [], header=["编号", "内容"])
    with pytest.raises(CommandError, match="缺少必需的列:工单编号、来电时间、诉求内容"):
        call_command("cases", "import", str(bad), stdout=io.StringIO(), stderr=io.StringIO())

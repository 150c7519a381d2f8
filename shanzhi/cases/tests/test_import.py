"""`case_import`: hotline exports (CSV in three encodings, XLSX) → historical cases, bad rows to
FILE.errors.csv, broken files and headers refused before any row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import shapely

from shanzhi.audit.canonical import state_digest
from shanzhi.audit.models import AuditEntry
from shanzhi.cases.imports import case_import
from shanzhi.cases.imports.rows import parse_time
from shanzhi.cases.models import Assignment, Case, CaseSequence, CaseStatus, TimelineEvent
from shanzhi.cases.models_import import ImportedRow, ImportJob, ImportJobStatus
from shanzhi.cases.services import case_state
from shanzhi.conftest import make_user
from shanzhi.core.errors import PermissionDenied, ServiceError
from shanzhi.grid.coords import to_wgs84, wgs84_to_gcj02
from shanzhi.grid.geometry import to_geojson
from shanzhi.grid.services import grid_create, region_shape_set
from shanzhi.notify.models import Message
from shanzhi.triage.services import triage_model_ensure

TZ = dt.timezone(dt.timedelta(hours=8))
HEADER = ["工单编号", "来电时间", "诉求内容", "地址", "经度", "纬度", "办结时间", "满意度"]
ERRORS_HEADER = ["行号", "出错列", "原因"]


@pytest.fixture
def mapped(loop):
    """The loop's county with a boundary and one grid in 上溪村 (the north-west corner)."""
    county = loop.county
    region_shape_set(
        actor=None, region=county.county, geometry=to_geojson(shapely.box(119.6, 28.2, 120.0, 28.5))
    )
    grid = grid_create(
        actor=None,
        code="331199101201-01",
        name="上溪村第1网格",
        village=county.village_a1,
        geometry=to_geojson(shapely.box(119.6, 28.35, 119.7, 28.5)),
    )
    loop.grid = grid
    triage_model_ensure()  # trained once per process (memoised); stored here so imports only predict
    return loop


def write_csv(path: Path, rows: list[list[str]], *, header=HEADER, encoding="utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_errors(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the error file carries a BOM so Excel reads it as UTF-8"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def errors_path(path: Path) -> Path:
    return path.with_name(path.name + ".errors.csv")


GOOD = [
    # received only: left for dispatchers
    [
        "A-001",
        "2025-03-04 08:15:00",
        "上溪村村口的垃圾桶满了好几天没人清运,臭气熏天",
        "青石镇上溪村村口",
        "",
        "",
        "",
        "",
    ],
    # closed, and rated with a three-grade word
    [
        "A-002",
        "2025/3/4 9:05",
        "沙湾村路灯坏了一个星期,晚上很黑",
        "白沙镇沙湾村",
        "",
        "",
        "2025/3/6 17:30",
        "一般",
    ],
    # coordinates inside the grid: the grid, village and township come from the point
    [
        "A-003",
        "2025年3月5日 10时20分",
        "小区门口占道经营,流动摊贩很多",
        "",
        "119.65",
        "28.40",
        "2025-03-05 16:00",
        "",
    ],
    # closed and rated
    ["A-004", "2025-03-05 11:00", "噪音扰民,夜里施工", "青石社区", "", "", "2025-03-07 09:00:00", "非常满意"],
]
BAD = [
    ["A-005", "2025-03-05 12:00", "", "青石镇", "", "", "", ""],  # no text
    ["A-006", "下周二", "路面坑洼", "", "", "", "", ""],  # unreadable time
    ["A-007", "2025-03-05 13:00", "井盖丢了", "", "121.5", "31.2", "", ""],  # outside the county
    ["A-001", "2025-03-05 14:00", "重复的工单", "", "", "", "", ""],  # repeats row 2's id
    [
        "A-008",
        "2025-03-05 15:00",
        "开了空头支票",
        "",
        "",
        "",
        "2025-03-04 10:00",
        "",
    ],  # closed before received
    ["A-009", "2025-03-05 15:30", "水管爆裂", "", "119.65", "", "", ""],  # latitude missing
    ["A-010", "2025-03-05 16:00", "有人乱倒垃圾", "", "", "", "", "满意"],  # rated but not closed
    ["A-011", "2025-03-05 16:30", "路灯不亮", "", "", "", "2025-03-06 10:00", "还行吧"],  # unknown grade
]


def test_csv_round_trip_good_rows_land_and_bad_rows_are_reported(mapped, tmp_path):
    path = write_csv(tmp_path / "export.csv", GOOD + BAD)
    result = case_import(actor=None, path=path)

    assert (result.read, result.imported, result.skipped, result.errors) == (12, 4, 0, 8)
    assert result.job.status == ImportJobStatus.DONE and result.job.encoding == "utf-8-sig"
    cases = {r.source_id: r.case for r in ImportedRow.objects.select_related("case__region", "case__grid")}
    assert set(cases) == {"A-001", "A-002", "A-003", "A-004"}
    assert all(c.channel == "import" for c in cases.values())

    received = cases["A-001"]
    assert received.status == CaseStatus.RECEIVED and received.closed_at is None
    assert received.received_at == dt.datetime(2025, 3, 4, 8, 15, tzinfo=TZ)
    assert received.region == mapped.county.village_a1 and received.township == mapped.county.town_a
    assert received.category is None and received.suggested_category is not None
    assert received.suggestion["top3"][0]["category"] == received.suggested_category.code
    assert "handler" in received.suggestion, "open cases carry the route a dispatcher would confirm"

    closed = cases["A-002"]
    assert closed.status == CaseStatus.EVALUATED and closed.satisfaction == "basic"  # 一般 = 基本满意
    assert closed.closed_at == dt.datetime(2025, 3, 6, 17, 30, tzinfo=TZ)
    assert closed.category == closed.suggested_category  # a closed case keeps triage's category
    assert closed.region == mapped.county.village_b1

    located = cases["A-003"]
    assert located.status == CaseStatus.CLOSED and located.satisfaction == ""
    assert located.grid == mapped.grid and located.region == mapped.county.village_a1
    assert (located.lon, located.lat) == (119.65, 28.40)
    assert located.received_at == dt.datetime(2025, 3, 5, 10, 20, tzinfo=TZ)
    assert cases["A-004"].satisfaction == "very_satisfied"

    # Numbers follow the intake scheme, by the day each request came in.
    assert received.number == "SZ2025030400001" and closed.number == "SZ2025030400002"
    assert sorted([located.number, cases["A-004"].number]) == ["SZ2025030500001", "SZ2025030500002"]
    assert CaseSequence.objects.get(day=dt.date(2025, 3, 5)).last == 2

    # History is recorded, not replayed: nobody is dispatched or told.
    assert Assignment.objects.count() == 0 and Message.objects.count() == 0
    events = TimelineEvent.objects.filter(case__in=cases.values())
    assert sorted(events.values_list("action", flat=True)) == ["import"] * 4
    assert "A-003" in events.get(case=located).note

    lines = read_errors(errors_path(path))
    assert lines[0] == ERRORS_HEADER + HEADER
    assert [line[:3] for line in lines[1:]] == [
        ["6", "诉求内容", "诉求内容为空"],
        ["7", "来电时间", "无法识别的时间“下周二”(应如 2025-03-04 08:15:00 或 2025/3/4 8:15)"],
        ["8", "经度、纬度", "坐标(121.5,31.2)不在本县范围内"],
        ["9", "工单编号", "工单编号“A-001”与第 2 行重复"],
        ["10", "办结时间", "办结时间早于来电时间"],
        ["11", "纬度", "经度和纬度必须同时填写"],
        ["12", "满意度", "有满意度但没有办结时间:只有办结的诉求才能评价"],
        ["13", "满意度", "无法识别的满意度“还行吧”(应为非常满意、满意、基本满意、不满意或非常不满意)"],
    ]
    assert [line[3:] for line in lines[1:]] == BAD  # the original row, as it was


def test_one_audit_entry_per_batch_covering_every_case(mapped, tmp_path):
    path = write_csv(tmp_path / "export.csv", GOOD + BAD[:1])
    before = AuditEntry.objects.count()
    result = case_import(actor=None, path=path, batch_size=3)
    entries = list(AuditEntry.objects.filter(index__gte=before).order_by("index"))
    assert [e.action for e in entries] == [
        "case.import_start",
        "case.import_batch",
        "case.import_batch",
        "case.import_finish",
    ]
    assert not AuditEntry.objects.filter(object_type="cases.case", index__gte=before).exists()
    # The second batch (rows 5-6: A-004 and the bad row) commits to exactly that case's state.
    job = result.job
    case = Case.objects.get(import_source__source_id="A-004")
    state = {
        "file_sha256": job.digest,
        "first_row": 5,
        "last_row": 6,
        "rows_done": 5,
        "imported": 1,
        "skipped": 0,
        "errors": 1,
        "errors_offset": errors_path(path).stat().st_size,
        "cases": [["A-004", case.number, state_digest(case_state(case))]],
    }
    assert entries[2].state_digest == state_digest(state)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(mapped, tmp_path, encoding):
    rows = [
        *GOOD,
        ["B-1", "2025-03-06 08:00", "镕铧路边的䶮字招牌掉了", "", "", "", "", ""],
    ]  # GB18030-only chars
    path = write_csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
    result = case_import(actor=None, path=path)
    assert result.job.encoding == encoding and result.imported == 5 and result.errors == 0
    assert Case.objects.get(import_source__source_id="B-1").text == "镕铧路边的䶮字招牌掉了"
    assert Case.objects.get(import_source__source_id="A-001").address == "青石镇上溪村村口"
    assert not errors_path(path).exists(), "no error file when every row is good"


def test_header_order_free_extra_columns_ignored_title_rows_skipped(mapped, tmp_path):
    path = tmp_path / "shuffled.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["善水县12345热线工单导出"])  # a title line above the header
        writer.writerow([])
        writer.writerow(["序号", "诉求内容", "承办单位", " 来电时间 ", "*工单编号"])
        writer.writerow(["1", "路灯不亮", "县城管局", "2025-03-04 20:00", "C-1"])
        writer.writerow(["", "", "", "", ""])  # blank rows are passed over, not errors
        writer.writerow(["2", "", "县城管局", "2025-03-04 21:00", "C-2"])
    result = case_import(actor=None, path=path)
    assert (result.read, result.imported, result.errors) == (2, 1, 1)
    assert Case.objects.get().text == "路灯不亮"
    lines = read_errors(errors_path(path))
    assert lines[0] == [*ERRORS_HEADER, "序号", "诉求内容", "承办单位", " 来电时间 ", "*工单编号"]
    assert lines[1][:3] == ["6", "诉求内容", "诉求内容为空"]


def test_missing_required_header_is_refused_before_any_row(mapped, tmp_path):
    path = write_csv(
        tmp_path / "no-text.csv",
        [["A-1", "2025-03-04 08:00", "青石镇"]],
        header=["工单编号", "来电时间", "地址"],
    )
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as caught:
        case_import(actor=None, path=path)
    assert caught.value.code == "missing_columns"
    assert "缺少必需的列:诉求内容" in caught.value.message
    assert caught.value.details["missing"] == ["诉求内容"]
    assert Case.objects.count() == 0 and ImportJob.objects.count() == 0
    assert AuditEntry.objects.count() == before and not errors_path(path).exists()


def test_duplicate_header_and_lone_coordinate_column_are_refused(mapped, tmp_path):
    twice = write_csv(tmp_path / "twice.csv", [], header=["工单编号", "来电时间", "诉求内容", "诉求内容"])
    with pytest.raises(ServiceError, match="“诉求内容”出现了两次"):
        case_import(actor=None, path=twice)
    lone = write_csv(tmp_path / "lone.csv", [], header=["工单编号", "来电时间", "诉求内容", "经度"])
    with pytest.raises(ServiceError, match="经度和纬度两列必须同时提供"):
        case_import(actor=None, path=lone)
    assert ImportJob.objects.count() == 0


def test_huge_cells_are_refused_per_row(mapped, tmp_path):
    huge = "很" * 200_000  # beyond the csv module's default field limit (131072)
    rows = [
        ["H-1", "2025-03-04 08:00", huge, "", "", "", "", ""],
        ["H-2", "2025-03-04 09:00", "路灯不亮", "地" * 300, "", "", "", ""],
        ["H-3", "2025-03-04 10:00", "正常的诉求", "", "", "", "", ""],
        ["H-" + "9" * 70, "2025-03-04 11:00", "编号太长", "", "", "", "", ""],
    ]
    path = write_csv(tmp_path / "huge.csv", rows)
    result = case_import(actor=None, path=path)
    assert (result.imported, result.errors) == (1, 3)
    assert Case.objects.get().text == "正常的诉求"
    lines = read_errors(errors_path(path))
    assert [line[:3] for line in lines[1:]] == [
        ["2", "诉求内容", "诉求内容超过 4000 字(当前 200000 字)"],
        ["3", "地址", "地址超过 255 字(当前 300 字)"],
        ["5", "工单编号", "工单编号超过 64 个字符"],
    ]
    # Excel holds at most 32767 characters a cell: the copy in the error file is cut, and says so.
    assert len(lines[1][5]) == 32767 and lines[1][5].endswith("…(已截断)")


def test_error_file_neutralises_formulas(mapped, tmp_path):
    path = write_csv(
        tmp_path / "formula.csv", [["F-1", "不是时间", '=HYPERLINK("http://x","点我")', "", "", "", "", ""]]
    )
    case_import(actor=None, path=path)
    line = read_errors(errors_path(path))[1]
    assert line[5] == '\'=HYPERLINK("http://x","点我")', "Excel must show it, not run it"


def test_gcj02_coordinates_are_stored_in_wgs84(mapped, tmp_path):
    lon, lat = wgs84_to_gcj02(119.65, 28.40)
    path = write_csv(
        tmp_path / "gcj.csv",
        [["G-1", "2025-03-04 08:00", "井盖破损", "", f"{lon:.8f}", f"{lat:.8f}", "", ""]],
    )
    case_import(actor=None, path=path, crs="gcj02")
    case = Case.objects.get()
    expected = to_wgs84(float(f"{lon:.8f}"), float(f"{lat:.8f}"), crs="gcj02")
    assert case.lon == pytest.approx(expected[0], abs=1e-9) and case.lat == pytest.approx(
        expected[1], abs=1e-9
    )
    assert case.lon == pytest.approx(119.65, abs=1e-5) and case.grid == mapped.grid
    # Resuming the same file under another datum would mix two datums in one import: refused.
    with pytest.raises(ServiceError) as caught:
        case_import(actor=None, path=path, crs="bd09")
    assert caught.value.code == "crs_mismatch"


def test_numbers_continue_the_days_sequence(mapped, tmp_path):
    CaseSequence.objects.create(day=dt.date(2025, 3, 4), last=7)
    path = write_csv(tmp_path / "seq.csv", [GOOD[0]])
    case_import(actor=None, path=path)
    assert Case.objects.get().number == "SZ2025030400008"
    assert CaseSequence.objects.get(day=dt.date(2025, 3, 4)).last == 8


def test_only_administrators_import(mapped, tmp_path):
    path = write_csv(tmp_path / "export.csv", GOOD)
    with pytest.raises(PermissionDenied):
        case_import(actor=mapped.dispatcher, path=path)
    admin = make_user(username="i-admin", region=mapped.county.county, roles=["admin"])
    result = case_import(actor=admin, path=path)
    assert result.imported == 4 and result.job.created_by == admin
    assert Case.objects.filter(created_by=admin).count() == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04 08:15:00", dt.datetime(2025, 3, 4, 8, 15)),
        ("2025/3/4 8:15", dt.datetime(2025, 3, 4, 8, 15)),
        ("2025-03-04", dt.datetime(2025, 3, 4)),
        ("2025.03.04 08:15", dt.datetime(2025, 3, 4, 8, 15)),
        ("2025年3月4日 8时15分", dt.datetime(2025, 3, 4, 8, 15)),
        ("2025年3月4日8:15:30", dt.datetime(2025, 3, 4, 8, 15, 30)),
        ("20250304081500", dt.datetime(2025, 3, 4, 8, 15)),
        ("45720.34375", dt.datetime(2025, 3, 4, 8, 15)),  # an Excel serial that became text
        ("2025-03-04T08:15:00+08:00", dt.datetime(2025, 3, 4, 8, 15, tzinfo=TZ)),
        ("2025-02-30 10:00", None),
        ("2025-03-04 25:00", None),
        ("明天上午", None),
        ("12345", None),  # a number, but not a date of this era
    ],
)
def test_time_formats(text, expected):
    assert parse_time(text, epoch=dt.datetime(1899, 12, 30)) == expected


def xlsx_rows() -> list[list[object]]:
    return [
        # a real date cell, an int id, float coordinates
        [
            20250304001,
            dt.datetime(2025, 3, 4, 8, 15),
            "上溪村村口垃圾没人清运",
            "",
            119.65,
            28.40,
            None,
            None,
        ],
        # times as Excel serials in cells without a date format, and as text
        ["X-2", 45720.375, "沙湾村路灯坏了", "白沙镇沙湾村", None, None, "2025/3/6 17:30", "满意"],
        ["X-3", dt.date(2025, 3, 5), "噪音扰民", "青石社区", None, None, 45722.5, "不太满意"],
        ["X-4", "昨天", "路面坑洼", "", None, None, None, None],  # unreadable time
        ["X-5", dt.datetime(2025, 3, 5, 9, 0), None, "", None, None, None, None],  # no text
    ]


def write_xlsx(path: Path, rows: list[list[object]], *, header=HEADER) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = "工单"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_round_trip(mapped, tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", xlsx_rows())
    result = case_import(actor=None, path=path)
    assert (result.read, result.imported, result.errors) == (5, 3, 2)
    assert result.job.file_format == "xlsx"
    cases = {r.source_id: r.case for r in ImportedRow.objects.select_related("case")}
    assert set(cases) == {"20250304001", "X-2", "X-3"}  # an integer id reads as its digits
    first = cases["20250304001"]
    assert first.received_at == dt.datetime(2025, 3, 4, 8, 15, tzinfo=TZ)
    assert first.grid == mapped.grid and first.status == CaseStatus.RECEIVED
    second = cases["X-2"]
    assert second.received_at == dt.datetime(2025, 3, 4, 9, 0, tzinfo=TZ)  # serial 45720.375
    assert second.closed_at == dt.datetime(2025, 3, 6, 17, 30, tzinfo=TZ)
    assert second.status == CaseStatus.EVALUATED and second.satisfaction == "satisfied"
    third = cases["X-3"]
    assert third.received_at == dt.datetime(2025, 3, 5, tzinfo=TZ)
    assert third.closed_at == dt.datetime(2025, 3, 6, 12, 0, tzinfo=TZ)  # serial 45722.5
    assert third.satisfaction == "unsatisfied"
    lines = read_errors(errors_path(path))
    assert lines[0] == ERRORS_HEADER + HEADER
    assert lines[1] == ["5", "来电时间", "无法识别的时间“昨天”(应如 2025-03-04 08:15:00 或 2025/3/4 8:15)",
                        "X-4", "昨天", "路面坑洼", "", "", "", "", ""]  # fmt: skip
    assert lines[2] == ["6", "诉求内容", "诉求内容为空", "X-5", "2025-03-05 09:00:00", "", "", "", "", "", ""]


def test_xlsx_with_a_wrong_dimension_tag_is_read_whole(mapped, tmp_path):
    """Some exporters write <dimension ref="A1"/>; trusting it would drop every row but the header."""
    path = write_xlsx(tmp_path / "dimension.xlsx", xlsx_rows())
    rewritten = tmp_path / "rewritten.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
                assert count == 1
            target.writestr(item, data)
    result = case_import(actor=None, path=rewritten)
    assert (result.read, result.imported, result.errors) == (5, 3, 2)
    assert Case.objects.get(import_source__source_id="X-2").satisfaction == "satisfied"  # column H


def test_xlsx_sheet_choice(mapped, tmp_path):
    path = write_xlsx(tmp_path / "sheets.xlsx", xlsx_rows()[:1])
    with pytest.raises(ServiceError, match="没有名为“汇总”的工作表"):
        case_import(actor=None, path=path, sheet="汇总")
    assert case_import(actor=None, path=path, sheet="工单").imported == 1


def corrupt(path: Path) -> Path:
    """Flip bytes inside the compressed worksheet: the zip still opens, its CRC does not match."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 20):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def plain_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        (lambda p: p.write_bytes(b"\xe5\xb7\xa5\xe5\x8d\x95 not a zip at all"), "xlsx_invalid", "不是 zip"),
        (lambda p: p.write_bytes(write_xlsx(p, xlsx_rows()).read_bytes()[:700]), "xlsx_corrupt", "已损坏"),
        (lambda p: corrupt(write_xlsx(p, xlsx_rows())), "xlsx_corrupt", "已损坏"),
        (lambda p: plain_zip(p), "xlsx_corrupt", "workbook.xml"),
        (
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64),
            "xls_unsupported",
            ".xls",
        ),
    ],
    ids=["not-a-zip", "truncated", "crc", "no-workbook", "legacy-xls"],
)
def test_broken_xlsx_is_refused_with_a_clear_error(mapped, tmp_path, make, code, words):
    path = tmp_path / "broken.xlsx"
    make(path)
    with pytest.raises(ServiceError) as caught:
        case_import(actor=None, path=path)
    assert caught.value.code == code and words in caught.value.message
    assert Case.objects.count() == 0 and ImportJob.objects.count() == 0
    assert not errors_path(path).exists()


def test_unreadable_files_are_refused(mapped, tmp_path):
    with pytest.raises(ServiceError) as caught:
        case_import(actor=None, path=tmp_path / "missing.csv")
    assert caught.value.code == "file_not_found"
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ServiceError, match="文件是空的"):
        case_import(actor=None, path=empty)
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("工单编号,来电时间,诉求内容\n".encode("utf-16"))
    with pytest.raises(ServiceError) as caught:
        case_import(actor=None, path=utf16)
    assert caught.value.code == "encoding_unknown"
    assert ImportJob.objects.count() == 0

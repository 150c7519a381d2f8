"""Excel export and all-or-nothing import, with exact sheet/row/column errors for every bad file."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import ServiceError
from shanzhi.duties.excel import export_xlsx, headers, parse_xlsx
from shanzhi.duties.items import DutyFields, fields_of
from shanzhi.duties.services import duty_add, duty_list_create, duty_list_import

from .conftest import THIS_YEAR, TOWN_DUTIES, VILLAGE_ASSISTS, assist, duty

pytestmark = pytest.mark.django_db  # the category catalogue is read from the database

TOWN_HEADER = ["事项编码", "事项名称", "职权类型", "设定依据", "牵头承办单位", "涉及诉求类别", "备注"]
VILLAGE_HEADER = ["事项编码", "事项名称", "协助部门", "依据", "涉及诉求类别", "备注"]


def sheet(content: bytes) -> Worksheet:
    ws = load_workbook(io.BytesIO(content)).active
    assert isinstance(ws, Worksheet)
    return ws


def xlsx(rows: list[list[Any]], header: list[str] | None = None, title: str = "清单") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws.title = title
    ws.append(header if header is not None else TOWN_HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def town_row(n: int, **overrides: Any) -> list[Any]:
    row = {
        "code": f"XZCF-{n:03d}",
        "name": f"事项{n}",
        "type": "行政处罚",
        "basis": "《测试法》第一条",
        "lead": "综合行政执法队",
        "cats": "0101",
        "notes": "",
    }
    row.update(overrides)
    return list(row.values())


def village_row(n: int, **overrides: Any) -> list[Any]:
    row = {
        "code": f"CXZ-{n:03d}",
        "name": f"协助事项{n}",
        "assists": "civil_affairs",
        "basis": "《社会救助暂行办法》",
        "cats": "1001",
        "notes": "",
    }
    row.update(overrides)
    return list(row.values())


def refused(content: bytes, kind: str = "township") -> list[dict[str, Any]]:
    with pytest.raises(ServiceError) as err:
        parse_xlsx(content=content, kind=kind)
    assert err.value.code == "import_invalid"
    assert "未导入任何内容" in err.value.message
    return err.value.details


def test_headers_are_chinese():
    assert headers("township") == TOWN_HEADER
    assert headers("village_assist") == VILLAGE_HEADER


def test_round_trip_township(county, town_list):
    content = export_xlsx(duty_list=town_list, items=list(town_list.duties.all()))
    ws = sheet(content)
    assert [c.value for c in ws[1]] == TOWN_HEADER
    assert ws["C2"].value == "行政检查" and ws["F4"].value == "0501、1301"
    assert parse_xlsx(content=content, kind="township") == [fields_of(d) for d in town_list.duties.all()]
    draft = duty_list_create(actor=None, region=county.town_b, year=THIS_YEAR)
    duty_list_import(actor=None, duty_list=draft, content=content, filename="a.xlsx")
    assert [fields_of(d) for d in draft.duties.all()] == TOWN_DUTIES
    assert AuditEntry.objects.filter(action="duty_list.import", object_id=str(draft.pk)).count() == 1


def test_round_trip_village(county, village_list):
    content = export_xlsx(duty_list=village_list, items=list(village_list.assist_items.all()))
    assert [c.value for c in sheet(content)[1]] == VILLAGE_HEADER
    assert parse_xlsx(content=content, kind="village_assist") == VILLAGE_ASSISTS


def test_export_never_writes_formulas(county):
    dl = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR)
    duty_add(actor=None, duty_list=dl, fields=duty(1, name='=HYPERLINK("http://x","点我")', notes="+1+2"))
    ws = sheet(export_xlsx(duty_list=dl, items=list(dl.duties.all())))
    assert ws["B2"].data_type == "s" and ws["B2"].value.startswith("=HYPERLINK")
    assert ws["G2"].data_type == "s"


def test_import_tolerates_blank_rows_numbers_and_labels():
    content = xlsx([town_row(1, cats=101), [None] * 7, town_row(2, cats="0301,0302", code="xzcf-002")])
    items = parse_xlsx(content=content, kind="township")
    assert [(i.code, i.category_codes) for i in items] == [
        ("XZCF-001", ("0101",)),
        ("XZCF-002", ("0301", "0302")),
    ]
    assert isinstance(items[0], DutyFields) and items[0].type == "penalty"


def test_every_row_error_with_sheet_row_and_column():
    content = xlsx(
        [
            town_row(1),
            town_row(2, name=""),  # row 3: missing required cell
            town_row(3, type="行政许可证"),  # row 4: unknown duty type
            town_row(1, name="重复"),  # row 5: duplicate of row 2
            town_row(5, cats="0101、9999"),  # row 6: bad category code
            town_row(6, basis=None, lead=None),  # row 7: two missing cells
        ],
        title="青石镇",
    )
    errors = refused(content)
    got = [(e["sheet"], e["row"], e["column"], e["field"]) for e in errors]
    assert got == [
        ("青石镇", 3, "B", "事项名称"),
        ("青石镇", 4, "C", "职权类型"),
        ("青石镇", 5, "A", "事项编码"),
        ("青石镇", 6, "F", "涉及诉求类别"),
        ("青石镇", 7, "D", "设定依据"),
        ("青石镇", 7, "E", "牵头承办单位"),
    ]
    reasons = [e["reason"] for e in errors]
    assert reasons[0] == "事项名称不能为空"
    assert "未知的职权类型「行政许可证」" in reasons[1]
    assert reasons[2] == "事项编码 XZCF-001 与第 2 行重复"
    assert "9999" in reasons[3] and "0101" not in reasons[3]


def test_village_file_with_31_items_is_refused():
    content = xlsx([village_row(n) for n in range(1, 32)], header=VILLAGE_HEADER)
    errors = refused(content, kind="village_assist")
    assert [(e["row"], e["column"]) for e in errors] == [(32, None)]
    assert "最多 30 项" in errors[0]["reason"]
    assert (
        len(
            parse_xlsx(
                content=xlsx([village_row(n) for n in range(1, 31)], header=VILLAGE_HEADER),
                kind="village_assist",
            )
        )
        == 30
    )


def test_village_bad_category_column():
    errors = refused(xlsx([village_row(1, cats="12")], header=VILLAGE_HEADER), kind="village_assist")
    assert [(e["row"], e["column"], e["field"]) for e in errors] == [(2, "E", "涉及诉求类别")]


def test_wrong_header():
    errors = refused(xlsx([town_row(1)], header=["编码", *TOWN_HEADER[1:], "多出来"]))
    assert [(e["row"], e["column"]) for e in errors] == [(1, None), (1, "A"), (1, "H")]
    assert errors[1]["reason"] == "表头应为「事项编码」,实际为「编码」"
    # A village file is not a township file.
    assert refused(xlsx([village_row(1)], header=VILLAGE_HEADER))[0]["row"] == 1


def test_data_beyond_the_header_is_an_error():
    errors = refused(xlsx([[*town_row(1), "多余"]]))
    assert [(e["row"], e["column"]) for e in errors] == [(2, "H")]


def test_empty_sheet_and_header_only():
    assert refused(xlsx([]))[0]["reason"] == "文件中没有任何事项"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"code,name\nXZCF-001,x\n", "不是 Excel 文件"),
        (b"", "不是 Excel 文件"),
        (b"PK\x03\x04" + b"\x00" * 100, "文件已损坏"),
    ],
)
def test_not_an_xlsx(content, reason):
    errors = refused(content)
    assert len(errors) == 1 and reason in errors[0]["reason"]
    assert (errors[0]["row"], errors[0]["column"]) == (None, None)


def test_truncated_xlsx_is_corrupted():
    content = xlsx([town_row(1)])
    errors = refused(content[: len(content) // 2])
    assert "损坏" in errors[0]["reason"]


def test_zip_that_is_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "不是 Excel 文件" in refused(out.getvalue())[0]["reason"]


def test_workbook_with_broken_parts_is_corrupted():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<not-closed")
    assert "损坏" in refused(out.getvalue())[0]["reason"]


def test_file_too_large():
    errors = refused(b"PK\x03\x04" + b"\x00" * (5 * 1024 * 1024))
    assert errors[0]["reason"] == "文件大小超过 5 MB"


def test_zip_bomb_is_refused_before_decompression():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/sharedStrings.xml", b"\x00" * (60 * 1024 * 1024))
    content = out.getvalue()
    assert len(content) < 1024 * 1024  # small on disk, 60 MB inside
    assert "过大" in refused(content)[0]["reason"]


def test_dense_member_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b" " * (3 * 1024 * 1024))
    assert "过大" in refused(out.getvalue())[0]["reason"]


def test_bad_file_writes_nothing(county):
    draft = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(1), duty(2)])
    before = (AuditEntry.objects.count(), list(draft.duties.values_list("code", "name")))
    for content in (xlsx([town_row(7), town_row(8, type="其它")]), b"garbage", xlsx([town_row(7)])[:300]):
        with pytest.raises(ServiceError):
            duty_list_import(actor=None, duty_list=draft, content=content)
    assert (AuditEntry.objects.count(), list(draft.duties.values_list("code", "name"))) == before


def test_import_only_into_drafts(town_list):
    with pytest.raises(ServiceError) as err:
        duty_list_import(actor=None, duty_list=town_list, content=xlsx([town_row(1)]))
    assert err.value.code == "not_draft"


def test_import_into_village_draft(county):
    draft = duty_list_create(actor=None, region=county.village_a2, year=THIS_YEAR, items=[assist(9)])
    rows = [village_row(n) for n in range(1, 4)]
    duty_list_import(actor=None, duty_list=draft, content=xlsx(rows, header=VILLAGE_HEADER))
    assert list(draft.assist_items.values_list("code", flat=True)) == ["CXZ-001", "CXZ-002", "CXZ-003"]

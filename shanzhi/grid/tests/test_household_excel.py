"""Household import/export: all or nothing, errors by sheet/row/column, masking on export."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import ServiceError
from shanzhi.grid import household_excel as hx
from shanzhi.grid.household_selectors import household_list
from shanzhi.grid.households import HouseholdInput, household_create
from shanzhi.grid.models import Household
from shanzhi.grid.tests.households_setup import Homes, People
from shanzhi.grid.tests.mapped_setup import Mapped

pytestmark = pytest.mark.django_db


def _row(**kw: Any) -> list[Any]:
    base: dict[str, Any] = {
        "code": "",
        "grid": "331199101201-01",
        "address": "上溪村 11 号",
        "head_name": "周杰",
        "lon": 119.65,
        "lat": 28.45,
        "members": 3,
        "phone": "13912345678",
        "elderly_alone": "",
        "disabled": "",
        "bedridden": "",
        "left_behind_children": "",
        "no_phone": "",
        "note": "",
    }
    base.update(kw)
    return [base[f] for f, _ in hx.COLUMNS]


def _xlsx(rows: list[list[Any]], header: list[str] | None = None, title: str = "住户") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append(header if header is not None else hx.HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _snapshot() -> tuple[int, int]:
    return Household.objects.count(), AuditEntry.objects.count()


def _refused(content: bytes, actor: Any = None) -> list[dict[str, Any]]:
    before = _snapshot()
    with pytest.raises(ServiceError) as exc:
        hx.import_xlsx(actor=actor, content=content)
    assert exc.value.code == "import_invalid"
    assert "未导入任何住户" in exc.value.message
    assert _snapshot() == before
    details: list[dict[str, Any]] = exc.value.details
    return details


def test_import_creates_all_rows_with_codes_and_audit(mapped: Mapped, people: People) -> None:
    content = _xlsx(
        [
            _row(),
            _row(grid="", lon=119.75, lat=28.45, phone="", elderly_alone="是", address="上溪村 30 号"),
            _row(code="A1-CUSTOM-1", members=None, phone=13700001111.0, disabled="√"),
        ]
    )
    result = hx.import_xlsx(actor=people.village_a1_leader, content=content)
    assert result.created == 3
    first = Household.objects.get(code=f"{mapped.a1_01.code}-0001")
    assert (first.members, first.phone, first.grid) == (3, "13912345678", mapped.a1_01)
    by_point = Household.objects.get(address="上溪村 30 号")
    assert by_point.grid == mapped.a1_02 and by_point.elderly_alone and by_point.no_phone
    custom = Household.objects.get(code="A1-CUSTOM-1")
    assert custom.members == 1 and custom.phone == "13700001111" and custom.disabled
    assert AuditEntry.objects.filter(action="grid.household.import", actor="vl-a1").count() == 3


def test_import_numbers_after_existing_households(mapped: Mapped, homes: Homes) -> None:
    hx.import_xlsx(actor=None, content=_xlsx([_row(), _row()]))
    codes = sorted(Household.objects.filter(grid=mapped.a1_01).values_list("code", flat=True))
    assert codes[-2:] == [f"{mapped.a1_01.code}-0003", f"{mapped.a1_01.code}-0004"]


def test_row_errors_name_sheet_row_and_column(mapped: Mapped, homes: Homes) -> None:
    rows = [
        _row(),  # row 2 fine
        _row(phone="12345"),  # 3: bad phone (H)
        _row(lon=116.4, lat=39.9, grid=""),  # 4: outside the county (E)
        _row(lon=119.75, lat=28.45),  # 5: point outside its named grid (E)
        _row(grid="331199101201-77"),  # 6: unknown grid (B)
        _row(code="DUP-1"),  # 7
        _row(code="DUP-1"),  # 8: duplicate in the file (A)
        _row(code=homes.a1_01.code),  # 9: already in the database (A)
        _row(lon="东经119", members="三口"),  # 10: wrong types (E, G)
        _row(head_name="", disabled="也许"),  # 11: missing name (D), bad flag (J)
        _row(lon=119.95, lat=28.4, grid=""),  # 12: in the county but in no grid (E)
    ]
    details = _refused(_xlsx(rows, title="名册"))
    found = {(d["row"], d["column"]) for d in details}
    assert {
        (3, "H"),
        (4, "E"),
        (5, "E"),
        (6, "B"),
        (8, "A"),
        (9, "A"),
        (10, "E"),
        (10, "G"),
        (11, "D"),
        (11, "J"),
        (12, "E"),
    } <= found
    assert (2, None) not in found and all(d["sheet"] == "名册" for d in details)
    reasons = {(d["row"], d["column"]): d["reason"] for d in details}
    assert "11 位" in reasons[(3, "H")]
    assert "不在本县" in reasons[(4, "E")]
    assert "不在网格" in reasons[(5, "E")]
    assert "不存在" in reasons[(6, "B")]
    assert "与第 7 行重复" in reasons[(8, "A")]
    assert "已存在" in reasons[(9, "A")]
    assert "数字" in reasons[(10, "E")]
    assert "尚未划入" in reasons[(12, "E")]


def test_other_townships_grid_is_unknown_to_importer(mapped: Mapped, people: People) -> None:
    details = _refused(
        _xlsx([_row(grid=mapped.b1_01.code, lon=119.85, lat=28.3)]), actor=people.town_a_leader
    )
    assert "不在您的管辖范围内" in details[0]["reason"]
    details = _refused(_xlsx([_row(grid="", lon=119.85, lat=28.3)]), actor=people.gw_a1_01)
    assert "不在您的管辖范围内" in details[0]["reason"]


def test_bad_files(mapped: Mapped) -> None:
    cases: list[tuple[bytes, str]] = [
        (b"not a spreadsheet at all", "不是 Excel 文件"),
        (b"PK\x03\x04broken zip", "已损坏"),
        (_xlsx([_row()], header=["户号", "网格"]), "表头"),
        (_xlsx([]), "没有任何住户"),
        (b"x" * (hx.MAX_FILE_BYTES + 1), "超过"),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<x/>")
        zf.writestr("xl/workbook.xml", "<broken")
    cases.append((buf.getvalue(), "无法读取"))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<x/>")
        zf.writestr("xl/workbook.xml", "<x/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (30 << 20))
    cases.append((bomb.getvalue(), "过大"))
    for content, fragment in cases:
        details = _refused(content)
        assert fragment in details[0]["reason"], (fragment, details)


def test_too_many_rows(mapped: Mapped, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hx, "MAX_ROWS", 3)
    details = _refused(_xlsx([_row() for _ in range(4)]))
    assert details[0]["row"] == 5 and "行数过多" in details[0]["reason"]


def test_export_masks_unless_own_grid_and_round_trips(mapped: Mapped, people: People, homes: Homes) -> None:
    def read(user: Any) -> list[list[Any]]:
        content = hx.export_xlsx(user=user, households=household_list(user=user))
        ws = load_workbook(io.BytesIO(content)).worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]

    own = read(people.gw_a1_01)
    assert own[0] == hx.HEADERS
    assert [r[0] for r in own[1:]] == sorted([homes.a1_01.code, homes.a1_01_care.code])
    assert own[1][7] == "13812345678"
    leader = read(people.town_a_leader)
    assert len(leader) == 4 and leader[1][7] == "138****5678"
    assert homes.b1_01.code not in [r[0] for r in leader]
    care_row = next(r for r in own if r[0] == homes.a1_01_care.code)
    assert care_row[8] == "是" and care_row[12] == "是"
    # The grid worker's export, with new codes, imports again.
    content = hx.export_xlsx(user=people.gw_a1_01, households=household_list(user=people.gw_a1_01))
    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=2):
        row[0].value = f"{row[0].value}X"
    out = io.BytesIO()
    wb.save(out)
    assert hx.import_xlsx(actor=people.gw_a1_01, content=out.getvalue()).created == 2


def test_formula_text_stays_text(mapped: Mapped, people: People) -> None:
    household_create(
        actor=None,
        data=HouseholdInput(address='=HYPERLINK("http://x")', head_name="a", lon=119.65, lat=28.45),
    )
    content = hx.export_xlsx(user=people.county_admin, households=household_list(user=people.county_admin))
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    cell = ws.cell(row=2, column=3)
    assert cell.data_type == "s" and str(cell.value).startswith("=HYPERLINK")

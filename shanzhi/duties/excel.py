"""Duty lists in and out of Excel (.xlsx, one sheet, Chinese header in row 1).

Import is all or nothing: the file is read completely, every problem is collected with its sheet,
row and column, and only a clean file reaches the service. Untrusted files are bounded before
openpyxl sees them (size, member count, uncompressed size, compression ratio) and read in
read-only mode with defusedxml, so a zip bomb or an XML bomb is refused cheaply.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from shanzhi.core.errors import ServiceError
from shanzhi.duties.items import (
    AssistFields,
    DutyFields,
    ItemFields,
    field_label,
    field_order,
    fields_of,
    item_errors,
    known_categories,
    max_items,
    normalize,
    parse_category_codes,
)
from shanzhi.duties.models import AssistItem, Duty, DutyList, DutyListKind, DutyType

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024
MAX_MEMBERS = 200
MAX_RATIO = 100  # a real sheet compresses ~5-20x; bombs compress thousands of times
MAX_SCANNED_ROWS = 2000  # physical rows read before giving up on a file
MAX_ERRORS = 300
EXTRA_COLUMNS = 5  # columns past the header looked at, to catch misplaced data
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_TYPE_BY_LABEL = {str(label): value for value, label in DutyType.choices}
_COLUMN_WIDTHS = {
    "code": 12,
    "name": 36,
    "type": 10,
    "legal_basis": 60,
    "lead_handler": 20,
    "assists": 20,
    "basis": 60,
    "category_codes": 16,
    "notes": 24,
}


def headers(kind: str) -> list[str]:
    return [field_label(f) for f in field_order(kind)]


def sheet_title(kind: str) -> str:
    return str(DutyListKind(kind).label)


def export_filename(duty_list: DutyList) -> str:
    return (
        f"{duty_list.region.name}-{duty_list.year}-第{duty_list.version}版-{sheet_title(duty_list.kind)}.xlsx"
    )


def _cell_text(field: str, item: ItemFields) -> str:
    value = getattr(item, field)
    if field == "category_codes":
        return "、".join(value)
    if field == "type":
        return str(DutyType(value).label) if value in DutyType.values else str(value)
    return str(value)


def export_xlsx(*, duty_list: DutyList, items: list[Duty] | list[AssistItem]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(duty_list.kind)
    order = field_order(duty_list.kind)
    ws.append(headers(duty_list.kind))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for obj in items:
        item = fields_of(obj)
        ws.append([_cell_text(f, item) for f in order])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            # Text from users must never become a formula in someone's Excel (CSV/formula injection).
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, field in enumerate(order, start=1):
        ws.column_dimensions[get_column_letter(index)].width = _COLUMN_WIDTHS[field]
    ws.freeze_panes = "A2"
    wb.properties.title = str(duty_list)
    wb.properties.creator = "善治基层治理平台"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_upload(upload: Any) -> bytes:
    """At most one byte past the limit, so an oversized upload is refused without reading it all."""
    if upload is None:
        raise ServiceError("file_required", "请选择要导入的 .xlsx 文件")
    return bytes(upload.read(MAX_FILE_BYTES + 1))


# ---- import ----------------------------------------------------------------------------------


def _error(sheet: str, row: int | None, column: int | None, reason: str, field: str = "") -> dict[str, Any]:
    return {
        "sheet": sheet,
        "row": row,
        "column": get_column_letter(column) if column else None,
        "field": field_label(field) if field else "",
        "reason": reason,
    }


def _refuse(errors: list[dict[str, Any]]) -> ServiceError:
    shown = errors[:MAX_ERRORS]
    if len(errors) > MAX_ERRORS:
        shown.append(_error("", None, None, f"另有 {len(errors) - MAX_ERRORS} 处错误未列出"))
    return ServiceError("import_invalid", f"导入文件有 {len(errors)} 处错误,未导入任何内容", details=shown)


def _check_container(content: bytes) -> None:
    """Refuse what is not a sane xlsx before openpyxl decompresses anything."""
    if len(content) > MAX_FILE_BYTES:
        raise _refuse([_error("", None, None, f"文件大小超过 {MAX_FILE_BYTES // 1024 // 1024} MB")])
    if not content.startswith(b"PK\x03\x04"):
        raise _refuse(
            [_error("", None, None, "不是 Excel 文件(.xlsx),请用 Excel 或 WPS 另存为 .xlsx 后再导入")]
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse([_error("", None, None, "文件已损坏,无法读取")]) from exc
    total = sum(m.file_size for m in members)
    too_dense = any(
        m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members
    )
    if len(members) > MAX_MEMBERS or total > MAX_UNCOMPRESSED_BYTES or too_dense:
        raise _refuse([_error("", None, None, "文件解压后过大或结构异常,已拒绝导入")])
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _refuse(
            [_error("", None, None, "不是 Excel 文件(.xlsx),请用 Excel 或 WPS 另存为 .xlsx 后再导入")]
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _row_item(kind: str, order: tuple[str, ...], values: tuple[Any, ...]) -> ItemFields:
    cells = dict(zip(order, values, strict=False))
    categories = parse_category_codes(cells.get("category_codes"))
    if kind == DutyListKind.VILLAGE_ASSIST:
        return AssistFields(
            code=_text(cells.get("code")),
            name=_text(cells.get("name")),
            assists=_text(cells.get("assists")),
            basis=_text(cells.get("basis")),
            category_codes=categories,
            notes=_text(cells.get("notes")),
        )
    type_text = _text(cells.get("type"))
    return DutyFields(
        code=_text(cells.get("code")),
        name=_text(cells.get("name")),
        type=_TYPE_BY_LABEL.get(type_text, type_text),
        legal_basis=_text(cells.get("legal_basis")),
        lead_handler=_text(cells.get("lead_handler")),
        category_codes=categories,
        notes=_text(cells.get("notes")),
    )


def parse_xlsx(*, content: bytes, kind: str) -> list[ItemFields]:
    """The items of the first sheet, normalised; or ServiceError("import_invalid") listing every error."""
    _check_container(content)
    known = known_categories()  # read before the catch-all below, so a database error stays one
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken parts; all mean "unreadable"
        raise _refuse([_error("", None, None, "文件已损坏或不是有效的 .xlsx 文件,无法读取")]) from exc
    try:
        return _parse_sheet(wb, kind, known)
    except ServiceError:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while streaming its rows
        raise _refuse([_error("", None, None, "文件内容已损坏,无法读取")]) from exc
    finally:
        wb.close()


def _parse_sheet(wb: Any, kind: str, known: dict[str, str]) -> list[ItemFields]:
    if not wb.worksheets:
        raise _refuse([_error("", None, None, "文件中没有工作表")])
    ws = wb.worksheets[0]
    sheet = ws.title
    order = field_order(kind)
    expected = headers(kind)
    ws.reset_dimensions()  # trust the rows, not the (possibly wrong) declared sheet size
    rows = ws.iter_rows(values_only=True, max_col=len(expected) + EXTRA_COLUMNS)
    header = next(rows, None)
    if header is None:
        raise _refuse([_error(sheet, None, None, "工作表是空的")])
    errors: list[dict[str, Any]] = []
    header_cells = [_text(v) for v in header]
    for index, label in enumerate(expected, start=1):
        got = header_cells[index - 1] if index <= len(header_cells) else ""
        if got != label:
            errors.append(_error(sheet, 1, index, f"表头应为「{label}」,实际为「{got}」"))
    for index in range(len(expected) + 1, len(header_cells) + 1):
        if header_cells[index - 1]:
            errors.append(_error(sheet, 1, index, f"多余的列「{header_cells[index - 1]}」"))
    if errors:
        errors.insert(
            0, _error(sheet, 1, None, f"表头不正确,应为:{' | '.join(expected)}(请先导出清单作为模板)")
        )
        raise _refuse(errors)

    items: list[ItemFields] = []
    first_row_of: dict[str, int] = {}
    limit = max_items(kind)
    column_of = {f: i for i, f in enumerate(order, start=1)}
    for row_number, values in enumerate(rows, start=2):
        if row_number > MAX_SCANNED_ROWS:
            errors.append(_error(sheet, row_number, None, f"行数过多(超过 {MAX_SCANNED_ROWS} 行),已停止读取"))
            break
        if all(_text(v) == "" for v in values):
            continue
        for index in range(len(expected) + 1, len(values) + 1):
            if _text(values[index - 1]):
                errors.append(_error(sheet, row_number, index, "表头之外的列有内容"))
        item = normalize(_row_item(kind, order, values))
        items.append(item)
        if len(items) == limit + 1:
            what = "村级协助事项清单" if kind == DutyListKind.VILLAGE_ASSIST else "乡镇履职事项清单"
            errors.append(_error(sheet, row_number, None, f"{what}最多 {limit} 项,从本行起超出上限"))
        for field, reason in item_errors(item, known=known):
            errors.append(_error(sheet, row_number, column_of[field], reason, field))
        if item.code:
            if item.code in first_row_of:
                errors.append(
                    _error(
                        sheet,
                        row_number,
                        column_of["code"],
                        f"事项编码 {item.code} 与第 {first_row_of[item.code]} 行重复",
                        "code",
                    )
                )
            else:
                first_row_of[item.code] = row_number
    if not items and not errors:
        errors.append(_error(sheet, 2, None, "文件中没有任何事项"))
    if errors:
        raise _refuse(errors)
    return items

"""Households in and out of Excel (.xlsx, first sheet, Chinese header in row 1).

Import is all or nothing: the whole file is read and checked (every cell, every grid and
point, rights on every grid, codes unique in the file and in the database), every problem is
reported with its sheet, row and column, and only a clean file is written — with bulk inserts
in batches and one `audit_append_many`. Untrusted files are bounded before openpyxl sees them
(size, members, uncompressed size, compression ratio) and read in read-only mode.

Export writes what the user may see, in the import's columns (so an export is also the
template); phones are masked unless the household is in the user's own grid.
"""

from __future__ import annotations

import io
import math
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from shanzhi.core.errors import ServiceError
from shanzhi.grid.geometry import from_stored
from shanzhi.grid.household_selectors import household_phone
from shanzhi.grid.households import (
    CODE_RE,
    EDGE_TOLERANCE_DEG,
    MAX_MEMBERS,
    check_write,
    clean_phone,
    clean_text,
    household_create_many,
)
from shanzhi.grid.locate import IN_GRID, IndexCache, default_cache
from shanzhi.grid.models import Grid, Household

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_MEMBERS_IN_ZIP = 200
MAX_RATIO = 100  # a real sheet compresses ~5-20x; bombs compress thousands of times
MAX_ROWS = 20_000  # households per file; a township's register fits, a county's is split
MAX_ERRORS = 300
EXTRA_COLUMNS = 5
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "户编号"),
    ("grid", "网格编码"),
    ("address", "地址"),
    ("head_name", "户主"),
    ("lon", "经度"),
    ("lat", "纬度"),
    ("members", "人口数"),
    ("phone", "联系电话"),
    ("elderly_alone", "独居老人"),
    ("disabled", "残疾人"),
    ("bedridden", "卧床"),
    ("left_behind_children", "留守儿童"),
    ("no_phone", "无手机"),
    ("note", "备注"),
)
HEADERS = [label for _, label in COLUMNS]
COLUMN_OF = {field: i for i, (field, _) in enumerate(COLUMNS, start=1)}
LABEL_OF = dict(COLUMNS)
_WIDTHS = {"code": 22, "grid": 18, "address": 32, "head_name": 10, "note": 24, "phone": 14}
_YES = {"是", "√", "✓", "1", "y", "yes", "true", "有"}
_NO = {"", "否", "0", "n", "no", "false", "无", "×"}


@dataclass(frozen=True)
class ImportResult:
    created: int
    seconds: float


# --- export -----------------------------------------------------------------------------------


def export_xlsx(*, user: Any, households: Iterable[Household]) -> bytes:
    """The households as the user may see them, one row each, in the import's columns."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("住户")
    for index, (field, _) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(field, 9)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for label in HEADERS:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for h in households:
        row: list[Any] = []
        for field, _ in COLUMNS:
            if field == "grid":
                value: Any = h.grid.code
            elif field == "phone":
                value = household_phone(user=user, household=h)
            elif field in Household.CARE_FLAGS:
                value = "是" if getattr(h, field) else ""
            else:
                value = getattr(h, field)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text from users never becomes a formula in someone's Excel
            row.append(cell)
        ws.append(row)
    wb.properties.title = "住户名册"
    wb.properties.creator = "善治基层治理平台"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- import: the file -------------------------------------------------------------------------


def _error(sheet: str, row: int | None, field: str | int | None, reason: str) -> dict[str, Any]:
    column = COLUMN_OF[field] if isinstance(field, str) else field
    return {
        "sheet": sheet,
        "row": row,
        "column": get_column_letter(column) if column else None,
        "field": LABEL_OF.get(field, "") if isinstance(field, str) else "",
        "reason": reason,
    }


def _refuse(errors: list[dict[str, Any]]) -> ServiceError:
    shown = errors[:MAX_ERRORS]
    if len(errors) > MAX_ERRORS:
        shown.append(_error("", None, None, f"另有 {len(errors) - MAX_ERRORS} 处错误未列出"))
    return ServiceError(
        "import_invalid", f"导入文件有 {len(errors)} 处错误,未导入任何住户", details=shown, status=422
    )


NOT_XLSX = "不是 Excel 文件(.xlsx),请用 Excel 或 WPS 另存为 .xlsx 后再导入"


def read_upload(upload: Any) -> bytes:
    """At most one byte past the limit, so an oversized upload is refused without reading it all."""
    if upload is None:
        raise ServiceError("file_required", "请选择要导入的 .xlsx 文件", status=422)
    return bytes(upload.read(MAX_FILE_BYTES + 1))


def _check_container(content: bytes) -> None:
    """Refuse what is not a sane xlsx before openpyxl decompresses anything."""
    if len(content) > MAX_FILE_BYTES:
        raise _refuse([_error("", None, None, f"文件大小超过 {MAX_FILE_BYTES // 1024 // 1024} MB")])
    if not content.startswith(b"PK\x03\x04"):
        raise _refuse([_error("", None, None, NOT_XLSX)])
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse([_error("", None, None, "文件已损坏,无法读取")]) from exc
    total = sum(m.file_size for m in members)
    dense = any(m.file_size > 1 << 20 and m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members)
    if len(members) > MAX_MEMBERS_IN_ZIP or total > MAX_UNCOMPRESSED_BYTES or dense:
        raise _refuse([_error("", None, None, "文件解压后过大或结构异常,已拒绝导入")])
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _refuse([_error("", None, None, NOT_XLSX)])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(content: bytes) -> tuple[str, list[tuple[int, tuple[Any, ...]]]]:
    """The first sheet's title and its non-blank data rows (1-based row numbers)."""
    _check_container(content)
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken parts; all mean "unreadable"
        raise _refuse([_error("", None, None, "文件已损坏或不是有效的 .xlsx 文件,无法读取")]) from exc
    try:
        if not wb.worksheets:
            raise _refuse([_error("", None, None, "文件中没有工作表")])
        ws = wb.worksheets[0]
        sheet = str(ws.title)
        ws.reset_dimensions()  # trust the rows, not the (possibly wrong) declared sheet size
        rows = ws.iter_rows(values_only=True, max_col=len(HEADERS) + EXTRA_COLUMNS)
        header = next(rows, None)
        if header is None:
            raise _refuse([_error(sheet, None, None, "工作表是空的")])
        _check_header(sheet, header)
        out: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in enumerate(rows, start=2):
            if all(v is None or _text(v) == "" for v in values):
                continue
            if len(out) == MAX_ROWS:
                raise _refuse(
                    [_error(sheet, number, None, f"行数过多:每个文件最多 {MAX_ROWS} 户,请分成几个文件导入")]
                )
            out.append((number, tuple(values)))
        return sheet, out
    except ServiceError:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while streaming its rows
        raise _refuse([_error("", None, None, "文件内容已损坏,无法读取")]) from exc
    finally:
        wb.close()


def _check_header(sheet: str, header: tuple[Any, ...]) -> None:
    cells = [_text(v) for v in header]
    errors = []
    for index, label in enumerate(HEADERS, start=1):
        got = cells[index - 1] if index <= len(cells) else ""
        if got != label:
            errors.append(_error(sheet, 1, index, f"表头应为「{label}」,实际为「{got}」"))
    for index in range(len(HEADERS) + 1, len(cells) + 1):
        if cells[index - 1]:
            errors.append(_error(sheet, 1, index, f"多余的列「{cells[index - 1]}」"))
    if errors:
        errors.insert(0, _error(sheet, 1, None, f"表头不正确,应为:{' | '.join(HEADERS)}(可先导出作为模板)"))
        raise _refuse(errors)


# --- import: the rows -------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    code: str
    grid_code: str
    values: dict[str, Any]
    lon: float = math.nan
    lat: float = math.nan


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        number = float(_text(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_row(sheet: str, number: int, values: tuple[Any, ...], errors: list[dict[str, Any]]) -> _Row:
    cells = dict(zip((f for f, _ in COLUMNS), values, strict=False))
    for index in range(len(HEADERS) + 1, len(values) + 1):
        if _text(values[index - 1]):
            errors.append(_error(sheet, number, index, "表头之外的列有内容"))

    def err(field: str, reason: str) -> None:
        errors.append(_error(sheet, number, field, reason))

    row = _Row(number=number, code=_text(cells.get("code")), grid_code=_text(cells.get("grid")), values={})
    if row.code and not CODE_RE.match(row.code):
        err("code", "户编号只能包含字母、数字和短横线,不超过 32 位")
    for field, limit, required in (("address", 255, True), ("head_name", 64, True), ("note", 255, False)):
        try:
            row.values[field] = clean_text(
                _text(cells.get(field)), label=LABEL_OF[field], max_length=limit, required=required
            )
        except ServiceError as exc:
            err(field, exc.message)
    lon, lat = _number(cells.get("lon")), _number(cells.get("lat"))
    if lon is None:
        err("lon", "经度应为数字,如 119.82")
    elif not -180 <= lon <= 180:
        err("lon", "经度须在 −180~180 之间")
    if lat is None:
        err("lat", "纬度应为数字,如 28.35")
    elif not -90 <= lat <= 90:
        err("lat", "纬度须在 −90~90 之间")
    if lon is not None and lat is not None and -180 <= lon <= 180 and -90 <= lat <= 90:
        row.lon, row.lat = lon, lat
    members_cell = cells.get("members")
    members = 1 if _text(members_cell) == "" else _number(members_cell)
    if members is None or not float(members).is_integer() or not 1 <= members <= MAX_MEMBERS:
        err("members", f"人口数应为 1~{MAX_MEMBERS} 的整数")
    else:
        row.values["members"] = int(members)
    try:
        row.values["phone"] = clean_phone(_text(cells.get("phone")))
    except ServiceError as exc:
        err("phone", exc.message)
    for flag in Household.CARE_FLAGS:
        text = _text(cells.get(flag)).lower()
        if text in _YES:
            row.values[flag] = True
        elif text in _NO:
            row.values[flag] = False
        else:
            err(flag, "应填“是”或留空")
    if row.values.get("phone") == "":
        row.values["no_phone"] = True
    return row


def _check_places(
    sheet: str, rows: list[_Row], actor: Any, cache: IndexCache | None, errors: list[dict[str, Any]]
) -> dict[int, Grid]:
    """Assign each row's grid (given or by point) and check rights; returns row number → grid."""
    index = (cache or default_cache).get()
    placed = [r for r in rows if not math.isnan(r.lon)]
    locations = index.locate_many([r.lon for r in placed], [r.lat for r in placed]) if placed else []
    codes = {r.grid_code for r in rows if r.grid_code}
    ids = {loc.grid_id for loc in locations if loc.grid_id}
    grids = {g.code: g for g in Grid.objects.select_related("village").filter(code__in=sorted(codes))}
    by_id = {g.pk: g for g in Grid.objects.select_related("village").filter(pk__in=sorted(ids))}
    allowed: dict[int, bool] = {}

    def may_write(grid: Grid) -> bool:
        if grid.pk not in allowed:
            try:
                check_write(actor=actor, grid=grid)
                allowed[grid.pk] = True
            except ServiceError:
                allowed[grid.pk] = False
        return allowed[grid.pk]

    for code, grid in list(grids.items()):
        if not may_write(grid):
            del grids[code]  # another township's grid looks like a missing one
    # Rows naming a grid: the point must lie in it (vectorised per grid).
    wanted: dict[str, list[_Row]] = defaultdict(list)
    for r in rows:
        if r.grid_code:
            named = grids.get(r.grid_code)
            if named is None:
                errors.append(
                    _error(sheet, r.number, "grid", f"网格编码 {r.grid_code[:32]} 不存在或不在您的管辖范围内")
                )
            elif not named.active:
                errors.append(_error(sheet, r.number, "grid", f"网格 {named.code} 已停用"))
            elif not math.isnan(r.lon):
                wanted[r.grid_code].append(r)
    result: dict[int, Grid] = {}
    location_of = {r.number: loc for r, loc in zip(placed, locations, strict=True)}
    for code, members in wanted.items():
        geom = from_stored(grids[code].geometry)
        shapely.prepare(geom)
        inside = shapely.dwithin(
            geom, shapely.points(np.array([[r.lon, r.lat] for r in members])), EDGE_TOLERANCE_DEG
        )
        for r, ok in zip(members, inside.tolist(), strict=True):
            if not location_of[r.number].inside:
                errors.append(_error(sheet, r.number, "lon", "该位置不在本县范围内,请核对经纬度"))
            elif not ok:
                errors.append(
                    _error(
                        sheet,
                        r.number,
                        "lon",
                        f"该位置不在网格 {code}({grids[code].name})内,请核对经纬度或网格",
                    )
                )
            else:
                result[r.number] = grids[code]
    for r in placed:
        if r.grid_code:
            continue
        loc = location_of[r.number]
        if not loc.inside:
            errors.append(_error(sheet, r.number, "lon", "该位置不在本县范围内,请核对经纬度"))
        elif loc.code != IN_GRID or loc.grid_id is None:
            errors.append(_error(sheet, r.number, "lon", "该位置尚未划入任何网格,请核对经纬度或填写网格编码"))
        elif not may_write(by_id[loc.grid_id]):
            errors.append(_error(sheet, r.number, "lon", "该位置所在网格不在您的管辖范围内"))
        else:
            result[r.number] = by_id[loc.grid_id]
    return result


def _check_codes(sheet: str, rows: list[_Row], errors: list[dict[str, Any]]) -> None:
    first: dict[str, int] = {}
    for r in rows:
        if not r.code:
            continue
        if r.code in first:
            errors.append(_error(sheet, r.number, "code", f"户编号 {r.code} 与第 {first[r.code]} 行重复"))
        else:
            first[r.code] = r.number
    codes = list(first)
    for start in range(0, len(codes), 500):
        for code in Household.objects.filter(code__in=codes[start : start + 500]).values_list(
            "code", flat=True
        ):
            errors.append(_error(sheet, first[code], "code", f"户编号 {code} 已存在"))


def import_xlsx(*, actor: Any, content: bytes, cache: IndexCache | None = None) -> ImportResult:
    """Create every household in the file, or none; ServiceError("import_invalid") lists the errors."""
    started = time.perf_counter()
    sheet, raw = _rows(content)
    if not raw:
        raise _refuse([_error(sheet, 2, None, "文件中没有任何住户")])
    errors: list[dict[str, Any]] = []
    rows = [_parse_row(sheet, number, values, errors) for number, values in raw]
    grid_of = _check_places(sheet, rows, actor, cache, errors)
    _check_codes(sheet, rows, errors)
    if errors:
        errors.sort(key=lambda e: (e["row"] or 0, e["column"] or ""))
        raise _refuse(errors)
    created = _write(actor=actor, rows=rows, grid_of=grid_of)
    return ImportResult(created=created, seconds=time.perf_counter() - started)


def _write(*, actor: Any, rows: list[_Row], grid_of: dict[int, Grid]) -> int:
    households = [
        Household(
            code=r.code,
            grid=grid_of[r.number],
            village=grid_of[r.number].village,
            lon=r.lon,
            lat=r.lat,
            **r.values,
        )
        for r in rows
    ]
    return len(household_create_many(actor=actor, households=households))

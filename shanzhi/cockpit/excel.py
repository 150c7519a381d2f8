"""Excel exports of every cockpit panel and drill-down list (openpyxl).

Each sheet starts with the report's title and the filters it was computed under, then one header
row in Chinese and the rows: counts as integers, rates as percentages (a number formatted "0.0%"),
hours as numbers. Lists go through openpyxl's write-only mode into a temporary file, so memory
stays flat however long the list; past `LIST_LIMIT` rows the file says so and stops.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

LIST_LIMIT = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Chinese column titles for the keys the panels use; an unknown key keeps its own name.
LABELS: dict[str, str] = {
    "code": "代码",
    "name": "名称",
    "group": "大类",
    "count": "件数",
    "share": "占比",
    "day": "日期",
    "days": "日期",
    "month": "月份",
    "months": "月份",
    "total": "合计",
    "intake": "受理量",
    "received": "受理量",
    "open": "在办",
    "overdue": "超期",
    "due_today": "今日到期",
    "today_intake": "今日受理",
    "dispatched": "派遣数",
    "responded": "响应数",
    "closed": "结案数",
    "resolved": "解决数",
    "rated": "评价数",
    "satisfied": "满意数",
    "on_time": "按期办结数",
    "due": "应办结数",
    "on_time_rate": "按期结案率",
    "response_rate": "响应率",
    "resolution_rate": "解决率",
    "satisfaction_rate": "满意率",
    "avg_disposal_hours": "平均处置时长(小时)",
    "applications": "办件量",
    "application_satisfaction_rate": "办件满意率",
    "application_rated": "办件评价数",
    "application_satisfied": "办件满意数",
    "lon": "经度",
    "lat": "纬度",
    "village": "村/社区",
    "village_code": "村/社区代码",
    "township": "乡镇/街道",
    "township_code": "乡镇/街道代码",
    "grid": "网格",
    "grid_code": "网格代码",
    "grid_name": "网格",
    "place": "地点",
    "place_code": "地点代码",
    "place_name": "地点",
    "category": "类别",
    "category_code": "类别代码",
    "category_name": "类别",
    "handler": "承办单位",
    "handler_code": "承办单位代码",
    "handler_name": "承办单位",
    "first": "首次受理",
    "last": "最近受理",
    "first_at": "首次受理",
    "last_at": "最近受理",
    "window_start": "窗口起",
    "window_end": "窗口止",
    "year": "年份",
    "this_year": "本年",
    "last_year": "上年",
    "current": "本期",
    "previous": "同期",
    "rank": "名次",
    "totals": "合计",
    "counts": "件数",
    "shares": "占比",
    "change": "同比变化",
    "suspended": "缓办数",
    "disposed": "处置数",
    "applications_rated": "办件评价数",
    "applications_satisfied": "办件满意数",
    "unlocated": "未落到网格",
    "place_kind": "地点类型",
    "max_in_30_days": "30天内最多件数",
    "in_range": "期间件数",
    "window_days": "统计窗口(天)",
    "threshold": "重复阈值(件)",
    "metric": "着色指标",
}

RATE_FORMAT = "0.0%"
HOURS_FORMAT = "0.0"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
TITLE_FONT = Font(bold=True, size=14)


def label(key: str) -> str:
    if key in LABELS:
        return LABELS[key]
    for suffix, text in (("_rate", "率"), ("_share", "占比")):
        if key.endswith(suffix):
            return LABELS.get(key[: -len(suffix)], key[: -len(suffix)]) + text
    return key


def kind_of(key: str) -> str:
    """How a column's numbers are shown: a rate/share as a percentage, hours to one decimal."""
    if key == "share" or key.endswith(("_rate", "_share")):
        return "rate"
    if key.endswith("_hours") or key in {"lon", "lat"}:
        return "float"
    return "auto"


@dataclass
class Sheet:
    title: str
    headers: list[str]
    kinds: list[str]
    rows: Iterable[Sequence[Any]]
    note: str = ""
    # Two-column "指标/数值" sheets: the kind of each row's value (a rate beside a count).
    row_kinds: list[str] | None = None


@dataclass
class Export:
    title: str
    filters: list[tuple[str, str]]
    sheets: list[Sheet] = field(default_factory=list)


def _cell_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, (list, tuple, dict)):
        return str(value)
    return value


def _cells(ws: WriteOnlyWorksheet, row: Sequence[Any], kinds: Sequence[str]) -> list[Any]:
    out = []
    for i, value in enumerate(row):
        cell = WriteOnlyCell(ws, value=_cell_value(value))
        kind = kinds[i] if i < len(kinds) else "auto"
        if kind == "rate" and isinstance(value, (int, float)):
            cell.number_format = RATE_FORMAT
        elif kind == "float" and isinstance(value, (int, float)):
            cell.number_format = HOURS_FORMAT
        elif isinstance(value, dt.datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
        out.append(cell)
    return out


def _styled(ws: WriteOnlyWorksheet, value: str, font: Font, fill: PatternFill | None = None) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def write(export: Export, target: IO[bytes] | str) -> None:
    wb = Workbook(write_only=True)
    for sheet in export.sheets:
        ws = wb.create_sheet(title=sheet.title[:31])
        ws.append([_styled(ws, export.title, TITLE_FONT)])
        ws.append(["生成时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
        for name, value in export.filters:
            ws.append([name, value])
        if sheet.note:
            ws.append([_styled(ws, sheet.note, Font(bold=True, color="B3261E"))])
        ws.append([])
        ws.append([_styled(ws, h, HEADER_FONT, HEADER_FILL) for h in sheet.headers])
        for i, row in enumerate(sheet.rows):
            kinds = sheet.kinds if sheet.row_kinds is None else ["auto", sheet.row_kinds[i]]
            ws.append(_cells(ws, row, kinds))
    if not export.sheets:
        ws = wb.create_sheet(title="数据")
        ws.append([export.title])
    wb.save(target)


def export_file(export: Export) -> IO[bytes]:
    """The workbook in a temporary file, rewound, for a FileResponse to stream."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    write(export, handle)
    handle.seek(0)
    return handle


# --- panels ---------------------------------------------------------------------------------------


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, Mapping) for r in value)


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """Nested dicts (e.g. {"grid": {"code", "name"}}) become grid_code / grid_name columns."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, Mapping):
            for sub, inner in value.items():
                if not isinstance(inner, (Mapping, list)):
                    out[f"{key}_{sub}"] = inner
        elif not isinstance(value, list):
            out[key] = value
    return out


# Codes in the panels' rows shown as words (the API keeps the codes).
WORDS: dict[str, dict[str, str]] = {"place_kind": {"grid": "网格", "village": "村(社区)"}}


def rows_sheet(title: str, rows: Sequence[Mapping[str, Any]]) -> Sheet:
    flat = [{k: WORDS[k].get(v, v) if k in WORDS else v for k, v in _flat(r).items()} for r in rows]
    keys: list[str] = []
    for r in flat:
        for k in r:
            if k not in keys:
                keys.append(k)
    return Sheet(
        title=title,
        headers=[label(k) for k in keys],
        kinds=[kind_of(k) for k in keys],
        rows=[[r.get(k) for k in keys] for r in flat],
    )


# The parallel lists a series may carry, and how each becomes a column beside the series' name.
SERIES_PARTS = (("values", "", "auto"), ("counts", "件数", "auto"), ("shares", "占比", "rate"))


def axis_sheet(title: str, axis_key: str, data: Mapping[str, Any]) -> Sheet:
    """A day/month axis with its parallel lists (totals, this_year, …) and the series'
    values/counts/shares → one row per point."""
    axis = list(data.get(axis_key) or [])
    n = len(axis)
    columns: list[tuple[str, str, list[Any]]] = []
    for key, value in data.items():
        if key == axis_key or not isinstance(value, list) or len(value) != n:
            continue
        if all(not isinstance(v, (Mapping, list)) for v in value):
            columns.append((label(key), kind_of(key), value))
    for s in data.get("series") or []:
        if not isinstance(s, Mapping):
            continue
        name = str(s.get("group") or s.get("name") or s.get("code") or "")
        for part, suffix, kind in SERIES_PARTS:
            values = s.get(part)
            if isinstance(values, list) and len(values) == n:
                columns.append((name + suffix, kind, values))
    return Sheet(
        title=title,
        headers=[label(axis_key), *[c[0] for c in columns]],
        kinds=["auto", *[c[1] for c in columns]],
        rows=[[axis[i], *[c[2][i] for c in columns]] for i in range(n)],
    )


def scalars_sheet(title: str, data: Mapping[str, Any]) -> Sheet | None:
    """The panel's single figures (e.g. the tiles), one per row; each row's value keeps its kind."""
    items: list[tuple[str, Any]] = [
        (k, v)
        for k, v in data.items()
        if v is None or (isinstance(v, (int, float, str)) and not isinstance(v, bool))
    ]
    if not items:
        return None
    return Sheet(
        title=title,
        headers=["指标", "数值"],
        kinds=["auto", "auto"],
        rows=[[label(k), v] for k, v in items],
        row_kinds=[kind_of(k) for k, _ in items],
    )


def panel_sheets(title: str, data: Mapping[str, Any]) -> list[Sheet]:
    """Every panel's dict as sheets: a day/month series pivots to one row per point, each list of
    row dicts becomes a table, and the panel's single figures a two-column sheet."""
    sheets: list[Sheet] = []
    axis_keys = [k for k in ("days", "months") if isinstance(data.get(k), list)]
    for axis_key in axis_keys:
        sheets.append(axis_sheet(title, axis_key, data))
    for key, value in data.items():
        if key == "series" and axis_keys:
            continue
        if _is_rows(value):
            sheets.append(rows_sheet(title if not sheets else f"{title}-{label(key)}", value))
        elif isinstance(value, Mapping) and any(_is_rows(v) for v in value.values()):
            for sub, inner in value.items():
                if _is_rows(inner):
                    sheets.append(rows_sheet(f"{title}-{label(key)}-{label(sub)}", inner))
    summary = scalars_sheet(f"{title}-汇总" if sheets else title, data)
    if summary is not None:
        sheets.append(summary)
    if not sheets:
        sheets.append(Sheet(title=title, headers=["说明"], kinds=["auto"], rows=[["所选范围内没有数据"]]))
    # Sheet titles must be unique within a workbook.
    seen: dict[str, int] = {}
    for sheet in sheets:
        base = sheet.title[:28]
        n = seen.get(base, 0)
        seen[base] = n + 1
        sheet.title = base if n == 0 else f"{base}{n + 1}"
    return sheets


# --- drill-down lists ----------------------------------------------------------------------------


def limited(
    qs: QuerySet[Any], columns: Sequence[tuple[str, str, str]], limit: int | None = None
) -> tuple[int, Iterator[list[Any]]]:
    """(total, rows) for a list export: rows read in chunks, at most `limit` of them."""
    limit = LIST_LIMIT if limit is None else limit
    total = qs.count()
    fields = [c[0] for c in columns]

    def rows() -> Iterator[list[Any]]:
        for values in qs.values_list(*fields)[:limit].iterator(chunk_size=2000):
            yield list(values)

    return total, rows()


def truncation_note(total: int, limit: int | None = None) -> str:
    limit = LIST_LIMIT if limit is None else limit
    if total <= limit:
        return f"共 {total} 条。"
    return (
        f"共 {total} 条,超过单次导出上限 {limit:,} 条,本文件只含前 {limit:,} 条;"
        "请缩小时间范围或增加筛选条件后分批导出。"
    )

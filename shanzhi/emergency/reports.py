"""The close-out report of an incident, as A4 PDF (reportlab's built-in STSong-Light CJK font)
and as an Excel workbook, both rendered from the summary frozen when the incident closed."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shanzhi.emergency.models import Incident
from shanzhi.emergency.selectors import STATE_LABELS

FONT = "STSong-Light"
ACCENT = colors.HexColor("#b3261e")
pdfmetrics.registerFont(UnicodeCIDFont(FONT))  # idempotent; registers the font's metrics only

COLUMNS = [
    ("乡镇/街道", "township"),
    ("村/社区", "village"),
    ("网格", "grid"),
    ("状态", "state"),
    ("涉及户数", "households"),
    ("已走访户数", "households_reached"),
    ("需帮扶人数", "people_need_help"),
    ("清单完成", "checklist_done"),
    ("超时", "overdue"),
    ("完成时间", "done_at"),
    ("物资需求", "supplies_requested"),
]
TOTALS = [
    ("涉及网格", "grids"),
    ("已完成网格", "done"),
    ("未完成(已关闭)", "not_done"),
    ("超时任务", "overdue"),
    ("涉及户数", "households"),
    ("其中重点关爱户", "care_households"),
    ("已走访户数", "households_reached"),
    ("需帮扶人数", "people_need_help"),
    ("提出物资需求的网格", "supplies_requests"),
]


def _when(value: str | None) -> str:
    if not value:
        return ""
    return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")


def _cells(row: dict[str, Any]) -> dict[str, Any]:
    """One grid row as printed: state in words, times short, checklist as done/total."""
    state = STATE_LABELS.get(row["state"], row["state"])
    if row["status"] == "closed":
        state = "未完成(已关闭)"
    return {
        **row,
        "state": state,
        "checklist_done": f"{row['checked']}/{row['checklist']}",
        "overdue": "是" if row["overdue"] else "",
        "done_at": _when(row["done_at"]),
    }


def _header_lines(incident: Incident) -> list[tuple[str, str]]:
    s = incident.summary
    return [
        ("事件编号", s["number"]),
        ("事件类型", s["type"]),
        ("区域", s["region"]),
        ("开始时间", _when(s["started_at"])),
        ("恢复常态", _when(s["closed_at"])),
        ("持续时间", s["duration"]),
        ("恢复说明", incident.close_reason),
    ]


# --- PDF ----------------------------------------------------------------------------------------


def _style(name: str, size: float, **kw: object) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=FONT, fontSize=size, leading=size * 1.45, wordWrap="CJK", **kw)


TITLE = _style("title", 17, alignment=TA_CENTER, spaceAfter=3 * mm)
HEADING = _style("heading", 12, textColor=ACCENT, spaceBefore=4 * mm, spaceAfter=2 * mm)
BODY = _style("body", 10)
CELL = _style("cell", 8.5)
CELL_HEAD = _style("cell_head", 8.5, textColor=colors.white)


def _p(text: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _table(rows: list[list[Any]], widths: list[float], *, head: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if head else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c5ccd3")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if head:
        style.append(("BACKGROUND", (0, 0), (-1, 0), ACCENT))
    table.setStyle(TableStyle(style))
    return table


def summary_pdf(*, incident: Incident) -> bytes:
    s = incident.summary
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"{s['number']} 应急处置总结",
        author="善治基层治理平台",
    )
    story: list[Any] = [_p(f"{s['title']} 应急处置总结报告", TITLE)]
    story.append(
        _table(
            [[_p(k, CELL), _p(v, CELL)] for k, v in _header_lines(incident)], [40 * mm, 200 * mm], head=False
        )
    )
    story.append(_p("总体情况", HEADING))
    totals = s["totals"]
    story.append(
        _table(
            [[_p(label, CELL_HEAD) for label, _ in TOTALS], [_p(totals[key], CELL) for _, key in TOTALS]],
            [30 * mm] * len(TOTALS),
        )
    )
    story.append(_p("各网格情况", HEADING))
    rows = [[_p(label, CELL_HEAD) for label, _ in COLUMNS]]
    for row in s["grids"]:
        cells = _cells(row)
        rows.append([_p(cells[key], CELL) for _, key in COLUMNS])
    widths = [22, 22, 32, 20, 16, 17, 17, 16, 11, 26, 74]
    story.append(_table(rows, [w * mm for w in widths]))
    story.append(Spacer(1, 4 * mm))
    story.append(_p("本报告由善治平台在事件恢复常态时根据各网格上报数据自动生成。", CELL))
    doc.build(story)
    return buffer.getvalue()


# --- Excel --------------------------------------------------------------------------------------

_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="B3261E")


def summary_xlsx(*, incident: Incident) -> bytes:
    s = incident.summary
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "总结"
    sheet.append([f"{s['title']} 应急处置总结报告"])
    sheet["A1"].font = Font(bold=True, size=14)
    for key, value in _header_lines(incident):
        sheet.append([key, value])
    sheet.append([])
    for label, key in TOTALS:
        sheet.append([label, s["totals"][key]])
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 40

    grids = book.create_sheet("各网格")
    grids.append([label for label, _ in COLUMNS] + ["网格编码", "情况说明"])
    for cell in grids[1]:
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
    for row in s["grids"]:
        cells = _cells(row)
        grids.append([cells[key] for _, key in COLUMNS] + [row["grid_code"], row["note"]])
    for letter, width in zip(
        "ABCDEFGHIJKLM", [12, 12, 18, 14, 10, 11, 11, 10, 6, 17, 40, 20, 40], strict=True
    ):
        grids.column_dimensions[letter].width = width
    for line in grids.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    grids.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

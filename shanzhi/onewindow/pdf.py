"""The one-time notice as a printable A4 PDF, in reportlab's built-in Chinese font (STSong-Light,
an Adobe CID font every PDF reader has), so no font file ships with the code."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from shanzhi.onewindow.notice import Notice, flow_layout

FONT = "STSong-Light"
ACCENT = colors.HexColor("#1f5c99")
pdfmetrics.registerFont(UnicodeCIDFont(FONT))  # idempotent; registers the font's metrics only


def _style(name: str, size: float, **kw: object) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=FONT, fontSize=size, leading=size * 1.45, wordWrap="CJK", **kw)


TITLE = _style("title", 18, alignment=TA_CENTER, spaceAfter=2 * mm)
SUBTITLE = _style("subtitle", 13, alignment=TA_CENTER, spaceAfter=4 * mm)
HEADING = _style("heading", 12.5, textColor=ACCENT, spaceBefore=4 * mm, spaceAfter=2 * mm)
BODY = _style("body", 10.5)
CELL = _style("cell", 9.5)
CELL_HEAD = _style("cell_head", 9.5, textColor=colors.white)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _flow_drawing(notice: Notice, width: float) -> Drawing:
    """The same layout as the page's SVG, scaled to the text width, y flipped."""
    layout = flow_layout([s.name for s in notice.steps])
    scale = min(1.0, width / layout.width)
    drawing = Drawing(layout.width * scale, layout.height * scale)

    def pt(x: float, y: float) -> tuple[float, float]:
        return x * scale, (layout.height - y) * scale

    for points in layout.connectors:
        flat: list[float] = []
        for x, y in points:
            flat.extend(pt(x, y))
        drawing.add(PolyLine(flat, strokeColor=ACCENT, strokeWidth=1.5))
        (x1, y1), (x2, y2) = (pt(*points[-2]), pt(*points[-1]))
        dx, dy = (x2 - x1, y2 - y1)
        length = max((dx * dx + dy * dy) ** 0.5, 1e-6)
        ux, uy = dx / length, dy / length
        size = 6 * scale + 2
        drawing.add(
            Polygon(
                [
                    x2,
                    y2,
                    x2 - ux * size - uy * size / 2,
                    y2 - uy * size + ux * size / 2,
                    x2 - ux * size + uy * size / 2,
                    y2 - uy * size - ux * size / 2,
                ],
                fillColor=ACCENT,
                strokeColor=ACCENT,
            )
        )
    for box in layout.boxes:
        x, top = pt(box.x, box.y)
        drawing.add(
            Rect(
                x,
                top - box.h * scale,
                box.w * scale,
                box.h * scale,
                rx=6 * scale,
                ry=6 * scale,
                fillColor=colors.HexColor("#eef4fb"),
                strokeColor=ACCENT,
                strokeWidth=1.5,
            )
        )
        centre_y = top - box.h * scale / 2
        first = centre_y + (len(box.lines) - 1) * 9 * scale
        for k, line in enumerate(box.lines):
            drawing.add(
                String(
                    x + box.w * scale / 2,
                    first - k * 18 * scale - 4 * scale,
                    line,
                    fontName=FONT,
                    fontSize=(15 if k else 11) * scale,
                    textAnchor="middle",
                    fillColor=colors.black if k else colors.HexColor("#555555"),
                )
            )
    return drawing


def _materials_table(notice: Notice, width: float) -> Table:
    head = ["序号", "材料名称", "形式", "份数", "要求", "免提交"]
    rows: list[list[Paragraph]] = [[_p(h, CELL_HEAD) for h in head]]
    for m in notice.materials:
        name = m.name + (f"({m.notes})" if m.notes else "")
        rows.append(
            [
                _p(str(m.order), CELL),
                _p(name, CELL),
                _p(m.form, CELL),
                _p(str(m.copies), CELL),
                _p(m.requirement_text, CELL),
                _p(f"免提交:{m.shared_source}" if m.shared else "需提交", CELL),
            ]
        )
    fractions = [0.07, 0.33, 0.12, 0.07, 0.21, 0.20]
    table = Table(rows, colWidths=[width * f for f in fractions], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#8a949e")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7f9")]),
            ]
        )
    )
    return table


def _facts_table(notice: Notice, width: float) -> Table:
    rows = [[_p(label, CELL), _p(value, CELL)] for label, value in notice.facts]
    table = Table(rows, colWidths=[width * 0.2, width * 0.8])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#8a949e")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef1f4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def notice_pdf(notice: Notice) -> bytes:
    """The notice on A4: title, sentence, flow, complete list, handling facts, page numbers."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{notice.name} 一次性告知书",
        author="善水县政务服务中心",
        subject=notice.code,
    )
    width = doc.width
    story: list[Flowable] = [
        _p("一次性告知书", TITLE),
        _p(notice.name, SUBTITLE),
        _p("一、这是什么事,谁可以办", HEADING),
        _p(notice.sentence),
        _p("二、办理流程", HEADING),
        _flow_drawing(notice, width),
        _p("三、申请材料(一次告知,完整清单)", HEADING),
    ]
    if notice.application_form:
        story += [_p(f"申请表:{notice.application_form}(窗口免费提供,也可网上填写)"), Spacer(1, 2 * mm)]
    story.append(_materials_table(notice, width))
    story += [
        Spacer(1, 1.5 * mm),
        _p(
            "“免提交”的材料由部门通过数据共享获取,您无需携带;“视情况提交”的材料仅在符合所列情形时提交。", CELL
        ),
        _p("四、办理须知", HEADING),
        _facts_table(notice, width),
        Spacer(1, 4 * mm),
        _p("本告知书所列材料即为全部材料。如窗口要求提交清单以外的材料,您可拨打 12345 反映。", CELL),
    ]

    def footer(c: Any, _document: Any) -> None:
        c.saveState()
        c.setFont(FONT, 8.5)
        c.setFillColor(colors.HexColor("#555555"))
        c.drawCentredString(
            A4[0] / 2, 9 * mm, f"善水县政务服务中心 · {notice.code} · 第 {c.getPageNumber()} 页"
        )
        c.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()

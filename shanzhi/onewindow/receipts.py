"""The papers an application gives the applicant, as A4 PDFs in reportlab's built-in Chinese font
(see pdf.py): the receipt (受理回执) with a QR code and the number for the status lookup, the
one-time notice of missing materials (一次性告知书), and the correction notice (补正告知书).

The QR code is drawn from the `qrcode` package's module matrix as one grey image, eight pixels a
module, so it stays sharp in print; it encodes the status page's address with the number.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

import qrcode
from django.utils import timezone
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from shanzhi.core.masking import mask_id_number, mask_phone
from shanzhi.onewindow.models import Channel, MaterialForm
from shanzhi.onewindow.models_applications import Application, LineStatus
from shanzhi.onewindow.pdf import ACCENT, BODY, CELL, CELL_HEAD, FONT, HEADING, SUBTITLE, TITLE, _style

QR_BOX = 8  # pixels per module in the embedded image
QR_BORDER = 4
CENTRE = "善水县政务服务中心"
SMALL = _style("small", 9, textColor=colors.HexColor("#444444"))
BIG_NUMBER = _style("big_number", 16, alignment=TA_CENTER, textColor=ACCENT)


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR code's modules (with its quiet zone): what the receipt draws, and what a test compares."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=QR_BORDER)
    qr.add_data(payload)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


def qr_svg(payload: str) -> str:
    """The same modules as inline SVG for the printable page (one path, crisp at any size)."""
    matrix = qr_matrix(payload)
    n = len(matrix)
    path = "".join(f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" class="qr" role="img" '
        f'aria-label="进度查询二维码" shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )


def qr_image(payload: str, *, size: float) -> Image:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=QR_BOX, border=QR_BORDER)
    qr.add_data(payload)
    qr.make(fit=True)
    png = io.BytesIO()
    qr.make_image().get_image().convert("L").save(png, "PNG")
    png.seek(0)
    return Image(png, width=size, height=size)


def _p(text: str, style: Any = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y年%m月%d日 %H:%M") if moment else "—"


def _grid(rows: list[list[Paragraph]], widths: list[float], *, head: bool) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if head else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#8a949e")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if head:
        style.append(("BACKGROUND", (0, 0), (-1, 0), ACCENT))
    else:
        style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef1f4")))
    table.setStyle(TableStyle(style))
    return table


def _facts(app: Application, width: float, extra: list[tuple[str, str]]) -> Table:
    channel = str(Channel(app.channel).label) if app.channel in Channel.values else app.channel
    rows = [
        ("申请事项", app.title),
        ("申请人", app.applicant_name),
        ("身份证号", mask_id_number(app.applicant_id_number)),
        ("联系电话", mask_phone(app.applicant_phone)),
        ("申请渠道", channel),
        *extra,
    ]
    return _grid([[_p(k, CELL), _p(v, CELL)] for k, v in rows], [width * 0.22, width * 0.78], head=False)


def _form_text(form: str, copies: int) -> str:
    label = str(MaterialForm(form).label) if form in MaterialForm.values else form
    return f"{label} {copies} 份"


def _line_text(status: str, source: str) -> str:
    texts: dict[str, str] = {
        LineStatus.UPLOADED: "已上传电子件",
        LineStatus.PAPER: "已收纸质材料",
        LineStatus.FETCHED: f"免提交:{source}",
        LineStatus.FROM_RESULT: source or "由前置事项结果替代",
        LineStatus.PENDING_RESULT: source or "待前置事项办结后替代",
        LineStatus.NOT_NEEDED: "无需提交",
        LineStatus.NEEDED: "缺",
    }
    return texts.get(status, status)


def _document(title: str, app: Application, story: list[Flowable]) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{title} {app.number}",
        author=CENTRE,
        subject=app.number,
    )

    def footer(c: Any, _doc: Any) -> None:
        c.saveState()
        c.setFont(FONT, 8.5)
        c.setFillColor(colors.HexColor("#555555"))
        c.drawCentredString(
            A4[0] / 2, 9 * mm, f"{CENTRE} · {title} · {app.number} · 第 {c.getPageNumber()} 页"
        )
        c.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _width() -> float:
    return A4[0] - 36 * mm


def receipt_pdf(app: Application, *, status_url: str) -> bytes:
    """受理回执: who applied for what, when it was accepted and promised, what was received or
    fetched, and how to follow it (the QR code and the number with the applicant's phone)."""
    width = _width()
    clerk = app.clerk.get_username() if app.clerk_id and app.clerk else "自助受理"
    extra = [
        ("受理时间", _when(app.accepted_at)),
        ("受理人", clerk),
        (
            "办理部门",
            app.department.name if app.department_id and app.department else "各事项所属部门并联办理",
        ),
        (
            "承诺办结",
            f"{_when(app.deadline)}({app.promised_days} 个工作日)"
            if app.promised_days
            else f"{_when(app.deadline)}(即办)",
        ),
    ]
    head = Table(
        [
            [
                [
                    _p("受理编号", SUBTITLE),
                    _p(app.number, BIG_NUMBER),
                    Spacer(1, 2 * mm),
                    _p("凭受理编号和申请时留的手机号查询办理进度", SMALL),
                ],
                [qr_image(status_url, size=32 * mm), _p("扫码查询进度", SMALL)],
            ]
        ],
        colWidths=[width - 40 * mm, 40 * mm],
    )
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "CENTER")]))
    story: list[Flowable] = [
        _p(CENTRE, SUBTITLE),
        _p("受理回执", TITLE),
        head,
        Spacer(1, 3 * mm),
        _facts(app, width, extra),
    ]
    lines = [line for line in app.lines.order_by("order") if line.status != LineStatus.NOT_NEEDED]
    if lines:
        rows = [[_p(h, CELL_HEAD) for h in ("材料名称", "形式与份数", "收取情况")]]
        rows += [
            [
                _p(li.name, CELL),
                _p(_form_text(li.form, li.copies), CELL),
                _p(_line_text(li.status, li.source), CELL),
            ]
            for li in lines
        ]
        story += [_p("已收材料", HEADING), _grid(rows, [width * 0.42, width * 0.2, width * 0.38], head=True)]
    parts = list(app.children.select_related("item", "department").order_by("number"))
    if parts:
        rows = [[_p(h, CELL_HEAD) for h in ("编号", "事项", "办理部门", "当前")]]
        for part in parts:
            rows.append(
                [
                    _p(part.number, CELL),
                    _p(part.title, CELL),
                    _p(part.department.name if part.department else "", CELL),
                    _p(part.get_status_display(), CELL),
                ]
            )
        story += [
            _p("一件事各事项(各部门后台流转,无需您再跑)", HEADING),
            _grid(rows, [width * 0.24, width * 0.36, width * 0.24, width * 0.16], head=True),
        ]
    story += [
        Spacer(1, 4 * mm),
        _p(
            "办理过程中每一步都会短信告知您。补正期间不计入承诺时限;超过承诺时间未办结的,"
            "您可拨打 12345 反映,平台会自动督办。办结后欢迎对本次服务作出评价。",
            SMALL,
        ),
        _p(f"进度查询:{status_url}", SMALL),
    ]
    return _document("受理回执", app, story)


def missing_notice_pdf(app: Application) -> bytes:
    """一次性告知书: every material still missing, listed at once; nothing outside the list may be
    asked for later."""
    width = _width()
    extra = [("告知时间", _when(app.notified_at)), ("办件编号", app.number)]
    rows = [[_p(h, CELL_HEAD) for h in ("序号", "还需提交的材料", "形式与份数", "说明")]]
    for n, m in enumerate(app.missing_notice, start=1):
        note = f"属于“{m['condition']}”情形" if m.get("condition") else "必须提交"
        rows.append(
            [_p(str(n), CELL), _p(m["name"], CELL), _p(f"{m['form']} {m['copies']} 份", CELL), _p(note, CELL)]
        )
    have = [
        line
        for line in app.lines.order_by("order")
        if line.status not in (LineStatus.NEEDED, LineStatus.NOT_NEEDED)
    ]
    story: list[Flowable] = [
        _p(CENTRE, SUBTITLE),
        _p("一次性告知书", TITLE),
        _facts(app, width, extra),
        _p(f"您还需补齐以下 {len(app.missing_notice)} 项材料", HEADING),
        _grid(rows, [width * 0.08, width * 0.42, width * 0.2, width * 0.3], head=True),
        Spacer(1, 2 * mm),
        _p(
            "本告知书所列即为全部所缺材料。补齐后到任一窗口或网上提交即可受理,不会再要求清单以外的材料。",
            BODY,
        ),
    ]
    if have:
        rows = [[_p(h, CELL_HEAD) for h in ("已收或免提交的材料", "情况")]]
        rows += [[_p(li.name, CELL), _p(_line_text(li.status, li.source), CELL)] for li in have]
        story += [_p("已收材料(无需再交)", HEADING), _grid(rows, [width * 0.5, width * 0.5], head=True)]
    story += [Spacer(1, 4 * mm), _p("如窗口要求提交清单以外的材料,您可拨打 12345 反映。", SMALL)]
    return _document("一次性告知书", app, story)


def correction_notice_pdf(app: Application) -> bytes:
    """补正告知书: the complete list of what to correct, asked for once."""
    width = _width()
    extra = [
        ("办理部门", app.department.name if app.department_id and app.department else ""),
        ("告知时间", _when(app.correction_requested_at)),
        ("办件编号", app.number),
    ]
    rows = [[_p(h, CELL_HEAD) for h in ("序号", "需补正的内容")]]
    rows += [[_p(str(n), CELL), _p(text, CELL)] for n, text in enumerate(app.correction_items, start=1)]
    story: list[Flowable] = [
        _p(CENTRE, SUBTITLE),
        _p("补正材料告知书", TITLE),
        _facts(app, width, extra),
        _p("请补正以下全部内容", HEADING),
        _grid(rows, [width * 0.1, width * 0.9], head=True),
        Spacer(1, 2 * mm),
        _p(
            "补正只要求这一次,以上即为全部内容。补正期间不计入承诺办理时限;补正材料可在网上或任一窗口提交。",
            BODY,
        ),
    ]
    return _document("补正材料告知书", app, story)

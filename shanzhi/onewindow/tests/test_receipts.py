"""The papers: the receipt PDF is a valid PDF whose QR code encodes the status page with the
number; the one-time notice and the correction notice list everything, once."""

from __future__ import annotations

import base64
import re
import zlib

from shanzhi.onewindow import applications as svc
from shanzhi.onewindow.materials import check_pdf
from shanzhi.onewindow.receipts import (
    QR_BOX,
    correction_notice_pdf,
    missing_notice_pdf,
    qr_matrix,
    qr_svg,
    receipt_pdf,
)
from shanzhi.onewindow.tests.window_setup import accepted, in_review, pension_draft

from .pdftext import pdf_text

URL = "https://zwfw.shanshui.gov.cn/services/status/?n="


def embedded_qr(pdf: bytes) -> list[list[bool]]:
    """The receipt's one grey image, read back module by module (sampled at each module's centre)."""
    images = list(re.finditer(rb"<<([^>]*?/Subtype /Image[^>]*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S))
    assert len(images) == 1, "exactly one image: the QR code"
    head, data = images[0].group(1), images[0].group(2).strip()
    width_match, height_match = re.search(rb"/Width (\d+)", head), re.search(rb"/Height (\d+)", head)
    assert width_match and height_match
    width, height = int(width_match.group(1)), int(height_match.group(1))
    assert b"/DeviceGray" in head and width == height and width % QR_BOX == 0
    if b"ASCII85Decode" in head:
        data = base64.a85decode(data.removesuffix(b"~>").replace(b"\n", b"").replace(b"\r", b""))
    pixels = zlib.decompress(data)
    assert len(pixels) == width * height
    n = width // QR_BOX
    centre = QR_BOX // 2
    return [
        [pixels[(y * QR_BOX + centre) * width + x * QR_BOX + centre] < 128 for x in range(n)]
        for y in range(n)
    ]


def test_receipt_is_a_valid_pdf_with_the_qr_code_of_the_status_page(people, catalog):
    app = accepted(people, catalog)
    url = URL + app.number
    pdf = receipt_pdf(app, status_url=url)
    check_pdf(pdf, label="回执")  # the same trailer parse uploads must pass
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert embedded_qr(pdf) == qr_matrix(url)
    assert embedded_qr(pdf) != qr_matrix(URL + "SQ00000000000")  # the payload, not just any code
    text = pdf_text(pdf)
    for expected in (
        "受理回执",
        app.number,
        "城乡居民基本养老保险参保登记",
        "王秀英",
        "已收纸质材料",
        "免提交",
    ):
        assert expected in text, expected
    assert app.applicant_id_number not in text and "331125********" in text  # masked on paper
    # The printable page draws the same modules.
    svg = qr_svg(url)
    assert svg.count("h1v1h-1z") == sum(map(sum, qr_matrix(url)))


def test_missing_notice_lists_everything_missing_once(people, catalog):
    app = pension_draft(people, catalog, answers={"委托他人代为办理": "是"})
    app = svc.application_not_accept(actor=people.clerk_a, application=app)
    pdf = missing_notice_pdf(app)
    check_pdf(pdf, label="告知书")
    text = pdf_text(pdf)
    assert "一次性告知书" in text and "还需补齐以下 2 项材料" in text
    assert "申请人居民身份证" in text and "授权委托书" in text and "本告知书所列即为全部所缺材料" in text
    assert "居民户口簿" in text  # fetched: listed as already there


def test_correction_notice(people, catalog):
    app = in_review(people, catalog)
    app = svc.application_request_correction(
        actor=people.approver, application=app, items=["补充银行卡号", "重新提供照片"]
    )
    text = pdf_text(correction_notice_pdf(app))
    assert (
        "补正材料告知书" in text
        and "补充银行卡号" in text
        and "重新提供照片" in text
        and "只要求这一次" in text
    )

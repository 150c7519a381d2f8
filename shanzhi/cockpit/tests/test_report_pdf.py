"""The monthly PDF: a real PDF with the month's text, its commentary from the data, its charts;
bad months and other townships refused."""

from __future__ import annotations

import base64
import datetime as dt
import re
import zlib
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shanzhi.cockpit import report
from shanzhi.cockpit.tests.test_pages import Data, build, local, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(county: Any) -> Data:
    return build(county)


def _unescape(raw: bytes) -> bytes:
    """A PDF literal string's bytes: backslash escapes and octal codes resolved."""
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            nxt = raw[i + 1 : i + 4]
            octal = re.match(rb"[0-7]{1,3}", nxt)
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out.append({ord("n"): 10, ord("r"): 13, ord("t"): 9}.get(raw[i + 1], raw[i + 1]))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages: content streams decoded (ASCII85 + Flate, as reportlab writes
    them), each shown string read as UCS-2 in the CJK (Type0) font, else Latin-1."""
    cid_fonts = set(re.findall(rb"/Name /(F\d+) /Subtype /Type0", pdf))
    shown: list[str] = []
    for header, body in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        data = body.strip()
        if b"ASCII85Decode" in header:
            data = base64.a85decode(data.removesuffix(b"~>"), adobe=False)
        if b"FlateDecode" in header:
            data = zlib.decompress(data)
        font = b""
        for name, raw in re.findall(rb"/(F\d+) [\d.]+ Tf|\(((?:[^\\)]|\\.)*)\) Tj", data, re.S):
            if name:
                font = name
                continue
            text = _unescape(raw)
            shown.append(text.decode("utf-16-be", "replace") if font in cid_fonts else text.decode("latin-1"))
    return "".join(shown)


def test_monthly_pdf_has_tiles_charts_and_commentary(client, data):
    today = timezone.localdate()
    # Last month had more 物业住房 and fewer 市容环卫 cases than this month: the commentary says so.
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=3)
    for _ in range(3):
        make_case(village=data.county.village_a2, grid=None, category="0201", received=local(last_month))
    client.force_login(data.leader)
    month = f"{today:%Y-%m}"
    response = client.get(reverse("cockpit:report", args=[month]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf.count(b"/Type /Page\n") >= 1 and b"/STSong-Light" in pdf
    text = pdf_text(pdf)
    assert f"数据驾驶舱月报 · {today.year}年{today.month}月" in text
    assert "关键指标" in text and "按期结案率" in text
    assert "上升的有" in text and "市容环卫" in text
    assert "物业住房(3→1 件,-2)" in text
    assert "上溪一网格" in text  # the busiest grid, and where it is
    assert "县城管局" in text  # the handler with an overdue case
    assert "每日受理量" in text and "诉求大类占比" in text  # chart captions drawn with the charts


def test_report_of_a_township_leader_is_their_township(client, data):
    client.force_login(data.leader_a)
    month = f"{timezone.localdate():%Y-%m}"
    text = pdf_text(client.get(reverse("cockpit:report", args=[month])).content)
    assert "范围:青石镇" in text and "白沙镇" not in text and "沙湾一网格" not in text
    response = client.get(reverse("cockpit:report", args=[month]), {"region": data.county.town_b.code})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("month", "message"),
    [("2025-13", "月份应为 YYYY-MM"), ("abcd-ef", "月份应为 YYYY-MM"), ("2999-01", "不能生成未来月份")],
)
def test_bad_months_are_refused(client, data, month, message):
    client.force_login(data.leader)
    response = client.get(reverse("cockpit:report", args=[month]))
    assert response.status_code == 422 and message in response.content.decode()


def test_an_empty_month_still_makes_a_report(client, data):
    client.force_login(data.leader)
    response = client.get(reverse("cockpit:report", args=["2020-02"]))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "2020年2月共受理诉求 0 件" in text and "本月没有落到网格的诉求" in text


def test_months_back():
    assert report.months_back(dt.date(2025, 3, 1), 11) == dt.date(2024, 4, 1)
    assert report.months_back(dt.date(2025, 1, 1), 1) == dt.date(2024, 12, 1)

"""The one-time notice: page (sentence, SVG flow, complete list), PDF and SMS text."""

from __future__ import annotations

import re

from shanzhi.onewindow.catalog import StepSpec
from shanzhi.onewindow.notice import SMS_LIMIT, build_notice, flow_layout
from shanzhi.onewindow.pdf import notice_pdf
from shanzhi.onewindow.selectors import service_item_get
from shanzhi.onewindow.services import service_item_create
from shanzhi.onewindow.tests.window_setup import material, spec

from .pdftext import page_count, pdf_text


def test_notice_page_is_public_and_complete(client, catalog):
    item = catalog["birth"]
    response = client.get(f"/services/items/{item.code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>出生登记(户口)</h1>" in html
    assert "本事项为居民办理出生登记(户口),本县居民可以申请。" in html
    match = re.search(r"<svg class=\"flow\".*?</svg>", html, re.S)
    assert match is not None
    svg = match.group(0)
    assert 'role="img"' in svg and "办理流程:1.申请 → 2.受理 → 3.办结" in svg
    assert svg.count("<rect") == 3 and svg.count("<polyline") == 2
    for name in ("出生医学证明", "父母双方居民身份证", "非婚生育说明"):
        assert name in html
    assert "出生医学证明电子证照(卫健共享)" in html and "非婚生育时提交" in html
    assert f'href="/services/items/{item.code}/notice.pdf"' in html
    assert f'href="/services/items/{item.code}/apply/">在线申请' in html  # offered online
    assert 'id="sms-text"' in html


def test_notice_escapes_catalogue_text(client, departments):
    steps = (StepSpec("<b>核验</b>", "<i>x</i>"), StepSpec("办结"))
    item = service_item_create(actor=None, spec=spec(1, "测试<script>", steps=steps))
    html = client.get(f"/services/items/{item.code}/").content.decode()
    assert "测试<script>" not in html and "测试&lt;script&gt;" in html
    assert "<b>核验</b>" not in html and "&lt;b&gt;核验&lt;/b&gt;" in html


def test_unknown_item_page_is_404(client, catalog):
    assert client.get("/services/items/nothing/").status_code == 404
    assert client.get("/services/items/nothing/notice.pdf").status_code == 404


def test_pdf_is_a_valid_pdf_with_the_name_flow_and_materials(client, catalog):
    item = catalog["birth"]
    response = client.get(f"/services/items/{item.code}/notice.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "inline" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/STSong-Light" in pdf and b"/UniGB-UCS2-H" in pdf
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    for words in (
        "一次性告知书",
        "出生登记(户口)",
        "第1步",
        "申请",
        "办结",
        "父母双方居民身份证",
        "非婚生育说明",
    ):
        assert words in text
    assert "免提交:出生医学证明电子证照(卫健共享)" in text
    assert "视情况提交:非婚生育" in text


def test_a_long_notice_runs_over_pages(departments):
    many = tuple(
        material(f"第{n}项证明材料,由有关单位出具并加盖公章的原件", when="" if n % 2 else "有关情形")
        for n in range(1, 31)
    )
    item = service_item_create(actor=None, spec=spec(1, "材料很多的事项", materials=many))
    pdf = notice_pdf(build_notice(service_item_get(code=item.code)))
    assert page_count(pdf) >= 2
    text = pdf_text(pdf)
    assert "第30项证明材料" in text and "第 2 页" in text


def test_sms_lists_every_required_material_within_the_limit(client, catalog):
    item = catalog["birth"]
    sms = client.get(f"/services/items/{item.code}/notice.txt")
    assert sms["Content-Type"] == "text/plain; charset=utf-8"
    text = sms.content.decode()
    assert text.splitlines() == [
        "【善水县政务服务】出生登记(户口)一次性告知",
        "对象:本县居民",
        "需带材料:1.父母双方居民身份证(原件)",
        "免提交(部门共享获取,无需携带):出生医学证明",
        "视情况提交:非婚生育说明(非婚生育)",
        "办理:县政务服务中心 2 号窗口;当场办结;不收费;最多跑一次",
        "咨询:0578-8612333",
    ]


def test_a_long_sms_drops_details_but_never_a_required_material(departments):
    materials = tuple(
        material(f"由户籍所在地村(居)民委员会出具的第{n}份家庭情况证明材料", form="copy") for n in range(1, 9)
    ) + tuple(material(f"第{n}种特殊情形的补充说明材料", when=f"属于第{n}种特殊情形的") for n in range(1, 9))
    item = service_item_create(
        actor=None,
        spec=spec(
            1, "材料很多的事项", applicants="本县户籍" + "且符合规定条件" * 10 + "的居民", materials=materials
        ),
    )
    notice = build_notice(service_item_get(code=item.code))
    assert len(notice.sms) <= SMS_LIMIT
    for m in notice.materials:
        if m.required:
            assert m.name in notice.sms
    assert "另有8项材料视情况提交,详见告知书" in notice.sms


def test_flow_layout_wraps_rows_and_connects_every_step():
    layout = flow_layout(["申请", "受理", "审核", "公示", "审批", "发放"], per_row=4)
    assert [(b.number, b.lines[0]) for b in layout.boxes][:2] == [(1, "第1步"), (2, "第2步")]
    assert len({b.y for b in layout.boxes}) == 2 and len(layout.connectors) == 5
    turn = layout.connectors[3]  # step 4 (end of row one) to step 5 (start of row two)
    assert len(turn) == 4 and turn[0][1] < turn[-1][1]
    long = flow_layout(["这是一个名称很长很长的办理环节"])
    assert long.boxes[0].lines == ("第1步", "这是一个名称很长", "很长的办理环节")

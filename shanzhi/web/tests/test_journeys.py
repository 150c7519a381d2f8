"""Each role's main journey in chromium, driven through the pages as its user would: click, type,
choose, upload. What another role does before (a dispatch, a report) is set up through services.
After each step the test reads what the user sees (Chinese text on the page) and the database.

One chromium for the module; each journey opens its own context (its own cookies)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any
from urllib.parse import urljoin

import pytest
import shapely
from django.db.models import Count
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, ViewportSize, expect

from shanzhi.cases import services as svc
from shanzhi.cases.models import AssignmentStatus, AttachmentStage, Case, CaseStatus, Channel
from shanzhi.cases.tests.test_browser_loop import png_bytes
from shanzhi.cases.tests.test_pages import dispatched, received, reported
from shanzhi.cockpit.tests.test_pages import build
from shanzhi.conftest import make_user
from shanzhi.core.selectors import staff_of
from shanzhi.grid.geometry import to_geojson
from shanzhi.grid.services import grid_create, grid_worker_assign
from shanzhi.onewindow.models_applications import Application, ApplicationStatus
from shanzhi.onewindow.tests.test_browser_applications import _sign_in
from shanzhi.onewindow.tests.window_setup import (
    ID_A,
    PHONE_A,
    accepted,
)
from shanzhi.ratings.models import Rating
from shanzhi.triage.models import TriageExample, TriageSettings
from shanzhi.web.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    """Uploaded photos and materials go to a temp dir, not the checkout's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_auto_dispatch(db: Any) -> None:
    """New cases wait in the dispatcher's queue, so each journey starts from a known state."""
    TriageSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch_threshold": 1.0})


@pytest.fixture
def open_as(browser: Browser, live_server: Any) -> Iterator[Any]:
    """Sign a user in through the login page in a fresh context; the contexts close after the test."""
    contexts: list[Any] = []

    def sign_in(username: str, *, size: ViewportSize = DESKTOP) -> Page:
        context = browser.new_context(locale="zh-CN", viewport=size, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        _sign_in(page, live_server.url, username)
        return page

    yield sign_in
    for context in contexts:
        context.close()


def nav(page: Page, name: str) -> None:
    menu = page.get_by_role("navigation", name="主导航")
    toggle = menu.get_by_role("button", name="菜单")
    if toggle.is_visible():  # on a phone the links fold under 菜单
        toggle.click()
    menu.get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state("load")  # htmx and the page scripts are deferred


def idle(page: Page) -> None:
    """Wait until the page has no request in flight. The live server shares the test's in-memory
    SQLite connection, so the test touches the database only while the browser is quiet."""
    page.wait_for_load_state("networkidle")


def photo(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes()}


def case_number(text: str) -> str:
    found = re.search(r"SZ\d+", text)
    assert found is not None, text
    return found.group()


# --- 1. resident -------------------------------------------------------------------------------------


def test_resident_reports_with_a_photo_and_later_rates(open_as, loop):
    page = open_as(loop.resident.username, size=PHONE)
    nav(page, "我要反映")
    expect(page.get_by_role("heading", name="我要反映")).to_be_visible()
    page.get_by_label("遇到了什么问题?").fill("上溪村村口的路灯坏了一个多月,晚上走路看不见")
    page.get_by_label("在哪里?").fill("青石镇上溪村村口")
    page.get_by_label(re.compile("^照片")).set_input_files(files=[photo("lamp.png")])
    page.get_by_label("手机号(用于通知进展和评价)").fill("13812345678")
    page.get_by_role("button", name="提交").click()

    notice = page.get_by_role("status").filter(has_text="已收到您反映的问题")
    expect(notice).to_be_visible()
    number = case_number(notice.inner_text())
    expect(page.locator("h1.case-title")).to_contain_text("已受理")
    shot = page.get_by_role("img", name="上报照片 1")
    shot.scroll_into_view_if_needed()
    assert shot.evaluate("img => img.decode().then(() => img.naturalWidth)") == 32  # her photo, served
    idle(page)
    case = Case.objects.get(number=number)
    assert case.reporter_id == loop.resident.pk and case.channel == Channel.APP
    assert case.status == CaseStatus.RECEIVED and case.reporter_phone == "13812345678"
    assert list(case.attachments.values_list("stage", flat=True)) == [AttachmentStage.INTAKE]

    # Others dispatch, handle and check it on site; the case is closed.
    case = reported(loop, case)
    svc.case_verify(actor=loop.gridworker, case=case, passed=True, note="现场路灯已亮")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED

    # Later: 我的诉求 says it is done and invites a rating.
    nav(page, "我的诉求")
    item = page.locator(".mine-list li", has_text=number)
    expect(item).to_contain_text("已结案")
    item.get_by_role("link", name="已办结,去评价").click()
    form = page.locator("form.rate-form")
    expect(form.get_by_role("group", name="您对办理结果满意吗?")).to_be_visible()
    form.get_by_label("满意", exact=True).check()
    form.get_by_label("意见和建议(可选)").fill("修得很快,谢谢")
    form.get_by_role("button", name="提交评价").click()
    expect(page.get_by_role("status").filter(has_text="感谢您的评价")).to_be_visible()
    expect(page.locator("h1.case-title")).to_contain_text("已评价")
    expect(page.locator(".facts")).to_contain_text("满意")

    idle(page)
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.EVALUATED and case.satisfaction == "satisfied"
    rating = Rating.objects.get(object_type="case", object_id=number)
    assert rating.level == "satisfied" and rating.comment == "修得很快,谢谢"


# --- 2. operator -------------------------------------------------------------------------------------


def test_operator_takes_a_call_with_live_triage_and_registers_it(open_as, loop):
    operator = make_user(username="j-operator", region=loop.county.county, roles=["operator"])
    page = open_as(operator.username)
    nav(page, "来电登记")
    suggestions = page.locator("#suggestions")
    expect(suggestions).to_contain_text("输入诉求内容后")
    page.get_by_label("诉求内容").fill("上溪村村口的垃圾桶满了好几天没人清运,臭气熏天")
    page.get_by_label("地址").fill("青石镇上溪村村口")
    # Triage answers while the operator types: categories with confidence, the place, the body.
    expect(suggestions.locator(".top3 li").first).to_contain_text("置信度")
    expect(suggestions).to_contain_text("上溪村")
    expect(suggestions).to_contain_text("登记后进入调度台")
    page.get_by_label("姓名或称呼").fill("张先生")
    page.get_by_label("手机号").fill("13812345678")
    page.get_by_role("button", name="登记").click()

    notice = page.locator(".notice.success")
    expect(notice).to_contain_text("已登记诉求")
    expect(notice).to_contain_text("已受理")
    number = case_number(notice.inner_text())
    expect(page.get_by_label("诉求内容")).to_have_value("")  # a fresh form for the next call

    idle(page)
    case = Case.objects.get(number=number)
    assert case.channel == Channel.HOTLINE and case.status == CaseStatus.RECEIVED
    assert case.reporter_name == "张先生" and case.reporter_phone == "13812345678"
    assert case.region_id == loop.county.village_a1.pk
    assert case.suggested_category_id is not None and case.suggestion.get("top3")


# --- 3. dispatcher -----------------------------------------------------------------------------------


def test_dispatcher_corrects_triage_and_dispatches(open_as, loop):
    # Triage proposed 0102 (占道经营); the text is about rubbish, which the dispatcher corrects.
    case = received(loop, text="上溪村村口垃圾桶满了没人清运", category="0102", reporter_phone="13812345678")
    wrong, right = loop.category("0102"), loop.category("0101")
    page = open_as(loop.dispatcher.username)
    nav(page, "调度台")
    row = page.locator(f"#row-{case.number}")
    expect(row).to_contain_text("已受理")
    row.get_by_role("link", name="处理").click()
    panel = page.locator(f"#panel-{case.number}.panel-row")
    category = panel.get_by_label("诉求类别").first
    expect(category).to_have_value(wrong.code)  # triage's proposal is preselected
    category.select_option(right.code)
    panel.get_by_label("主办单位").select_option("urban_mgmt")
    for box in panel.locator("input[name=co]:checked").all():
        box.uncheck()
    panel.get_by_label("派遣说明(可选)").fill("请三日内清运")
    panel.get_by_role("button", name="立案并派遣").click()
    expect(page.get_by_text(f"{case.number} 已派遣至 县城管局")).to_be_visible()
    expect(page.locator(f"#row-{case.number}")).to_have_count(0)  # it left the queue

    page.context.close()  # the queue refreshes itself; nothing may query beside the checks below
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED
    assert case.category_id == right.pk and case.suggested_category_id == wrong.pk
    primary = case.assignments.get(role="primary")
    assert primary.handler_id == loop.county.dept.pk and primary.status == AssignmentStatus.PENDING
    assert case.assignments.count() == 1
    # The correction is kept as an example triage learns from.
    assert TriageExample.objects.filter(text__contains="垃圾桶满了", category=right.code).exists()


# --- 4. handler --------------------------------------------------------------------------------------


def test_handler_accepts_and_reports_back(open_as, loop):
    case = dispatched(loop)
    page = open_as(loop.urban_handler.username)
    nav(page, "待办")
    card = page.locator(".work", has_text=case.number)
    expect(card).to_contain_text("待签收")
    card.get_by_role("link", name=case.number).click()
    page.wait_for_url(f"**/cases/{case.number}/")
    actions = page.locator("#actions")
    actions.get_by_role("button", name="签收").click()
    expect(page.get_by_role("status").filter(has_text=f"已签收 {case.number}")).to_be_visible()
    expect(page.locator("h1.case-title")).to_contain_text("处置中")
    idle(page)
    assert case.assignments.get(role="primary").status == AssignmentStatus.ACCEPTED

    actions = page.locator("#actions")
    actions.get_by_text("反馈办理结果").click()
    actions.get_by_label("办理情况").fill("已清理占道摊点,并安排每日巡查")
    actions.get_by_role("button", name="提交反馈").click()
    expect(page.get_by_role("status").filter(has_text=f"已反馈 {case.number} 的办理结果")).to_be_visible()
    expect(page.locator("h1.case-title")).to_contain_text("待核查")
    expect(page.get_by_text("已清理占道摊点,并安排每日巡查").first).to_be_visible()

    idle(page)
    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFYING
    primary = case.assignments.get(role="primary")
    assert primary.status == AssignmentStatus.REPORTED
    assert primary.report_text == "已清理占道摊点,并安排每日巡查"


# --- 5. grid worker ----------------------------------------------------------------------------------


def test_grid_worker_verifies_on_site_with_a_photo(open_as, loop):
    county = loop.county
    grid = grid_create(
        actor=None,
        code="331199101201-01",
        name="上溪村第1网格",
        village=county.village_a1,
        geometry=to_geojson(shapely.box(119.6, 28.35, 119.7, 28.5)),
    )
    staff = staff_of(user=loop.gridworker)
    assert staff is not None
    grid_worker_assign(actor=None, grid=grid, staff=staff)
    place = svc.Place(region=county.village_a1, township=county.town_a, grid=grid, lon=119.65, lat=28.4)
    case = svc.case_intake(
        actor=None,
        channel="hotline",
        text="小区门口占道经营,流动摊贩很多",
        place=place,
        suggestion=svc.Suggestion(category=loop.category("0102"), confidence=0.62),
        reporter_phone="13812345678",
    )
    case = reported(loop, case)

    page = open_as(loop.gridworker.username, size=PHONE)
    page.get_by_role("link", name="网格通").first.click()
    page.wait_for_url("**/grid/m/")
    tile = page.get_by_role("link", name=re.compile("^现场核查"))
    expect(tile).to_contain_text("待核查 1 件")
    tile.click()
    card = page.get_by_role("article", name=re.compile(case.number))
    expect(card).to_contain_text("县城管局反馈:已清理占道摊点")
    card.get_by_label("通过,结案").check()
    card.get_by_label("核查情况").fill("现场已无摊点,道路通畅")
    card.get_by_label("现场照片(可选)").set_input_files(files=[photo("site.png")])
    card.get_by_role("button", name="提交核查结果").click()
    expect(page.get_by_text(f"{case.number} 核查通过,已结案")).to_be_visible()
    expect(page.get_by_text("您负责的网格里暂时没有待核查的诉求")).to_be_visible()

    idle(page)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.attachments.filter(stage=AttachmentStage.VERIFY).count() == 1
    primary = case.assignments.get(role="primary")
    assert primary.status == AssignmentStatus.DONE


# --- 6. clerk ----------------------------------------------------------------------------------------


def test_clerk_takes_an_application_missing_a_material_and_prints_the_notice(open_as, people, catalog):
    page = open_as(people.clerk_a.username)
    nav(page, "窗口受理")
    page.get_by_role("navigation", name="一窗受理导航").get_by_role("link", name="窗口受理").click()
    page.get_by_label("事项名称、关键词或拼音首字母").fill("养老保险")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name=re.compile("城乡居民基本养老保险参保登记")).click()
    page.get_by_label("姓名").fill("王秀英")
    page.get_by_label("身份证号").fill(ID_A)
    page.get_by_label("手机号(接收办理进度短信)").fill(PHONE_A)
    page.get_by_role("group", name="委托他人代为办理?").get_by_label("否").check()
    page.get_by_role("button", name="建立申请,核验材料").click()

    # The checklist says what is missing; acceptance is not offered until it is complete.
    expect(page.get_by_role("status").filter(has_text="还缺 1 项")).to_contain_text("申请人居民身份证")
    expect(page.get_by_role("button", name="受理并出具回执")).to_have_count(0)
    page.get_by_role("button", name="一次性告知所缺材料并打印").click()
    page.wait_for_url("**/notice/")
    paper = page.get_by_role("article", name="一次性告知书")
    expect(paper).to_contain_text("您还需补齐以下 1 项材料")
    expect(paper.get_by_role("cell", name="申请人居民身份证")).to_be_visible()
    number = page.get_by_role("row", name=re.compile("办件编号")).get_by_role("cell").inner_text().strip()

    # 打印 calls the browser's print dialog; the print styles show the paper alone.
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.get_by_role("button", name="打印一次性告知书").click()
    assert page.evaluate("window.__printed === true")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="打印一次性告知书")).to_be_hidden()
    expect(paper).to_be_visible()
    page.emulate_media(media="screen")
    # The same notice as a PDF, from the 下载 PDF link, in the clerk's session.
    href = page.get_by_role("link", name="下载 PDF").get_attribute("href") or ""
    pdf = page.request.get(urljoin(page.url, href))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    idle(page)
    app = Application.objects.get(number=number)
    assert app.status == ApplicationStatus.NOT_ACCEPTED and app.notified_at is not None
    assert [m["name"] for m in app.missing_notice] == ["申请人居民身份证"]
    assert app.applicant_name == "王秀英" and app.channel == "window"


# --- 7. approver -------------------------------------------------------------------------------------


def test_approver_reviews_and_approves(open_as, people, catalog):
    app = accepted(people, catalog)
    page = open_as(people.approver.username)
    nav(page, "后台审批")
    page.get_by_role("link", name=app.number).click()
    page.get_by_role("button", name="开始审查").click()
    expect(page.locator(".app-head .status")).to_have_text("审查中")
    page.locator("summary").filter(has_text=re.compile("^批准$")).click()
    page.get_by_label("办理结果(选填)").fill("准予参保登记,次月起缴费")
    page.get_by_role("button", name="批准", exact=True).click()
    expect(page.locator(".app-head .status")).to_have_text("已批准")
    expect(page.get_by_text("准予参保登记,次月起缴费").first).to_be_visible()

    idle(page)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED and app.decided_at is not None
    assert app.decision == "准予参保登记,次月起缴费" and app.decided_by_id == people.approver.pk


# --- 8. leader ---------------------------------------------------------------------------------------


def test_leader_opens_the_cockpit_and_exports(open_as, county):
    data = build(county)
    page = open_as(data.leader.username)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    nav(page, "驾驶舱")
    page.wait_for_url("**/cockpit/")
    page.locator("#chart-intake_daily canvas").first.wait_for(timeout=15_000)
    with page.expect_download() as info:
        page.locator(".panel-category_shares a.export").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    book = load_workbook(BytesIO(download.path().read_bytes()))
    cells = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c is not None]
    assert "诉求类别占比" in cells
    # The workbook's counts are the database's: every category's cases, none left out.
    idle(page)
    expected = dict(Case.objects.values_list("category__code").annotate(n=Count("id")).order_by())
    expect(page.locator(".tile-intake .tile-value")).to_have_text(f"{sum(expected.values())}件")
    rows = {r[0]: r for r in book.worksheets[0].iter_rows(values_only=True) if r and r[0] in expected}
    assert {code: rows[code][3] for code in expected} == expected, rows
    assert not errors, errors

"""网格通 in chromium at 360×740: the grid worker checks in by the phone's location, reports a
problem while offline, comes back online and the case exists exactly once; and records a visit."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from shanzhi.cases.models import Case, Channel
from shanzhi.conftest import PASSWORD
from shanzhi.grid.models import HouseholdVisit, PatrolCheckin
from shanzhi.grid.tests.phone_setup import Phone
from shanzhi.web.tests.browser import chromium

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, ViewportSize

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 360, "height": 740}


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 20)).save(buffer, format="PNG")
    return buffer.getvalue()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_checkin_offline_report_and_visit(live_server, phone: Phone) -> None:
    url = live_server.url
    with chromium() as browser:
        context = browser.new_context(
            locale="zh-CN",
            viewport=PHONE,
            geolocation={"longitude": 119.65, "latitude": 28.42, "accuracy": 15},
            permissions=["geolocation"],
        )
        page = context.new_page()
        page.goto(f"{url}/login/")
        page.get_by_label("用户名").fill(phone.worker.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{url}/")
        page.get_by_role("link", name="网格通").first.click()
        page.wait_for_url(f"{url}/grid/m/")
        no_sideways_scroll(page)
        assert "户主1户" in page.locator("#care-h + ul").inner_text()  # care household due a visit
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")

        # 巡查打卡: the location comes from the phone; the answer says it is inside my grid.
        page.get_by_role("link", name="巡查打卡").click()
        page.wait_for_url("**/grid/m/checkin/")
        page.get_by_text("已定位").wait_for()
        page.get_by_role("button", name="打卡", exact=True).click()
        page.get_by_text("打卡成功:您在 上溪村第1网格 内").wait_for()
        no_sideways_scroll(page)
        checkin = PatrolCheckin.objects.get()
        assert checkin.inside_grid and checkin.accuracy_m == 15 and not checkin.manual

        # 随手拍 with no connection: kept on the phone, the badge counts it.
        page.goto(f"{url}/grid/m/report/")
        page.get_by_text("已定位").wait_for()
        context.set_offline(True)
        page.get_by_text("道路与井盖", exact=True).click()
        page.get_by_label("描述(可选)").fill("桥头井盖缺失,有人踩空风险")
        photo: FilePayload = {"name": "well.png", "mimeType": "image/png", "buffer": png_bytes()}
        page.locator("#photos-report").set_input_files(files=[photo])
        page.get_by_role("button", name="上报").click()
        page.get_by_text("没有网络:已保存在手机上").wait_for()
        badge = page.locator("[data-queue-badge]")
        assert badge.is_visible() and "待发送 1 条" in badge.inner_text()
        assert Case.objects.count() == 0
        no_sideways_scroll(page)

        # The pages open from the phone's cache while offline, and the queue is still there.
        page.goto(f"{url}/grid/m/")
        assert "待发送 1 条" in page.locator("[data-queue-badge]").inner_text()
        assert "随手拍" in page.locator("[data-outbox-list]").inner_text()

        # Back online: sent once, the badge goes away.
        context.set_offline(False)
        page.locator("[data-queue-badge]").wait_for(state="hidden")
        page.get_by_text("已发送暂存的随手拍").wait_for()
        case = Case.objects.get()
        assert case.channel == Channel.GRID and case.suggestion.get("chosen_by_reporter") == "0601"
        assert case.grid == phone.mapped.a1_01 and case.attachments.count() == 1
        # A second flush (another page load) does not send it again.
        page.reload()
        page.wait_for_timeout(500)
        assert Case.objects.count() == 1

        # 入户走访: pick the household, report its health, ask for supplies.
        page.get_by_role("link", name="入户走访").click()
        page.wait_for_url("**/grid/m/households/")
        page.get_by_role("link", name="户主1户").click()
        form = page.locator("#visit-form")
        form.get_by_text("状况报告").click()
        form.get_by_text("发热").click()
        form.get_by_label("需要帮助").check()
        form.get_by_label("需要的物资").fill("退烧药、饮用水")
        form.get_by_role("button", name="保存走访记录").click()
        page.get_by_text("已记录 户主1户的状况报告(发热)").wait_for()
        no_sideways_scroll(page)
        context.close()

    visit = HouseholdVisit.objects.get()
    assert visit.household == phone.home and visit.health == "fever" and visit.needs_help
    assert visit.supplies_requested == "退烧药、饮用水"
    assert Case.objects.count() == 1 and PatrolCheckin.objects.count() == 1

"""A resident in chromium, without logging in: searches by pinyin, reads a notice, copies the
SMS text, and compares a bundle against applying item by item; the pages fit a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import FloatRect, Locator

from shanzhi.web.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _box(locator: Locator) -> FloatRect:
    box = locator.bounding_box()
    assert box is not None, "element is not visible"
    return box


def test_resident_searches_reads_a_notice_and_a_bundle(live_server, bundle):
    url = live_server.url
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        page = context.new_page()
        page.goto(f"{url}/services/")
        page.get_by_label("要办什么事").fill("hk")
        page.get_by_role("button", name="搜索").click()
        page.wait_for_url("**/services/?q=hk*")
        assert page.get_by_role("heading", name="找到 2 个事项").is_visible()

        page.get_by_role("link", name="出生登记(户口)").click()
        page.wait_for_url("**/services/items/331199-GG00003000-01/")
        flow = page.get_by_role("img", name="办理流程:1.申请 → 2.受理 → 3.办结")
        assert flow.is_visible() and _box(flow)["width"] > 300
        assert page.get_by_role("cell", name="非婚生育说明").is_visible()
        page.get_by_role("button", name="复制短信内容").click()
        page.get_by_text("已复制,可以粘贴到短信或微信发送。").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("【善水县政务服务】出生登记(户口)一次性告知")
        with page.expect_popup() as popup:
            page.get_by_role("link", name="打印告知书(PDF)").click()
        assert popup.value.url.endswith("/notice.pdf")

        page.get_by_role("link", name="一件事一次办").click()
        page.get_by_role("link", name="测试一件事").click()
        row = page.get_by_role("row", name="承诺办结时间")
        assert "10 个工作日" in row.inner_text() and "5 个工作日(50%)" in row.inner_text()
        context.close()

        # On a phone the search box spans the screen and the controls are big enough to tap.
        phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 800})
        page = phone.new_page()
        page.goto(f"{url}/services/")
        box = _box(page.get_by_label("要办什么事"))
        assert box["width"] > 300 and box["height"] >= 48
        assert _box(page.get_by_role("button", name="搜索"))["height"] >= 48
        phone.close()

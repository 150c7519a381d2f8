"""The window in chromium: a clerk takes an application with a material missing, prints the
one-time notice, completes it when the applicant brings the rest and prints the receipt; the
department's approver decides it from the back-office queue."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from shanzhi.conftest import PASSWORD
from shanzhi.onewindow.tests.window_setup import ID_A, PHONE_A
from shanzhi.web.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/")


def test_clerk_notice_then_receipt_and_approver_decides(live_server, people, catalog):
    url = live_server.url
    with chromium() as browser:
        clerk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
        _sign_in(clerk, url, "clerk-a")
        clerk.get_by_role("navigation", name="主导航").get_by_role("link", name="窗口受理").click()
        clerk.get_by_role("navigation", name="一窗受理导航").get_by_role("link", name="窗口受理").click()
        clerk.get_by_label("事项名称、关键词或拼音首字母").fill("养老保险")
        clerk.get_by_role("button", name="搜索").click()
        clerk.get_by_role("link", name=re.compile("城乡居民基本养老保险参保登记")).click()
        clerk.get_by_label("姓名").fill("王秀英")
        clerk.get_by_label("身份证号").fill(ID_A)
        clerk.get_by_label("手机号(接收办理进度短信)").fill(PHONE_A)
        clerk.get_by_role("group", name="委托他人代为办理?").get_by_label("否").check()
        clerk.get_by_role("button", name="建立申请,核验材料").click()

        # The checklist: the household register is fetched, the ID card is missing.
        expect(clerk.get_by_role("status").filter(has_text="还缺 1 项")).to_contain_text("申请人居民身份证")
        expect(clerk.get_by_role("row", name=re.compile("居民户口簿"))).to_contain_text("免提交")
        expect(clerk.get_by_role("button", name="受理并出具回执")).to_have_count(0)
        clerk.get_by_role("button", name="一次性告知所缺材料并打印").click()
        clerk.wait_for_url("**/notice/")
        paper = clerk.get_by_role("article", name="一次性告知书")
        expect(paper).to_contain_text("您还需补齐以下 1 项材料")
        expect(paper.get_by_role("cell", name="申请人居民身份证")).to_be_visible()
        number = (
            clerk.get_by_role("row", name=re.compile("办件编号")).get_by_role("cell").inner_text().strip()
        )
        # Printing shows the paper alone.
        clerk.emulate_media(media="print")
        expect(clerk.locator(".topbar")).to_be_hidden()
        expect(clerk.get_by_role("button", name="打印一次性告知书")).to_be_hidden()
        expect(paper).to_be_visible()
        assert clerk.pdf(format="A4").startswith(b"%PDF-")
        clerk.emulate_media(media="screen")

        # The applicant comes back once with the ID card: seen on paper, accepted, receipt printed.
        clerk.get_by_role("link", name="返回办件").click()
        expect(clerk.get_by_role("heading", name="一次性告知:还缺以下 1 项材料")).to_be_visible()
        clerk.get_by_role("button", name="已收纸质件:申请人居民身份证").click()
        expect(clerk.get_by_role("status").filter(has_text="材料已齐全")).to_be_visible()
        clerk.get_by_role("button", name="受理并出具回执").click()
        expect(clerk.get_by_text("已受理,可打印受理回执。")).to_be_visible()
        expect(clerk.locator(".app-head .status")).to_have_text("已受理")
        clerk.get_by_role("link", name="打印受理回执").click()
        receipt = clerk.get_by_role("article", name="受理回执")
        expect(receipt).to_contain_text(number)
        expect(receipt.get_by_role("img", name="进度查询二维码")).to_be_visible()
        expect(receipt).to_contain_text("331125********")

        # The approver finds it in the back-office queue and decides.
        approver = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
        _sign_in(approver, url, "approver-hrss")
        approver.get_by_role("navigation", name="主导航").get_by_role("link", name="后台审批").click()
        approver.get_by_role("link", name=number).click()
        approver.get_by_role("button", name="开始审查").click()
        expect(approver.locator(".app-head .status")).to_have_text("审查中")
        approver.locator("summary").filter(has_text=re.compile("^批准$")).click()  # opens the form
        approver.get_by_label("办理结果(选填)").fill("准予参保登记,次月起缴费")
        approver.get_by_role("button", name="批准", exact=True).click()
        expect(approver.locator(".app-head .status")).to_have_text("已批准")
        expect(approver.get_by_text("准予参保登记,次月起缴费").first).to_be_visible()

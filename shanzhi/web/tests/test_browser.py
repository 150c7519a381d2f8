"""A person signs in with the real page in chromium and finds their work (Chinese UI)."""

import pytest

from shanzhi.conftest import PASSWORD, make_user
from shanzhi.web.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_home_and_org_tree(live_server, county):
    make_user(username="b-leader", region=county.town_a, roles=["leader"])
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{live_server.url}/")
        assert page.url.endswith("/login/?next=/")
        page.get_by_label("用户名").fill("b-leader")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{live_server.url}/")
        assert page.get_by_role("heading", name="您好,b-leader").is_visible()
        nav = page.get_by_role("navigation", name="主导航")
        nav.get_by_role("button", name="系统").click()  # a leader's long navigation is grouped
        nav.get_by_role("link", name="组织架构").click()
        page.wait_for_url("**/org/")
        assert page.get_by_text("青石镇", exact=True).first.is_visible()
        assert page.get_by_text("白沙镇").count() == 0


def test_wrong_password_is_told_in_chinese(live_server, county):
    make_user(username="b-user", region=county.town_a, roles=["handler"])
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("用户名").fill("b-user")
        page.get_by_label("密码").fill("not-the-password")
        page.get_by_role("button", name="登录").click()
        alert = page.get_by_role("alert")
        assert "用户名" in alert.inner_text() or "密码" in alert.inner_text()
        assert page.url.endswith("/login/")

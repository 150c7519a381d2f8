"""One case through the real pages in chromium: the operator takes the call, the dispatcher sends
it, the department works it, the grid worker checks it, the resident looks it up."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from shanzhi.cases.models import Case, CaseStatus
from shanzhi.conftest import PASSWORD, make_user
from shanzhi.triage.models import TriageSettings
from shanzhi.web.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (40, 160, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_operator_dispatcher_handler_gridworker_resident(live_server, loop):
    TriageSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch_threshold": 1.0})
    make_user(username="b-operator", region=loop.county.county, roles=["operator"])
    url = live_server.url

    with chromium() as browser:

        def sign_in(username):
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{url}/login/")
            page.get_by_label("用户名").fill(username)
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(f"{url}/")
            return page

        # The operator types; triage answers while they do; the call is registered.
        page = sign_in("b-operator")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="来电登记").click()
        page.wait_for_url("**/cases/intake/", wait_until="load")  # htmx is a deferred script
        page.get_by_label("诉求内容").fill("上溪村村口的垃圾桶满了好几天没人清运,臭气熏天")
        page.get_by_label("地址").fill("青石镇上溪村村口")
        suggestions = page.locator("#suggestions")
        suggestions.locator(".top3").wait_for()
        assert "上溪村" in suggestions.inner_text() and "置信度" in suggestions.inner_text()
        page.get_by_label("手机号").fill("13812345678")
        page.get_by_role("button", name="登记").click()
        notice = page.locator(".notice.success")
        notice.wait_for()
        found = re.search(r"SZ\d+", notice.inner_text())
        assert found is not None
        number = found.group()
        page.context.close()

        # The dispatcher opens the case under its queue row and registers + dispatches it.
        page = sign_in("l-dispatcher")
        page.goto(f"{url}/cases/queue/")
        page.locator(f"#row-{number}").get_by_role("link", name="处理").click()
        panel = page.locator(f"#panel-{number}.panel-row")
        panel.wait_for()
        panel.get_by_label("诉求类别").first.select_option("0101")
        panel.get_by_label("主办单位").select_option("urban_mgmt")
        for box in panel.locator("input[name=co]:checked").all():
            box.uncheck()
        panel.get_by_role("button", name="立案并派遣").click()
        page.get_by_text("已派遣至 县城管局").wait_for()
        page.context.close()

        # The department accepts it and reports back with a photo.
        page = sign_in("l-urban")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="待办").click()
        card = page.locator(".work", has_text=number)
        card.get_by_role("button", name="签收").click()
        page.get_by_text(f"已签收 {number}").wait_for()
        card = page.locator(".work", has_text=number)
        card.get_by_text("反馈办理结果").click()
        card.get_by_label("办理情况").fill("已清运村口垃圾,垃圾桶已清洗消毒")
        card.locator("input[type=file]").set_input_files(
            files=[{"name": "after.png", "mimeType": "image/png", "buffer": png_bytes()}]
        )
        card.get_by_role("button", name="提交反馈").click()
        page.get_by_text(f"已反馈 {number} 的办理结果").wait_for()
        page.context.close()

        # The grid worker sees the report and its photo, checks on site and closes the case.
        page = sign_in("l-grid")
        page.goto(f"{url}/cases/verify/")
        card = page.locator(".verify-card", has_text=number)
        assert "已清运村口垃圾" in card.inner_text()
        photo = card.locator("img")
        photo.scroll_into_view_if_needed()
        assert photo.evaluate("img => img.decode().then(() => img.naturalWidth)") == 32  # served to her
        card.get_by_label("核查情况").fill("现场已清理干净")
        card.get_by_role("button", name="核查通过,结案").click()
        page.get_by_text(f"{number} 核查通过,已结案").wait_for()
        page.context.close()

        # The caller follows it up without an account.
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{url}/cases/lookup/")
        page.get_by_label("诉求编号").fill(number)
        page.get_by_label("手机号").fill("13812345678")
        page.get_by_role("button", name="查询").click()
        result = page.locator(".lookup-result")
        result.wait_for()
        assert "已结案" in result.inner_text() and "县城管局" in result.inner_text()

    assert Case.objects.get(number=number).status == CaseStatus.CLOSED

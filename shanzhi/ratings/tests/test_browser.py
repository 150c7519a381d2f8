"""In chromium: a resident rates with one of the five big buttons; the unit records the call-back;
an elderly resident files 办不成事 with the public form."""

from __future__ import annotations

import os

import pytest

from shanzhi.conftest import PASSWORD
from shanzhi.ratings.models import CannotGetDoneReport, Rating
from shanzhi.web.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Database reads happen outside the `with chromium()` block: inside it, Playwright's greenlet has
# its own context, so the ORM would open a second connection that is never closed (and
# PostgreSQL then refuses to drop the test database).
SHOTS = os.environ.get("SHANZHI_SCREENSHOTS", "")  # a directory, to look at the pages


def sign_in(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_rate_then_call_back(live_server, world):
    case = world.closed_case(reporter=world.resident)
    base = live_server.url
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        sign_in(page, base, "r-resident")
        page.goto(f"{base}/ratings/rate/case/{case.number}/")
        shot(page, "rate")
        page.get_by_label("您的意见").fill("晚上摊贩又来了")
        page.get_by_role("button", name="不满意", exact=True).click()
        page.wait_for_selector("text=您已评价")
        shot(page, "rated")

        page.context.clear_cookies()
        sign_in(page, base, "r-urban")
        page.goto(f"{base}/ratings/rectifications/")
        page.get_by_role("link", name=case.number).click()
        page.get_by_label("评价人怎么说").fill("居民希望晚上加强巡查")
        page.get_by_role("button", name="保存回访记录").click()
        page.wait_for_selector("text=已登记回访")
        shot(page, "rectification")
        assert page.get_by_role("heading", name="登记整改结果").is_visible()
    rating = Rating.objects.get()
    assert rating.level == "unsatisfied" and rating.comment == "晚上摊贩又来了"
    assert rating.rectification.rater_said == "居民希望晚上加强巡查"


def test_public_report_form(live_server, world):
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{live_server.url}/ratings/cannot-get-done/")
        shot(page, "report_form")
        page.get_by_label("您想办什么事").fill("给老伴办高龄津贴,窗口说材料不全,没说缺什么")
        page.get_by_label("您所在的乡镇(街道)").select_option(label="青石镇")
        page.get_by_label("手机号").fill("139 0578 1234")
        page.get_by_role("button", name="提交反映").click()
        page.wait_for_selector("text=受理编号")
        shot(page, "report_done")
        shown = page.inner_text("main")
    report = CannotGetDoneReport.objects.get()
    assert report.number in shown and report.contact_phone == "13905781234"


def test_supervisor_sees_flags_and_overdue_in_red(live_server, world):
    import datetime as dt

    from shanzhi.ratings.services import rating_submit, rectification_sweep
    from shanzhi.ratings.tests.test_rankings import add

    staff = world.urban_handler.staff
    other = world.urban_handler_2.staff
    add(staff, good=2, bad=4)
    add(other, good=6, bad=0)
    case = world.closed_case(reporter=world.resident)
    rating = rating_submit(actor=world.resident, obj_type="case", obj_id=case.number, level="unsatisfied")
    rectification_sweep(now=rating.rectification.deadline + dt.timedelta(minutes=1))
    base = live_server.url
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        sign_in(page, base, "r-supervisor")
        page.goto(f"{base}/ratings/rankings/?month=2026-10")
        shot(page, "rankings")
        flagged = page.locator("tr.flag-talk")
        assert (
            flagged.count() == 1 and "r-urban" in flagged.inner_text() and "谈话培训" in flagged.inner_text()
        )
        page.goto(f"{base}/ratings/rectifications/")
        shot(page, "rectifications")
        overdue = page.locator("tr.overdue")
        assert overdue.count() == 1 and "已超期" in overdue.inner_text()
        colour = overdue.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(253, 236, 234)"

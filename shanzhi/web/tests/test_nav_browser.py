"""The main navigation in a real browser: no role's home scrolls sideways on a 360 px phone, in
normal or elder mode; there the links fold under a 菜单 button, and on a desktop a long navigation
(the administrator's, a leader's) is grouped under disclosure menus. Both open and close by keyboard
alone (Enter, Esc gives the focus back), and axe finds nothing serious with the menus open."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shanzhi.conftest import County, make_user
from shanzhi.web.elder import COOKIE
from shanzhi.web.tests.browser import chromium
from shanzhi.web.tests.test_a11y import AXE, AXE_RUN, session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["admin", "leader", "dispatcher", "supervisor", "gridworker", "resident", "clerk", "handler"]
NAV = "nav[aria-label='主导航']"
VISIBLE_HEIGHTS = f"""Array.from(document.querySelectorAll("{NAV} a, {NAV} button"))
  .filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().height)"""


@pytest.fixture
def people(county: County) -> dict[str, Any]:
    where = {"gridworker": county.village_a1, "resident": county.village_a1, "clerk": county.town_a}
    handler = {"handler": county.town_a_gov, "clerk": county.town_a_gov}
    return {
        role: make_user(
            username=f"n-{role}",
            region=where.get(role, county.county),
            roles=[role],
            handler=handler.get(role),
        )
        for role in ROLES
    }


def open_as(browser: Any, base: str, user: Any, *, width: int, elder: bool = False) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 800})
    cookies = [session_cookie(user, base)]
    if elder:
        cookies.append({"name": COOKIE, "value": "1", "url": base})
    context.add_cookies(cookies)
    return context.new_page()


def expanded(page: Any, selector: str) -> str | None:
    value: str | None = page.locator(selector).get_attribute("aria-expanded")
    return value


def focused(page: Any) -> str:
    text: str = page.evaluate("(document.activeElement.innerText || '').trim()")
    return text


def test_no_home_scrolls_sideways_at_360_px(live_server, people):
    wide: dict[str, int] = {}
    with chromium() as browser:
        for elder in (False, True):
            for role, user in people.items():
                page = open_as(browser, live_server.url, user, width=360, elder=elder)
                answer = page.goto(live_server.url + "/", wait_until="load")
                assert answer is not None and answer.status == 200, role
                width = page.evaluate("document.scrollingElement.scrollWidth")
                if width > 360:
                    wide[f"{role}{' elder' if elder else ''}"] = width
                # The menu folds the links away; opened, it still fits the screen.
                toggle = page.locator(f"{NAV} .nav-toggle")
                assert toggle.is_visible() and expanded(page, f"{NAV} .nav-toggle") == "false", role
                assert not page.locator(f"{NAV} .nav-list").is_visible()
                toggle.click()
                assert page.locator(f"{NAV} .nav-list").is_visible()
                heights: list[float] = []
                for group in [None, *page.locator(f"{NAV} .nav-group-toggle").all()]:
                    if group is not None:
                        group.click()  # one group open at a time, each measured open
                    width = page.evaluate("document.scrollingElement.scrollWidth")
                    if width > 360:
                        wide[f"{role}{' elder' if elder else ''} menu open"] = width
                    heights += page.evaluate(VISIBLE_HEIGHTS)
                if elder:  # large targets in elder mode
                    assert min(heights) >= 47.5, (role, heights)
                page.context.close()
    assert not wide, f"pages wider than 360 px: {wide}"


def test_phone_menu_opens_and_closes_by_keyboard(live_server, people):
    with chromium() as browser:
        for elder in (False, True):
            page = open_as(browser, live_server.url, people["resident"], width=360, elder=elder)
            page.goto(live_server.url + "/", wait_until="load")
            page.locator(f"{NAV} .nav-toggle").focus()
            page.keyboard.press("Enter")
            assert expanded(page, f"{NAV} .nav-toggle") == "true"
            page.keyboard.press("Tab")
            assert focused(page) == "工作台"  # the first link of the opened list is next
            page.keyboard.press("Escape")
            assert expanded(page, f"{NAV} .nav-toggle") == "false"
            assert not page.locator(f"{NAV} .nav-list").is_visible()
            assert focused(page) == "菜单"  # the focus is back on the button
            page.keyboard.press("Space")
            assert expanded(page, f"{NAV} .nav-toggle") == "true"
            for _ in range(3):
                page.keyboard.press("Tab")
            assert focused(page) == "我的办件"
            page.keyboard.press("Enter")
            page.wait_for_url("**/services/my/")
            page.context.close()


def test_desktop_groups_open_and_close_by_keyboard(live_server, people):
    with chromium() as browser:
        for elder in (False, True):
            page = open_as(browser, live_server.url, people["admin"], width=1280, elder=elder)
            page.goto(live_server.url + "/", wait_until="load")
            assert not page.locator(f"{NAV} .nav-toggle").is_visible()  # no 菜单 on a desktop
            groups = page.locator(f"{NAV} .nav-group-toggle")
            assert groups.all_inner_texts() == ["网格与应急", "数据", "系统"]
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
            # Every group is closed; its links are not shown until it is opened.
            assert not page.locator(NAV).get_by_role("link", name="审计日志").is_visible()
            system = page.locator(f"{NAV} .nav-group-toggle", has_text="系统")
            system.focus()
            page.keyboard.press("Enter")
            assert system.get_attribute("aria-expanded") == "true"
            assert page.locator(NAV).get_by_role("link", name="审计日志").is_visible()
            page.keyboard.press("Tab")
            assert focused(page) == "组织架构"
            page.keyboard.press("Escape")
            assert system.get_attribute("aria-expanded") == "false"
            assert (
                focused(page) == "系统"
                and not page.locator(NAV).get_by_role("link", name="审计日志").is_visible()
            )
            # The focus ring shows on the button reached by keyboard.
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline not in ("none", ""), outline
            # Opening one group closes another; leaving a group by Tab closes it.
            data = page.locator(f"{NAV} .nav-group-toggle", has_text="数据")
            data.focus()
            page.keyboard.press("Enter")
            system.focus()
            page.keyboard.press("Enter")
            assert data.get_attribute("aria-expanded") == "false"
            assert system.get_attribute("aria-expanded") == "true"
            for _ in range(5):  # 组织架构, 权责清单, 审计日志, 后台管理, then out to 消息
                page.keyboard.press("Tab")
            assert focused(page) == "消息" and system.get_attribute("aria-expanded") == "false"
            # A click outside closes an open group; a link in a group goes where it says.
            system.click()
            page.mouse.click(10, 600)  # the page, beside main
            assert system.get_attribute("aria-expanded") == "false"
            system.click()
            page.locator(NAV).get_by_role("link", name="组织架构").click()
            page.wait_for_url("**/org/")
            assert page.locator(f"{NAV} .nav-group.has-current .nav-group-toggle").inner_text() == "系统"
            page.context.close()


def test_navigation_by_role_at_1280_px(live_server, people):
    """Short lists stay one row of links; the long ones are grouped, with the role's own work pinned."""
    expected = {
        "resident": ([], ["工作台", "办事指南", "我的办件", "我要反映", "我的诉求", "消息"]),
        "gridworker": ([], ["工作台", "帮办代办", "网格通", "待核查", "网格地图", "住户名册", "消息"]),
        "leader": (["网格与应急", "系统"], ["工作台", "驾驶舱", "应急指挥"]),
        "dispatcher": (["网格与应急", "系统"], ["工作台", "调度台"]),
    }
    found: dict[str, Any] = {}
    with chromium() as browser:
        for elder in (False, True):
            for role, (want_groups, want_first) in expected.items():
                page = open_as(browser, live_server.url, people[role], width=1280, elder=elder)
                page.goto(live_server.url + "/", wait_until="load")
                groups = page.locator(f"{NAV} .nav-group-toggle").all_inner_texts()
                links = page.locator(f"{NAV} .nav-list > li > a").all_inner_texts()
                if groups != want_groups or links[: len(want_first)] != want_first:
                    found[f"{role} elder={elder}"] = {"groups": groups, "links": links}
                assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280, role
                page.context.close()
    assert not found, json.dumps(found, ensure_ascii=False)


def test_axe_finds_nothing_serious_with_the_menus_open(live_server, people):
    found: dict[str, Any] = {}
    with chromium() as browser:
        for elder in (False, True):
            for role, width in [("admin", 1280), ("leader", 1280), ("admin", 360), ("resident", 360)]:
                page = open_as(browser, live_server.url, people[role], width=width, elder=elder)
                page.goto(live_server.url + "/", wait_until="load")
                if width < 720:
                    page.locator(f"{NAV} .nav-toggle").click()
                first = page.locator(f"{NAV} .nav-group-toggle").first
                if first.count():
                    first.click()
                page.add_script_tag(path=str(AXE))
                violations = page.evaluate(AXE_RUN)
                if violations:
                    found[f"{role} {width} elder={elder}"] = violations
                page.context.close()
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)

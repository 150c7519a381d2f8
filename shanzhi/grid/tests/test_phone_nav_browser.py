"""网格通's pages keep the site menu on a 360 px phone: folded under 菜单 as on every page
(web/nav.css), so a grid worker reaches 消息, 待核查 and the rest without the back button. No page
scrolls sideways with the menu closed or open, in normal and elder mode, and the menu stays folded
offline, when the service worker serves the page and its styles from its cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shanzhi.grid.tests.phone_setup import Phone
from shanzhi.web.elder import COOKIE
from shanzhi.web.tests.browser import chromium
from shanzhi.web.tests.test_a11y import session_cookie

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 360, "height": 740}
NAV = "nav[aria-label='主导航']"
PAGES = ["/grid/m/", "/grid/m/checkin/", "/grid/m/report/", "/grid/m/households/", "/grid/m/verify/"]
CACHED = """() => navigator.serviceWorker.ready
  .then(() => caches.keys())
  .then(keys => caches.open(keys.filter(k => k.indexOf("gridphone-") === 0)[0]))
  .then(cache => cache.keys())
  .then(requests => requests.map(r => new URL(r.url).pathname))"""


def width(page: Page) -> int:
    scroll: int = page.evaluate("document.scrollingElement.scrollWidth")
    return scroll


def test_the_site_menu_folds_on_every_phone_page(live_server, phone: Phone) -> None:
    wide: dict[str, int] = {}
    with chromium() as browser:
        for elder in (False, True):
            context = browser.new_context(locale="zh-CN", viewport=PHONE)
            cookies = [session_cookie(phone.worker, live_server.url)]
            if elder:
                cookies.append({"name": COOKIE, "value": "1", "url": live_server.url})
            context.add_cookies(cookies)
            page = context.new_page()
            for path in PAGES:
                where = f"{path}{' elder' if elder else ''}"
                answer = page.goto(live_server.url + path, wait_until="load")
                assert answer is not None and answer.status == 200, where
                toggle = page.locator(f"{NAV} .nav-toggle")
                assert toggle.is_visible(), where
                assert not page.locator(f"{NAV} .nav-list").is_visible(), where
                if width(page) > PHONE["width"]:
                    wide[where] = width(page)
                toggle.click()
                links = page.locator(f"{NAV} .nav-list a")
                assert links.all_inner_texts() == [
                    "工作台",
                    "帮办代办",
                    "网格通",
                    "待核查",
                    "网格地图",
                    "住户名册",
                    "消息",
                ], where
                assert all(link.is_visible() for link in links.all()), where
                if width(page) > PHONE["width"]:
                    wide[f"{where} menu open"] = width(page)
                if elder:  # 48 px targets in elder mode
                    heights = links.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
                    assert min(heights) >= 47.5, (where, heights)
            # The menu leads out of 网格通: to the messages.
            page.locator(NAV).get_by_role("link", name="消息").click()
            page.wait_for_url("**/messages/")
            context.close()
    assert not wide, f"pages wider than 360 px: {wide}"


def test_the_menu_stays_folded_offline(live_server, phone: Phone) -> None:
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport=PHONE)
        context.add_cookies([session_cookie(phone.worker, live_server.url)])
        page = context.new_page()
        page.goto(live_server.url + "/grid/m/", wait_until="load")
        # The service worker's install keeps the menu's script and styles with the page shell, so
        # they are there offline even if this phone never fetched them through the worker.
        cached: list[str] = page.evaluate(CACHED)
        assert {"/static/web/nav.css", "/static/web/nav.js"} <= set(cached), cached
        context.set_offline(True)
        page.goto(live_server.url + "/grid/m/checkin/", wait_until="load")
        assert page.locator("[data-net]").inner_text() == "离线"  # the cached copy, drawn offline
        assert page.locator(f"{NAV} .nav-toggle").is_visible()
        assert not page.locator(f"{NAV} .nav-list").is_visible()
        assert width(page) <= PHONE["width"]
        context.close()

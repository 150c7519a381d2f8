"""Accessibility in a real browser: axe-core on every page of the shared, case, service, duty,
rating, message and audit apps, for each role, in normal and elder mode; keyboard use of the login
and report forms; resident pages at phone width and the kiosk in portrait.

One browser for the module; each role signs in once per mode (its session cookie is copied from
Django's test client) and its pages are visited in a loop. Failures list every violation found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.test import Client

from shanzhi.cases import services as svc
from shanzhi.cases.tests.test_pages import dispatched, received, reported
from shanzhi.conftest import PASSWORD, make_user
from shanzhi.core.services import handler_create, handler_type_upsert
from shanzhi.onewindow.services import service_item_create
from shanzhi.onewindow.tests.window_setup import spec
from shanzhi.web.elder import COOKIE
from shanzhi.web.tests.browser import chromium, unseen_focus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.1 A and AA rules plus axe's best practices; only serious and critical findings fail.
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " — " + n.failureSummary)}));
}"""

UNLABELLED = """() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter(el => el.type !== "hidden" && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length))
  .filter(el => !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
  .map(el => el.outerHTML.slice(0, 120))"""

if TYPE_CHECKING:  # the cookie dict Playwright's add_cookies() takes; not exported publicly
    from playwright._impl._api_structures import SetCookieParam


def session_cookie(user: Any, url: str) -> SetCookieParam:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


def audit_page(page: Any, url: str) -> tuple[int, list[dict[str, Any]], list[str]]:
    answer = page.goto(url, wait_until="load")
    page.add_script_tag(path=str(AXE))
    return answer.status if answer else 0, page.evaluate(AXE_RUN), page.evaluate(UNLABELLED)


@pytest.fixture
def world(loop):
    """A case at each stage, the service catalogue, and one account for every role in scope."""
    county = loop.county
    for code, name in [("hrss", "县人力资源和社会保障局"), ("civil_affairs", "县民政局")]:
        handler_type_upsert(actor=None, code=code, kind="department", name_zh=name, name_en=code)
        handler_create(actor=None, code=code, type_code=code, name=name, region=county.county)
    pension = service_item_create(actor=None, spec=spec(1, "城乡居民基本养老保险参保登记"))
    elderly = service_item_create(
        actor=None, spec=spec(6, "高龄津贴申领", theme="civil_affairs", department="civil_affairs")
    )
    resident_case = received(loop, actor=loop.resident, channel="app", text="楼道灯坏了一个多月,晚上看不见路")
    queued = received(loop, reporter_phone="13812345678")
    inbox = dispatched(loop)
    checking = reported(loop)
    svc.case_register(actor=loop.dispatcher, case=queued)
    users = {
        "resident": loop.resident,
        "operator": make_user(username="a-operator", region=county.county, roles=["operator"]),
        "dispatcher": loop.dispatcher,
        "handler": loop.urban_handler,
        "gridworker": loop.gridworker,
        "clerk": make_user(
            username="a-clerk", region=county.town_a, roles=["clerk"], handler=county.town_a_gov
        ),
        "approver": make_user(
            username="a-approver",
            region=county.county,
            roles=["approver"],
            handler=elderly.department,
        ),
        "supervisor": loop.supervisor,
        "leader": make_user(username="a-leader", region=county.county, roles=["leader"]),
        "admin": make_user(username="a-admin", region=county.county, roles=["admin"]),
        "auditor": make_user(username="a-auditor", region=county.county, roles=["auditor"]),
    }
    item = pension.code
    pages = {
        None: [
            "/login/",
            "/cases/lookup/",
            "/services/",
            f"/services/items/{item}/",
            "/services/status/",
            "/ratings/cannot-get-done/",
        ],
        "resident": [
            "/",
            "/cases/report/",
            "/cases/mine/",
            f"/cases/{resident_case.number}/",
            "/services/",
            f"/services/items/{item}/",
            "/services/my/",
            "/messages/",
        ],
        "operator": ["/", "/cases/intake/", "/cases/"],
        "dispatcher": ["/", "/cases/queue/", f"/cases/{queued.number}/", "/duties/", "/org/"],
        "handler": ["/", "/cases/inbox/", f"/cases/{inbox.number}/", "/duties/", "/ratings/rectifications/"],
        "gridworker": ["/", "/cases/verify/", f"/cases/{checking.number}/"],
        "clerk": [
            "/",
            "/services/window/",
            "/services/window/intake/",
            "/services/window/stats/",
            "/services/kiosk/",
            "/services/kiosk/ticket/",
        ],
        "approver": ["/", "/services/backoffice/"],
        "supervisor": [
            "/",
            "/ratings/",
            "/ratings/rectifications/",
            "/ratings/appeals/",
            "/ratings/rankings/",
            "/ratings/cannot-get-done/queue/",
            "/services/overdue/",
        ],
        "leader": ["/", "/cases/", f"/cases/{checking.number}/", "/org/"],
        "admin": ["/", "/audit/", "/org/", "/duties/"],
        "auditor": ["/", "/audit/", "/messages/"],
    }
    return users, pages


def test_axe_finds_nothing_serious_on_any_page_in_either_mode(live_server, world):
    users, pages = world
    found: dict[str, Any] = {}
    unlabelled: dict[str, list[str]] = {}
    unfocused: list[str] = []
    with chromium() as browser:
        for elder in (False, True):
            for role, urls in pages.items():
                context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
                cookies: list[SetCookieParam] = (
                    [] if role is None else [session_cookie(users[role], live_server.url)]
                )
                if elder:
                    cookies.append({"name": COOKIE, "value": "1", "url": live_server.url})
                context.add_cookies(cookies)
                page = context.new_page()
                for url in urls:
                    status, violations, bare = audit_page(page, live_server.url + url)
                    where = f"{'elder' if elder else 'normal'} {role or 'anonymous'} {url}"
                    assert status == 200, f"{where} answered {status}"
                    if elder:
                        assert page.evaluate("document.documentElement.classList.contains('elder')")
                    if violations:
                        found[where] = violations
                    if bare:
                        unlabelled[where] = bare
                    # Tab through the page too: every stop must show its focus.
                    stops, unseen = unseen_focus(page)
                    if not stops or unseen:
                        unfocused.append(f"{where}: {stops} Tab stops, no visible focus on {unseen}")
                context.close()
    assert not found, "axe serious/critical violations:\n" + json.dumps(found, ensure_ascii=False, indent=1)
    assert not unfocused, "\n".join(unfocused)
    assert not unlabelled, "controls without a label:\n" + json.dumps(
        unlabelled, ensure_ascii=False, indent=1
    )


def test_resident_pages_fit_a_phone_and_the_kiosk_fits_portrait(live_server, world):
    users, _ = world
    catalogue_item = "/services/"
    with chromium() as browser:
        for elder in (False, True):
            for role, size, urls in [
                (
                    "resident",
                    (360, 740),
                    ["/", "/cases/report/", "/cases/mine/", catalogue_item, "/services/my/"],
                ),
                (None, (360, 740), ["/login/", "/cases/lookup/", catalogue_item]),
                ("clerk", (1080, 1920), ["/services/kiosk/", "/services/kiosk/ticket/"]),
            ]:
                width, height = size
                context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
                cookies: list[SetCookieParam] = (
                    [] if role is None else [session_cookie(users[role], live_server.url)]
                )
                if elder:
                    cookies.append({"name": COOKIE, "value": "1", "url": live_server.url})
                context.add_cookies(cookies)
                page = context.new_page()
                for url in urls:
                    page.goto(live_server.url + url, wait_until="load")
                    scroll = page.evaluate("document.documentElement.scrollWidth")
                    assert scroll <= width, f"{url} at {width} px (elder={elder}) is {scroll} px wide"
                context.close()


def focus_order(page: Any, steps: int) -> list[str]:
    """What Tab reaches, in order: ids where there are, else tag and text."""
    seen = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.id || (e.tagName.toLowerCase() + ':' + (e.innerText || e.name || '').trim()); }"
            )
        )
    return seen


def test_login_by_keyboard_alone(live_server, world):
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{live_server.url}/login/")
        order = focus_order(page, 8)
        assert order[0] == "a:跳到主要内容"  # the skip link comes first
        for control in ["id_username", "id_password", "button:登录"]:
            assert control in order, order
        assert order.index("id_username") < order.index("id_password") < order.index("button:登录")
        # Skip link → main; then the fields by Tab, and Enter submits.
        page.goto(f"{live_server.url}/login/")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.goto(f"{live_server.url}/login/")
        page.locator("#id_username").focus()
        page.keyboard.type("l-resident")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/")
        assert "您好" in page.locator("h1").inner_text()


def test_report_form_by_keyboard_alone(live_server, world):
    users, _ = world
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN")
        context.add_cookies([session_cookie(users["resident"], live_server.url)])
        page = context.new_page()
        page.goto(f"{live_server.url}/cases/report/")
        controls = page.evaluate(
            "() => Array.from(document.querySelectorAll('#report-form input, #report-form textarea,"
            " #report-form select, #report-form button'))"
            ".filter(e => e.type !== 'hidden' && e.offsetParent !== null)"
            ".map(e => e.id || e.innerText.trim())"
        )
        order = focus_order(page, 40)
        for control in controls:
            assert control in order or f"button:{control}" in order, (control, order)
        page.locator("#text-report").focus()
        page.keyboard.type("小区门口的路灯坏了三天,晚上很黑")
        page.keyboard.press("Tab")
        page.keyboard.type("青石镇上溪村村口")
        page.keyboard.press("Enter")  # Enter in a text field submits the form
        page.get_by_text("已收到您反映的问题").wait_for()
        assert "/cases/SZ" in page.url

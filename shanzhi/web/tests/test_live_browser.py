"""Live updates in chromium: clocks tick without a reload, and a refreshed queue announces what is
new in the polite live region."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from shanzhi.cases.tests.test_pages import received
from shanzhi.web.tests.browser import chromium
from shanzhi.web.tests.test_a11y import session_cookie

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[1] / "static" / "web"


def clocks_page(now: dt.datetime) -> str:
    soon = (now + dt.timedelta(minutes=90)).isoformat()
    warn = (now + dt.timedelta(minutes=30)).isoformat()
    work = (now + dt.timedelta(minutes=5)).isoformat()
    return f"""<main id="main">
<span id="natural" class="clock ok" data-deadline="{soon}" data-warn="{warn}" data-unit="natural_hours"
  data-state="ok"><span data-clock-text>剩余 1.5 小时</span></span>
<span id="working" class="clock ok" data-deadline="{work}" data-unit="working_hours"
  data-state="ok"><span data-clock-text>剩余 0.1 工作时</span></span>
<div id="later"></div></main><div class="toasts" id="toasts" role="status" aria-live="polite"></div>"""


def test_clocks_tick_and_turn_overdue_without_a_reload():
    now = timezone.now()
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.set_content(clocks_page(now))
        page.add_script_tag(path=str(STATIC / "app.js"))
        base = now.timestamp() * 1000

        def tick(minutes: int) -> None:
            page.evaluate("(at) => window.shanzhiTickClocks(at)", base + minutes * 60_000)

        tick(1)
        assert page.inner_text("#natural") == "剩余 1.5 小时"
        assert page.inner_text("#working") == "剩余 0.1 工作时"  # the server's working-hour figure stands
        tick(70)  # past the warning time
        assert page.inner_text("#natural") == "剩余 20 分钟(即将到期)"
        assert page.get_attribute("#natural", "data-state") == "warn"
        assert "warn" in (page.get_attribute("#natural", "class") or "")
        assert page.inner_text("#working") == "已超时"  # its deadline has passed
        tick(60 * 27)
        assert page.inner_text("#natural") == "已超时 25.5 小时"
        assert "overdue" in (page.get_attribute("#natural", "class") or "")


def test_a_refreshed_list_announces_what_is_new():
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.set_content(clocks_page(timezone.now()))
        page.add_script_tag(path=str(STATIC / "app.js"))
        page.evaluate(
            """() => {
              const fresh = document.createElement("div");
              fresh.setAttribute("data-new-count", "2");
              fresh.setAttribute("data-new-label", "待处理诉求");
              document.getElementById("later").appendChild(fresh);
              document.dispatchEvent(new CustomEvent("htmx:load", {detail: {elt: fresh}}));
              const quiet = document.createElement("div");
              quiet.setAttribute("data-new-count", "0");
              document.dispatchEvent(new CustomEvent("htmx:load", {detail: {elt: quiet}}));
            }"""
        )
        toasts = page.locator("#toasts .toast")
        assert toasts.count() == 1 and toasts.first.inner_text().startswith("新增 2 件待处理诉求")


@pytest.mark.django_db(transaction=True)
def test_the_dispatchers_queue_refreshes_and_announces_a_new_request(live_server, loop):
    first = received(loop, text="第一件:路灯不亮")
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN")
        context.add_cookies([session_cookie(loop.dispatcher, live_server.url)])
        page = context.new_page()
        page.goto(live_server.url + "/cases/queue/")
        assert page.locator(f"#row-{first.number}").count() == 1
        page.wait_for_function("() => window.htmx !== undefined")
        second = received(loop, text="第二件:井盖丢失")
        # Instead of waiting 15 s for the poll, ask for the same URL the poll would.
        page.evaluate(
            """() => {
              const table = document.getElementById("queue-table");
              return htmx.ajax("GET", table.getAttribute("hx-get"), {target: table, swap: "outerHTML"});
            }"""
        )
        page.wait_for_selector(f"#row-{second.number}")
        toast = page.locator("#toasts .toast").first
        toast.wait_for()
        assert toast.inner_text().startswith("新增 1 件待处理诉求")
        assert "新增 1 件" in page.inner_text("#queue-table .refresh")
        context.close()

"""Elder mode (长辈模式) on the server side: the cookie renders the page large from the first byte,
the no-script switch sets and clears it, and it never redirects off the site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shanzhi.web.elder import COOKIE, HOTLINE
from shanzhi.web.tests.browser import chromium


def html_tag(html: str) -> str:
    found = re.search(r"<html[^>]*>", html)
    assert found is not None
    return found.group()


@pytest.mark.django_db
def test_login_page_normal_then_elder_from_cookie(client):
    normal = client.get("/login/").content.decode()
    assert html_tag(normal) == '<html lang="zh-Hans">'
    assert 'aria-pressed="false"' in normal and "长辈模式" in normal
    assert f'href="tel:{HOTLINE}"' in normal  # the hotline is on every page, large in elder mode

    client.cookies[COOKIE] = "1"
    elder = client.get("/login/").content.decode()
    assert html_tag(elder) == '<html lang="zh-Hans" class="elder">'
    assert 'data-elder-toggle aria-pressed="true"' in elder
    assert 'name="on" value="0"' in elder  # the switch now turns it off


@pytest.mark.django_db
def test_any_other_cookie_value_is_normal(client):
    client.cookies[COOKIE] = "yes<script>"
    assert html_tag(client.get("/login/").content.decode()) == '<html lang="zh-Hans">'


@pytest.mark.django_db
def test_switch_without_script_sets_and_clears_the_cookie(client):
    on = client.post("/elder/", {"on": "1", "next": "/services/?q=户口"})
    assert on.status_code == 302 and on["Location"] == "/services/?q=%E6%88%B7%E5%8F%A3"
    assert on.cookies[COOKIE].value == "1"
    assert on.cookies[COOKIE]["max-age"] == 365 * 24 * 3600
    assert on.cookies[COOKIE]["samesite"] == "Lax"
    assert 'class="elder"' in client.get("/login/").content.decode()

    off = client.post("/elder/", {"on": "0", "next": "/login/"})
    assert off.status_code == 302 and off["Location"] == "/login/"
    assert off.cookies[COOKIE].value == "" and off.cookies[COOKIE]["max-age"] == 0
    assert 'class="elder"' not in client.get("/login/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_switch_never_leaves_the_site(client, target):
    answer = client.post("/elder/", {"on": "1", "next": target})
    assert answer.status_code == 302 and answer["Location"] == "/"


@pytest.mark.django_db
def test_switch_is_post_only(client):
    assert client.get("/elder/?on=1").status_code == 405
    assert COOKIE not in client.cookies


def test_signed_in_pages_carry_the_switch_and_secondary_parts(client_a):
    client_a.cookies[COOKIE] = "1"
    home = client_a.get("/").content.decode()
    assert 'class="elder"' in home
    assert 'class="elder-bar"' in home and "朗读本页" in home
    assert 'class="secondary"' in home  # the jurisdiction figures, hidden in elder mode by app.css


# --- in the browser: the switch, read-aloud, and the shared page scripts ----------------------------

STATIC = Path(__file__).resolve().parents[1] / "static" / "web"

# Records what would be spoken instead of speaking (headless chromium has no voices).
SPEECH_RECORDER = """
window.__spoken = [];
window.speechSynthesis.speak = function (u) { window.__spoken.push({text: u.text, lang: u.lang});
  if (u.onend) { setTimeout(u.onend, 0); } };
window.speechSynthesis.cancel = function () { window.__cancelled = true; };
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_switch_in_the_browser_is_large_remembered_and_reads_aloud(live_server):
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740})
        context.add_init_script(SPEECH_RECORDER)
        page = context.new_page()
        page.goto(f"{live_server.url}/cases/lookup/")
        assert page.evaluate("getComputedStyle(document.body).fontSize") == "16px"
        switch = page.get_by_role("button", name="长辈模式")
        switch.click()
        assert page.evaluate("document.documentElement.classList.contains('elder')")
        assert switch.get_attribute("aria-pressed") == "true"
        assert page.evaluate("getComputedStyle(document.body).fontSize") == "20px"
        assert page.evaluate("localStorage.getItem('shanzhi_elder')") == "1"
        assert {c["name"]: c["value"] for c in context.cookies()}[COOKIE] == "1"
        hotline = page.get_by_role("complementary", name="长辈服务").get_by_role("link", name=HOTLINE)
        assert hotline.is_visible() and hotline.get_attribute("href") == f"tel:{HOTLINE}"
        for button in page.get_by_role("button").all():
            box = button.bounding_box() if button.is_visible() else None
            if box is not None:
                assert box["height"] >= 48, button.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        # Read-aloud speaks the page's main text in Chinese, and stops.
        read = page.get_by_role("button", name="朗读本页")
        read.click()
        spoken = page.evaluate("window.__spoken")
        assert spoken and all(u["lang"] == "zh-CN" for u in spoken)
        assert page.locator("main h1").inner_text() in "".join(u["text"] for u in spoken)
        assert "跳到主要内容" not in "".join(u["text"] for u in spoken)  # only <main>

        # Remembered: the server renders it from the cookie on the next page.
        answer = page.goto(f"{live_server.url}/login/")
        assert answer is not None and 'class="elder"' in answer.text()
        # A cleared cookie is restored from localStorage before the first paint.
        context.clear_cookies()
        page.goto(f"{live_server.url}/login/")
        assert page.evaluate("document.documentElement.classList.contains('elder')")
        assert {c["name"]: c["value"] for c in context.cookies()}[COOKIE] == "1"

        page.get_by_role("button", name="长辈模式").click()
        assert not page.evaluate("document.documentElement.classList.contains('elder')")
        assert page.evaluate("localStorage.getItem('shanzhi_elder')") == "0"
        assert COOKIE not in {c["name"] for c in context.cookies()}
        context.close()


TABLE = """<main id="main"><table data-sortable><thead><tr><th>单位</th><th>件数</th><th>满意度</th>
<th data-nosort>操作</th></tr></thead><tbody>
<tr><td>青石镇</td><td>12</td><td data-sort="95.5">95.5%</td><td></td></tr>
<tr><td>白沙镇</td><td>3</td><td data-sort="100">100%</td><td></td></tr>
<tr><td>城关街道</td><td>120</td><td data-sort="80">80%</td><td></td></tr>
</tbody></table>
<form id="f" method="get" action="about:blank" data-confirm="确定删除?"><button>删除</button></form>
</main><div id="toasts" role="status" aria-live="polite"></div>"""


@pytest.mark.browser
def test_sortable_tables_confirmation_and_toasts():
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.set_content(TABLE)
        page.add_script_tag(path=str(STATIC / "app.js"))

        def column(n: int) -> list[str]:
            return page.locator(f"tbody tr td:nth-child({n})").all_inner_texts()

        assert page.locator("th[data-nosort] button").count() == 0
        count = page.get_by_role("button", name="件数")
        count.click()
        assert column(2) == ["3", "12", "120"]  # numbers as numbers, not text
        assert page.locator("th").nth(1).get_attribute("aria-sort") == "ascending"
        count.press("Enter")  # a real button: the keyboard sorts too
        assert column(2) == ["120", "12", "3"]
        page.get_by_role("button", name="满意度").click()
        assert column(1) == ["城关街道", "青石镇", "白沙镇"]
        assert page.locator("th").nth(1).get_attribute("aria-sort") is None

        asked: list[str] = []

        def answer(dialog):
            asked.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", answer)
        page.get_by_role("button", name="删除").click()
        assert asked == ["确定删除?"] and page.url == "about:blank" and page.locator("#f").count() == 1

        page.evaluate("window.shanzhiToast('已保存')")
        assert page.get_by_role("status").inner_text().startswith("已保存")
        page.get_by_role("button", name="关闭提示").click()
        assert page.locator("#toasts .toast").count() == 0

"""Debian's chromium driven by Playwright, as every browser test launches it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Root in a container needs --no-sandbox; the rest keep chromium off the (closed) network.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Any, base_url: str, username: str) -> None:
    """Sign in through the login form (test users share shanzhi.conftest.PASSWORD) and land home."""
    from shanzhi.conftest import PASSWORD

    page.goto(f"{base_url}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base_url}/")


# One Tab stop: null once the focus has left the page or come back to where it started.
TAB_STEP = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === window.__tabFirst) return null;
  if (!window.__tabFirst) window.__tabFirst = e;
  const style = getComputedStyle(e);
  const shown = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  const what = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " " + (e.innerText || e.name || "");
  return {shown, what: what.trim().slice(0, 40)};
}"""


def unseen_focus(page: Any, limit: int = 60) -> tuple[int, list[str]]:
    """Tab from the top through the page (up to `limit` stops, until the focus leaves the page or
    comes round again): how many stops, and the elements that got the focus without showing it."""
    page.evaluate("() => { window.__tabFirst = null; document.activeElement?.blur?.(); }")
    unseen: list[str] = []
    stops = 0
    for _ in range(limit):
        page.keyboard.press("Tab")
        step = page.evaluate(TAB_STEP)
        if step is None:
            break
        stops += 1
        if not step["shown"] and step["what"] not in unseen:
            unseen.append(step["what"])
    return stops, unseen

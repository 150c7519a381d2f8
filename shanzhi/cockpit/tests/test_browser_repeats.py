"""The repeat-complaints panel in chromium: the page lists the worst repeats and says how many there
are in all, pointing to the Excel export for the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shanzhi.cockpit.tests.test_pages import build, local, make_case
from shanzhi.web.tests.browser import chromium, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_page_lists_the_worst_repeats_and_the_total(live_server, county, settings):
    data = build(county)
    today = timezone.localdate()
    # Two repeating place × category keys: four 0101 cases in grid A, three 0201 in village A2.
    for i in range(4):
        make_case(village=county.village_a1, grid=data.grid_a, category="0101",
                  received=local(today - dt.timedelta(days=6 + i)))  # fmt: skip
    for i in range(3):
        make_case(village=county.village_a2, grid=None, category="0201",
                  received=local(today - dt.timedelta(days=8 + i)))  # fmt: skip
    settings.COCKPIT_REPEAT_PAGE_ROWS = 1
    with chromium() as browser:
        page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, live_server.url, data.leader.username)
        page.goto(f"{live_server.url}/cockpit/")
        page.locator("#table-repeat_complaints table").wait_for(timeout=15_000)
        rows = page.locator("#table-repeat_complaints tbody tr")
        assert rows.count() == 1
        assert data.grid_a.name in rows.first.inner_text()  # the worst: grid A × 0101
        assert rows.first.locator("td").first.inner_text() == "网格"  # the kind in words, not "grid"
        note = page.locator(".repeat-note").inner_text()
        assert note.startswith("共 2 处重复诉求") and "前 1 处" in note and "导出 Excel" in note
        assert not errors, errors


def test_ranking_tables_scroll_sideways_instead_of_breaking_numbers(live_server, county):
    """On a phone the handler and township rankings (a dozen columns) keep each value on one line
    and scroll inside their panel; the page itself does not scroll sideways."""
    data = build(county)
    with chromium() as browser:
        page = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
        sign_in(page, live_server.url, data.leader.username)
        page.goto(f"{live_server.url}/cockpit/")
        for name in ("handler_ranking", "township_ranking"):
            region = page.locator(f"#table-{name}")
            region.locator("table").wait_for(timeout=15_000)
            lines = region.evaluate(
                """el => [...el.querySelectorAll('td, th')].map(c => {
                    const lh = parseFloat(getComputedStyle(c).lineHeight) || 20;
                    return Math.round(c.getBoundingClientRect().height / lh);
                })"""
            )
            assert max(lines) <= 2, (name, lines)  # one line of text (plus padding), never a column of digits
            assert region.evaluate("el => el.scrollWidth > el.clientWidth"), name
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

"""The cockpit in chromium: a leader opens it, tiles and charts render, a filter changes the figures,
and an export downloads a workbook that opens."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from shanzhi.cockpit.tests.test_pages import build
from shanzhi.web.tests.browser import chromium, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_opens_the_cockpit_filters_and_exports(live_server, county):
    data = build(county)
    url = live_server.url
    with chromium() as browser:
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, url, data.leader.username)

        page.get_by_role("navigation", name="主导航").get_by_role("link", name="驾驶舱").click()
        page.wait_for_url("**/cockpit/", wait_until="load")
        tiles = page.locator("#tiles .tile")
        assert tiles.count() >= 10
        assert page.locator(".tile-intake .tile-value").inner_text().startswith("6")
        # Every chart panel draws on a canvas (the repeat-complaints panel is a table).
        for name in (
            "intake_daily",
            "category_shares",
            "township_ranking",
            "seed_focus",
            "seasonal",
            "hotspots",
        ):
            page.locator(f"#chart-{name} canvas").first.wait_for(timeout=15_000)
        page.locator("#table-category_shares table").wait_for()
        page.get_by_role("button", name="按超期数").click()
        assert page.get_by_role("button", name="按超期数").get_attribute("aria-pressed") == "true"

        # Township A, then its villages appear (htmx cascade); the tiles follow the filter.
        page.get_by_label("乡镇/街道").select_option(data.county.town_a.code)
        page.locator(f"#f-village option[value='{data.county.village_a1.code}']").wait_for(state="attached")
        page.get_by_role("button", name="查询").click()
        page.wait_for_url(f"**township={data.county.town_a.code}**", wait_until="load")
        assert page.locator(".tile-intake .tile-value").inner_text().startswith("4")
        page.locator("#chart-intake_daily canvas").first.wait_for(timeout=15_000)

        with page.expect_download() as info:
            page.locator(".panel-category_shares a.export").click()
        download = info.value
        assert download.suggested_filename.startswith("category_shares-")
        wb = load_workbook(BytesIO(download.path().read_bytes()))
        cells = [c for row in wb.worksheets[0].iter_rows(values_only=True) for c in row if c is not None]
        assert "诉求类别占比" in cells and "区域" in cells
        assert any(isinstance(c, str) and "青石镇" in c for c in cells)

        # A tile opens its list.
        page.locator(".tile-intake a").click()
        page.wait_for_url("**/cockpit/drill/intake/**")
        assert page.locator("#drill-count").inner_text() == "4"
        assert not errors, errors
        context.close()

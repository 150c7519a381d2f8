"""The map draws the user's grids with ECharts and answers point → grid, in chromium."""

import pytest

from shanzhi.conftest import PASSWORD
from shanzhi.web.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIES = "echarts.getInstanceByDom(document.getElementById('grid-map')).getOption().series[0]"


def test_map_draws_own_grids_and_locates_by_form_and_click(live_server, mapped, user_a):
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/login/?next=/grids/")
        page.get_by_label("用户名").fill("t-town-a")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/grids/")
        # Until the GeoJSON arrives the chart has no series; the predicate must wait, not throw.
        page.wait_for_function(
            "() => { const c = echarts.getInstanceByDom(document.getElementById('grid-map'));"
            " const s = c && c.getOption() && c.getOption().series;"
            " return !!(s && s[0] && s[0].data && s[0].data.length > 0); }"
        )
        names = page.evaluate(f"{SERIES}.data.map(d => d.name).sort()")
        assert names == ["331199101001-01", "331199101201-01", "331199101201-02"]
        colours = page.evaluate(f"{SERIES}.data.map(d => d.itemStyle.areaColor)")
        assert len(set(colours)) == 1  # one township, one colour

        page.get_by_label("经度").fill("119.65")
        page.get_by_label("纬度").fill("28.45")
        page.get_by_role("button", name="查询所属网格").click()
        result = page.locator("#locate-result")
        result.get_by_text("上溪村第1网格").wait_for()
        assert page.url.endswith("/grids/")  # answered in place, no reload

        # Click the middle of the lower half of the map: township A's community grid.
        box = page.locator("#grid-map").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8)
        result.get_by_text("青石社区第1网格").wait_for()
        assert page.get_by_label("经度").input_value().startswith("119.")

        # The result links to the grid's page: the grid among its village's grids, selected.
        result.get_by_role("link", name="青石社区第1网格").click()
        page.wait_for_url("**/grids/331199101001-01/")
        # Until the GeoJSON arrives the chart has no series; the predicate must wait, not throw.
        page.wait_for_function(
            "() => { const c = echarts.getInstanceByDom(document.getElementById('grid-map'));"
            " const s = c && c.getOption() && c.getOption().series;"
            " return !!(s && s[0] && s[0].data && s[0].data.length > 0); }"
        )
        assert page.evaluate(f"{SERIES}.data.map(d => d.name)") == ["331199101001-01"]
        assert page.get_by_role("heading", name="网格员(0 人)").is_visible()
        assert errors == []

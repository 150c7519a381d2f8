"""The household register in chromium, on a 360×740 phone and on a desktop.

A village leader filters by a care flag, opens and edits a household (the phone stays masked for
a non-worker), imports an Excel file with one bad row (the row/column table, in Chinese, and
nothing written) and then a good one, and exports. A grid worker sees whole phone numbers of
their own grid and nobody else's households. Every page: no sideways scroll on the phone and no
serious or critical axe-core finding. One browser; sessions come from Django's test client.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pytest
from openpyxl import Workbook, load_workbook

from shanzhi.grid import household_excel as hx
from shanzhi.grid.models import Household
from shanzhi.grid.tests.households_setup import Homes, People
from shanzhi.web.tests.browser import chromium
from shanzhi.web.tests.test_a11y import AXE, AXE_RUN, UNLABELLED, session_cookie

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, Page, ViewportSize

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(hx.HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(*rows: list[Any]) -> FilePayload:
    return {"name": "住户.xlsx", "mimeType": hx.XLSX_CONTENT_TYPE, "buffer": xlsx(list(rows))}


def check(page: Page, width: int) -> None:
    """Fits the width (no sideways scroll), every field labelled, nothing serious for axe."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(AXE_RUN) == [], page.url
    assert page.evaluate(UNLABELLED) == [], page.url


def test_leader_on_a_phone_and_a_grid_worker_at_a_desk(
    live_server: Any, people: People, homes: Homes
) -> None:
    url = live_server.url
    base = f"{url}/grids/households/"
    with chromium() as browser:
        # --- a village leader on a phone ---------------------------------------------------------
        context = browser.new_context(locale="zh-CN", viewport=PHONE, accept_downloads=True)
        context.add_cookies([session_cookie(people.village_a1_leader, url)])
        page = context.new_page()
        page.goto(base, wait_until="load")
        assert "138****5678" in page.locator("table").inner_text()
        assert "13812345678" not in page.content()
        check(page, PHONE["width"])

        page.get_by_label("关爱类别").select_option("elderly_alone")
        page.get_by_role("button", name="筛选").click()
        page.wait_for_url("**care=elderly_alone**")
        assert page.get_by_text("共 1 户").is_visible()
        rows = page.locator("table tbody tr")
        assert rows.count() == 1 and "独居老人" in rows.inner_text()

        page.get_by_role("link", name=homes.a1_01_care.code).click()
        page.wait_for_url(f"**/grids/households/{homes.a1_01_care.code}/")
        assert page.get_by_role("heading", name="李秀英户").is_visible()
        check(page, PHONE["width"])

        page.get_by_role("link", name="修改").click()
        page.wait_for_url("**/edit/")
        check(page, PHONE["width"])
        page.get_by_label("人口数").fill("2")
        page.get_by_label("卧床").check()
        page.get_by_label("联系电话").fill("13911112222")
        page.get_by_label("备注").fill("女儿每周回来一次")
        page.get_by_role("button", name="保存").click()
        page.wait_for_url(f"**/grids/households/{homes.a1_01_care.code}/")
        facts = page.locator("dl").inner_text()
        assert "139****2222" in facts and "已隐去中间四位" in facts and "13911112222" not in page.content()
        assert "卧床" in facts and "2 人" in facts
        saved = Household.objects.get(pk=homes.a1_01_care.pk)
        assert saved.phone == "13911112222" and saved.bedridden and saved.members == 2

        # Import: one bad row refuses the whole file with a row/column table; then a good file.
        page.goto(f"{base}import/", wait_until="load")
        check(page, PHONE["width"])
        good = ["", "", "上溪村 50 号", "吴昊", 119.62, 28.41, 2, "13700002222", "是", "", "", "", "", ""]
        bad = ["", "", "上溪村 51 号", "吴敏", 119.62, 28.41, "两", "123", "", "", "", "", "", ""]
        before = Household.objects.count()
        page.get_by_label("Excel 文件").set_input_files(files=[upload(good, bad)])
        page.get_by_role("button", name="导入").click()
        table = page.get_by_role("table", name="错误明细")
        table.wait_for()
        assert page.get_by_role("alert").is_visible()
        errors = [r.inner_text().split("\t") for r in table.locator("tbody tr").all()]
        assert {(e[1], e[2], e[3]) for e in errors} == {("3", "G", "人口数"), ("3", "H", "联系电话")}
        assert Household.objects.count() == before
        check(page, PHONE["width"])

        page.get_by_label("Excel 文件").set_input_files(files=[upload(good)])
        page.get_by_role("button", name="导入").click()
        page.get_by_role("status").get_by_text("已导入 1 户").wait_for()
        assert Household.objects.get(head_name="吴昊").grid == homes.a1_01.grid
        check(page, PHONE["width"])

        # Export what the filter shows: two elderly-alone households now, phones masked.
        page.goto(f"{base}?care=elderly_alone", wait_until="load")
        with page.expect_download() as download:
            page.get_by_role("link", name="导出 Excel").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        with open(download.value.path(), "rb") as saved_file:
            sheet = load_workbook(io.BytesIO(saved_file.read())).worksheets[0]
        exported = list(sheet.iter_rows(values_only=True))
        assert list(exported[0]) == hx.HEADERS
        assert sorted(str(row[3]) for row in exported[1:]) == sorted(["吴昊", "李秀英"])
        assert {row[7] for row in exported[1:]} == {"137****2222", "139****2222"}
        context.close()

        # --- the grid worker of a1-01 at a desk: whole numbers, own grid only ---------------------
        context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
        context.add_cookies([session_cookie(people.gw_a1_01, url)])
        page = context.new_page()
        page.goto(base, wait_until="load")
        table_text = page.locator("table").inner_text()
        assert "13812345678" in table_text and "13911112222" in table_text and "13700002222" in table_text
        assert homes.a1_02.code not in table_text and homes.b1_01.code not in table_text
        assert "****" not in table_text
        check(page, DESKTOP["width"])
        page.get_by_role("link", name=homes.a1_01.code).click()
        page.wait_for_url(f"**/grids/households/{homes.a1_01.code}/")
        assert "13812345678" in page.locator("dl").inner_text()
        assert "已隐去" not in page.content()
        answer = page.goto(f"{base}{homes.a1_02.code}/")
        assert answer is not None and answer.status == 404
        context.close()

"""Warnings in chromium, at a desk and on a 360×740 phone.

The county leader issues a typhoon warning (严重) over a village from the page, sees the map, the
grids, the deliveries (care-flagged households first) and the offer to start an incident, and
downloads the CAP 1.2 XML, which the app's own validator accepts. On a phone the dispatcher finds
the list and the issue form; the leader opens the warning and accepts the offer, landing on the
incident board. Every page: no sideways scroll on the phone, no serious axe-core finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from shanzhi.emergency.cap.parse import parse_cap, validate_cap
from shanzhi.emergency.models import GridTask, Incident, TaskKind
from shanzhi.emergency.models_warnings import Warning, WarningDelivery
from shanzhi.emergency.tests.world_setup import World
from shanzhi.web.tests.browser import chromium
from shanzhi.web.tests.test_a11y import AXE, AXE_RUN, UNLABELLED, session_cookie

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def check(page: Page, width: int) -> None:
    """Fits the width (no sideways scroll), every field labelled, nothing serious for axe."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(AXE_RUN) == [], page.url
    assert page.evaluate(UNLABELLED) == [], page.url


def signed_in(browser: Browser, url: str, user: Any, viewport: ViewportSize) -> Page:
    context = browser.new_context(locale="zh-CN", viewport=viewport, accept_downloads=True)
    context.add_cookies([session_cookie(user, url)])
    return context.new_page()


def test_issue_a_warning_download_cap_and_start_an_incident(live_server: Any, world: World) -> None:
    url = live_server.url
    village = world.county.village_a1  # 上溪村: grids a1-01 and a1-02, three active households
    with chromium() as browser:
        # --- the county leader at a desk issues a typhoon warning over 上溪村 -------------------
        desk = signed_in(browser, url, world.users["county_leader"], DESKTOP)
        desk.goto(f"{url}/emergency/warnings/", wait_until="load")
        assert desk.get_by_text("暂无预警").is_visible()
        desk.get_by_role("link", name="发布本县预警").click()
        desk.wait_for_url("**/emergency/warnings/issue/", wait_until="load")
        check(desk, DESKTOP["width"])
        desk.get_by_label("事件").fill("台风")
        desk.get_by_label("严重程度").select_option("Severe")
        desk.get_by_label("紧迫程度").select_option("Expected")
        desk.get_by_label("标题(短信正文开头)").fill("善水县发布台风橙色预警")
        desk.get_by_label("防御指引(短信正文)").fill("请关好门窗,远离危旧房和河边。")
        desk.get_by_label("范围描述").fill("青石镇上溪村")
        desk.get_by_label("网格/村社区列表").check()
        desk.locator("#f-targets").select_option([f"r:{village.code}"])
        desk.get_by_role("button", name="发布预警").click()
        desk.wait_for_url("**/emergency/warnings/*/", wait_until="load")
        desk.get_by_text("预警已发布:2 个网格、3 户").wait_for()

        w = Warning.objects.get()
        assert w.event_kind == "typhoon" and w.severity == "Severe" and w.household_count == 3
        desk.locator("#warning-map canvas").first.wait_for()
        grids = desk.locator("#warning-grids tbody").inner_text()
        assert world.a1_01.name in grids and world.a1_02.name in grids and world.b1_01.name not in grids
        # Care-flagged households come first: the elderly one (SMS), the bedridden one (a visit).
        rows = desk.locator("#warning-deliveries tbody tr").all()
        assert [r.locator("td").nth(1).inner_text().split()[0] for r in rows] == [
            world.homes["a1_01_1"].code,
            world.homes["a1_02_1"].code,
            world.homes["a1_01_2"].code,
        ]
        assert ["重点关爱" in r.inner_text() for r in rows] == [True, True, False]
        assert "139****0001" in rows[0].inner_text() and "13900000001" not in desk.content()
        assert desk.locator("#warning-tasks tbody tr").count() >= 2
        assert desk.get_by_role("button", name="按此范围启动应急").is_visible()
        check(desk, DESKTOP["width"])

        with desk.expect_download() as download:
            desk.locator("#cap-download").click()
        assert download.value.suggested_filename.endswith(".cap.xml")
        xml = Path(download.value.path()).read_bytes()
        validate_cap(xml)
        alert = parse_cap(xml)
        assert alert.identifier == w.identifier and alert.infos[0].severity == "Severe"
        assert alert.infos[0].event == "台风"

        # --- the dispatcher on a phone: the list and the form fit; no offer to accept -----------
        phone = signed_in(browser, url, world.users["dispatcher"], PHONE)
        phone.goto(f"{url}/emergency/warnings/", wait_until="load")
        assert "善水县发布台风橙色预警" in phone.locator("#warning-table").inner_text()
        check(phone, PHONE["width"])
        phone.goto(f"{url}/emergency/warnings/issue/", wait_until="load")
        check(phone, PHONE["width"])
        phone.goto(f"{url}/emergency/warnings/{w.pk}/", wait_until="load")
        assert phone.get_by_text("由领导决定是否启动应急").is_visible()
        assert phone.get_by_role("button", name="按此范围启动应急").count() == 0
        phone.context.close()

        # --- the leader on a phone accepts the offer and lands on the incident board -------------
        phone = signed_in(browser, url, world.users["county_leader"], PHONE)
        phone.goto(f"{url}/emergency/warnings/{w.pk}/", wait_until="load")
        phone.locator("#warning-map canvas").first.wait_for()
        check(phone, PHONE["width"])
        assert phone.get_by_label("事件类型").input_value() == "typhoon"
        phone.get_by_role("button", name="按此范围启动应急").click()
        phone.wait_for_url("**/emergency/*/", wait_until="load")
        phone.get_by_text("已按预警范围启动应急事件").wait_for()
        incident = Incident.objects.get()
        assert phone.url.endswith(f"/emergency/{incident.pk}/")
        assert incident.grid_count == 2 and incident.household_count == 3
        assert phone.get_by_role("heading", level=1).inner_text().startswith("善水县发布台风橙色预警")
        assert phone.locator("#stat-done").inner_text() == "0"  # the live board, per grid
        check(phone, PHONE["width"])
        phone.context.close()

    w.refresh_from_db()
    assert w.incident_id == incident.pk
    assert GridTask.objects.filter(incident=incident, kind=TaskKind.INCIDENT).count() == 2
    assert WarningDelivery.objects.filter(warning=w).count() == 3

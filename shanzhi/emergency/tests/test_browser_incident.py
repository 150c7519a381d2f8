"""In chromium: a leader declares an incident by grid list, a grid worker on a 360-px phone does
the task, and the leader's board (polled by htmx, never reloaded) shows the grid done."""

from __future__ import annotations

from typing import Any

import pytest

from shanzhi.conftest import PASSWORD
from shanzhi.emergency.models import GridTask, Incident, TaskStatus
from shanzhi.emergency.tests.world_setup import World
from shanzhi.web.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_declares_worker_completes_board_shows_done(live_server: Any, world: World) -> None:
    url = live_server.url
    with chromium() as browser:

        def sign_in(username: str, width: int) -> Any:
            context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto(f"{url}/login/")
            page.get_by_label("用户名").fill(username)
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(f"{url}/")
            return page

        leader = sign_in("e-leader-a", 1280)
        leader.get_by_role("navigation", name="主导航").get_by_role("link", name="应急指挥").click()
        leader.get_by_role("link", name="启动应急事件").click()
        leader.wait_for_url("**/emergency/declare/", wait_until="load")
        leader.get_by_label("事件类型").select_option("typhoon")
        leader.get_by_label("标题").fill("台风“海葵”防御")
        leader.get_by_label("网格/村社区列表").check()
        leader.locator("#f-targets").select_option([f"g:{world.a1_01.code}"])
        leader.get_by_role("button", name="启动应急事件并下发任务").click()
        leader.get_by_text("已启动应急事件").wait_for()
        incident = Incident.objects.get()
        assert incident.grid_count == 1
        assert leader.locator("#stat-done").inner_text() == "0"
        marker = leader.evaluate("() => (window.__notReloaded = true)")
        assert marker is True

        task = GridTask.objects.get(incident=incident)
        worker = sign_in("e-worker-a1", 360)
        worker.goto(f"{url}/emergency/tasks/")
        worker.get_by_role("link", name=task.title).click()
        worker.wait_for_url(f"**/emergency/tasks/{task.pk}/", wait_until="load")
        assert worker.evaluate("() => document.documentElement.scrollWidth") <= 360
        for box in worker.locator("input[name=checked]").all():
            box.check()
        worker.get_by_label("已走访户数").fill("2")
        worker.get_by_label("需帮扶人数").fill("1")
        worker.get_by_label("物资需求").fill("轮椅 1 台")
        worker.get_by_role("button", name="全部完成").click()
        worker.get_by_text("任务已完成").first.wait_for()
        assert worker.locator("#task-state").inner_text() == "已完成"
        assert worker.evaluate("() => document.documentElement.scrollWidth") <= 360
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE and task.households_reached == 2

        # The board refreshes itself (every 10 s) in the same page.
        leader.wait_for_function(
            "() => document.querySelector('#stat-done').textContent.trim() === '1'", timeout=20000
        )
        assert leader.evaluate("() => window.__notReloaded") is True
        assert "已完成" in leader.locator(f"tr[data-grid='{world.a1_01.code}']").inner_text()
        assert "2 / 2" in leader.locator("#stat-reached").inner_text()


def test_leader_draws_a_polygon_on_the_map(live_server: Any, world: World) -> None:
    url = live_server.url
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/login/")
        page.get_by_label("用户名").fill("e-leader")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{url}/")
        page.goto(f"{url}/emergency/declare/", wait_until="load")
        page.get_by_label("事件类型").select_option("flood")
        page.get_by_label("标题").fill("山洪")
        page.get_by_label("地图绘制范围").check()
        page.locator("#declare-map canvas").first.wait_for()
        page.locator("#declare-map").scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # the map has drawn the grids
        box = page.locator("#declare-map").bounding_box()
        assert box is not None
        for dx, dy in [(0.35, 0.3), (0.65, 0.3), (0.65, 0.7), (0.35, 0.7)]:
            page.mouse.click(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
        page.get_by_text("已选 4 个顶点").wait_for()
        page.get_by_role("button", name="启动应急事件并下发任务").click()
        page.get_by_text("已启动应急事件").wait_for()
        incident = Incident.objects.get()
        assert incident.area_kind == "polygon" and incident.grid_count >= 1
        ring = incident.area["features"][0]["geometry"]["coordinates"][0]
        assert len(ring) == 5 and ring[0] == ring[-1]

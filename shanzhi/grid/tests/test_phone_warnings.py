"""网格通's home links the warnings that reach the grid worker's own grids, with how many are in
force. Grid workers may read those warnings (emergency/warning_selectors.py), and 网格通 is where
they work on the phone; the site menu keeps its seven flat links (docs/gridphone.md says why)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from shanzhi.emergency.tests.capgen import cap
from shanzhi.emergency.warnings import warning_receive

WARNINGS = "/emergency/warnings/"


def _home(user: Any) -> str:
    client = Client()
    client.force_login(user)
    answer = client.get("/grid/m/")
    assert answer.status_code == 200
    return answer.content.decode()


def test_home_links_the_warnings_of_my_grids(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    worker = world.users["worker_a1"]  # serves 上溪村第1网格, inside the typhoon warning's area
    html = _home(worker)
    assert f'href="{WARNINGS}"' in html and "暂无涉及本人网格的生效预警" in html
    with django_capture_on_commit_callbacks(execute=True):
        warning_receive(actor=world.users["dispatcher"], xml=cap(), source="api")
    html = _home(worker)
    assert f'href="{WARNINGS}?state=active"' in html
    assert '生效中的预警 <span class="n">1</span> 条' in html
    # The link leads to a list that shows the warning to this worker.
    client = Client()
    client.force_login(worker)
    listing = client.get(WARNINGS, {"state": "active"})
    assert listing.status_code == 200 and "台风橙色预警" in listing.content.decode()
    # 青石社区's worker, the same township but not one of the warning's grids: none in force.
    assert "暂无涉及本人网格的生效预警" in _home(world.users["worker_a2"])

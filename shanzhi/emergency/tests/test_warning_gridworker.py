"""A grid worker carries a warning to the households of their grid, so they read the warnings that
reach the grids they serve (the list, one warning, its CAP), only their grids' part of it, and
nothing else; they issue, cancel and declare nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from shanzhi.audit.models import AuditEntry
from shanzhi.emergency.models import Incident
from shanzhi.emergency.models_warnings import Warning, WarningState
from shanzhi.emergency.tests.capgen import cap, ref
from shanzhi.emergency.warnings import warning_receive

# 沙湾村第1网格 (township B) only, in CAP "lat,lon" order.
SHAWAN = "28.21,119.81 28.21,119.89 28.49,119.89 28.49,119.81 28.21,119.81"


@pytest.fixture
def warnings(world: Any, django_capture_on_commit_callbacks: Any) -> dict[str, Warning]:
    """上溪村's typhoon warning (grids a1-01 and a1-02) and 沙湾村's rainstorm warning."""
    with django_capture_on_commit_callbacks(execute=True):
        north = warning_receive(actor=world.users["dispatcher"], xml=cap(), source="api").warning
        shawan = warning_receive(
            actor=world.users["dispatcher"],
            xml=cap(identifier="T-2", event="暴雨", headline="沙湾村暴雨预警", polygon=SHAWAN),
            source="api",
        ).warning
    assert (north.grid_count, shawan.grid_count) == (2, 1)
    return {"north": north, "shawan": shawan}


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_grid_worker_reads_the_warnings_of_their_grid_and_only_their_part(world, warnings):
    north, shawan = warnings["north"], warnings["shawan"]
    c = _as(world.users["worker_a1"])  # serves 上溪村第1网格
    listing = c.get("/emergency/warnings/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "台风橙色预警" in page and "沙湾村暴雨预警" not in page
    assert "发布本县预警" not in page  # no issue link

    detail = c.get(f"/emergency/warnings/{north.pk}/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "上溪村第1网格" in html and "上溪村第2网格" not in html
    # Their own households are listed to be told; the other grid's are not.
    assert f"{world.a1_01.code}-0001" in html and f"{world.a1_02.code}-0001" not in html
    assert "按此范围启动应急" not in html and f"/emergency/warnings/{north.pk}/declare/" not in html
    assert c.get(f"/emergency/warnings/{north.pk}/cap.xml").status_code == 200

    # The same over the API.
    listed = c.get("/api/v1/warnings").json()
    assert [w["id"] for w in listed["items"]] == [north.pk]
    grids = c.get(f"/api/v1/warnings/{north.pk}").json()["grids"]
    assert [g["code"] for g in grids] == [world.a1_01.code]

    # 沙湾村's warning does not reach their grid: a 404 like a missing one, on every read.
    for url in (
        f"/emergency/warnings/{shawan.pk}/",
        f"/emergency/warnings/{shawan.pk}/cap.xml",
        f"/api/v1/warnings/{shawan.pk}",
        f"/api/v1/warnings/{shawan.pk}/cap",
    ):
        assert c.get(url).status_code == 404, url


def test_a_grid_worker_whose_grid_is_not_reached_sees_nothing(world, warnings):
    # 青石社区's grid worker: the same township as the typhoon warning, not one of its grids.
    c = _as(world.users["worker_a2"])
    page = c.get("/emergency/warnings/")
    assert page.status_code == 200 and "台风橙色预警" not in page.content.decode()
    assert c.get(f"/emergency/warnings/{warnings['north'].pk}/").status_code == 404
    assert c.get("/api/v1/warnings").json()["total"] == 0
    # 沙湾村's grid worker sees 沙湾村's warning and not 上溪村's.
    c = _as(world.users["worker_b1"])
    assert c.get(f"/emergency/warnings/{warnings['shawan'].pk}/").status_code == 200
    assert c.get(f"/emergency/warnings/{warnings['north'].pk}/").status_code == 404


def test_grid_worker_cannot_issue_cancel_or_declare(world, warnings):
    north = warnings["north"]
    c = _as(world.users["worker_a1"])
    before = (Warning.objects.count(), Incident.objects.count(), AuditEntry.objects.count())
    assert c.get("/emergency/warnings/issue/").status_code == 403
    issued = c.post(
        "/emergency/warnings/issue/",
        {"event": "暴雨", "severity": "Severe", "urgency": "Immediate", "certainty": "Likely",
         "headline": "网格员发布", "area_kind": "grids", "targets": [f"g:{world.a1_01.code}"]},
    )  # fmt: skip
    assert issued.status_code == 403
    declared = c.post(f"/emergency/warnings/{north.pk}/declare/", {"type_code": "typhoon", "title": "防台"})
    assert declared.status_code == 403
    cancel = cap(identifier="T-3", msg_type="Cancel", references=ref(north.identifier), info=False)
    cancelled = c.post("/api/v1/warnings/cap", cancel, content_type="application/xml")
    assert cancelled.status_code == 403
    assert (Warning.objects.count(), Incident.objects.count(), AuditEntry.objects.count()) == before
    north.refresh_from_db()
    assert north.state == WarningState.ACTIVE and north.incident_id is None

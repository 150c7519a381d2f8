"""The pages and the API: declare by each area kind, board polling, close, reports, task page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from shanzhi.emergency.models import GridTask, Incident, IncidentStatus, TaskStatus
from shanzhi.emergency.tests.world_setup import World

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _declare_form(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type_code": "typhoon", "title": "台风海葵", "note": "", "started_at": ""}
    data.update(extra)
    return data


def test_nav_and_list(world: World) -> None:
    page = _client(world.users["county_leader"]).get(reverse("emergency:list"))
    assert page.status_code == 200
    assert "应急指挥" in page.content.decode() and "启动应急事件" in page.content.decode()
    assert _client(world.users["worker_a1"]).get(reverse("emergency:list")).status_code == 403
    assert (
        "启动应急事件"
        not in _client(world.users["supervisor"]).get(reverse("emergency:list")).content.decode()
    )


def test_declare_page_by_grid_list(world: World) -> None:
    client = _client(world.users["leader_a"])
    form = client.get(reverse("emergency:declare"))
    assert form.status_code == 200
    html = form.content.decode()
    assert f"g:{world.a1_01.code}" in html and f"r:{world.county.village_a1.code}" in html
    assert world.b1_01.code not in html  # township B's grid is not offered to township A
    answer = client.post(
        reverse("emergency:declare"),
        _declare_form(
            area_kind="grids", targets=[f"g:{world.a1_01.code}", f"r:{world.county.village_a2.code}"]
        ),
    )
    incident = Incident.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("emergency:detail", args=[incident.pk])
    assert set(GridTask.objects.filter(incident=incident).values_list("grid_id", flat=True)) == {
        world.a1_01.pk,
        world.a2_01.pk,
    }


def test_declare_page_by_drawn_polygon_and_circle(world: World) -> None:
    client = _client(world.users["county_leader"])
    drawn = json.dumps([[119.62, 28.38], [119.68, 28.38], [119.68, 28.48]])  # open ring: closed for you
    assert (
        client.post(
            reverse("emergency:declare"), _declare_form(area_kind="polygon", polygon=drawn)
        ).status_code
        == 302
    )
    assert GridTask.objects.get(incident__area_kind="polygon").grid == world.a1_01
    answer = client.post(
        reverse("emergency:declare"),
        _declare_form(area_kind="circle", lon="119.85", lat="28.30", radius_m="500"),
    )
    assert answer.status_code == 302
    assert GridTask.objects.get(incident__area_kind="circle").grid == world.b1_01


def test_declare_page_by_geojson_upload(world: World) -> None:
    geo = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[119.72, 28.4], [119.78, 28.4], [119.78, 28.48], [119.72, 28.48], [119.72, 28.4]]
            ],
        },
    }
    upload = SimpleUploadedFile("area.geojson", json.dumps(geo).encode(), content_type="application/geo+json")
    answer = _client(world.users["county_leader"]).post(
        reverse("emergency:declare"), {**_declare_form(area_kind="geojson"), "geojson": upload}
    )
    assert answer.status_code == 302
    assert GridTask.objects.get().grid == world.a1_02


@pytest.mark.parametrize(
    "extra",
    [
        {"area_kind": "grids", "targets": []},
        {"area_kind": "grids", "targets": ["x:nonsense"]},
        {"area_kind": "polygon", "polygon": "[[1,2]"},
        {
            "area_kind": "polygon",
            "polygon": json.dumps([[119.6, 28.4], [119.7, 28.5], [119.7, 28.4], [119.6, 28.5]]),
        },
        {"area_kind": "circle", "lon": "119.85", "lat": "28.3", "radius_m": "-10"},
        {"area_kind": "circle", "lon": "abc", "lat": "28.3", "radius_m": "10"},
        {"area_kind": "geojson"},
        {"area_kind": "moon"},
        {"area_kind": "grids", "targets": ["g:331199101201-01"], "type_code": "nope"},
        {"area_kind": "grids", "targets": ["g:331199101201-01"], "started_at": "yesterday"},
    ],
)
def test_declare_page_bad_input(world: World, extra: dict[str, Any]) -> None:
    answer = _client(world.users["county_leader"]).post(reverse("emergency:declare"), _declare_form(**extra))
    assert answer.status_code == 422
    assert 'class="error"' in answer.content.decode()
    assert Incident.objects.count() == 0 and GridTask.objects.count() == 0


def test_bad_geojson_upload(world: World) -> None:
    upload = SimpleUploadedFile("area.geojson", b"{not json", content_type="application/geo+json")
    answer = _client(world.users["county_leader"]).post(
        reverse("emergency:declare"), {**_declare_form(area_kind="geojson"), "geojson": upload}
    )
    assert answer.status_code == 422 and Incident.objects.count() == 0


def _incident(world: World) -> Incident:
    client = _client(world.users["leader_a"])
    client.post(
        reverse("emergency:declare"),
        _declare_form(area_kind="grids", targets=[f"r:{world.county.town_a.code}"]),
    )
    return Incident.objects.get()


def test_detail_board_and_polling(world: World) -> None:
    incident = _incident(world)
    client = _client(world.users["dispatcher"])
    page = client.get(reverse("emergency:detail", args=[incident.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "处置进度" in html and 'hx-trigger="every 10s"' in html
    assert "board-map-config" in html and "上溪村第1网格" in html
    partial = client.get(reverse("emergency:board", args=[incident.pk]), HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert partial.status_code == 200 and body.lstrip().startswith('<div id="board"') and "<html" not in body
    assert 'id="stat-total">3<' in body and 'id="stat-done">0<' in body
    assert client.get(reverse("emergency:board", args=[incident.pk])).status_code == 200


def test_other_township_gets_404_everywhere(world: World) -> None:
    incident = _incident(world)
    task = GridTask.objects.filter(incident=incident).first()
    assert task is not None
    other = _client(world.users["leader_b"])
    for name in ("emergency:detail", "emergency:board", "emergency:close", "emergency:report_pdf"):
        assert other.get(reverse(name, args=[incident.pk])).status_code == 404
    assert other.get(reverse("emergency:task", args=[task.pk])).status_code == 404
    assert _client(world.users["worker_b1"]).get(reverse("emergency:task", args=[task.pk])).status_code == 404
    assert (
        other.post(
            reverse("emergency:close", args=[incident.pk]), {"reason": "x", "confirm": "yes"}
        ).status_code
        == 404
    )
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACTIVE


def test_task_page_tick_and_done(world: World) -> None:
    incident = _incident(world)
    task = GridTask.objects.get(incident=incident, grid=world.a1_01)
    client = _client(world.users["worker_a1"])
    page = client.get(reverse("emergency:task", args=[task.pk]))
    assert page.status_code == 200 and task.checklist[0] in page.content.decode()
    assert "户主1" in page.content.decode() and "独居老人" in page.content.decode()
    # Not all ticked: refused with the first missing item, nothing saved.
    answer = client.post(reverse("emergency:task", args=[task.pk]), {"checked": ["0"], "mark": "done"})
    assert answer.status_code == 422 and "还有" in answer.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and not any(task.checked)
    answer = client.post(
        reverse("emergency:task", args=[task.pk]),
        {
            "checked": [str(i) for i in range(len(task.checklist))],
            "households_reached": "2",
            "people_need_help": "1",
            "supplies_requested": "轮椅 1 台",
            "note": "已转移",
            "mark": "done",
        },
    )
    assert answer.status_code == 302
    task.refresh_from_db()
    assert (
        task.status == TaskStatus.DONE
        and task.households_reached == 2
        and task.supplies_requested == "轮椅 1 台"
    )
    assert client.post(reverse("emergency:task", args=[task.pk]), {"note": "x"}).status_code == 409
    assert client.get(reverse("emergency:tasks")).status_code == 200


def test_close_page_confirm_reports_and_409(world: World) -> None:
    incident = _incident(world)
    client = _client(world.users["leader_a"])
    assert client.get(reverse("emergency:report_pdf", args=[incident.pk])).status_code == 409
    unconfirmed = client.post(reverse("emergency:close", args=[incident.pk]), {"reason": "解除"})
    assert unconfirmed.status_code == 422
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACTIVE
    answer = client.post(
        reverse("emergency:close", args=[incident.pk]), {"reason": "台风过境", "confirm": "yes"}
    )
    assert answer.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert set(GridTask.objects.filter(incident=incident).values_list("status", flat=True)) == {"closed"}
    again = client.post(reverse("emergency:close", args=[incident.pk]), {"reason": "再次", "confirm": "yes"})
    assert again.status_code == 409
    pdf = client.get(reverse("emergency:report_pdf", args=[incident.pk]))
    assert (
        pdf.status_code == 200
        and pdf["Content-Type"] == "application/pdf"
        and pdf.content.startswith(b"%PDF")
    )
    xlsx = client.get(reverse("emergency:report_xlsx", args=[incident.pk]))
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    detail = client.get(reverse("emergency:detail", args=[incident.pk])).content.decode()
    assert "下载 PDF" in detail and "every 10s" not in detail  # a closed board stops polling


# --- API ----------------------------------------------------------------------------------------


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(
        url, json.dumps(body) if not isinstance(body, str) else body, content_type="application/json"
    )


def test_api_lifecycle(world: World) -> None:
    client = _client(world.users["county_leader"])
    url = "/api/v1/emergency/incidents"
    answer = _post(
        client,
        url,
        {
            "type_code": "flood",
            "title": "洪涝",
            "area_kind": "circle",
            "circle": {"lon": 119.75, "lat": 28.45, "radius_m": 2000},
        },
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (
        body["grid_count"] == 1
        and body["household_count"] == 1
        and body["grids"][0]["grid_code"] == world.a1_02.code
    )
    incident_id, task_id = body["id"], body["grids"][0]["task_id"]
    assert [i["id"] for i in client.get(url).json()] == [incident_id]
    assert client.get(f"{url}/{incident_id}").json()["counts"]["open"] == 1

    worker = _client(world.users["worker_a1b"])
    task = worker.get(f"/api/v1/emergency/tasks/{task_id}").json()
    report = _post(
        worker,
        f"/api/v1/emergency/tasks/{task_id}",
        {
            "checked": [True] * len(task["checklist"]),
            "households_reached": 1,
            "people_need_help": 2,
            "mark": "done",
        },
    )
    assert report.status_code == 200 and report.json()["status"] == "done"
    assert client.get(f"{url}/{incident_id}").json()["counts"]["done"] == 1

    closed = _post(client, f"{url}/{incident_id}/close", {"reason": "解除"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["summary"]["totals"]["people_need_help"] == 2
    again = _post(client, f"{url}/{incident_id}/close", {"reason": "解除"})
    assert again.status_code == 409 and again.json()["code"] == "incident_closed"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{broken", 400, None),
        ({"type_code": "flood", "title": "x", "area_kind": "grids"}, 422, "area_invalid"),
        (
            {
                "type_code": "flood",
                "title": "x",
                "area_kind": "circle",
                "circle": {"lon": 119.7, "lat": 28.4, "radius_m": -1},
            },
            422,
            "area_invalid",
        ),
        (
            {
                "type_code": "flood",
                "title": "x",
                "area_kind": "polygon",
                "polygon": [[119.6, 28.4], [119.7, 28.4]],
            },
            422,
            "area_invalid",
        ),
        (
            {
                "type_code": "flood",
                "title": "x",
                "area_kind": "geojson",
                "geojson": {"type": "Point", "coordinates": [1, 2]},
            },
            422,
            "area_invalid",
        ),
        (
            {"type_code": "zzz", "title": "x", "area_kind": "grids", "grid_codes": ["331199101201-01"]},
            422,
            "unknown_type",
        ),
        (
            {"type_code": "flood", "title": "x", "area_kind": "grids", "region_codes": ["331199999000"]},
            422,
            "area_invalid",
        ),
    ],
)
def test_api_bad_declarations(world: World, body: Any, status: int, code: str | None) -> None:
    answer = _post(_client(world.users["county_leader"]), "/api/v1/emergency/incidents", body)
    assert answer.status_code == status
    assert code is None or answer.json()["code"] == code
    assert Incident.objects.count() == 0 and GridTask.objects.count() == 0


def test_api_permissions(world: World) -> None:
    body = {"type_code": "flood", "title": "x", "area_kind": "grids", "grid_codes": [world.a1_01.code]}
    assert _post(_client(world.users["dispatcher"]), "/api/v1/emergency/incidents", body).status_code == 403
    assert _client(world.users["worker_a1"]).get("/api/v1/emergency/incidents").status_code == 403
    assert Client().get("/api/v1/emergency/incidents").status_code == 401
    created = _post(_client(world.users["leader_a"]), "/api/v1/emergency/incidents", body).json()
    assert (
        _client(world.users["leader_b"]).get(f"/api/v1/emergency/incidents/{created['id']}").status_code
        == 404
    )
    task_id = created["grids"][0]["task_id"]
    answer = _post(
        _client(world.users["worker_b1"]), f"/api/v1/emergency/tasks/{task_id}", {"households_reached": 1}
    )
    assert answer.status_code == 404
    assert GridTask.objects.get(pk=task_id).households_reached == 0


# --- back office ---------------------------------------------------------------------------------


def test_admin_edits_a_checklist_one_item_a_line(world: World) -> None:
    from shanzhi.audit.models import AuditEntry
    from shanzhi.emergency.models import IncidentType

    admin_user = world.users["admin"]
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client = _client(admin_user)
    typhoon = IncidentType.objects.get(code="typhoon")
    url = reverse("admin:emergency_incidenttype_change", args=[typhoon.pk])
    page = client.get(url)
    assert page.status_code == 200 and typhoon.checklist[1] in page.content.decode()
    answer = client.post(
        url,
        {
            "name": "台风",
            "checklist": "上门查看重点关爱户\n\n转移危房人员\n转移危房人员\n",
            "task_hours": "3",
            "clock": "natural_hours",
            "notify_text": "",
            "active": "on",
        },
    )
    assert answer.status_code == 302
    typhoon.refresh_from_db()
    assert typhoon.checklist == ["上门查看重点关爱户", "转移危房人员"] and typhoon.task_hours == 3
    assert AuditEntry.objects.filter(action="emergency.type.update", object_id=str(typhoon.pk)).exists()
    empty = client.post(
        url, {"name": "台风", "checklist": "  \n", "task_hours": "2", "clock": "natural_hours"}
    )
    assert empty.status_code == 200 and "至少要有一项" in empty.content.decode()
    typhoon.refresh_from_db()
    assert typhoon.checklist == ["上门查看重点关爱户", "转移危房人员"]
    assert client.get(reverse("admin:emergency_incidenttype_add")).status_code == 200

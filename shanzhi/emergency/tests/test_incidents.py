"""Declaring incidents over polygons, circles and grid lists; tasks, notifications, audit; closing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.emergency.incidents import incident_close, incident_declare, incident_type_save
from shanzhi.emergency.models import GridTask, Incident, IncidentStatus, TaskStatus
from shanzhi.emergency.reports import summary_pdf, summary_xlsx
from shanzhi.emergency.selectors import incident_board, incident_get, incident_list
from shanzhi.emergency.tasks_services import grid_task_report
from shanzhi.emergency.tests.world_setup import World
from shanzhi.grid.areas import Area, Circle, polygon_from_coords
from shanzhi.notify.models import Message

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, int, int, int]:
    return (
        Incident.objects.count(),
        GridTask.objects.count(),
        Message.objects.count(),
        AuditEntry.objects.count(),
    )


def _poly(minx: float, miny: float, maxx: float, maxy: float) -> Area:
    coords = [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)]
    return Area(polygons=(polygon_from_coords(coords=coords),))


def _households(task: GridTask) -> set[int]:
    return set(task.households.values_list("pk", flat=True))


def test_polygon_declares_tasks_for_the_grids_it_covers(world: World) -> None:
    leader = world.users["county_leader"]
    start = timezone.now().replace(microsecond=0)
    before = AuditEntry.objects.count()
    incident = incident_declare(
        actor=leader,
        type_code="typhoon",
        title="台风海葵",
        area=_poly(119.62, 28.38, 119.78, 28.48),
        started_at=start,
    )
    assert incident.number and incident.number.startswith("YJ")
    assert incident.area_kind == "polygon"
    assert incident.area["type"] == "FeatureCollection"
    tasks = {t.grid_id: t for t in GridTask.objects.filter(incident=incident)}
    assert set(tasks) == {world.a1_01.pk, world.a1_02.pk}
    h = world.homes
    assert _households(tasks[world.a1_01.pk]) == {h["a1_01_1"].pk, h["a1_01_2"].pk}
    assert _households(tasks[world.a1_02.pk]) == {h["a1_02_1"].pk}  # the retired household is not reached
    assert (incident.grid_count, incident.household_count, incident.care_household_count) == (2, 3, 2)
    # Same region for both grids: the village they share.
    assert incident.region == world.county.village_a1
    task = tasks[world.a1_01.pk]
    assert task.due_at == start + dt.timedelta(hours=2)
    assert task.checklist[0].startswith("逐户上门") and task.checked == [False] * len(task.checklist)
    assert task.status == TaskStatus.OPEN and task.kind == "incident"
    # Declaration + one entry per task.
    actions = list(AuditEntry.objects.filter(index__gte=before).values_list("action", flat=True))
    assert actions.count("emergency.task.create") == 2 and actions.count("emergency.incident.declare") == 1


def test_notifications_reach_workers_grid_leaders_and_cadres(world: World) -> None:
    incident = incident_declare(
        actor=world.users["county_leader"],
        type_code="typhoon",
        title="台风",
        area=_poly(119.62, 28.38, 119.68, 28.48),
    )
    task = GridTask.objects.get(incident=incident)
    assert task.grid == world.a1_01
    messages = Message.objects.filter(object_type="emergency.gridtask", object_id=str(task.pk))
    in_app = {m.recipient.username for m in messages.filter(channel="in_app") if m.recipient}
    # The grid's worker (its head), the village's and the township's leaders; not the other
    # grid's worker, not township B, not the county.
    assert in_app == {"e-worker-a1", "e-cadre-a1", "e-leader-a"}
    sms = sorted(m.phone for m in messages.filter(channel="sms"))
    assert sms == ["13800000001", "13800000009"]
    body = messages.get(channel="in_app", recipient=world.users["worker_a1"]).body
    assert "台风" in body and "上溪村第1网格" in body and "2 户" in body


def test_circle_reaches_by_distance(world: World) -> None:
    # 3 km around a household in a1-01: only a1-01 and that household.
    area = Area(circles=(Circle(lon=119.65, lat=28.45, radius_m=3000),))
    incident = incident_declare(
        actor=world.users["leader_a"], type_code="gas_leak", title="燃气泄漏", area=area
    )
    task = GridTask.objects.get(incident=incident)
    assert task.grid == world.a1_01
    assert _households(task) == {world.homes["a1_01_1"].pk}
    assert incident.area_kind == "circle"
    assert task.due_at == incident.started_at + dt.timedelta(hours=1)


def test_grid_and_village_list(world: World) -> None:
    area = Area(grid_codes=(world.a2_01.code,), region_codes=(world.county.village_a1.code,))
    incident = incident_declare(actor=world.users["leader_a"], type_code="flood", title="洪涝", area=area)
    grids = set(GridTask.objects.filter(incident=incident).values_list("grid_id", flat=True))
    assert grids == {world.a1_01.pk, world.a1_02.pk, world.a2_01.pk}
    assert incident.household_count == 4
    assert incident.region == world.county.town_a
    assert incident.area_kind == "grids"


def test_township_leader_reaches_only_their_township(world: World) -> None:
    # A polygon over both townships, declared by township A's leader: township B is left out.
    incident = incident_declare(
        actor=world.users["leader_a"],
        type_code="fire",
        title="火灾",
        area=_poly(119.62, 28.22, 119.88, 28.48),
    )
    grids = set(GridTask.objects.filter(incident=incident).values_list("grid_id", flat=True))
    assert world.b1_01.pk not in grids and world.a1_01.pk in grids


def test_township_b_cannot_see_or_close_township_a_incident(world: World) -> None:
    incident = incident_declare(
        actor=world.users["leader_a"],
        type_code="flood",
        title="洪涝",
        area=Area(grid_codes=(world.a1_01.code,)),
    )
    assert list(incident_list(user=world.users["leader_b"])) == []
    with pytest.raises(NotFound):
        incident_get(user=world.users["leader_b"], pk=incident.pk)
    with pytest.raises(NotFound):
        incident_close(actor=world.users["leader_b"], incident=incident, reason="x")
    assert incident_get(user=world.users["county_leader"], pk=incident.pk) == incident
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACTIVE


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"type_code": "meteor"}, "unknown_type"),
        ({"title": ""}, "incident_invalid"),
        ({"title": "x" * 200}, "incident_invalid"),
        ({"area": Area(circles=(Circle(lon=119.65, lat=28.45, radius_m=-5),))}, "area_invalid"),
        ({"area": Area(grid_codes=("331199101201-99",))}, "area_invalid"),
        ({"area": Area(grid_codes=("331199102201-01",))}, "area_invalid"),  # township B's grid
        ({"area": Area()}, "area_invalid"),
        ({"area": Area(circles=(Circle(lon=100.0, lat=30.0, radius_m=1000),))}, "area_outside_county"),
        (
            {
                "area": Area(
                    polygons=(
                        polygon_from_coords(
                            coords=[(119.95, 28.25), (119.99, 28.25), (119.99, 28.3), (119.95, 28.25)]
                        ),
                    )
                )
            },
            "area_empty",
        ),
        ({"started_at": timezone.now() - dt.timedelta(days=30)}, "incident_invalid"),
    ],
)
def test_bad_declarations_change_nothing(world: World, kwargs: dict[str, Any], code: str) -> None:
    args: dict[str, Any] = {
        "actor": world.users["leader_a"],
        "type_code": "typhoon",
        "title": "台风",
        "area": Area(grid_codes=(world.a1_01.code,)),
    }
    args.update(kwargs)
    before = _snapshot()
    with pytest.raises(ServiceError) as caught:
        incident_declare(**args)
    assert caught.value.code == code
    assert caught.value.message
    assert _snapshot() == before


@pytest.mark.parametrize("who", ["worker_a1", "dispatcher", "supervisor", "cadre_a1"])
def test_only_leaders_and_admins_declare(world: World, who: str) -> None:
    before = _snapshot()
    if who == "cadre_a1":  # a village leader may declare over their own village
        incident_declare(
            actor=world.users[who], type_code="fire", title="火灾", area=Area(grid_codes=(world.a1_01.code,))
        )
        assert Incident.objects.count() == before[0] + 1
        return
    with pytest.raises(PermissionDenied):
        incident_declare(
            actor=world.users[who], type_code="fire", title="火灾", area=Area(grid_codes=(world.a1_01.code,))
        )
    assert _snapshot() == before


def test_inactive_type_is_unknown(world: World) -> None:
    incident_type_save(actor=None, code="fire", name="火灾", checklist=["疏散"], active=False)
    with pytest.raises(ServiceError) as caught:
        incident_declare(
            actor=world.users["admin"],
            type_code="fire",
            title="火灾",
            area=Area(grid_codes=(world.a1_01.code,)),
        )
    assert caught.value.code == "unknown_type"


def _declare(world: World) -> Incident:
    return incident_declare(
        actor=world.users["county_leader"],
        type_code="typhoon",
        title="台风海葵",
        area=Area(region_codes=(world.county.town_a.code,)),
    )


def _finish(task: GridTask, user: Any, reached: int, help_: int, supplies: str = "") -> GridTask:
    return grid_task_report(
        actor=user,
        task=task,
        checked=[True] * len(task.checklist),
        households_reached=reached,
        people_need_help=help_,
        supplies_requested=supplies,
        mark="done",
    )


def test_board_counts_states_and_totals(world: World) -> None:
    incident = _declare(world)
    tasks = {t.grid_id: t for t in GridTask.objects.filter(incident=incident)}
    _finish(tasks[world.a1_01.pk], world.users["worker_a1"], 2, 1, "矿泉水 10 箱")
    grid_task_report(
        actor=world.users["worker_a1b"], task=tasks[world.a1_02.pk], households_reached=1, mark="in_progress"
    )
    board = incident_board(incident=incident)
    assert board.total == 3
    assert (
        board.counts["done"],
        board.counts["in_progress"],
        board.counts["open"],
        board.counts["overdue"],
    ) == (1, 1, 1, 0)
    assert (board.households, board.households_reached, board.people_need_help) == (4, 3, 1)
    assert board.supplies == [("上溪村第1网格", "矿泉水 10 箱")]
    # Three hours later the two unfinished tasks are overdue; the done one stays done.
    later = incident_board(incident=incident, now=timezone.now() + dt.timedelta(hours=3))
    assert (later.counts["done"], later.counts["overdue"]) == (1, 2)


def test_close_closes_open_tasks_and_writes_the_reports(world: World) -> None:
    incident = _declare(world)
    tasks = {t.grid_id: t for t in GridTask.objects.filter(incident=incident)}
    _finish(tasks[world.a1_01.pk], world.users["worker_a1"], 2, 1, "沙袋 50 个")
    closed = incident_close(actor=world.users["county_leader"], incident=incident, reason="台风已过境")
    assert closed.status == IncidentStatus.CLOSED and closed.closed_at is not None
    statuses = dict(GridTask.objects.filter(incident=incident).values_list("grid_id", "status"))
    assert statuses == {world.a1_01.pk: "done", world.a1_02.pk: "closed", world.a2_01.pk: "closed"}
    left = GridTask.objects.get(incident=incident, grid=world.a1_02)
    assert left.close_reason == "恢复常态:台风已过境"
    totals = closed.summary["totals"]
    assert totals["grids"] == 3 and totals["done"] == 1 and totals["not_done"] == 2
    assert totals["households_reached"] == 2 and totals["people_need_help"] == 1
    assert totals["households"] == 4 and totals["supplies_requests"] == 1
    assert "duration" in closed.summary and closed.summary["duration_minutes"] >= 0
    assert AuditEntry.objects.filter(action="emergency.task.close").count() == 2
    assert (
        AuditEntry.objects.filter(action="emergency.incident.close", object_id=str(incident.pk)).count() == 1
    )

    pdf = summary_pdf(incident=closed)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1500
    book = openpyxl.load_workbook(io.BytesIO(summary_xlsx(incident=closed)))
    assert book.sheetnames == ["总结", "各网格"]
    rows = list(book["各网格"].iter_rows(values_only=True))
    assert rows[0][2] == "网格" and len(rows) == 4
    by_grid = {r[2]: r for r in rows[1:]}
    assert by_grid["上溪村第1网格"][3] == "已完成" and by_grid["上溪村第1网格"][10] == "沙袋 50 个"
    assert by_grid["上溪村第2网格"][3] == "未完成(已关闭)"


def test_closed_incident_cannot_be_closed_again(world: World) -> None:
    incident = _declare(world)
    incident_close(actor=world.users["county_leader"], incident=incident, reason="解除")
    before = _snapshot()
    with pytest.raises(ServiceError) as caught:
        incident_close(actor=world.users["county_leader"], incident=incident, reason="再次")
    assert caught.value.code == "incident_closed" and caught.value.status == 409
    assert _snapshot() == before


def test_close_needs_a_reason_and_a_leader(world: World) -> None:
    incident = _declare(world)
    before = _snapshot()
    with pytest.raises(ServiceError):
        incident_close(actor=world.users["county_leader"], incident=incident, reason="  ")
    with pytest.raises(PermissionDenied):
        incident_close(actor=world.users["dispatcher"], incident=incident, reason="解除")
    assert _snapshot() == before

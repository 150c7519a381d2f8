"""Grid tasks: bulk creation for other apps, reporting by the grid's workers, access, bad reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.emergency.incidents import incident_declare
from shanzhi.emergency.models import GridTask, TaskStatus
from shanzhi.emergency.selectors import grid_task_get, grid_tasks_open
from shanzhi.emergency.tasks_services import GridTaskSpec, grid_task_create_many, grid_task_report
from shanzhi.emergency.tests.world_setup import World
from shanzhi.grid.areas import Area
from shanzhi.notify.models import Message

pytestmark = pytest.mark.django_db


def _task(world: World) -> GridTask:
    incident = incident_declare(
        actor=world.users["leader_a"],
        type_code="gas_leak",
        title="燃气泄漏",
        area=Area(grid_codes=(world.a1_01.code,)),
    )
    return GridTask.objects.get(incident=incident)


def _state(task: GridTask) -> tuple[Any, ...]:
    task.refresh_from_db()
    return (
        task.status,
        task.checked,
        task.households_reached,
        task.people_need_help,
        task.note,
        task.done_at,
    )


def test_create_many_for_warnings(world: World) -> None:
    due = timezone.now() + dt.timedelta(hours=4)
    specs = [
        GridTaskSpec(
            grid_id=world.a1_01.pk,
            title="上门告知独居老人",
            checklist=["上门告知", "确认安全"],
            due_at=due,
            kind="warning_visit",
            household_ids=[world.homes["a1_01_1"].pk],
        ),
        GridTaskSpec(
            grid_id=world.b1_01.pk, title="防御部署", checklist=["巡查"], due_at=due, kind="defence"
        ),
    ]
    before = AuditEntry.objects.count()
    tasks = grid_task_create_many(actor=None, tasks=specs)
    assert [t.kind for t in tasks] == ["warning_visit", "defence"]
    assert list(tasks[0].households.all()) == [world.homes["a1_01_1"]]
    assert tasks[0].incident is None and tasks[0].checked == [False, False]
    assert AuditEntry.objects.count() == before + 2
    assert (
        Message.objects.filter(object_type="emergency.gridtask", recipient=world.users["worker_b1"]).count()
        == 1
    )
    assert list(grid_tasks_open(user=world.users["worker_a1"])) == [tasks[0]]
    assert list(grid_tasks_open(user=world.users["worker_b1"])) == [tasks[1]]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"checklist": []}, "checklist_invalid"),
        ({"checklist": ["ok", ""]}, "checklist_invalid"),
        ({"title": ""}, "task_invalid"),
        ({"kind": "party"}, "task_invalid"),
        ({"due_at": dt.datetime(2030, 1, 1)}, "task_invalid"),  # naive
        ({"household_ids": [-1]}, "task_invalid"),
        ({"grid_id": 999999}, "not_found"),
    ],
)
def test_create_many_refuses_bad_specs_as_a_whole(world: World, change: dict[str, Any], code: str) -> None:
    good = GridTaskSpec(grid_id=world.a1_02.pk, title="好任务", checklist=["一"], due_at=timezone.now())
    bad_args: dict[str, Any] = {
        "grid_id": world.a1_01.pk,
        "title": "任务",
        "checklist": ["一"],
        "due_at": timezone.now(),
    }
    bad_args.update(change)
    before = (GridTask.objects.count(), Message.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ServiceError) as caught:
        grid_task_create_many(actor=None, tasks=[good, GridTaskSpec(**bad_args)])
    assert caught.value.code == code
    assert (GridTask.objects.count(), Message.objects.count(), AuditEntry.objects.count()) == before


def test_household_of_another_grid_is_refused(world: World) -> None:
    spec = GridTaskSpec(
        grid_id=world.a1_01.pk,
        title="任务",
        checklist=["一"],
        due_at=timezone.now(),
        household_ids=[world.homes["b1_01_1"].pk],
    )
    with pytest.raises(ServiceError):
        grid_task_create_many(actor=None, tasks=[spec])
    assert GridTask.objects.count() == 0


def test_create_many_rights(world: World) -> None:
    spec = GridTaskSpec(grid_id=world.b1_01.pk, title="任务", checklist=["一"], due_at=timezone.now())
    with pytest.raises(PermissionDenied):
        grid_task_create_many(actor=world.users["worker_b1"], tasks=[spec])
    with pytest.raises(NotFound):  # township A's leader cannot task township B's grid
        grid_task_create_many(actor=world.users["leader_a"], tasks=[spec])
    assert GridTask.objects.count() == 0


def test_worker_reports_progress_then_done(world: World) -> None:
    task = _task(world)
    worker = world.users["worker_a1"]
    n = len(task.checklist)
    task = grid_task_report(actor=worker, task=task, checked=[True] + [False] * (n - 1), households_reached=1)
    assert task.status == TaskStatus.IN_PROGRESS and task.started_at is not None
    with pytest.raises(ServiceError) as caught:
        grid_task_report(actor=worker, task=task, mark="done")
    assert caught.value.code == "checklist_incomplete"
    assert _state(task)[0] == TaskStatus.IN_PROGRESS
    task = grid_task_report(
        actor=worker,
        task=task,
        checked=[True] * n,
        households_reached=2,
        people_need_help=1,
        note="均已撤离",
        mark="done",
    )
    assert task.status == TaskStatus.DONE and task.done_by == worker and task.done_at is not None
    assert list(grid_tasks_open(user=worker)) == []
    actions = list(
        AuditEntry.objects.filter(object_id=str(task.pk), object_type="emergency.gridtask").values_list(
            "action", flat=True
        )
    )
    assert actions == ["emergency.task.create", "emergency.task.report", "emergency.task.done"]
    with pytest.raises(ServiceError) as caught:
        grid_task_report(actor=worker, task=task, note="再改")
    assert caught.value.status == 409


@pytest.mark.parametrize(
    "kwargs",
    [
        {"checked": [True]},
        {"checked": "yes"},
        {"households_reached": -1},
        {"households_reached": True},
        {"people_need_help": 10**9},
        {"note": "x" * 5000},
        {"mark": "closed"},
    ],
)
def test_bad_reports_change_nothing(world: World, kwargs: dict[str, Any]) -> None:
    task = _task(world)
    before = (_state(task), AuditEntry.objects.count())
    with pytest.raises(ServiceError):
        grid_task_report(actor=world.users["worker_a1"], task=task, **kwargs)
    assert (_state(task), AuditEntry.objects.count()) == before


@pytest.mark.parametrize("who", ["worker_a1b", "worker_b1", "leader_b", "supervisor"])
def test_others_get_404(world: World, who: str) -> None:
    task = _task(world)
    before = _state(task)
    with pytest.raises(NotFound):
        grid_task_get(user=world.users[who], pk=task.pk)
    with pytest.raises(NotFound):
        grid_task_report(actor=world.users[who], task=task, households_reached=3)
    assert _state(task) == before


@pytest.mark.parametrize("who", ["leader_a", "county_leader", "dispatcher", "admin"])
def test_superiors_may_act(world: World, who: str) -> None:
    task = _task(world)
    assert grid_task_get(user=world.users[who], pk=task.pk) == task
    grid_task_report(actor=world.users[who], task=task, households_reached=3)
    assert _state(task)[2] == 3


def test_household_links_table_is_the_one_written_directly() -> None:
    from shanzhi.emergency.tasks_services import LINK_TABLE

    assert GridTask.households.through._meta.db_table == LINK_TABLE

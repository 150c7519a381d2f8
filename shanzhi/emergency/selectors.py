"""Reads: incidents in the viewer's jurisdiction, a grid worker's open tasks, one task, the board."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from shanzhi.core.errors import NotFound
from shanzhi.core.models import Role
from shanzhi.core.selectors import get_in_jurisdiction, in_jurisdiction, staff_of
from shanzhi.emergency.models import OPEN_STATUSES, GridTask, Incident, IncidentType, TaskStatus
from shanzhi.emergency.tasks_services import check_task_access
from shanzhi.grid.models import GridWorker

# Who sees incidents and boards: those who command (leaders, admins) and those who watch.
INCIDENT_VIEW_ROLES = frozenset({Role.LEADER, Role.ADMIN, Role.SUPERVISOR, Role.DISPATCHER})
INCIDENT_DECLARE_ROLES = frozenset({Role.LEADER, Role.ADMIN})


def incident_types(*, active_only: bool = True) -> QuerySet[IncidentType]:
    qs = IncidentType.objects.all()
    return qs.filter(active=True) if active_only else qs


def incident_list(*, user: Any, status: str = "") -> QuerySet[Incident]:
    qs = in_jurisdiction(Incident.objects.select_related("type", "region"), user=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "-id")


def incident_get(*, user: Any, pk: int) -> Incident:
    """One incident in the viewer's jurisdiction; another township's is a 404."""
    return get_in_jurisdiction(Incident.objects.select_related("type", "region"), user=user, pk=pk)


def grid_tasks_open(*, user: Any) -> QuerySet[GridTask]:
    """A grid worker's open tasks (the grids they serve), soonest due first."""
    staff = staff_of(user=user)
    if staff is None:
        return GridTask.objects.none()
    grids = GridWorker.objects.filter(staff=staff).values("grid_id")
    return (
        GridTask.objects.filter(grid_id__in=grids, status__in=OPEN_STATUSES)
        .select_related("grid", "incident")
        .order_by("due_at", "id")
    )


def grid_task_get(*, user: Any, pk: int) -> GridTask:
    """One task the user may act on (their grid's, or under their command); otherwise a 404."""
    task = GridTask.objects.select_related("grid__village__parent", "incident__type").filter(pk=pk).first()
    if task is None:
        raise NotFound("任务不存在或不是您网格的任务")
    check_task_access(user=user, task=task)
    return task


# --- the board ----------------------------------------------------------------------------------


def task_state_label(task: GridTask, *, now: dt.datetime) -> str:
    """done / in_progress / open / overdue / closed: overdue = past due and not done."""
    if task.status in OPEN_STATUSES and task.due_at < now:
        return "overdue"
    return str(task.status)


STATE_LABELS = {
    "done": "已完成",
    "in_progress": "处理中",
    "open": "待处理",
    "overdue": "已超时",
    "closed": "已关闭",
}


@dataclass
class BoardRow:
    task: GridTask
    state: str
    households: int

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def checked_count(self) -> int:
        return sum(1 for c in self.task.checked if c)


@dataclass
class Board:
    rows: list[BoardRow]
    at: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)
    households: int = 0
    households_reached: int = 0
    people_need_help: int = 0
    supplies: list[tuple[str, str]] = field(default_factory=list)  # (grid name, request)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def done_percent(self) -> int:
        return round(100 * self.counts.get("done", 0) / self.total) if self.rows else 0


def incident_board(*, incident: Incident, now: dt.datetime | None = None) -> Board:
    """Per grid: its task's state, households reached, people needing help, supplies requested."""
    now = now or timezone.now()
    tasks = (
        GridTask.objects.filter(incident=incident)
        .select_related("grid__village__parent")
        .annotate(household_total=Count("households"))
        .order_by("grid__code", "id")
    )
    board = Board(rows=[], at=now, counts=dict.fromkeys(STATE_LABELS, 0))
    for task in tasks:
        state = task_state_label(task, now=now)
        households = int(getattr(task, "household_total", 0))
        board.rows.append(BoardRow(task=task, state=state, households=households))
        board.counts[state] += 1
        board.households += households
        board.households_reached += task.households_reached
        board.people_need_help += task.people_need_help
        if task.supplies_requested:
            board.supplies.append((task.grid.name, task.supplies_requested))
    return board


def task_status_values() -> list[str]:
    return list(TaskStatus.values)

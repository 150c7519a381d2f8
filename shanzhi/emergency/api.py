"""Emergency API at /api/v1/emergency: incidents (list, declare, get, close) and reporting on a
grid task. Refusals come back as {code, message}; another township's records are 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from shanzhi.core.errors import PermissionDenied
from shanzhi.core.selectors import has_role
from shanzhi.emergency import selectors
from shanzhi.emergency.area_input import area_from_input
from shanzhi.emergency.incidents import incident_close, incident_declare
from shanzhi.emergency.models import GridTask, Incident
from shanzhi.emergency.tasks_services import grid_task_report

router = Router(tags=["emergency"])


class CircleIn(Schema):
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    radius_m: float = Field(allow_inf_nan=False, description="半径(米),必须大于 0")


class DeclareIn(Schema):
    type_code: str = Field(max_length=32)
    title: str = Field(max_length=128)
    note: str = Field("", max_length=2000)
    started_at: dt.datetime | None = None
    area_kind: Literal["polygon", "geojson", "circle", "grids"]
    grid_codes: list[str] = Field(default_factory=list, max_length=500)
    region_codes: list[str] = Field(default_factory=list, max_length=500)
    polygon: list[list[float]] | None = Field(None, description="[[经度, 纬度], …],首尾相同或自动闭合")
    circle: CircleIn | None = None
    geojson: dict[str, Any] | None = None


class CloseIn(Schema):
    reason: str = Field(max_length=255)


class TaskReportIn(Schema):
    checked: list[bool] | None = None
    households_reached: int | None = Field(None, ge=0)
    people_need_help: int | None = Field(None, ge=0)
    supplies_requested: str | None = Field(None, max_length=2000)
    note: str | None = Field(None, max_length=2000)
    mark: Literal["", "in_progress", "done"] = ""


class BoardRowOut(Schema):
    task_id: int
    grid_code: str
    grid: str
    village: str
    state: str
    due_at: dt.datetime
    households: int
    households_reached: int
    people_need_help: int
    supplies_requested: str


class IncidentOut(Schema):
    id: int
    number: str
    type: str
    title: str
    status: str
    region: str
    area_kind: str
    grid_count: int
    household_count: int
    care_household_count: int
    started_at: dt.datetime
    closed_at: dt.datetime | None
    close_reason: str


class IncidentDetailOut(IncidentOut):
    area: dict[str, Any]
    counts: dict[str, int]
    households_reached: int
    people_need_help: int
    grids: list[BoardRowOut]
    summary: dict[str, Any]


class TaskOut(Schema):
    id: int
    grid_code: str
    kind: str
    title: str
    checklist: list[str]
    checked: list[bool]
    incident_id: int | None
    due_at: dt.datetime
    status: str
    households_reached: int
    people_need_help: int
    supplies_requested: str
    note: str
    done_at: dt.datetime | None


def _incident(i: Incident) -> dict[str, Any]:
    return {
        "id": i.pk,
        "number": i.number or "",
        "type": i.type.code,
        "title": i.title,
        "status": i.status,
        "region": i.region.code,
        "area_kind": i.area_kind,
        "grid_count": i.grid_count,
        "household_count": i.household_count,
        "care_household_count": i.care_household_count,
        "started_at": i.started_at,
        "closed_at": i.closed_at,
        "close_reason": i.close_reason,
    }


def _detail(i: Incident) -> dict[str, Any]:
    board = selectors.incident_board(incident=i)
    return {
        **_incident(i),
        "area": i.area,
        "counts": board.counts,
        "households_reached": board.households_reached,
        "people_need_help": board.people_need_help,
        "grids": [
            {
                "task_id": r.task.pk,
                "grid_code": r.task.grid.code,
                "grid": r.task.grid.name,
                "village": r.task.grid.village.name,
                "state": r.state,
                "due_at": r.task.due_at,
                "households": r.households,
                "households_reached": r.task.households_reached,
                "people_need_help": r.task.people_need_help,
                "supplies_requested": r.task.supplies_requested,
            }
            for r in board.rows
        ],
        "summary": i.summary,
    }


def _task(t: GridTask) -> dict[str, Any]:
    return {
        "id": t.pk,
        "grid_code": t.grid.code,
        "kind": t.kind,
        "title": t.title,
        "checklist": t.checklist,
        "checked": t.checked,
        "incident_id": t.incident_id,
        "due_at": t.due_at,
        "status": t.status,
        "households_reached": t.households_reached,
        "people_need_help": t.people_need_help,
        "supplies_requested": t.supplies_requested,
        "note": t.note,
        "done_at": t.done_at,
    }


def _require_view(request: HttpRequest) -> None:
    if not has_role(user=request.user, roles=selectors.INCIDENT_VIEW_ROLES):
        raise PermissionDenied("应急指挥仅对领导、督查、调度和管理员开放")


@router.get("/incidents", response=list[IncidentOut], url_name="emergency_incidents", summary="应急事件列表")
def incidents(request: HttpRequest, status: Literal["", "active", "closed"] = "") -> list[dict[str, Any]]:
    _require_view(request)
    return [_incident(i) for i in selectors.incident_list(user=request.user, status=status)[:500]]


@router.post(
    "/incidents", response={201: IncidentDetailOut}, url_name="emergency_declare", summary="启动应急事件"
)
def declare(request: HttpRequest, payload: DeclareIn) -> Status[IncidentDetailOut]:
    data: dict[str, Any] = {
        "targets": [f"g:{c}" for c in payload.grid_codes] + [f"r:{c}" for c in payload.region_codes],
        "polygon": payload.polygon if payload.polygon is not None else "",
        "geojson": payload.geojson,
    }
    if payload.circle is not None:
        data.update(lon=payload.circle.lon, lat=payload.circle.lat, radius_m=payload.circle.radius_m)
    area = area_from_input(kind=payload.area_kind, data=data)
    started = payload.started_at
    if started is not None and timezone.is_naive(started):
        started = timezone.make_aware(started)
    incident = incident_declare(
        actor=request.user,
        type_code=payload.type_code,
        title=payload.title,
        area=area,
        started_at=started,
        note=payload.note,
        area_kind=payload.area_kind,
    )
    return Status(201, IncidentDetailOut(**_detail(incident)))


@router.get(
    "/incidents/{pk}", response=IncidentDetailOut, url_name="emergency_incident", summary="应急事件与看板"
)
def incident(request: HttpRequest, pk: int) -> dict[str, Any]:
    _require_view(request)
    return _detail(selectors.incident_get(user=request.user, pk=pk))


@router.post(
    "/incidents/{pk}/close", response=IncidentDetailOut, url_name="emergency_close", summary="恢复常态"
)
def close(request: HttpRequest, pk: int, payload: CloseIn) -> dict[str, Any]:
    _require_view(request)
    found = selectors.incident_get(user=request.user, pk=pk)
    return _detail(incident_close(actor=request.user, incident=found, reason=payload.reason))


@router.get("/tasks", response=list[TaskOut], url_name="emergency_tasks", summary="我的待办应急任务")
def my_tasks(request: HttpRequest) -> list[dict[str, Any]]:
    return [_task(t) for t in selectors.grid_tasks_open(user=request.user)[:200]]


@router.get("/tasks/{pk}", response=TaskOut, url_name="emergency_task", summary="网格任务")
def task(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _task(selectors.grid_task_get(user=request.user, pk=pk))


@router.post("/tasks/{pk}", response=TaskOut, url_name="emergency_task_report", summary="上报网格任务")
def report(request: HttpRequest, pk: int, payload: TaskReportIn) -> dict[str, Any]:
    found = selectors.grid_task_get(user=request.user, pk=pk)
    updated = grid_task_report(
        actor=request.user,
        task=found,
        checked=payload.checked,
        households_reached=payload.households_reached,
        people_need_help=payload.people_need_help,
        supplies_requested=payload.supplies_requested,
        note=payload.note,
        mark=payload.mark,
    )
    return _task(updated)

"""Writes to incidents: edit incident types, declare an incident over an area, return to normal.

Declaring resolves the area to grids and households (shanzhi.grid.areas), creates one task per
affected grid from the type's checklist and notifies each grid's workers and leaders, all in one
transaction. Closing closes the tasks still open and freezes a summary that the PDF and Excel
reports are rendered from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.core import workcal
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Region, Role
from shanzhi.core.selectors import has_role, jurisdiction_root
from shanzhi.emergency.models import (
    AreaKind,
    ClockUnit,
    GridTask,
    Incident,
    IncidentStatus,
    IncidentType,
    TaskKind,
    TaskStatus,
)
from shanzhi.emergency.selectors import INCIDENT_DECLARE_ROLES, incident_board
from shanzhi.emergency.tasks_services import GridTaskSpec, grid_task_create_many, grid_tasks_close
from shanzhi.grid.areas import Area, area_resolve
from shanzhi.grid.models import Grid, Household

TYPE_ADMIN_ROLES = frozenset({Role.ADMIN})
MAX_TITLE = 128
MAX_NOTE = 2000
MAX_TASK_HOURS = 720
# A declaration may be back-dated (entered after the fact) or prepared a little ahead.
BACKDATE_LIMIT = dt.timedelta(days=7)
AHEAD_LIMIT = dt.timedelta(days=2)
_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")

DEFAULT_NOTIFY = (
    "【应急】{title}:请于 {due} 前完成本网格处置任务({grid},涉及 {households} 户),完成后在网格通上报。"
)


# --- incident types -----------------------------------------------------------------------------


def incident_type_state(t: IncidentType) -> dict[str, Any]:
    return {
        "code": t.code,
        "name": t.name,
        "checklist": list(t.checklist),
        "task_hours": t.task_hours,
        "clock": t.clock,
        "notify_text": t.notify_text,
        "active": t.active,
    }


def clean_checklist(items: Any) -> list[str]:
    """An ordered list of distinct, non-empty items (a type needs at least one)."""
    if isinstance(items, str):
        items = items.splitlines()
    if not isinstance(items, list):
        raise ServiceError("type_invalid", "处置清单应为逐项列出的文字")
    cleaned = [str(i).strip() for i in items if isinstance(i, str) and i.strip()]
    if len(cleaned) != len([i for i in items if not (isinstance(i, str) and not i.strip())]):
        raise ServiceError("type_invalid", "处置清单的每一项都应是文字")
    if not cleaned:
        raise ServiceError("type_invalid", "处置清单至少要有一项")
    if len(cleaned) > 50 or any(len(i) > 200 for i in cleaned):
        raise ServiceError("type_invalid", "处置清单最多 50 项,每项不超过 200 字")
    return list(dict.fromkeys(cleaned))


@transaction.atomic
def incident_type_save(
    *,
    actor: Any,
    code: str,
    name: str,
    checklist: Any,
    task_hours: int = 2,
    clock: str = ClockUnit.NATURAL_HOURS,
    notify_text: str = "",
    active: bool = True,
) -> IncidentType:
    """Create or update the type with this code (back office; administrators only)."""
    if actor is not None and not has_role(user=actor, roles=TYPE_ADMIN_ROLES):
        raise PermissionDenied("只有系统管理员可以维护事件类型")
    if not isinstance(code, str) or not _CODE.match(code):
        raise ServiceError("type_invalid", "代码应为 2–32 位小写字母、数字、下划线或连字符,以字母开头")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise ServiceError("type_invalid", "名称不能为空,且不超过 64 字")
    if (
        isinstance(task_hours, bool)
        or not isinstance(task_hours, int)
        or not 1 <= task_hours <= MAX_TASK_HOURS
    ):
        raise ServiceError("type_invalid", f"任务时限应为 1 到 {MAX_TASK_HOURS} 小时")
    if clock not in ClockUnit.values:
        raise ServiceError("type_invalid", "计时方式只能是自然小时或工作小时")
    if not isinstance(notify_text, str) or len(notify_text) > 500:
        raise ServiceError("type_invalid", "通知文字不超过 500 字")
    items = clean_checklist(checklist)
    row = IncidentType.objects.select_for_update().filter(code=code).first() or IncidentType(code=code)
    action = "emergency.type.update" if row.pk else "emergency.type.create"
    row.name = name.strip()
    row.checklist = items
    row.task_hours = task_hours
    row.clock = clock
    row.notify_text = notify_text.strip()
    row.active = bool(active)
    row.save()
    audit_append(actor=actor, action=action, obj=row, state=incident_type_state(row))
    return row


# --- declaring ----------------------------------------------------------------------------------


def incident_state(incident: Incident) -> dict[str, Any]:
    return {
        "number": incident.number,
        "type": incident.type.code,
        "title": incident.title,
        "status": incident.status,
        "region": incident.region.code,
        "area_kind": incident.area_kind,
        "area": incident.area,
        "grids": incident.grid_count,
        "households": incident.household_count,
        "started_at": incident.started_at,
        "closed_at": incident.closed_at,
        "close_reason": incident.close_reason,
        "summary": incident.summary,
    }


def _area_kind(area: Area, given: str) -> str:
    if given:
        if given not in AreaKind.values:
            raise ServiceError("area_invalid", f"未知的范围方式:{given[:20]}", status=422)
        return given
    if area.polygons:
        return AreaKind.POLYGON
    if area.circles:
        return AreaKind.CIRCLE
    return AreaKind.GRIDS


def _check_codes_in_jurisdiction(*, actor: Any, area: Area) -> None:
    """Named grids and regions must lie in the actor's jurisdiction (else they read as unknown)."""
    if actor is None or not (area.grid_codes or area.region_codes):
        return
    root = jurisdiction_root(user=actor)
    path = root.path if root else "\x00"
    outside = [
        code
        for code, village_path in Grid.objects.filter(code__in=area.grid_codes).values_list(
            "code", "village__path"
        )
        if not village_path.startswith(path)
    ]
    outside += [
        r.code for r in Region.objects.filter(code__in=area.region_codes) if not r.path.startswith(path)
    ]
    if outside:
        raise ServiceError(
            "area_invalid",
            f"不在您管辖范围内的网格或区域:{'、'.join(outside[:10])}",
            details=outside[:50],
            status=422,
        )


def _common_region(paths: list[str]) -> Region:
    """The smallest region whose subtree holds every path (village paths of the affected grids)."""
    first = paths[0].rstrip("/").split("/")
    common = len(first)
    for path in paths[1:]:
        parts = path.rstrip("/").split("/")
        n = 0
        while n < min(common, len(parts)) and parts[n] == first[n]:
            n += 1
        common = n
    code = first[max(common, 1) - 1]
    return Region.objects.get(code=code)


def _started(value: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if value is None:
        return now
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise ServiceError("incident_invalid", "开始时间必须是带时区的时间", status=422)
    if value < now - BACKDATE_LIMIT or value > now + AHEAD_LIMIT:
        raise ServiceError("incident_invalid", "开始时间只能在过去 7 天到未来 2 天之间", status=422)
    return value


@transaction.atomic
def incident_declare(
    *,
    actor: Any,
    type_code: str,
    title: str,
    area: Area,
    started_at: dt.datetime | None = None,
    note: str = "",
    area_kind: str = "",
) -> Incident:
    """Declare an incident: one task per affected grid (due = start + the type's hours), the
    grid's households attached, its workers and leaders notified. Leaders and administrators
    only, over grids in their own jurisdiction."""
    if actor is None or not has_role(user=actor, roles=INCIDENT_DECLARE_ROLES):
        raise PermissionDenied("只有领导或系统管理员可以启动应急事件")
    kind = _area_kind(area, area_kind)
    incident_type = (
        IncidentType.objects.filter(code=type_code, active=True).first()
        if isinstance(type_code, str)
        else None
    )
    if incident_type is None:
        raise ServiceError("unknown_type", f"未知或已停用的事件类型:{str(type_code)[:32]}", status=422)
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise ServiceError("incident_invalid", f"标题不能为空,且不超过 {MAX_TITLE} 字", status=422)
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ServiceError("incident_invalid", f"说明不超过 {MAX_NOTE} 字", status=422)
    if "\x00" in title or "\x00" in note:  # PostgreSQL cannot store it (a 500); SQLite kept it
        raise ServiceError("invalid_character", "标题或说明含有空字符(NUL),请删除后重试", status=422)
    start = _started(started_at)
    _check_codes_in_jurisdiction(actor=actor, area=area)
    targets = area_resolve(area=area, user=actor)

    # Households by affected grid, not by one IN list of every id (slow to bind for a whole
    # town on PostgreSQL); a reached household filed under another grid is looked up after.
    reached = set(targets.household_ids)
    by_grid: dict[int, list[int]] = defaultdict(list)
    care: set[int] = set()
    flags = Household.CARE_FLAGS
    rows = list(Household.objects.filter(grid_id__in=targets.grid_ids).values_list("pk", "grid_id", *flags))
    leftover = reached - {row[0] for row in rows}
    if leftover:
        rows += list(Household.objects.filter(pk__in=leftover).values_list("pk", "grid_id", *flags))
    for hid, grid_id, *care_flags in rows:
        if hid in reached:
            by_grid[grid_id].append(hid)
            if any(care_flags):
                care.add(hid)
    grid_ids = sorted(set(targets.grid_ids) | set(by_grid))
    root = jurisdiction_root(user=actor)
    grids = list(
        Grid.objects.filter(
            pk__in=grid_ids, active=True, village__path__startswith=root.path if root else "\x00"
        )
        .select_related("village")
        .order_by("code")
    )
    if not grids:
        raise ServiceError("area_empty", "所选范围内没有您管辖的网格,未启动事件", status=422)

    incident = Incident.objects.create(
        type=incident_type,
        title=title.strip(),
        note=note.strip(),
        region=_common_region([g.village.path for g in grids]),
        area_kind=kind,
        area=area.geojson(),
        grid_count=len(grids),
        household_count=sum(len(by_grid[g.pk]) for g in grids),
        care_household_count=sum(1 for g in grids for hid in by_grid[g.pk] if hid in care),
        started_at=start,
        declared_by=actor,
    )
    incident.number = f"YJ{timezone.localtime(start):%Y%m%d}{incident.pk:04d}"
    incident.save(update_fields=["number"])

    unit: workcal.Unit = (
        "working_hours" if incident_type.clock == ClockUnit.WORKING_HOURS else "natural_hours"
    )
    due = workcal.deadline_for(start=start, amount=incident_type.task_hours, unit=unit)
    specs = [
        GridTaskSpec(
            grid_id=g.pk,
            title=f"{incident_type.name}:{incident.title}",
            checklist=list(incident_type.checklist),
            due_at=due,
            kind=TaskKind.INCIDENT,
            incident_id=incident.pk,
            household_ids=by_grid[g.pk],
        )
        for g in grids
    ]
    grid_task_create_many(actor=actor, tasks=specs, notify_text=incident_type.notify_text or DEFAULT_NOTIFY)
    audit_append(
        actor=actor, action="emergency.incident.declare", obj=incident, state=incident_state(incident)
    )
    return incident


# --- back to normal -----------------------------------------------------------------------------


def _duration_text(delta: dt.timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return (f"{days} 天 " if days else "") + f"{hours} 小时 {mins} 分"


def incident_summary(*, incident: Incident, now: dt.datetime, closing: bool = False) -> dict[str, Any]:
    """Counts per grid and in total, as they stand at `now` (frozen into the incident at close)."""
    board = incident_board(incident=incident, now=now)
    grids = []
    overdue = 0
    for row in board.rows:
        t = row.task
        late = (t.done_at is not None and t.done_at > t.due_at) or (t.done_at is None and t.due_at < now)
        overdue += late
        grids.append(
            {
                "grid_code": t.grid.code,
                "grid": t.grid.name,
                "village": t.grid.village.name,
                "township": t.grid.village.parent.name if t.grid.village.parent else "",
                "state": row.state,
                # At close every unfinished task is closed; the state says how far it had got.
                "status": TaskStatus.CLOSED if t.is_open and closing else t.status,
                "households": row.households,
                "households_reached": t.households_reached,
                "people_need_help": t.people_need_help,
                "supplies_requested": t.supplies_requested,
                "note": t.note,
                "checked": sum(1 for c in t.checked if c),
                "checklist": len(t.checklist),
                "due_at": timezone.localtime(t.due_at).isoformat(),
                "done_at": timezone.localtime(t.done_at).isoformat() if t.done_at else None,
                "overdue": bool(late),
            }
        )
    done = sum(1 for g in grids if g["status"] == TaskStatus.DONE)
    return {
        "number": incident.number,
        "type": incident.type.name,
        "title": incident.title,
        "region": incident.region.name,
        "started_at": timezone.localtime(incident.started_at).isoformat(),
        "closed_at": timezone.localtime(now).isoformat(),
        "duration_minutes": max(int((now - incident.started_at).total_seconds() // 60), 0),
        "duration": _duration_text(now - incident.started_at),
        "totals": {
            "grids": len(grids),
            "done": done,
            "not_done": len(grids) - done,
            "overdue": overdue,
            "households": incident.household_count,
            "care_households": incident.care_household_count,
            "households_reached": board.households_reached,
            "people_need_help": board.people_need_help,
            "supplies_requests": len(board.supplies),
        },
        "grids": grids,
    }


@transaction.atomic
def incident_close(*, actor: Any, incident: Incident, reason: str) -> Incident:
    """Back to normal: close the open tasks with `reason`, freeze the summary. A closed incident
    cannot be closed again (409)."""
    if actor is None or not has_role(user=actor, roles=INCIDENT_DECLARE_ROLES):
        raise PermissionDenied("只有领导或系统管理员可以宣布恢复常态")
    incident = (
        Incident.objects.select_for_update(of=("self",)).select_related("type", "region").get(pk=incident.pk)
    )
    root = jurisdiction_root(user=actor)
    if root is None or not incident.region.path.startswith(root.path):
        raise NotFound()
    if incident.status == IncidentStatus.CLOSED:
        raise ServiceError("incident_closed", "该事件已恢复常态,不能重复关闭", status=409)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 255:
        raise ServiceError("incident_invalid", "请填写恢复常态的说明(不超过 255 字)", status=422)
    if "\x00" in reason:
        raise ServiceError("invalid_character", "说明含有空字符(NUL),请删除后重试", status=422)
    # Lock every task (in id order, as reports lock one) so no report lands between the
    # summary and the closing; then summarise: what was late or unfinished is the report.
    list(
        GridTask.objects.select_for_update()
        .filter(incident=incident)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    summary = incident_summary(incident=incident, now=now, closing=True)
    grid_tasks_close(
        actor=actor, tasks=GridTask.objects.filter(incident=incident), reason=f"恢复常态:{reason.strip()}"
    )
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = now
    incident.closed_by = actor
    incident.close_reason = reason.strip()
    incident.summary = summary
    incident.save()
    audit_append(actor=actor, action="emergency.incident.close", obj=incident, state=incident_state(incident))
    return incident

"""Writes to grid tasks: create them in bulk (incidents, warnings), report on one, close the rest.

A task belongs to one grid; its grid workers report on it, and their superiors (leaders,
dispatchers, administrators whose jurisdiction covers the grid) may too. Everyone else gets a 404.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from shanzhi.audit.services import audit_append, audit_append_many
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Role, Staff
from shanzhi.core.selectors import has_role, jurisdiction_root, staff_of
from shanzhi.emergency.models import OPEN_STATUSES, GridTask, TaskKind, TaskStatus
from shanzhi.grid.models import Grid, GridWorker, Household
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.outbox_insert import pg_copy
from shanzhi.notify.services import Outgoing, Recipient, message_queue_batch

# Who may hand out tasks, and who above the grid may act on one.
TASK_CREATE_ROLES = frozenset({Role.LEADER, Role.ADMIN, Role.DISPATCHER})
TASK_SUPERIOR_ROLES = frozenset({Role.LEADER, Role.ADMIN, Role.DISPATCHER})
MAX_TASKS = 5000
MAX_CHECKLIST = 50
MAX_ITEM = 200
MAX_TEXT = 2000
MAX_COUNT = 1_000_000

DEFAULT_NOTIFY = "【{kind}】{title}:请于 {due} 前完成({grid},涉及 {households} 户)。"


@dataclass
class GridTaskSpec:
    """One task to create: which grid, what to do, by when, and which households it covers."""

    grid_id: int
    title: str
    checklist: list[str]
    due_at: dt.datetime
    kind: str = TaskKind.INCIDENT
    incident_id: int | None = None
    household_ids: list[int] = field(default_factory=list)


def task_state(task: GridTask) -> dict[str, Any]:
    """What the audit digest covers."""
    return {
        "grid": task.grid_id,
        "kind": task.kind,
        "title": task.title,
        "checklist": list(task.checklist),
        "checked": list(task.checked),
        "incident": task.incident_id,
        "due_at": task.due_at,
        "status": task.status,
        "households_reached": task.households_reached,
        "people_need_help": task.people_need_help,
        "supplies_requested": task.supplies_requested,
        "note": task.note,
        "done_at": task.done_at,
        "done_by": task.done_by_id,
        "close_reason": task.close_reason,
    }


def _clean_checklist(items: Any) -> list[str]:
    if not isinstance(items, list) or not items:
        raise ServiceError("checklist_invalid", "任务清单至少要有一项")
    if len(items) > MAX_CHECKLIST:
        raise ServiceError("checklist_invalid", f"任务清单最多 {MAX_CHECKLIST} 项")
    cleaned = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ServiceError("checklist_invalid", "任务清单的每一项都应是非空文字")
        if len(item) > MAX_ITEM:
            raise ServiceError("checklist_invalid", f"任务清单的每一项不超过 {MAX_ITEM} 字")
        cleaned.append(item.strip())
    return cleaned


def _check_spec(spec: GridTaskSpec) -> None:
    if not isinstance(spec.title, str) or not spec.title.strip() or len(spec.title) > 160:
        raise ServiceError("task_invalid", "任务名称不能为空,且不超过 160 字")
    if spec.kind not in TaskKind.values:
        raise ServiceError("task_invalid", f"未知的任务类别:{spec.kind}")
    if not isinstance(spec.due_at, dt.datetime) or timezone.is_naive(spec.due_at):
        raise ServiceError("task_invalid", "任务时限必须是带时区的时间")


def _cadres(villages: set[int], townships: set[int]) -> dict[int, list[Staff]]:
    """Leaders of each village and township (region id → staff), who hear about their grids' tasks."""
    by_region: dict[int, list[Staff]] = defaultdict(list)
    rows = (
        Staff.objects.filter(region_id__in=villages | townships, roles__role=Role.LEADER)
        .select_related("user")
        .distinct()
    )
    for staff in rows:
        by_region[staff.region_id].append(staff)
    return by_region


def _notify(
    tasks: list[GridTask],
    grids: dict[int, Grid],
    *,
    templates: Mapping[str, str],
    counts: dict[int, int],
    about: models.Model | None = None,
) -> int:
    """One in-app message (and one SMS where a phone exists) per person — each grid's workers and
    its village's and township's leaders — summarising every task of this batch that concerns
    them: a township leader over 60 grids hears once, not 60 times. `templates` words each kind
    of task (kind → template); one message covers all kinds. Returns how many people."""
    workers: dict[int, list[Staff]] = defaultdict(list)
    for member in GridWorker.objects.filter(grid_id__in=grids).select_related("staff__user"):
        workers[member.grid_id].append(member.staff)
    villages = {g.village_id for g in grids.values()}
    townships = {g.village.parent_id for g in grids.values() if g.village.parent_id}
    cadres = _cadres(villages, townships)
    people: dict[int, Staff] = {}
    theirs: dict[int, list[GridTask]] = defaultdict(list)
    for task in tasks:
        grid = grids[task.grid_id]
        concerned = [
            *workers[grid.pk],
            *cadres[grid.village_id],
            *cadres.get(grid.village.parent_id or 0, []),
        ]
        for staff in {s.pk: s for s in concerned}.values():
            people.setdefault(staff.pk, staff)
            theirs[staff.pk].append(task)
    if about is None:
        incidents = {t.incident_id for t in tasks}
        if len(incidents) == 1 and None not in incidents:
            about = tasks[0].incident
    in_app: list[Outgoing] = []
    sms: list[Outgoing] = []
    for staff_pk, staff in people.items():
        mine = theirs[staff_pk]
        by_kind: dict[str, list[GridTask]] = defaultdict(list)
        for task in mine:
            by_kind[task.kind].append(task)
        body = "".join(
            _summary(templates.get(kind, DEFAULT_NOTIFY), group, grids, counts)
            for kind, group in by_kind.items()
        )
        if len(mine) > 1:
            body += f"(共 {len(mine)} 项任务,见网格通“今日任务”)"
        obj = mine[0] if len(mine) == 1 or about is None else about
        in_app.append(Outgoing(recipient=Recipient(user=staff.user), body=body, obj=obj))
        if staff.phone:
            sms.append(Outgoing(recipient=Recipient(phone=staff.phone), body=body, obj=obj))
    message_queue_batch(channel=MessageChannel.IN_APP, kind="emergency.task", messages=in_app)
    message_queue_batch(channel=MessageChannel.SMS, kind="emergency.task", messages=sms)
    return len(people)


SUMMARY_GRIDS = 3  # grid names spelled out in a summary; the rest are counted


def _summary(template: str, mine: list[GridTask], grids: dict[int, Grid], counts: dict[int, int]) -> str:
    """The template filled for one task, or for several: the grids named (up to three, then a
    count), the households added up, the earliest deadline."""
    first = mine[0]
    names = [grids[t.grid_id].name for t in mine]
    grid = "、".join(names[:SUMMARY_GRIDS]) + (
        f" 等 {len(names)} 个网格" if len(names) > SUMMARY_GRIDS else ""
    )
    titles = {t.title for t in mine}
    return _fill(
        template,
        kind=TaskKind(first.kind).label,
        title=first.title if len(titles) == 1 else f"{first.title} 等",
        grid=grid,
        due=timezone.localtime(min(t.due_at for t in mine)).strftime("%m-%d %H:%M"),
        households=sum(counts.get(t.pk, 0) for t in mine),
    )


def _fill(template: str, **values: Any) -> str:
    # Plain replacement: an edited template can only print the values given here.
    text = template
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


# The M2M table Django made for GridTask.households (its default name; a test checks it).
LINK_TABLE = "emergency_gridtask_households"
LINK_VALUES_SQL = "INSERT INTO emergency_gridtask_households (gridtask_id, household_id) VALUES "
LINK_CHUNK = 1000  # rows per statement on SQLite: 2,000 parameters, under its limit


def _link_households(created: list[GridTask], tasks: list[GridTaskSpec]) -> None:
    """The M2M rows without a model instance or a round trip per row: an incident over a town
    links tens of thousands of households. PostgreSQL takes the pairs by COPY."""
    pairs = [
        (task.pk, list(dict.fromkeys(spec.household_ids))) for task, spec in zip(created, tasks, strict=True)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            pairs_iter = ((task_id, hid) for task_id, ids in pairs for hid in ids)
            pg_copy(cursor, table=LINK_TABLE, columns=["gridtask_id", "household_id"], rows=pairs_iter)
            return
        rows = [(task_id, hid) for task_id, ids in pairs for hid in ids]
        for start in range(0, len(rows), LINK_CHUNK):
            chunk = rows[start : start + LINK_CHUNK]
            cursor.execute(
                LINK_VALUES_SQL + ", ".join(["(%s, %s)"] * len(chunk)),
                [v for row in chunk for v in row],
            )


@transaction.atomic
def grid_task_create_many(
    *,
    actor: Any,
    tasks: list[GridTaskSpec],
    notify_text: str | Mapping[str, str] = "",
    about: models.Model | None = None,
) -> list[GridTask]:
    """Create the tasks, attach their households, notify each grid's workers and leaders, and
    write one audit entry per task. `actor` None is the system (e.g. a warning's targeting).
    Each person hears once for the whole batch; a summary of several tasks is about `about`
    (the warning, say), or their incident when they share one. `notify_text` is one template
    for every task, or one per task kind."""
    if actor is not None and not has_role(user=actor, roles=TASK_CREATE_ROLES):
        raise PermissionDenied("只有领导、调度员或管理员可以下发网格任务")
    if len(tasks) > MAX_TASKS:
        raise ServiceError("task_invalid", f"一次最多下发 {MAX_TASKS} 个任务")
    if not tasks:
        return []
    for spec in tasks:
        _check_spec(spec)
    checklists = [_clean_checklist(spec.checklist) for spec in tasks]
    grid_qs = Grid.objects.filter(pk__in={s.grid_id for s in tasks}, active=True).select_related("village")
    if actor is not None:
        root = jurisdiction_root(user=actor)
        grid_qs = grid_qs.filter(village__path__startswith=root.path) if root else grid_qs.none()
    grids = {g.pk: g for g in grid_qs}
    missing = sorted({s.grid_id for s in tasks} - set(grids))
    if missing:
        raise NotFound(f"网格 {missing[0]} 不存在、已停用或不在您的管辖范围内")
    # By grid, not by a long IN list of ids (slow to bind on PostgreSQL for a whole town).
    with_households = {s.grid_id for s in tasks if s.household_ids}
    home = dict(
        Household.objects.filter(grid_id__in=with_households, active=True).values_list("pk", "grid_id")
    )
    for spec in tasks:
        stray = [hid for hid in spec.household_ids if home.get(hid) != spec.grid_id]
        if stray:
            raise ServiceError("task_invalid", f"户 {stray[0]} 不在网格 {spec.grid_id} 内或已不在册")

    created_by = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    rows = [
        GridTask(
            grid_id=spec.grid_id,
            kind=spec.kind,
            title=spec.title.strip(),
            checklist=items,
            checked=[False] * len(items),
            incident_id=spec.incident_id,
            due_at=spec.due_at,
            created_by=created_by,
        )
        for spec, items in zip(tasks, checklists, strict=True)
    ]
    created = GridTask.objects.bulk_create(rows)
    _link_households(created, tasks)
    counts = {task.pk: len(set(spec.household_ids)) for task, spec in zip(created, tasks, strict=True)}
    audit_append_many(actor=actor, items=[("emergency.task.create", t, task_state(t)) for t in created])
    templates = (
        dict(notify_text)
        if not isinstance(notify_text, str)
        else {kind: notify_text or DEFAULT_NOTIFY for kind in TaskKind.values}
    )
    _notify(created, grids, templates=templates, counts=counts, about=about)
    return created


# --- acting on one task -------------------------------------------------------------------------


def is_task_worker(*, user: Any, task: GridTask) -> bool:
    staff = staff_of(user=user)
    return staff is not None and GridWorker.objects.filter(grid_id=task.grid_id, staff=staff).exists()


def check_task_access(*, user: Any, task: GridTask) -> None:
    """The grid's own workers, or a superior whose jurisdiction covers the grid; else 404."""
    if is_task_worker(user=user, task=task):
        return
    if has_role(user=user, roles=TASK_SUPERIOR_ROLES):
        root = jurisdiction_root(user=user)
        if root is not None and task.grid.village.path.startswith(root.path):
            return
    raise NotFound("任务不存在或不是您网格的任务")


def _lock(task: GridTask) -> GridTask:
    return GridTask.objects.select_for_update(of=("self",)).select_related("grid__village").get(pk=task.pk)


def _count(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_COUNT:
        raise ServiceError("report_invalid", f"{label}应为 0 到 {MAX_COUNT} 之间的整数")
    return value


def _text(value: Any, label: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ServiceError("report_invalid", f"{label}不超过 {MAX_TEXT} 字")
    return value.strip()


@transaction.atomic
def grid_task_report(
    *,
    actor: Any,
    task: GridTask,
    checked: list[bool] | None = None,
    households_reached: int | None = None,
    people_need_help: int | None = None,
    supplies_requested: str | None = None,
    note: str | None = None,
    mark: str = "",
) -> GridTask:
    """Record what the grid has done so far; `mark` "in_progress" or "done" moves the task.

    Any report on an open task starts it. Done needs every checklist item ticked. A done or
    closed task takes no more reports (409)."""
    task = _lock(task)
    check_task_access(user=actor, task=task)
    if not task.is_open:
        raise ServiceError("task_finished", f"任务已{task.get_status_display()},不能再上报", status=409)
    if mark not in ("", TaskStatus.IN_PROGRESS, TaskStatus.DONE):
        raise ServiceError("report_invalid", "状态只能标记为处理中或已完成")
    if checked is not None:
        if (
            not isinstance(checked, list)
            or len(checked) != len(task.checklist)
            or not all(isinstance(c, bool) for c in checked)
        ):
            raise ServiceError("report_invalid", f"勾选项应为 {len(task.checklist)} 个是/否")
        task.checked = list(checked)
    if households_reached is not None:
        task.households_reached = _count(households_reached, "已走访户数")
    if people_need_help is not None:
        task.people_need_help = _count(people_need_help, "需帮扶人数")
    if supplies_requested is not None:
        task.supplies_requested = _text(supplies_requested, "物资需求")
    if note is not None:
        task.note = _text(note, "情况说明")
    now = timezone.now()
    if mark == TaskStatus.DONE:
        remaining = [item for item, ok in zip(task.checklist, task.checked, strict=False) if not ok]
        if remaining:
            raise ServiceError(
                "checklist_incomplete", f"还有 {len(remaining)} 项未完成:{remaining[0]}", details=remaining
            )
        task.status = TaskStatus.DONE
        task.done_at = now
        task.done_by = actor if getattr(actor, "is_authenticated", False) else None
    elif task.status == TaskStatus.OPEN:
        task.status = TaskStatus.IN_PROGRESS
    if task.started_at is None:
        task.started_at = now
    task.reported_at = now
    task.save()
    action = "emergency.task.done" if mark == TaskStatus.DONE else "emergency.task.report"
    audit_append(actor=actor, action=action, obj=task, state=task_state(task))
    return task


def grid_tasks_close(*, actor: Any, tasks: QuerySet[GridTask], reason: str) -> int:
    """Close every still-open task in `tasks` with `reason` (inside the caller's transaction)."""
    now = timezone.now()
    open_tasks = list(tasks.select_for_update().filter(status__in=OPEN_STATUSES).order_by("pk"))
    for task in open_tasks:
        task.status = TaskStatus.CLOSED
        task.closed_at = now
        task.close_reason = reason[:255]
    GridTask.objects.bulk_update(open_tasks, ["status", "closed_at", "close_reason"])
    audit_append_many(actor=actor, items=[("emergency.task.close", t, task_state(t)) for t in open_tasks])
    return len(open_tasks)

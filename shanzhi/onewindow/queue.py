"""取号 in a service hall: take a number, call the next one to a window, start and finish
handling, or skip a number that does not answer. Each is a service with an audit entry; the
averages per window (waiting = called − taken, handling = finished − started) are what the seed
measures: 45 minutes of waiting before the reform, 15 after.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Region, RegionLevel
from shanzhi.core.selectors import has_role, in_jurisdiction, jurisdiction_root
from shanzhi.core.validators import validate_mobile
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.services import message_queue
from shanzhi.onewindow.models import Theme
from shanzhi.onewindow.models_queue import QueueSequence, QueueTicket, ServiceWindow, TicketStatus

BASELINE_WAIT_MINUTES = 45
TARGET_WAIT_MINUTES = 15
WINDOW_ROLES = frozenset({"clerk", "admin"})
TAKE_ROLES = frozenset({"clerk", "resident", "kiosk", "admin"})


def ticket_state(t: QueueTicket) -> dict[str, Any]:
    return {
        "hall": t.hall.code,
        "day": t.day,
        "number": t.number,
        "theme": t.theme,
        "status": t.status,
        "window": t.window.code if t.window_id and t.window else None,
        "application": t.application_id,
        "taken_at": t.taken_at,
        "called_at": t.called_at,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
    }


def _in_hall(actor: Any, hall: Region) -> None:
    if actor is None:
        return
    root = jurisdiction_root(user=actor)
    if root is None or not hall.path.startswith(root.path):
        raise NotFound("该服务大厅不在您的管辖范围内")


def window_create(*, actor: Any, hall: Region, code: str, name: str, themes: list[str]) -> ServiceWindow:
    if actor is not None and not has_role(user=actor, roles={"admin"}):
        raise PermissionDenied("只有系统管理员可以设置窗口")
    code, name = code.strip(), name.strip()
    if not code or len(code) > 8 or not name or len(name) > 64:
        raise ServiceError("invalid_window", "窗口号不超过 8 个字符,名称不超过 64 字", status=422)
    if hall.level == RegionLevel.VILLAGE:
        raise ServiceError("invalid_hall", "服务大厅设在县或乡镇(街道)", status=422)
    unknown = [t for t in themes if t not in Theme.values]
    if unknown:
        raise ServiceError("invalid_theme", f"未知的主题分类:{'、'.join(unknown)}", status=422)
    with transaction.atomic():
        if ServiceWindow.objects.filter(hall=hall, code=code).exists():
            raise ServiceError("duplicate_code", f"{hall.name}已有 {code} 号窗口", status=409)
        window = ServiceWindow.objects.create(hall=hall, code=code, name=name, themes=list(themes))
        audit_append(
            actor=actor,
            action="service_window.create",
            obj=window,
            state={"hall": hall.code, "code": code, "name": name, "themes": list(themes)},
        )
    return window


def window_update(
    *, actor: Any, window: ServiceWindow, name: str, themes: list[str], active: bool
) -> ServiceWindow:
    """Rename a window, change what it serves, open or close it (its hall and number stay)."""
    if actor is not None and not has_role(user=actor, roles={"admin"}):
        raise PermissionDenied("只有系统管理员可以设置窗口")
    name = name.strip()
    if not name or len(name) > 64:
        raise ServiceError("invalid_window", "窗口名称不超过 64 字", status=422)
    unknown = [t for t in themes if t not in Theme.values]
    if unknown:
        raise ServiceError("invalid_theme", f"未知的主题分类:{'、'.join(unknown)}", status=422)
    with transaction.atomic():
        locked = ServiceWindow.objects.select_for_update().select_related("hall").get(pk=window.pk)
        locked.name, locked.themes, locked.active = name, list(themes), active
        locked.save(update_fields=["name", "themes", "active"])
        audit_append(
            actor=actor,
            action="service_window.update",
            obj=locked,
            state={
                "hall": locked.hall.code,
                "code": locked.code,
                "name": name,
                "themes": list(themes),
                "active": active,
            },
        )
    return locked


def ticket_take(
    *, actor: Any, hall: Region, theme: str = "", phone: str = "", now: dt.datetime | None = None
) -> QueueTicket:
    """A number for the hall's queue, optionally for a theme and with a phone to be called by SMS."""
    if actor is not None and not has_role(user=actor, roles=TAKE_ROLES):
        raise PermissionDenied("您的角色不能取号")
    if actor is not None and not has_role(user=actor, roles={"resident"}):
        _in_hall(actor, hall)
    if hall.level == RegionLevel.VILLAGE:
        raise ServiceError("invalid_hall", "请选择县政务服务中心或乡镇(街道)便民服务中心", status=422)
    if theme and theme not in Theme.values:
        raise ServiceError("invalid_theme", "未知的办理主题", status=422)
    if phone:
        try:
            phone = validate_mobile(phone)
        except ServiceError as exc:
            raise ServiceError(exc.code, exc.message, status=422) from exc
    now = now or timezone.now()
    day = timezone.localdate(now)
    with transaction.atomic():
        seq, _ = QueueSequence.objects.select_for_update().get_or_create(hall=hall, day=day)
        seq.last += 1
        seq.save(update_fields=["last"])
        ticket = QueueTicket.objects.create(
            hall=hall, day=day, number=f"A{seq.last:03d}", theme=theme, phone=phone, taken_at=now
        )
        audit_append(actor=actor, action="queue_ticket.take", obj=ticket, state=ticket_state(ticket))
        ahead = QueueTicket.objects.filter(
            hall=hall, day=day, status=TicketStatus.WAITING, taken_at__lt=now
        ).count()
        if phone:
            message_queue(
                channel=MessageChannel.SMS,
                kind="application.ticket",
                body=f"您在{hall.name}取得 {ticket.number} 号,前面还有 {ahead} 人,叫号时将短信通知您。",
                phone=phone,
                obj=ticket,
            )
    return ticket


def _lock_window(actor: Any, window: ServiceWindow) -> ServiceWindow:
    if actor is not None and not has_role(user=actor, roles=WINDOW_ROLES):
        raise PermissionDenied("只有窗口人员可以叫号")
    locked = ServiceWindow.objects.select_for_update().select_related("hall").filter(pk=window.pk).first()
    if locked is None:
        raise NotFound("窗口不存在")
    _in_hall(actor, locked.hall)
    return locked


def ticket_call_next(
    *, actor: Any, window: ServiceWindow, now: dt.datetime | None = None
) -> QueueTicket | None:
    """The longest-waiting number this window serves; None when nobody waits. A window calls the
    next number only when its current one is finished or skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        window = _lock_window(actor, window)
        if not window.active:
            raise ServiceError("window_closed", "该窗口已停用", status=409)
        busy = window.tickets.filter(status__in=[TicketStatus.CALLED, TicketStatus.SERVING]).first()
        if busy is not None:
            raise ServiceError(
                "window_busy", f"{window.code} 号窗口正在办理 {busy.number},请先办完或过号", status=409
            )
        waiting = QueueTicket.objects.filter(
            hall=window.hall, day=timezone.localdate(now), status=TicketStatus.WAITING
        ).order_by("taken_at", "id")
        if window.themes:
            waiting = waiting.filter(theme__in=[*window.themes, ""])
        # Two windows calling at once must not take the same number; PostgreSQL skips a locked row.
        skip = connection.features.has_select_for_update_skip_locked
        ticket = waiting.select_for_update(skip_locked=skip).first()
        if ticket is None:
            return None
        ticket.status = TicketStatus.CALLED
        ticket.window = window
        ticket.clerk = actor
        ticket.called_at = now
        ticket.save()
        audit_append(actor=actor, action="queue_ticket.call", obj=ticket, state=ticket_state(ticket))
        if ticket.phone:
            message_queue(
                channel=MessageChannel.SMS,
                kind="application.ticket_called",
                body=f"请 {ticket.number} 号到 {window.code} 号窗口({window.name})办理。",
                phone=ticket.phone,
                obj=ticket,
            )
    return ticket


def _lock_ticket(actor: Any, ticket: QueueTicket) -> QueueTicket:
    if actor is not None and not has_role(user=actor, roles=WINDOW_ROLES):
        raise PermissionDenied("只有窗口人员可以办理排队号")
    locked = (
        QueueTicket.objects.select_for_update(of=("self",))
        .select_related("hall", "window")
        .filter(pk=ticket.pk)
        .first()
    )
    if locked is None:
        raise NotFound("排队号不存在")
    _in_hall(actor, locked.hall)
    return locked


def _move(ticket: QueueTicket, *, actor: Any, sources: set[str], target: str, label: str) -> QueueTicket:
    if ticket.status not in sources:
        raise ServiceError(
            "illegal_transition",
            f"{ticket.number} 号当前为“{TicketStatus(ticket.status).label}”,不能{label}",
            status=409,
        )
    ticket.status = target
    return ticket


def ticket_start(*, actor: Any, ticket: QueueTicket, now: dt.datetime | None = None) -> QueueTicket:
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _move(
            _lock_ticket(actor, ticket),
            actor=actor,
            sources={TicketStatus.CALLED},
            target=TicketStatus.SERVING,
            label="开始办理",
        )
        ticket.started_at = now
        ticket.save()
        audit_append(actor=actor, action="queue_ticket.start", obj=ticket, state=ticket_state(ticket))
    return ticket


def ticket_finish(
    *, actor: Any, ticket: QueueTicket, application: Any = None, now: dt.datetime | None = None
) -> QueueTicket:
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _move(
            _lock_ticket(actor, ticket),
            actor=actor,
            sources={TicketStatus.SERVING},
            target=TicketStatus.DONE,
            label="办结",
        )
        ticket.finished_at = now
        if application is not None:
            ticket.application = application
        ticket.save()
        audit_append(actor=actor, action="queue_ticket.finish", obj=ticket, state=ticket_state(ticket))
    return ticket


def ticket_skip(*, actor: Any, ticket: QueueTicket, now: dt.datetime | None = None) -> QueueTicket:
    """过号: called and did not come."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _move(
            _lock_ticket(actor, ticket),
            actor=actor,
            sources={TicketStatus.CALLED},
            target=TicketStatus.SKIPPED,
            label="过号",
        )
        ticket.finished_at = now
        ticket.save()
        audit_append(actor=actor, action="queue_ticket.skip", obj=ticket, state=ticket_state(ticket))
    return ticket


# --- reads ------------------------------------------------------------------------------------


def hall_list(*, user: Any) -> QuerySet[Region]:
    """The halls (county and townships) in the user's area; a resident may queue at any."""
    halls = Region.objects.exclude(level=RegionLevel.VILLAGE)
    if has_role(user=user, roles={"resident"}) and not has_role(user=user, roles=WINDOW_ROLES):
        return halls
    return in_jurisdiction(halls, user=user, region_field="")


def window_list(*, user: Any) -> QuerySet[ServiceWindow]:
    return in_jurisdiction(
        ServiceWindow.objects.select_related("hall").filter(active=True), user=user, region_field="hall"
    )


def window_get(*, user: Any, pk: int) -> ServiceWindow:
    window = window_list(user=user).filter(pk=pk).first()
    if window is None:
        raise NotFound("窗口不存在或不在您的管辖范围内")
    return window


def ticket_get(*, user: Any, pk: int) -> QueueTicket:
    ticket = (
        in_jurisdiction(QueueTicket.objects.select_related("hall", "window"), user=user, region_field="hall")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise NotFound("排队号不存在或不在您的管辖范围内")
    return ticket


def waiting_list(*, hall: Region, day: dt.date | None = None) -> QuerySet[QueueTicket]:
    day = day or timezone.localdate()
    return QueueTicket.objects.filter(hall=hall, day=day, status=TicketStatus.WAITING).order_by(
        "taken_at", "id"
    )


def current_ticket(*, window: ServiceWindow) -> QueueTicket | None:
    return (
        window.tickets.filter(status__in=[TicketStatus.CALLED, TicketStatus.SERVING])
        .order_by("-called_at")
        .first()
    )


@dataclass(frozen=True)
class WindowStats:
    window: ServiceWindow | None  # None = the whole hall
    served: int
    waited: int
    avg_wait_minutes: float | None
    avg_handle_minutes: float | None

    @property
    def meets_target(self) -> bool | None:
        return None if self.avg_wait_minutes is None else self.avg_wait_minutes <= TARGET_WAIT_MINUTES


def _minutes(deltas: list[dt.timedelta]) -> float | None:
    if not deltas:
        return None
    return round(sum(d.total_seconds() for d in deltas) / len(deltas) / 60, 1)


def window_stats(*, user: Any, since: dt.date, until: dt.date) -> list[WindowStats]:
    """Per window in the user's area, then the whole area: numbers served, average waiting and
    handling minutes over [since, until]."""
    tickets = in_jurisdiction(
        QueueTicket.objects.filter(day__gte=since, day__lte=until, called_at__isnull=False),
        user=user,
        region_field="hall",
    ).values_list("window_id", "taken_at", "called_at", "started_at", "finished_at", "status")
    waits: dict[int | None, list[dt.timedelta]] = {}
    handles: dict[int | None, list[dt.timedelta]] = {}
    for window_id, taken, called, started, finished, status in tickets:
        if called is None:  # filtered out above; keeps the arithmetic honest
            continue
        for key in (window_id, None):
            waits.setdefault(key, []).append(called - taken)
            if status == TicketStatus.DONE and started and finished:
                handles.setdefault(key, []).append(finished - started)
    rows = []
    for window in window_list(user=user):
        rows.append(
            WindowStats(
                window=window,
                served=len(handles.get(window.pk, [])),
                waited=len(waits.get(window.pk, [])),
                avg_wait_minutes=_minutes(waits.get(window.pk, [])),
                avg_handle_minutes=_minutes(handles.get(window.pk, [])),
            )
        )
    rows.append(
        WindowStats(
            window=None,
            served=len(handles.get(None, [])),
            waited=len(waits.get(None, [])),
            avg_wait_minutes=_minutes(waits.get(None, [])),
            avg_handle_minutes=_minutes(handles.get(None, [])),
        )
    )
    return rows

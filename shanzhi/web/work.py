"""Each role's own work, for the top of the home page: counts and the first rows.

Every panel is built from the owning app's selectors (so the same jurisdiction rules apply as on
the app's own page) and links to that page for the rest. A panel whose app is not mounted, or
which has nothing to say to a user without a place in the org (no jurisdiction), is left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from shanzhi.core.errors import NotFound, ServiceError

ROWS = 5  # rows per panel; the app's page has the rest

Panel = dict[str, Any]


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _midnight(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


# --- cases ----------------------------------------------------------------------------------------


def dispatcher_panel(*, user: Any, now: dt.datetime) -> Panel:
    """调度台: what waits for registration and dispatch, late first, with today's new and the late."""
    from shanzhi.cases import selectors
    from shanzhi.cases.views import overdue_first

    queue = overdue_first(selectors.dispatcher_queue(user=user), now=now)
    return {
        "kind": "dispatcher",
        "title": "调度台:待立案、待派遣",
        "url": _url("cases:queue"),
        "counts": {
            "waiting": queue.count(),
            "new_today": queue.filter(received_at__gte=_midnight(now)).count(),
            "overdue": queue.filter(waited_too_long=True).count(),  # type: ignore[misc]  # annotated
            "requests": selectors.pending_requests(user=user).count(),
        },
        "rows": list(queue.select_related("suggested_category")[:ROWS]),
    }


def handler_panel(*, user: Any, now: dt.datetime) -> Panel:
    """待办: the body's open shares, nearest deadline first, with a clock each."""
    from shanzhi.cases import selectors
    from shanzhi.cases.models import AssignmentStatus
    from shanzhi.cases.views import assignment_clock

    inbox = selectors.handler_inbox(user=user)
    running = inbox.filter(status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED])
    return {
        "kind": "handler",
        "title": "待办:派给本单位的诉求",
        "url": _url("cases:inbox"),
        "counts": {
            "open": inbox.count(),
            "pending": inbox.filter(status=AssignmentStatus.PENDING).count(),
            "accepted": inbox.filter(status=AssignmentStatus.ACCEPTED).count(),
            "overdue": running.filter(deadline__lt=now).count(),
        },
        "rows": [{"a": a, "clock": assignment_clock(a, now=now)} for a in inbox[:ROWS]],
    }


def operator_panel(*, user: Any, now: dt.datetime) -> Panel:
    """来电登记: the calls this operator took today."""
    from shanzhi.cases import selectors
    from shanzhi.cases.models import Channel

    today = selectors.case_list(user=user).filter(channel=Channel.HOTLINE, received_at__gte=_midnight(now))
    mine = today.filter(created_by=user).order_by("-received_at", "-id")
    return {
        "kind": "operator",
        "title": "今日来电",
        "url": _url("cases:intake"),
        "counts": {"mine": mine.count(), "all": today.count()},
        "rows": list(mine[:ROWS]),
    }


def gridworker_panel(*, user: Any, now: dt.datetime) -> Panel:
    """网格通: today's open tasks and the cases to verify in my grids, on the phone page."""
    from shanzhi.grid.phone import selectors

    tasks = selectors.open_grid_tasks(user=user)
    return {
        "kind": "gridworker",
        "title": "网格通:今日任务",
        "url": _url("gridphone:home"),
        "verify_url": _url("cases:verify_list"),
        "counts": {
            "tasks": len(tasks),
            "tasks_overdue": sum(1 for t in tasks if t.due_at < now),
            "verify": selectors.cases_to_verify(user=user).count(),
            "checkins": selectors.checkins_today(user=user, now=now).count(),
        },
        "rows": tasks[:ROWS],
    }


def resident_panel(*, user: Any, now: dt.datetime) -> Panel:
    """我的事: the resident's open reports and applications."""
    from shanzhi.cases import selectors as case_selectors
    from shanzhi.cases.models import OPEN_STATUSES, CaseStatus
    from shanzhi.onewindow import application_selectors
    from shanzhi.onewindow.models_applications import OPEN_STATUSES as APP_OPEN
    from shanzhi.onewindow.models_applications import ApplicationStatus

    cases = case_selectors.case_list(user=user).order_by("-received_at", "-id")
    open_cases = cases.filter(status__in=OPEN_STATUSES)
    apps = application_selectors.my_applications(user=user).filter(status__in=APP_OPEN)
    return {
        "kind": "resident",
        "title": "我的诉求和办件",
        "url": _url("cases:mine"),
        "apps_url": _url("onewindow:mine"),
        "counts": {
            "cases": open_cases.count(),
            "to_rate": cases.filter(status=CaseStatus.CLOSED).count(),
            "apps": apps.count(),
            "corrections": apps.filter(
                status__in=[ApplicationStatus.CORRECTION_REQUESTED, ApplicationStatus.NOT_ACCEPTED]
            ).count(),
        },
        "rows": list(open_cases[:ROWS]),
        "apps": list(apps[:ROWS]),
    }


# --- one window -----------------------------------------------------------------------------------


def clerk_panel(*, user: Any, now: dt.datetime) -> Panel:
    """窗口受理: today's waiting numbers in my hall, intake work, applications in 补正."""
    from shanzhi.onewindow import application_selectors, queue
    from shanzhi.onewindow.models_applications import ApplicationStatus

    window = queue.window_list(user=user).first()
    hall = window.hall if window else queue.hall_list(user=user).order_by("path").first()
    waiting = queue.waiting_list(hall=hall) if hall else None
    pending = application_selectors.clerk_pending(user=user)
    visible = application_selectors.application_list(user=user)
    return {
        "kind": "clerk",
        "title": "今日窗口" + (f" · {hall.name}" if hall else ""),
        "url": _url("onewindow:window"),
        "intake_url": _url("onewindow:intake"),
        "counts": {
            "waiting": waiting.count() if waiting is not None else 0,
            "pending": pending.count(),
            "in_progress": visible.filter(
                parent__isnull=True, status__in=[ApplicationStatus.ACCEPTED, ApplicationStatus.IN_REVIEW]
            ).count(),
            "corrections": visible.filter(status=ApplicationStatus.CORRECTION_REQUESTED).count(),
        },
        "waiting": list(waiting[:ROWS]) if waiting is not None else [],
        "rows": list(pending[:ROWS]),
    }


def approver_panel(*, user: Any, now: dt.datetime) -> Panel:
    """后台审批: what waits in my department, the nearest promised date first."""
    from shanzhi.onewindow import application_selectors
    from shanzhi.onewindow.models_applications import ApplicationStatus

    qs = application_selectors.back_office_queue(user=user)
    return {
        "kind": "approver",
        "title": "后台审批:待办办件",
        "url": _url("onewindow:back_office"),
        "counts": {
            "waiting": qs.count(),
            "overdue": qs.filter(deadline__lt=now)
            .exclude(status=ApplicationStatus.CORRECTION_REQUESTED)
            .count(),
            "corrections": qs.filter(status=ApplicationStatus.CORRECTION_REQUESTED).count(),
        },
        "rows": list(qs[:ROWS]),
    }


# --- supervision and the cockpit --------------------------------------------------------------------


def supervisor_panel(*, user: Any, now: dt.datetime) -> Panel:
    """督查: what is overdue — case shares, applications, rectifications of bad ratings."""
    from shanzhi.cases import selectors as case_selectors
    from shanzhi.onewindow import application_selectors
    from shanzhi.ratings import selectors as rating_selectors
    from shanzhi.ratings.models import OPEN_RECTIFICATION

    shares = case_selectors.overdue_assignments(user=user).order_by("deadline")
    apps = application_selectors.overdue_list(user=user, now=now)
    rects = rating_selectors.rectification_list(user=user).filter(
        status__in=OPEN_RECTIFICATION, deadline__lt=now
    )
    return {
        "kind": "supervisor",
        "title": "超期督办",
        "url": _url("cases:list"),
        "apps_url": _url("onewindow:overdue"),
        "rects_url": _url("ratings:rectifications"),
        "counts": {"cases": shares.count(), "apps": apps.count(), "rectifications": rects.count()},
        "rows": list(shares[:ROWS]),
        "apps": list(apps[:ROWS]),
    }


# (kpis() key, label, kind)
LEADER_TILES = [
    ("today_intake", "今日受理", "count"),
    ("open", "在办", "count"),
    ("due_today", "今日到期", "count"),
    ("overdue", "超期", "count"),
    ("satisfaction_rate", "满意率", "rate"),
    ("on_time_rate", "按期结案率", "rate"),
]


def _tile_value(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%" if kind == "rate" else f"{int(value):,}"


def leader_panel(*, user: Any, now: dt.datetime) -> Panel:
    """驾驶舱: the key tiles of the cockpit's default period."""
    from shanzhi.cockpit.filters import filter_parse
    from shanzhi.cockpit.panels import kpis

    f = filter_parse(user=user, params={}, today=timezone.localdate(now))
    data = kpis(user=user, f=f, now=now)
    tiles = [
        {"key": key, "label": label, "value": _tile_value(data.get(key), kind), "bad": key == "overdue"}
        for key, label, kind in LEADER_TILES
        if key in data
    ]
    return {
        "kind": "leader",
        "title": f"驾驶舱 · {f.start:%m-%d} 至 {f.end:%m-%d}",
        "url": _url("cockpit:home"),
        "tiles": tiles,
        "overdue": data.get("overdue", 0),
    }


# Role → panel, in the order they show for someone with several roles.
PANELS: list[tuple[str, Callable[..., Panel]]] = [
    ("dispatcher", dispatcher_panel),
    ("handler", handler_panel),
    ("clerk", clerk_panel),
    ("gridworker", gridworker_panel),
    ("leader", leader_panel),
    ("operator", operator_panel),
    ("approver", approver_panel),
    ("supervisor", supervisor_panel),
    ("resident", resident_panel),
]


def my_work(*, user: Any, roles: set[str], now: dt.datetime | None = None) -> list[Panel]:
    now = now or timezone.now()
    out = []
    for role, build in PANELS:
        if role not in roles:
            continue
        try:
            panel = build(user=user, now=now)
        except (NotFound, ServiceError):  # no place in the org, e.g. a staff row without a region
            continue
        if panel.get("url"):
            panel["template"] = f"web/work/{panel['kind']}.html"
            out.append(panel)
    return out

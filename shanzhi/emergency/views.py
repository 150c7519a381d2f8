"""Pages: incidents (list, declare, detail with the live board, close, reports) and the grid
worker's task page (phone-first)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import RegionLevel
from shanzhi.core.selectors import has_role, jurisdiction_root
from shanzhi.emergency import reports, selectors
from shanzhi.emergency.area_input import GRID_PREFIX, REGION_PREFIX, area_from_input
from shanzhi.emergency.incidents import incident_close, incident_declare
from shanzhi.emergency.models import AreaKind, IncidentStatus, TaskStatus
from shanzhi.emergency.tasks_services import grid_task_report, is_task_worker
from shanzhi.grid.models import Grid
from shanzhi.grid.selectors import grid_feature
from shanzhi.web.pages import page

PROBLEM = "emergency/problem.html"
VIEW = selectors.INCIDENT_VIEW_ROLES
DECLARE = selectors.INCIDENT_DECLARE_ROLES
STATE_COLOURS = {
    "done": "#1e7b3a",
    "in_progress": "#1d4f91",
    "open": "#9aa5b1",
    "overdue": "#b3261e",
    "closed": "#5b6670",
}


@page(template=PROBLEM, roles=VIEW)
def incident_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in IncidentStatus.values:
        status = ""
    incidents = selectors.incident_list(user=request.user, status=status)[:200]
    return render(
        request,
        "emergency/list.html",
        {
            "incidents": incidents,
            "status": status,
            "statuses": IncidentStatus.choices,
            "can_declare": has_role(user=request.user, roles=DECLARE),
        },
    )


def _target_choices(user: Any) -> list[dict[str, Any]]:
    """Villages of the user's jurisdiction, each with its grids, for the multi-select."""
    root = jurisdiction_root(user=user)
    if root is None:
        return []
    grids = (
        Grid.objects.filter(active=True, village__path__startswith=root.path)
        .select_related("village__parent")
        .order_by("village__path", "code")
    )
    groups: dict[int, dict[str, Any]] = {}
    for g in grids:
        group = groups.setdefault(
            g.village_id,
            {
                "label": f"{g.village.parent.name if g.village.parent else ''} {g.village.name}",
                "value": REGION_PREFIX + g.village.code,
                "name": g.village.name,
                "grids": [],
            },
        )
        group["grids"].append({"value": GRID_PREFIX + g.code, "label": f"{g.name}({g.code})"})
    return list(groups.values())


def _parse_start(text: str) -> dt.datetime | None:
    if not text.strip():
        return None
    try:
        naive = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ServiceError("incident_invalid", "开始时间格式不正确", status=422) from exc
    return naive if timezone.is_aware(naive) else timezone.make_aware(naive)


@page(template=PROBLEM, roles=DECLARE, wrong_role_message="只有领导或系统管理员可以启动应急事件。")
@require_http_methods(["GET", "POST"])
def incident_declare_page(request: HttpRequest) -> HttpResponse:
    form: dict[str, Any] = {
        "type_code": request.GET.get("type", ""),
        "area_kind": AreaKind.GRIDS,
        "targets": [],
        "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    error = None
    if request.method == "POST":
        form = {
            "type_code": request.POST.get("type_code", ""),
            "title": request.POST.get("title", ""),
            "note": request.POST.get("note", ""),
            "area_kind": request.POST.get("area_kind", ""),
            "targets": request.POST.getlist("targets"),
            "polygon": request.POST.get("polygon", ""),
            "lon": request.POST.get("lon", ""),
            "lat": request.POST.get("lat", ""),
            "radius_m": request.POST.get("radius_m", ""),
            "started_at": request.POST.get("started_at", ""),
        }
        upload = request.FILES.get("geojson")
        try:
            if upload is not None and upload.size and upload.size > 2 * 1024 * 1024:
                raise ServiceError("area_invalid", "GeoJSON 文件不超过 2 MB", status=422)
            area = area_from_input(
                kind=form["area_kind"], data=form, upload=upload.read() if upload is not None else None
            )
            incident = incident_declare(
                actor=request.user,
                type_code=form["type_code"],
                title=form["title"],
                area=area,
                started_at=_parse_start(form["started_at"]),
                note=form["note"],
                area_kind=form["area_kind"],
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"已启动应急事件 {incident.number}:涉及 {incident.grid_count} 个网格、"
                f"{incident.household_count} 户,任务已下发并通知网格员。",
            )
            return redirect("emergency:detail", pk=incident.pk)
    config = {"featuresUrl": reverse("api:grid_list")}
    return render(
        request,
        "emergency/declare.html",
        {
            "types": selectors.incident_types(),
            "form": form,
            "error": error,
            "choices": _target_choices(request.user),
            "area_kinds": [(k, label) for k, label in AreaKind.choices if k != AreaKind.WARNING],
            "map_config": config,
        },
        status=422 if error else 200,
    )


def _board_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    incident = selectors.incident_get(user=request.user, pk=pk)
    board = selectors.incident_board(incident=incident)
    states = {row.task.grid.code: row.state for row in board.rows}
    return {
        "incident": incident,
        "board": board,
        "states": states,
        "state_labels": selectors.STATE_LABELS,
        "colours": STATE_COLOURS,
        "can_close": incident.status == IncidentStatus.ACTIVE and has_role(user=request.user, roles=DECLARE),
    }


@page(template=PROBLEM, roles=VIEW)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    context = _board_context(request, pk)
    features = [grid_feature(row.task.grid) for row in context["board"].rows]
    context["map"] = {
        "features": {"type": "FeatureCollection", "features": features},
        "area": context["incident"].area,
        "colours": STATE_COLOURS,
        "labels": selectors.STATE_LABELS,
    }
    return render(request, "emergency/detail.html", context)


@page(template=PROBLEM, roles=VIEW)
def incident_board(request: HttpRequest, pk: int) -> HttpResponse:
    """The board on its own (wall screen); an htmx poll gets just the panel."""
    context = _board_context(request, pk)
    if request.headers.get("HX-Request"):
        return render(request, "emergency/_board.html", context)
    features = [grid_feature(row.task.grid) for row in context["board"].rows]
    context["map"] = {
        "features": {"type": "FeatureCollection", "features": features},
        "area": context["incident"].area,
        "colours": STATE_COLOURS,
        "labels": selectors.STATE_LABELS,
    }
    return render(request, "emergency/board.html", context)


@page(template=PROBLEM, roles=DECLARE, wrong_role_message="只有领导或系统管理员可以宣布恢复常态。")
@require_http_methods(["GET", "POST"])
def incident_close_page(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.incident_get(user=request.user, pk=pk)
    board = selectors.incident_board(incident=incident)
    error = None
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        if request.POST.get("confirm") != "yes":
            error = "请勾选确认后再提交"
        else:
            try:
                incident_close(actor=request.user, incident=incident, reason=reason)
            except ServiceError as exc:
                error = exc.message
            else:
                messages.success(request, f"{incident.number} 已恢复常态,未完成的任务已关闭,总结报告可下载。")
                return redirect("emergency:detail", pk=incident.pk)
    status = 200
    if error:
        status = 409 if incident.status == IncidentStatus.CLOSED else 422
    return render(
        request,
        "emergency/close.html",
        {"incident": incident, "board": board, "error": error, "reason": reason},
        status=status,
    )


@page(template=PROBLEM, roles=VIEW)
def incident_report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    incident = selectors.incident_get(user=request.user, pk=pk)
    if incident.status != IncidentStatus.CLOSED:
        return render(
            request,
            PROBLEM,
            {"title": "报告尚未生成", "message": "事件恢复常态后才生成总结报告。"},
            status=409,
        )
    if fmt == "pdf":
        body, content_type = reports.summary_pdf(incident=incident), "application/pdf"
    else:
        body = reports.summary_xlsx(incident=incident)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{incident.number}-summary.{fmt}"'
    return response


# --- the grid worker's task ---------------------------------------------------------------------


def _int_field(value: str, label: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError as exc:
        raise ServiceError("report_invalid", f"{label}应为整数") from exc


@page(template=PROBLEM)
def task_list(request: HttpRequest) -> HttpResponse:
    tasks = selectors.grid_tasks_open(user=request.user)
    return render(request, "emergency/tasks.html", {"tasks": tasks, "now": timezone.now()})


@page(template=PROBLEM)
@require_http_methods(["GET", "POST"])
def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.grid_task_get(user=request.user, pk=pk)
    error = None
    if request.method == "POST":
        ticks = set(request.POST.getlist("checked"))
        mark = request.POST.get("mark", "")
        try:
            task = grid_task_report(
                actor=request.user,
                task=task,
                checked=[str(i) in ticks for i in range(len(task.checklist))],
                households_reached=_int_field(request.POST.get("households_reached", ""), "已走访户数"),
                people_need_help=_int_field(request.POST.get("people_need_help", ""), "需帮扶人数"),
                supplies_requested=request.POST.get("supplies_requested", ""),
                note=request.POST.get("note", ""),
                mark=mark if mark in (TaskStatus.IN_PROGRESS, TaskStatus.DONE) else "",
            )
        except ServiceError as exc:
            error = exc.message
            task = selectors.grid_task_get(user=request.user, pk=pk)
        else:
            messages.success(request, "任务已完成,感谢!" if task.status == TaskStatus.DONE else "已保存上报")
            return redirect("emergency:task", pk=task.pk)
    now = timezone.now()
    items = list(zip(task.checklist, task.checked, strict=False))
    return render(
        request,
        "emergency/task.html",
        {
            "task": task,
            "items": items,
            "error": error,
            "state": selectors.task_state_label(task, now=now),
            "state_label": selectors.STATE_LABELS[selectors.task_state_label(task, now=now)],
            "households": task.households.order_by("code")[:500],
            "is_worker": is_task_worker(user=request.user, task=task),
            "township": task.grid.village.parent if task.grid.village.level == RegionLevel.VILLAGE else None,
        },
        status=(409 if not task.is_open else 422) if error else 200,
    )

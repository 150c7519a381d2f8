"""Warning pages: the list, one warning (map, grids, deliveries, tasks, the incident offer), the
county's own warning form, and the CAP download."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from shanzhi.core.errors import ServiceError
from shanzhi.core.masking import mask_phone
from shanzhi.core.selectors import has_role
from shanzhi.emergency import warning_policy as policy
from shanzhi.emergency import warning_selectors as sel
from shanzhi.emergency.area_input import area_from_input
from shanzhi.emergency.cap import model as cap
from shanzhi.emergency.models import AreaKind, GridTask
from shanzhi.emergency.models_warnings import WarningDelivery, WarningState
from shanzhi.emergency.selectors import INCIDENT_VIEW_ROLES, incident_types
from shanzhi.emergency.views import _target_choices
from shanzhi.emergency.warnings import (
    DECLARE_ROLES,
    ISSUE_ROLES,
    IssueForm,
    suggested_incident_type,
    warning_declare_incident,
    warning_issue,
)
from shanzhi.grid.selectors import grid_feature
from shanzhi.web.pages import page

PROBLEM = "emergency/problem.html"
LABELS = {
    "severity": policy.SEVERITY_LABELS,
    "urgency": policy.URGENCY_LABELS,
    "certainty": policy.CERTAINTY_LABELS,
    "status": policy.STATUS_LABELS,
    "msg_type": policy.MSG_TYPE_LABELS,
    "level": policy.LEVEL_LABELS,
    "kind": policy.EVENT_LABELS,
}
DELIVERIES_SHOWN = 100


@page(template=PROBLEM, roles=sel.WARNING_READ_ROLES)
def warning_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    q = request.GET.get("q", "")[:100]
    rows = sel.warning_list(user=request.user, state=state, q=q)
    return render(
        request,
        "emergency/warnings.html",
        {
            "warnings": list(rows[:200]),
            "total": rows.count(),
            "state": state,
            "states": WarningState.choices,
            "q": q,
            "labels": LABELS,
            "can_issue": has_role(user=request.user, roles=ISSUE_ROLES),
        },
    )


def _detail_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    w = sel.warning_get(user=request.user, pk=pk)
    # A grid worker sees their own grids' part: their tasks and households, not the other grids'.
    scope = sel.grid_scope(user=request.user)
    grids = w.grids.all() if scope is None else w.grids.filter(grid_id__in=scope)
    grid_rows = list(grids.select_related("grid__village__parent").order_by("grid__code"))
    linked = GridTask.objects.filter(warning_links__warning=w).select_related("grid")
    if scope is not None:
        linked = linked.filter(grid_id__in=scope)
    tasks = list(linked.order_by("kind", "grid__code"))
    sent = WarningDelivery.objects.filter(warning=w)
    if scope is not None:
        sent = sent.filter(household__grid_id__in=scope)
    deliveries = list(sent.select_related("household", "message", "task").order_by("rank")[:DELIVERIES_SHOWN])
    for d in deliveries:
        d.phone_masked = mask_phone(d.household.phone) if d.household.phone else ""  # type: ignore[attr-defined]
    offer = (
        scope is None  # the leader's decision; a grid worker is not asked
        and w.level == policy.HIGH
        and w.incident_id is None
        and w.state in (WarningState.ACTIVE, WarningState.UPDATED)
        and w.msg_type != "Cancel"
    )
    return {
        "w": w,
        "labels": LABELS,
        "grid_rows": grid_rows,
        "tasks": tasks,
        "deliveries": deliveries,
        "deliveries_more": max(
            (w.sms_count + w.visit_count if scope is None else sent.count()) - len(deliveries), 0
        ),
        "references": list(w.references.all()),
        "referenced_by": list(w.referenced_by.all()),
        "offer": offer,
        "can_declare": offer and has_role(user=request.user, roles=DECLARE_ROLES),
        "can_see_incident": has_role(user=request.user, roles=INCIDENT_VIEW_ROLES),
        "types": incident_types(),
        "suggested_type": suggested_incident_type(w),
        "map": {
            "area": w.area,
            "grids": {"type": "FeatureCollection", "features": [grid_feature(r.grid) for r in grid_rows]},
        },
    }


@page(template=PROBLEM, roles=sel.WARNING_READ_ROLES)
def warning_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "emergency/warning.html", _detail_context(request, pk))


@page(template=PROBLEM, roles=sel.WARNING_READ_ROLES)
def warning_cap(request: HttpRequest, pk: int) -> HttpResponse:
    w = sel.warning_get(user=request.user, pk=pk)
    response = HttpResponse(sel.warning_cap(warning=w), content_type="application/cap+xml; charset=utf-8")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in w.identifier)[:80]
    response["Content-Disposition"] = f'attachment; filename="{safe}.cap.xml"'
    return response


@page(template=PROBLEM, roles=DECLARE_ROLES, wrong_role_message="只有领导或系统管理员可以启动应急事件。")
@require_POST
def warning_declare(request: HttpRequest, pk: int) -> HttpResponse:
    w = sel.warning_get(user=request.user, pk=pk)
    try:
        incident = warning_declare_incident(
            actor=request.user,
            warning=w,
            type_code=request.POST.get("type_code", ""),
            title=request.POST.get("title", ""),
        )
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        context = _detail_context(request, pk)
        context["declare_error"] = exc.message
        return render(request, "emergency/warning.html", context, status=422)
    messages.success(
        request,
        f"已按预警范围启动应急事件 {incident.number}:"
        f"{incident.grid_count} 个网格、{incident.household_count} 户。",
    )
    return redirect("emergency:detail", pk=incident.pk)


def _expires(text: str) -> dt.datetime | None:
    if not text.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ServiceError("warning_invalid", "失效时间格式不正确", status=422) from exc
    return value if timezone.is_aware(value) else timezone.make_aware(value)


ISSUE_FIELDS = (
    "event",
    "category",
    "severity",
    "urgency",
    "certainty",
    "headline",
    "description",
    "instruction",
    "area_desc",
    "expires",
    "status",
    "area_kind",
    "polygon",
    "lon",
    "lat",
    "radius_m",
)


@page(template=PROBLEM, roles=ISSUE_ROLES, wrong_role_message="只有领导、调度员或系统管理员可以发布预警。")
@require_http_methods(["GET", "POST"])
def warning_issue_page(request: HttpRequest) -> HttpResponse:
    form: dict[str, Any] = {
        "category": "Met",
        "severity": "Moderate",
        "urgency": "Expected",
        "certainty": "Likely",
        "status": "Actual",
        "area_kind": AreaKind.GRIDS,
        "targets": [],
        "expires": (timezone.localtime() + dt.timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"),
    }
    error = None
    if request.method == "POST":
        form = {name: request.POST.get(name, "") for name in ISSUE_FIELDS}
        form["targets"] = request.POST.getlist("targets")
        upload = request.FILES.get("geojson")
        try:
            if upload is not None and upload.size and upload.size > 2 * 1024 * 1024:
                raise ServiceError("area_invalid", "GeoJSON 文件不超过 2 MB", status=422)
            area = area_from_input(
                kind=form["area_kind"], data=form, upload=upload.read() if upload is not None else None
            )
            received = warning_issue(
                actor=request.user,
                form=IssueForm(
                    event=form["event"],
                    severity=form["severity"],
                    urgency=form["urgency"],
                    certainty=form["certainty"],
                    headline=form["headline"],
                    description=form["description"],
                    instruction=form["instruction"],
                    area=area,
                    area_desc=form["area_desc"],
                    expires=_expires(form["expires"]),
                    category=form["category"] or "Met",
                    status=form["status"] or "Actual",
                ),
            )
        except ServiceError as exc:
            if exc.status == 403:
                raise
            error = exc.message
        else:
            w = received.warning
            messages.success(
                request,
                f"预警已发布:{w.grid_count} 个网格、{w.household_count} 户,短信 {w.sms_count} 条,"
                f"需上门告知 {w.visit_count} 户。",
            )
            return redirect("emergency:warning", pk=w.pk)
    return render(
        request,
        "emergency/warning_issue.html",
        {
            "form": form,
            "error": error,
            "choices": _target_choices(request.user),
            "area_kinds": [(k, label) for k, label in AreaKind.choices if k != AreaKind.WARNING],
            "severities": [(v, policy.SEVERITY_LABELS[v]) for v in cap.SEVERITIES],
            "urgencies": [(v, policy.URGENCY_LABELS[v]) for v in cap.URGENCIES],
            "certainties": [(v, policy.CERTAINTY_LABELS[v]) for v in cap.CERTAINTIES],
            "categories": CATEGORY_CHOICES,
            "statuses": [("Actual", "正式"), ("Exercise", "演练"), ("Test", "测试(不发送)")],
            "map_config": {"featuresUrl": reverse("api:grid_list")},
        },
        status=422 if error else 200,
    )


CATEGORY_CHOICES = [
    ("Met", "气象"),
    ("Geo", "地质/地震"),
    ("Env", "环境"),
    ("Safety", "安全"),
    ("Fire", "火灾"),
    ("Health", "卫生"),
    ("Infra", "基础设施"),
    ("Transport", "交通"),
    ("Rescue", "救援"),
    ("Security", "治安"),
    ("CBRNE", "危化品"),
    ("Other", "其他"),
]

"""好差评 pages: the rating widget for any rated object, the supervisor's pages (ratings, bad
ratings and rectifications, appeals, rankings, the 办不成事 queue), the responsible unit's
rectification page, and the public 办不成事 form.

Views parse input, call ratings.services / ratings.selectors and render. Forms post and redirect
back with a message (PRG); a refusal renders the page again with the message, status 400, having
changed nothing. A record outside the viewer's reach is a 404 page, like a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Region, RegionLevel
from shanzhi.core.selectors import region_county, roles_of
from shanzhi.ratings import selectors, services
from shanzhi.ratings.models import (
    BAD_LEVELS,
    OPEN_RECTIFICATION,
    AppealStatus,
    Level,
    RatingChannel,
    Rectification,
    RectificationStatus,
    ReportStatus,
)
from shanzhi.ratings.presenters import may_call, rectification_overdue, report_overdue
from shanzhi.ratings.registry import adapter_for
from shanzhi.web import pages as web_pages

View = Callable[..., HttpResponse]
PER_PAGE = 30
LIST_ROLES = selectors.OVERSIGHT_ROLES | selectors.UNIT_ROLES

# The five levels as the widget shows them: value, label, stars for those who read slowly
# (★ is in every CJK font; emoji faces are not).
LEVEL_BUTTONS = [
    (Level.VERY_SATISFIED, "非常满意", "★★★★★"),
    (Level.SATISFIED, "满意", "★★★★"),
    (Level.BASIC, "基本满意", "★★★"),
    (Level.UNSATISFIED, "不满意", "★★"),
    (Level.VERY_UNSATISFIED, "非常不满意", "★"),
]


_PROBLEM = "ratings/problem.html"
# These pages do not exist for other roles: 404, not 403.
page = partial(web_pages.page, template=_PROBLEM, wrong_role_status=404, wrong_role_message="页面不存在。")


def _problem(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    return web_pages.problem(request, status=status, message=message, template=_PROBLEM)


def _text(request: HttpRequest, name: str) -> str:
    return str(request.POST.get(name, ""))


# --- the rating widget ----------------------------------------------------------------------------


@page()
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, obj_type: str, obj_id: str) -> HttpResponse:
    adapter = adapter_for(obj_type)
    obj = adapter.find(ref=obj_id)
    if obj is None:
        raise NotFound("评价对象不存在")
    adapter.rater(actor=request.user, obj=obj)  # 404 for someone who may not see it, 403 for a role
    error, status = "", 200
    if request.method == "POST":
        roles = roles_of(user=request.user)
        try:
            services.rating_submit(
                actor=request.user,
                obj_type=obj_type,
                obj_id=obj_id,
                level=_text(request, "level"),
                comment=_text(request, "comment"),
                channel=RatingChannel.WEB if "resident" in roles else "",
            )
        except (NotFound, PermissionDenied):
            raise
        except ServiceError as exc:
            error, status = exc.message, 400
        else:
            messages.success(request, "感谢您的评价!")
            return redirect("ratings:rate", obj_type=obj_type, obj_id=obj_id)
    rating = selectors.rating_of(obj_type=obj_type, obj_id=adapter.ref(obj))
    rect = getattr(rating, "rectification", None) if rating is not None else None
    return render(
        request,
        "ratings/rate.html",
        {
            "title": adapter.title(obj),
            "label": adapter.label,
            "object_url": adapter.url(obj),
            "rating": rating,
            "rectification": rect,
            "finished": adapter.is_finished(obj),
            "levels": LEVEL_BUTTONS,
            "error": error,
            "comment": _text(request, "comment") if error else "",
        },
        status=status,
    )


# --- lists for supervisors and units --------------------------------------------------------------


@page(roles=LIST_ROLES)
def rating_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.rating_list(user=request.user)
    level = request.GET.get("level", "")
    if level == "bad":
        qs = qs.filter(level__in=BAD_LEVELS)
    elif level in Level.values:
        qs = qs.filter(level=level)
    month = request.GET.get("month", "")
    if month:
        try:
            start, end = selectors.month_bounds(selectors.parse_month(month))
            qs = qs.filter(created_at__gte=start, created_at__lt=end)
        except ServiceError as exc:
            messages.error(request, exc.message)
    page_obj = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "ratings/list.html",
        {"page": page_obj, "level": level, "month": month, "levels": Level.choices, **_tabs(request, "list")},
    )


def _tabs(request: HttpRequest, current: str) -> dict[str, Any]:
    supervisor = bool(roles_of(user=request.user) & selectors.SUPERVISE_ROLES)
    return {"tab": current, "is_supervisor": supervisor}


@page(roles=LIST_ROLES)
def rectification_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.rectification_list(user=request.user)
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=OPEN_RECTIFICATION)
    elif status in RectificationStatus.values:
        qs = qs.filter(status=status)
    page_obj = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"r": r, "overdue": rectification_overdue(r)} for r in page_obj.object_list]
    return render(
        request,
        "ratings/rectifications.html",
        {
            "page": page_obj,
            "rows": rows,
            "status": status,
            "statuses": RectificationStatus.choices,
            "now": timezone.now(),
            **_tabs(request, "rectifications"),
        },
    )


def _rectification_context(request: HttpRequest, rect: Rectification) -> dict[str, Any]:
    user = request.user
    unit = may_call(user=user, handler_id=rect.handler_id, region=None)
    supervisor = bool(roles_of(user=user) & selectors.SUPERVISE_ROLES)
    can_act = unit or may_call(user=user, handler_id=None, region=rect.region)
    rating = rect.rating
    appeal = getattr(rating, "appeal", None)
    return {
        "r": rect,
        "rating": rating,
        "appeal": appeal,
        "overdue": rectification_overdue(rect),
        "can_act": can_act,
        "can_callback": can_act
        and rect.called_back_at is None
        and rect.status in (RectificationStatus.OPEN, RectificationStatus.OVERDUE),
        "can_fix": can_act
        and rect.called_back_at is not None
        and rect.status in (RectificationStatus.CALLED_BACK, RectificationStatus.OVERDUE),
        "can_appeal": (unit or "admin" in roles_of(user=user)) and appeal is None and rating.is_bad,
        "is_supervisor": supervisor,
        "phone": rating.rater_phone if can_act else "",
        "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "tab": "rectifications",
    }


@page(roles=LIST_ROLES)
def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rect = selectors.rectification_get(user=request.user, pk=pk)
    return render(request, "ratings/rectification.html", _rectification_context(request, rect))


def _parse_local(value: str) -> dt.datetime | None:
    """A <input type=datetime-local> value in Asia/Shanghai; empty → None (now)."""
    if not value:
        return None
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ServiceError("invalid_time", "回访时间格式不正确") from exc
    if naive.tzinfo is not None:
        return naive
    return timezone.make_aware(naive)


@page(roles=LIST_ROLES)
@require_POST
def rectification_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    rect = selectors.rectification_get(user=request.user, pk=pk)
    try:
        if action == "callback":
            services.rectification_callback(
                actor=request.user,
                rectification=rect,
                rater_said=_text(request, "rater_said"),
                called_at=_parse_local(_text(request, "called_at")),
            )
            done = "已登记回访"
        elif action == "fix":
            services.rectification_fix(
                actor=request.user, rectification=rect, result=_text(request, "result")
            )
            done = "已登记整改结果,并已告知评价人"
        elif action == "appeal":
            services.rating_appeal(actor=request.user, rating=rect.rating, reason=_text(request, "reason"))
            done = "申诉已提交,等待督查人员裁定"
        else:
            raise NotFound("没有这个操作")
    except (NotFound, PermissionDenied):
        raise
    except ServiceError as exc:
        context = _rectification_context(request, selectors.rectification_get(user=request.user, pk=pk))
        context.update({"error": exc.message, "error_action": action, "posted": request.POST})
        return render(request, "ratings/rectification.html", context, status=400)
    messages.success(request, done)
    return redirect("ratings:rectification", pk=pk)


# --- appeals --------------------------------------------------------------------------------------


@page(roles=selectors.SUPERVISE_ROLES)
def appeal_list(request: HttpRequest) -> HttpResponse:
    pending = list(selectors.pending_appeals(user=request.user))
    decided = (
        selectors.appeal_list(user=request.user).exclude(status=AppealStatus.PENDING).order_by("-decided_at")
    )
    return render(
        request,
        "ratings/appeals.html",
        {"pending": pending, "decided": decided[:50], **_tabs(request, "appeals")},
    )


@page(roles=selectors.SUPERVISE_ROLES)
@require_POST
def appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = selectors.appeal_get(user=request.user, pk=pk)
    verdict = request.POST.get("uphold")
    try:
        if verdict not in ("1", "0"):
            raise ServiceError("invalid_decision", "请选择申诉成立或不成立")
        services.appeal_decide(
            actor=request.user, appeal=appeal, uphold=verdict == "1", note=_text(request, "note")
        )
    except (NotFound, PermissionDenied):
        raise
    except ServiceError as exc:
        messages.error(request, f"{appeal.rating.object_title}:{exc.message}")
        return redirect("ratings:appeals")
    messages.success(request, "已裁定:" + ("申诉成立,该评价不计入排名" if verdict == "1" else "申诉不成立"))
    return redirect("ratings:appeals")


# --- rankings -------------------------------------------------------------------------------------


@page(roles=selectors.SUPERVISE_ROLES)
def rankings(request: HttpRequest) -> HttpResponse:
    value = request.GET.get("month", "")
    error = ""
    month = selectors.previous_month(timezone.localdate())
    if value:
        try:
            month = selectors.parse_month(value)
        except ServiceError as exc:
            error = exc.message
    ranking = selectors.staff_ranking(user=request.user, month=month)
    return render(
        request,
        "ratings/rankings.html",
        {
            "ranking": ranking,
            "month_value": f"{month:%Y-%m}",
            "previous": f"{selectors.previous_month(month):%Y-%m}",
            "error": error,
            **_tabs(request, "rankings"),
        },
        status=400 if error else 200,
    )


# --- 办不成事 --------------------------------------------------------------------------------------


@page(roles=selectors.SUPERVISE_ROLES)
def report_queue(request: HttpRequest) -> HttpResponse:
    qs = selectors.cannot_get_done_list(user=request.user)
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.exclude(status=ReportStatus.RESOLVED)
    elif status in ReportStatus.values:
        qs = qs.filter(status=status)
    page_obj = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"r": r, "overdue": report_overdue(r)} for r in page_obj.object_list]
    return render(
        request,
        "ratings/reports.html",
        {
            "page": page_obj,
            "rows": rows,
            "status": status,
            "statuses": ReportStatus.choices,
            **_tabs(request, "reports"),
        },
    )


def _report_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    report = selectors.cannot_get_done_get(user=request.user, pk=pk)
    return {"r": report, "overdue": report_overdue(report), "tab": "reports", "is_supervisor": True}


@page(roles=selectors.SUPERVISE_ROLES)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "ratings/report.html", _report_context(request, pk))


@page(roles=selectors.SUPERVISE_ROLES)
@require_POST
def report_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    report = selectors.cannot_get_done_get(user=request.user, pk=pk)
    try:
        if action == "respond":
            services.cannot_get_done_respond(
                actor=request.user, report=report, response=_text(request, "text")
            )
            done = "已登记响应,并已告知反映人"
        elif action == "resolve":
            services.cannot_get_done_resolve(
                actor=request.user, report=report, resolution=_text(request, "text")
            )
            done = "已登记解决结果,并已告知反映人"
        else:
            raise NotFound("没有这个操作")
    except (NotFound, PermissionDenied):
        raise
    except ServiceError as exc:
        context = _report_context(request, pk)
        context.update({"error": exc.message, "error_action": action, "posted": request.POST})
        return render(request, "ratings/report.html", context, status=400)
    messages.success(request, done)
    return redirect("ratings:report", pk=pk)


def _township_choices() -> list[Region]:
    return list(Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code"))


@page(public=True)
@require_http_methods(["GET", "POST"])
def report_form(request: HttpRequest) -> HttpResponse:
    """The public “办不成事” form: large controls, one column, no account needed."""
    error, status = "", 200
    if request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        try:
            report = services.cannot_get_done_report(
                actor=user,
                what=_text(request, "what"),
                where=_text(request, "where"),
                phone=_text(request, "phone"),
                name=_text(request, "name"),
                region_code=_text(request, "region"),
                channel=RatingChannel.WEB,
            )
        except ServiceError as exc:
            error, status = exc.message, 429 if exc.status == 429 else 400
        else:
            request.session["ratings_report_number"] = report.number
            return redirect(reverse("ratings:report_done"))
    county = region_county()
    return render(
        request,
        "ratings/report_form.html",
        {
            "townships": _township_choices(),
            "county": county,
            "error": error,
            "posted": request.POST if error else {},
        },
        status=status,
    )


@page(public=True)
def report_done(request: HttpRequest) -> HttpResponse:
    number = request.session.get("ratings_report_number", "")
    return render(request, "ratings/report_done.html", {"number": number})

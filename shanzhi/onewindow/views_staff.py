"""Staff pages: the window clerk's queue (取号, call, start, finish) and intake, waiting and
handling times per window, the back office's queue, the supervisor's overdue list, and 帮办代办
(applying with a resident's consent, booking home visits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.models import Region, Staff
from shanzhi.core.selectors import jurisdiction_root, region_list, staff_of
from shanzhi.onewindow import application_selectors as app_selectors
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow import assisted, materials, queue, selectors
from shanzhi.onewindow.escalation import LEVEL_LABELS
from shanzhi.onewindow.models import Bundle, Channel, ServiceItem, Theme
from shanzhi.onewindow.models_applications import ApplicationStatus, ConsentMethod, ProxyReason
from shanzhi.onewindow.models_queue import QueueTicket, ServiceWindow
from shanzhi.onewindow.views_apply import (
    answers_from,
    applicant_defaults,
    create_from_post,
    error_fields,
    questions_context,
)
from shanzhi.onewindow.views_common import ASSIST, BACK_OFFICE, CLERK, SUPERVISE, new_token, page
from shanzhi.web import live

# --- the window: queue numbers ---------------------------------------------------------------------


def _window_param(request: HttpRequest) -> ServiceWindow | None:
    value = request.GET.get("w") or request.POST.get("w") or ""
    if not value.isdigit():
        return None
    return queue.window_get(user=request.user, pk=int(value))


@page(roles=CLERK)
@require_GET
def window_view(request: HttpRequest) -> HttpResponse:
    """The clerk's counter: the number being served, the queue, today's averages, intake work."""
    windows = list(queue.window_list(user=request.user))
    window = _window_param(request) or (windows[0] if windows else None)
    today = timezone.localdate()
    halls = list(queue.hall_list(user=request.user))
    hall = window.hall if window else (halls[0] if halls else None)
    stats = queue.window_stats(user=request.user, since=today, until=today)
    return render(
        request,
        "onewindow/window.html",
        {
            "windows": windows,
            "window": window,
            "current": queue.current_ticket(window=window) if window else None,
            **_waiting_context(request, hall=hall, now=timezone.now()),
            "halls": halls,
            "hall": hall,
            "themes": Theme.choices,
            "stats": {s.window.pk if s.window else None: s for s in stats},
            "pending": list(app_selectors.clerk_pending(user=request.user)[:50]),
            "baseline": queue.BASELINE_WAIT_MINUTES,
            "target": queue.TARGET_WAIT_MINUTES,
        },
    )


def _waiting_context(request: HttpRequest, *, hall: Region | None, now: dt.datetime) -> dict[str, Any]:
    """The hall's waiting numbers and, for the live refresh, how many were taken since the last one."""
    if hall is None:
        return {"waiting": [], "waiting_count": 0, "waiting_url": "", "new_count": 0}
    waiting = queue.waiting_list(hall=hall)
    since = live.since_of(request.GET, now=now)
    url = live.with_since(reverse("onewindow:window_waiting"), QueryDict(f"hall={hall.code}"), now=now)
    return {
        "waiting": list(waiting[:50]),
        "waiting_count": waiting.count(),
        "waiting_url": url,
        "new_count": waiting.filter(taken_at__gt=since).count() if since else 0,
        "refreshed_at": now,
    }


@page(roles=CLERK)
@require_GET
def window_waiting_view(request: HttpRequest) -> HttpResponse:
    """The hall's waiting list alone, for the window page's 20-second live refresh."""
    hall = queue.hall_list(user=request.user).filter(code=request.GET.get("hall", "")[:12]).first()
    if hall is None:
        raise NotFound("服务大厅不存在或不在您的管辖范围内")
    return render(
        request, "onewindow/_waiting.html", _waiting_context(request, hall=hall, now=timezone.now())
    )


def _back(request: HttpRequest, window: ServiceWindow | None = None) -> HttpResponseBase:
    url = reverse("onewindow:window")
    if window is not None:
        url += f"?w={window.pk}"
    return redirect(url)


@page(roles=CLERK | frozenset({"resident"}))
@require_POST
def ticket_take_view(request: HttpRequest) -> HttpResponseBase:
    hall = Region.objects.filter(code=request.POST.get("hall", "")).first()
    if hall is None or not queue.hall_list(user=request.user).filter(pk=hall.pk).exists():
        raise NotFound("服务大厅不存在或不在您的管辖范围内")
    try:
        ticket = queue.ticket_take(
            actor=request.user,
            hall=hall,
            theme=request.POST.get("theme", ""),
            phone=request.POST.get("phone", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已取号:{ticket.number}")
    if request.POST.get("next") == "kiosk":
        return redirect("onewindow:kiosk")
    return _back(request, _window_param(request))


@page(roles=CLERK)
@require_POST
def window_call_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    window = queue.window_get(user=request.user, pk=pk)
    try:
        ticket = queue.ticket_call_next(actor=request.user, window=window)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if ticket is None:
            messages.info(request, "目前没有等候的号。")
        else:
            messages.success(request, f"请 {ticket.number} 号到 {window.code} 号窗口办理")
    return _back(request, window)


TICKET_ACTIONS: dict[str, Callable[..., QueueTicket]] = {
    "start": queue.ticket_start,
    "finish": queue.ticket_finish,
    "skip": queue.ticket_skip,
}


@page(roles=CLERK)
@require_POST
def ticket_act_view(request: HttpRequest, pk: int, action: str) -> HttpResponseBase:
    if action not in TICKET_ACTIONS:
        raise NotFound("没有这个操作")
    ticket = queue.ticket_get(user=request.user, pk=pk)
    try:
        TICKET_ACTIONS[action](actor=request.user, ticket=ticket)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(request, ticket.window)


@page(roles=CLERK | SUPERVISE)
@require_GET
def queue_stats_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        since = dt.date.fromisoformat(request.GET.get("since") or (today - dt.timedelta(days=29)).isoformat())
        until = dt.date.fromisoformat(request.GET.get("until") or today.isoformat())
    except ValueError:
        since, until = today - dt.timedelta(days=29), today
    if until < since or (until - since).days > 366:
        since, until = today - dt.timedelta(days=29), today
    return render(
        request,
        "onewindow/queue_stats.html",
        {
            "rows": queue.window_stats(user=request.user, since=since, until=until),
            "since": since,
            "until": until,
            "baseline": queue.BASELINE_WAIT_MINUTES,
            "target": queue.TARGET_WAIT_MINUTES,
        },
    )


# --- intake (window and assisted) ----------------------------------------------------------------


def _choose(request: HttpRequest, channel: str) -> tuple[ServiceItem | None, Bundle | None, list[Any], str]:
    """The chosen item or bundle (?item= / ?bundle=), else search results for ?q=."""
    code = request.GET.get("item") or request.POST.get("item") or ""
    if code:
        item = selectors.service_item_get(code=code)
        if channel not in item.channels:
            raise ServiceError(
                "channel_not_offered", f"“{item.name}”不能通过“{Channel(channel).label}”办理", status=422
            )
        return item, None, [], ""
    bcode = request.GET.get("bundle") or request.POST.get("bundle") or ""
    if bcode:
        return None, selectors.bundle_get(code=bcode), [], ""
    q = request.GET.get("q", "")
    try:
        found = selectors.service_item_search(q=q, limit=20).items if q else []
    except ServiceError as exc:
        return None, None, [], exc.message
    return None, None, [i for i in found if channel in i.channels], ""


def _regions(request: HttpRequest) -> list[Region]:
    return list(region_list(user=request.user).order_by("path")[:400])


def _intake(request: HttpRequest, *, channel: str, template: str, url_name: str) -> HttpResponse:
    try:
        item, bundle, results, search_error = _choose(request, channel)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(url_name)
    questions = (
        materials.item_questions(item) if item else materials.bundle_questions(bundle) if bundle else []
    )
    error: ServiceError | None = None
    if request.method == "POST" and (item or bundle):
        region = None
        code = request.POST.get("region", "")
        if code:
            region = Region.objects.filter(code=code).first()
        consent = None
        if channel == Channel.ASSISTED:
            consent = svc.ConsentSpec(
                reason=request.POST.get("reason", ""),
                consenter_name=request.POST.get("consenter_name", ""),
                relation=request.POST.get("relation", ""),
                method=request.POST.get("method", ""),
                witness=request.POST.get("witness", ""),
            )
        try:
            app = create_from_post(
                request,
                channel=channel,
                item=item,
                bundle=bundle,
                questions=questions,
                region=region,
                consent=consent,
            )
            ticket_id = request.POST.get("ticket", "")
            if ticket_id.isdigit():
                ticket = QueueTicket.objects.filter(pk=int(ticket_id), application__isnull=True).first()
                if ticket is not None and ticket.status == "serving":
                    queue.ticket_finish(
                        actor=request.user,
                        ticket=queue.ticket_get(user=request.user, pk=ticket.pk),
                        application=app,
                    )
        except ServiceError as exc:
            error = exc
        else:
            messages.success(request, f"已建立申请 {app.number},请核验材料。")
            return redirect("onewindow:application", app.number)
    posted = answers_from(request, questions) if request.method == "POST" else {}
    staff = staff_of(user=request.user)
    fields = []
    if bundle is not None:
        fields = [
            {
                **f,
                "name": f"f_{f['key']}",
                "value": request.POST.get(f"f_{f['key']}", "") if request.method == "POST" else "",
            }
            for f in bundle.form_fields
        ]
    return render(
        request,
        template,
        {
            "item": item,
            "bundle": bundle,
            "fields": fields,
            "results": results,
            "bundles": selectors.bundle_list() if channel == Channel.WINDOW else [],
            "q": request.GET.get("q", ""),
            "search_error": search_error,
            "questions": questions_context(questions, posted),
            "defaults": applicant_defaults(request),
            "posted": request.POST if request.method == "POST" else {},
            "error": error,
            "error_fields": error_fields(error) if error else set(),
            "form_token": request.POST.get("form_token") or new_token(),
            "regions": _regions(request),
            "my_region": staff.region.code if staff else "",
            "ticket": request.GET.get("ticket") or request.POST.get("ticket") or "",
            "reasons": ProxyReason.choices,
            "methods": ConsentMethod.choices,
        },
        status=422 if error else 200,
    )


@page(roles=CLERK)
@require_http_methods(["GET", "POST"])
def intake_view(request: HttpRequest) -> HttpResponse:
    """窗口受理: choose the item (or a bundle), take the applicant's details and answers; the
    checklist follows on the application page."""
    return _intake(
        request, channel=Channel.WINDOW, template="onewindow/intake.html", url_name="onewindow:intake"
    )


@page(roles=ASSIST)
@require_http_methods(["GET", "POST"])
def assisted_view(request: HttpRequest) -> HttpResponse:
    """帮办代办: staff apply for an elderly or disabled resident, with the consent recorded."""
    return _intake(
        request, channel=Channel.ASSISTED, template="onewindow/assisted.html", url_name="onewindow:assisted"
    )


@page(roles=ASSIST)
@require_http_methods(["GET", "POST"])
def visits_view(request: HttpRequest) -> HttpResponse:
    """上门帮办: book a visit to a resident who cannot come; mark it done."""
    error = ""
    if request.method == "POST":
        try:
            # A NUL in a looked-up code failed the query on PostgreSQL (a 500): it is refused like
            # a NUL anywhere else. A staff id that is not a number finds nothing.
            post = {
                key: svc.refuse_nul(request.POST.get(key, ""), label=label)
                for key, label in (("region", "村(社区)"), ("staff", "上门人员"), ("item", "事项"))
            }
            region = region_list(user=request.user).filter(code=post["region"]).first()
            staff = (
                Staff.objects.select_related("region", "user").filter(pk=post["staff"]).first()
                if post["staff"].isdigit()
                else None
            )
            item = ServiceItem.objects.filter(code=post["item"], active=True).first()
            if region is None:
                raise ServiceError("invalid_region", "请选择村(社区)", status=422)
            if staff is None:
                raise ServiceError("invalid_staff", "请选择上门人员", status=422)
            visit_date = dt.date.fromisoformat(request.POST.get("visit_date", ""))
        except ValueError:
            error = "请填写上门日期"
        except ServiceError as exc:
            error = exc.message
        else:
            try:
                assisted.home_visit_book(
                    actor=request.user,
                    region=region,
                    resident_name=request.POST.get("resident_name", ""),
                    resident_phone=request.POST.get("resident_phone", ""),
                    reason=request.POST.get("reason", ""),
                    address=request.POST.get("address", ""),
                    visit_date=visit_date,
                    staff=staff,
                    item=item,
                    note=request.POST.get("note", ""),
                )
            except ServiceError as exc:
                error = exc.message
            else:
                messages.success(request, "已预约上门帮办,已短信告知居民。")
                return redirect("onewindow:visits")
    root = jurisdiction_root(user=request.user)
    candidates = Staff.objects.select_related("region").filter(
        user__is_active=True, roles__role__in=["clerk", "gridworker"]
    )
    if root is not None:
        candidates = candidates.filter(region__path__startswith=root.path) | candidates.filter(
            region__code__in=[c for c in root.path.strip("/").split("/") if c]
        )
    return render(
        request,
        "onewindow/visits.html",
        {
            "visits": list(
                app_selectors.home_visit_list(user=request.user).order_by("-visit_date", "-id")[:100]
            ),
            "regions": [r for r in _regions(request) if r.level == "village"],
            "staff": list(candidates.distinct().order_by("name")[:200]),
            "reasons": ProxyReason.choices,
            "posted": request.POST if request.method == "POST" else {},
            "error": error,
            "today": timezone.localdate(),
        },
        status=422 if error else 200,
    )


@page(roles=ASSIST)
@require_POST
def visit_done_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    visit = app_selectors.home_visit_list(user=request.user).filter(pk=pk).first()
    if visit is None:
        raise NotFound("上门预约不存在")
    try:
        assisted.home_visit_done(actor=request.user, visit=visit)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记上门完成。")
    return redirect("onewindow:visits")


# --- back office and supervision ----------------------------------------------------------------------


BACK_OFFICE_STATUSES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.ACCEPTED,
    ApplicationStatus.IN_REVIEW,
    ApplicationStatus.CORRECTION_REQUESTED,
)
PER_PAGE = 30


@page(roles=BACK_OFFICE)
@require_GET
def back_office_view(request: HttpRequest) -> HttpResponse:
    """后台审批: the department's queue, filtered by state or a search, 30 a page."""
    now = timezone.now()
    qs = app_selectors.back_office_queue(user=request.user)
    status = request.GET.get("status", "")
    status = status if status in BACK_OFFICE_STATUSES else ""
    if status:
        qs = qs.filter(status=status)
    q = (request.GET.get("q") or "").strip()[:50]
    if q:
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(applicant_name__icontains=q)
            | Q(item__name__icontains=q)
            | Q(bundle__name__icontains=q)
        )
    paged = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    staff = staff_of(user=request.user)
    return render(
        request,
        "onewindow/back_office.html",
        {
            "apps": list(paged.object_list),
            "page": paged,
            "now": now,
            "department": staff.handler if staff else None,
            "status": status,
            "statuses": [(s, ApplicationStatus(s).label) for s in BACK_OFFICE_STATUSES],
            "q": q,
            "filtered": bool(status or q),
        },
    )


@page(roles=SUPERVISE)
@require_GET
def overdue_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    paged = Paginator(app_selectors.overdue_list(user=request.user, now=now), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = []
    for app in paged.object_list:
        level = "county" if app.county_escalated_at else "escalation" if app.escalated_at else ""
        rows.append(
            {
                "app": app,
                "level": LEVEL_LABELS.get(level, ""),
                "overdue_hours": round((now - app.deadline).total_seconds() / 3600, 1) if app.deadline else 0,
            }
        )
    return render(request, "onewindow/overdue.html", {"rows": rows, "now": now, "page": paged})

"""Pages of the closed loop: hotline intake with live triage, the dispatcher's queue, the handler's
inbox, the case page, grid workers' verification, residents' reports and the public status lookup.

Views parse input (cases.forms), call cases.services / cases.intake / cases.selectors and render.
Every page form posts to one of three action views; on success they redirect back (PRG) with a
message, on a refusal they render the page the form came from again, with the message next to
the form and the values kept (status 400), having changed nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import BooleanField, Prefetch, Q, QuerySet, Value, When
from django.db.models import Case as SqlCase
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi.cases import forms, selectors, services
from shanzhi.cases.clocks import unit_of
from shanzhi.cases.intake import IntakeRequest, intake_request
from shanzhi.cases.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    AttachmentStage,
    Case,
    CaseStatus,
    Channel,
    ClockUnit,
    HandlerRequest,
    RequestKind,
    RequestState,
    Satisfaction,
)
from shanzhi.cases.presenters import reporter_phone
from shanzhi.cases.uploads import MAX_PHOTOS, check_photos
from shanzhi.cases.workflow import DISPATCH_ROLES, TRANSITIONS, allowed_actions
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.masking import mask_text
from shanzhi.core.models import HandlerType, RegionLevel, Staff
from shanzhi.core.selectors import roles_of, staff_of
from shanzhi.core.workcal import remaining
from shanzhi.web import live
from shanzhi.web import pages as web_pages

View = Callable[..., HttpResponseBase]

INTAKE_ROLES = frozenset({"operator", "admin"})
QUEUE_ROLES = frozenset({"dispatcher", "admin"})
INBOX_ROLES = frozenset({"handler", "admin"})
VERIFY_LIST_ROLES = frozenset({"gridworker", "admin"})
RESIDENT_ROLES = frozenset({"resident"})
LIST_ROLES = selectors.STAFF_ROLES

QUEUE_STATUSES = (CaseStatus.RECEIVED, CaseStatus.REGISTERED)
ALL_STATUSES = tuple(CaseStatus.values)
# How long a request may wait in the queue before it is shown as 超时待派 and sorted first
# (12345 practice: ordinary requests dispatched within 2 hours, urgent ones within 30 minutes).
DISPATCH_WAIT = dt.timedelta(hours=2)
URGENT_WAIT = dt.timedelta(minutes=30)
PER_PAGE = 30
BULK_MAX = 100

EVENT_LABELS = {
    "receive": "受理",
    "register": "立案",
    "refuse": "不予立案",
    "merge": "合并",
    "absorb": "合并同类诉求",
    "split": "拆分",
    "dispatch": "派遣",
    "accept": "签收",
    "return": "退回",
    "report": "反馈办理结果",
    "verify_pass": "核查通过,结案",
    "verify_reject": "核查不通过,返工",
    "rate": "评价",
    "reopen": "重新办理",
    "request_extension": "申请延期",
    "request_suspension": "申请缓办",
    "decide_extension": "审批延期申请",
    "decide_suspension": "审批缓办申请",
    "resume": "恢复办理",
    "warning": "临期预警",
    "escalation": "超期督办",
    "county": "县级督办",
}


# --- plumbing -----------------------------------------------------------------------------------


_PROBLEM = "cases/problem.html"
page = partial(web_pages.page, template=_PROBLEM)


def _problem(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    return web_pages.problem(request, status=status, message=message, template=_PROBLEM)


@dataclass
class Failure:
    """A refused form: which action on which record, the message, the input it is about, and
    what was posted (so the form shows it again)."""

    action: str
    target: str
    message: str
    field: str
    posted: QueryDict


def _failure(exc: ServiceError, *, action: str, target: str, request: HttpRequest) -> Failure:
    field = forms.field_of(exc)
    if action == "verify" and field == "reason":
        field = "note"  # the verification form calls its reason "核查情况"
    return Failure(action, target, exc.message, field, request.POST)


def _next_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next") or ""
    if url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def _query_of(url: str) -> QueryDict:
    return QueryDict(urlsplit(url).query)


def _page_query(query: QueryDict) -> str:
    """The query string without `page`, for pagination links."""
    rest = query.copy()
    rest.pop("page", None)
    return rest.urlencode()


def _fmt_span(hours: float, unit: str) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} 分钟"
    if unit == ClockUnit.NATURAL_HOURS and hours >= 48:
        days, rest = divmod(hours, 24)
        return f"{int(days)} 天 {round(rest)} 小时" if round(rest) else f"{int(days)} 天"
    label = "工作时" if unit == ClockUnit.WORKING_HOURS else "小时"
    return f"{hours:.1f} {label}"


def assignment_clock(a: Assignment, *, now: dt.datetime) -> dict[str, Any]:
    """Deadline and remaining time of one share: ok, warn (80 % used), overdue, paused or done."""
    if a.status == AssignmentStatus.SUSPENDED:
        return {"state": "paused", "text": "缓办中,计时暂停", "deadline": a.deadline}
    if a.status not in (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED):
        done = a.reported_at or a.finished_at
        late = a.on_time is False or (done is not None and done > a.deadline)
        return {
            "state": "late" if late else "done",
            "text": "超期办结" if late else "",
            "deadline": a.deadline,
        }
    left = remaining(deadline=a.deadline, now=now, unit=unit_of(assignment=a))
    hours = left.total_seconds() / 3600
    # unit and warn_at let the page's clock tick on in the browser (web/app.js, [data-deadline]).
    running = {"deadline": a.deadline, "warn_at": a.warn_at, "unit": a.clock_unit}
    if a.deadline <= now:
        # Past its deadline it is overdue, even when no working time has passed since (evenings,
        # weekends: the working-hours span is then 0 and there is nothing to count yet).
        span = f" {_fmt_span(-hours, a.clock_unit)}" if hours < 0 else ""
        return {"state": "overdue", "text": f"已超时{span}", **running}
    state = "warn" if now >= a.warn_at else "ok"
    return {"state": state, "text": f"剩余 {_fmt_span(hours, a.clock_unit)}", **running}


def _type_names() -> dict[str, str]:
    return dict(HandlerType.objects.values_list("code", "name_zh"))


def _route_codes(case: Case, *, cache: dict[str, Any]) -> tuple[str | None, list[str], list[str]]:
    """(primary, co-handlers, what could not be routed) for the case's current category at its
    place: triage's routing kept at intake when the category is still the one it predicted,
    else the catalogue's routing for the corrected category."""
    from shanzhi.triage.categories import category_table
    from shanzhi.triage.route import route

    effective = case.category or case.suggested_category
    if effective is None:
        return None, [], ["尚未确定诉求类别"]
    data = case.suggestion or {}
    if "types" not in cache:
        cache["types"] = _type_names()
    types: dict[str, str] = cache["types"]
    routed_for = data.get("chosen_by_reporter") or data.get("category")
    if routed_for == effective.code and "handler" in data:
        unresolved = [types.get(str(t), str(t)) for t in data.get("unresolved") or []]
        return data.get("handler"), [str(c) for c in data.get("co_handlers") or []], unresolved
    if "categories" not in cache:
        cache["categories"] = category_table()
    village = case.region if case.region is not None and case.region.level == RegionLevel.VILLAGE else None
    try:
        routing = route(
            category=effective.code,
            village=village,
            township=case.township,
            estate=case.estate,
            categories=cache["categories"],
        )
    except ServiceError:
        return None, [], ["该类别没有配置承办单位"]
    return (
        routing.primary.code if routing.primary else None,
        [h.code for h in routing.co_handlers],
        [routing.reasons.get(t) or types.get(t, t) for t in routing.unresolved],
    )


def _timeline(case: Case, *, with_actors: bool, masked: bool) -> list[dict[str, Any]]:
    events = list(case.timeline.all())
    names: dict[str, str] = {}
    if with_actors:
        usernames = {e.actor for e in events if e.actor != "system"}
        names = dict(Staff.objects.filter(user__username__in=usernames).values_list("user__username", "name"))
    return [
        {
            "at": e.at,
            "action": e.action,
            "label": EVENT_LABELS.get(e.action, e.action),
            "note": mask_text(e.note) if masked else e.note,
            "actor": ("系统" if e.actor == "system" else names.get(e.actor, e.actor)) if with_actors else "",
        }
        for e in events
    ]


def _photos(request: HttpRequest) -> list[Any]:
    """Uploaded photos, checked by content (a refusal names the photo)."""
    return check_photos(files=forms.photos(request.FILES))


# --- 1. hotline intake with live triage --------------------------------------------------------------


def _intake_request(request: HttpRequest, *, channel: str) -> IntakeRequest:
    data = request.POST
    lon, lat, crs = forms.point(data)
    return IntakeRequest(
        channel=channel,
        text=forms.text(data, "text"),
        lon=lon,
        lat=lat,
        crs=crs,
        address=forms.text(data, "address", max_length=255),
        reporter_name=forms.text(data, "reporter_name", max_length=64),
        reporter_phone=forms.text(data, "reporter_phone", max_length=20),
        urgent=forms.flag(data, "urgent"),
        photos=forms.photos(request.FILES),
    )


def _form_context(request: HttpRequest, *, failure: Failure | None) -> dict[str, Any]:
    key = request.POST.get("idempotency_key") if failure else None
    return {
        "failure": failure,
        "values": failure.posted if failure else {},
        "crs_choices": list(forms.CRS_LABELS.items()),
        "idempotency_key": key or uuid.uuid4().hex,
        "max_photos": MAX_PHOTOS,
        "photos_lost": bool(failure and request.FILES.getlist("photos")),
    }


@page(roles=INTAKE_ROLES)
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    """来电登记: the operator types while triage proposes category, place and handlers."""
    if request.method == "POST":
        try:
            case = intake_request(
                actor=request.user,
                request=_intake_request(request, channel=Channel.HOTLINE),
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except ServiceError as exc:
            if isinstance(exc, NotFound | PermissionDenied):
                raise
            failure = _failure(exc, action="intake", target="", request=request)
            return render(request, "cases/intake.html", _form_context(request, failure=failure), status=400)
        return redirect(f"{reverse('cases:intake')}?created={case.number}")
    context = _form_context(request, failure=None)
    number = request.GET.get("created", "")
    if number:
        try:
            context["created"] = selectors.case_get(user=request.user, number=number)
        except NotFound:
            context["created"] = None
    return render(request, "cases/intake.html", context)


def _suggestion(answer: dict[str, Any]) -> dict[str, Any]:
    co_codes = [str(c) for c in answer.get("co_handlers") or []]
    estate = answer.get("estate") or None
    companies = [estate["property_company"]] if estate and estate.get("property_company") else []
    names = forms.handler_names([*co_codes, *companies])
    return {
        "top3": [
            {"code": c["category"], "name": c["name"], "pct": round(float(c["confidence"]) * 100)}
            for c in answer.get("top3", [])
        ],
        "grid": answer.get("grid"),
        "village": answer.get("village"),
        "township": answer.get("township"),
        "estate": {
            "name": estate["name"],
            "company": names.get(estate.get("property_company") or "", ""),
        }
        if estate
        else None,
        "handler": answer.get("handler_name"),
        "co": [names[c] for c in co_codes if c in names],
        "unresolved": [u.get("reason") or u.get("type") for u in answer.get("unresolved") or []],
        "auto_dispatch": bool(answer.get("auto_dispatch")),
        "location": answer.get("location"),
    }


@page(roles=INTAKE_ROLES)
@require_POST
def intake_suggest(request: HttpRequest) -> HttpResponse:
    """The live triage fragment: top-3 categories, the place found, the handlers it routes to."""
    from shanzhi.triage.answer import parse_request, triage_answer

    data = request.POST
    text = (data.get("text") or "").strip()
    if not text:
        return render(request, "cases/_suggest.html", {"empty": True})
    body: dict[str, Any] = {"text": text[:4001], "address": (data.get("address") or "")[:500]}
    try:
        lon, lat, crs = forms.point(data)
        if lon is not None:
            body.update(lon=lon, lat=lat, crs=crs)
    except ServiceError:
        pass  # half-typed coordinates: suggest from the words until they are complete
    try:
        answer = triage_answer(request=parse_request(body))
    except ServiceError as exc:
        return render(request, "cases/_suggest.html", {"error": exc.message})
    return render(request, "cases/_suggest.html", {"s": _suggestion(answer)})


# --- 2. the dispatcher's queue -----------------------------------------------------------------------


def overdue_first(qs: QuerySet[Case], *, now: dt.datetime) -> QuerySet[Case]:
    late = Q(urgent=True, received_at__lt=now - URGENT_WAIT) | Q(received_at__lt=now - DISPATCH_WAIT)
    return qs.annotate(
        waited_too_long=SqlCase(
            When(late, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    ).order_by("-waited_too_long", "received_at", "id")


def _queue_rows(
    cases: list[Case],
    *,
    request: HttpRequest,
    failure: Failure | None,
    open_number: str | None,
    next_url: str,
) -> list[dict[str, Any]]:
    cache: dict[str, Any] = {}
    routes = {c.number: _route_codes(c, cache=cache) for c in cases}
    names = forms.handler_names([code for p, co, _u in routes.values() for code in [p or "", *co] if code])
    now = timezone.now()
    rows = []
    for case in cases:
        primary, co, unresolved = routes[case.number]
        rows.append(
            {
                "case": case,
                "overdue": getattr(case, "waited_too_long", False),
                "waited": _fmt_span((now - case.received_at).total_seconds() / 3600, ClockUnit.NATURAL_HOURS),
                "confidence": round(case.suggestion_confidence * 100)
                if case.suggestion_confidence is not None
                else None,
                "primary": names.get(primary or ""),
                "co": [names[c] for c in co if c in names],
                "unresolved": unresolved,
                "panel": _panel(request, case, failure=failure, origin="queue", next_url=next_url)
                if case.number == open_number
                else None,
            }
        )
    return rows


def _queue_context(
    request: HttpRequest, *, query: QueryDict, failure: Failure | None = None, open_number: str | None = None
) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    since = live.since_of(query, now=now)
    query = live.without_since(query)
    filters = forms.CaseFilter.from_query(query, statuses=QUEUE_STATUSES)
    qs = filters.apply(selectors.dispatcher_queue(user=user)).select_related(
        "suggested_category", "possible_duplicate_of", "estate__property_company"
    )
    paged = Paginator(overdue_first(qs, now=now), PER_PAGE).get_page(query.get("page"))
    page_query = _page_query(query)
    here = reverse("cases:queue") + (f"?{query.urlencode()}" if query else "")
    return {
        "filters": filters,
        "choices": forms.filter_choices(user=user, statuses=QUEUE_STATUSES),
        "page": paged,
        "page_query": page_query,
        "rows": _queue_rows(
            list(paged.object_list), request=request, failure=failure, open_number=open_number, next_url=here
        ),
        "table_url": live.with_since(reverse("cases:queue_table"), query, now=now),
        "page_url": reverse("cases:queue"),
        "here": here,
        "refreshed_at": now,
        # what arrived since the last refresh (matching the filters), for "新增 N 件"
        "new_count": qs.filter(received_at__gt=since).count() if since else 0,
    }


def _request_rows(request: HttpRequest, *, failure: Failure | None, case: Case | None = None) -> list[Any]:
    pending = selectors.pending_requests(user=request.user).order_by("requested_at")
    if case is not None:
        pending = pending.filter(assignment__case=case)
    rows = list(pending.select_related("assignment__case", "assignment__handler")[:100])
    for r in rows:
        mine = failure if failure and failure.action == "decide" and failure.target == str(r.pk) else None
        r.failure = mine  # type: ignore[attr-defined]
    return rows


def _render_queue(
    request: HttpRequest,
    *,
    query: QueryDict,
    failure: Failure | None = None,
    open_number: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _queue_context(request, query=query, failure=failure, open_number=open_number)
    context["requests"] = _request_rows(request, failure=failure)
    context["bulk"] = request.session.pop("cases_bulk", None)
    context["failure"] = failure
    return render(request, "cases/queue.html", context, status=status)


@page(roles=QUEUE_ROLES)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """调度台: what waits for registration and dispatch, late first then oldest."""
    return _render_queue(request, query=request.GET)


@page(roles=QUEUE_ROLES)
@require_GET
def queue_table(request: HttpRequest) -> HttpResponse:
    """The queue table alone, for the page's 15-second live refresh."""
    return render(request, "cases/_queue_table.html", _queue_context(request, query=request.GET))


@page(roles=QUEUE_ROLES)
@require_GET
def queue_panel(request: HttpRequest, number: str) -> HttpResponse:
    """One case's register / dispatch / refuse / merge forms, opened under its queue row."""
    case = selectors.case_get(user=request.user, number=number)
    next_url = _next_url_from_get(request, default=reverse("cases:queue"))
    return render(
        request,
        "cases/_queue_panel.html",
        {"p": _panel(request, case, failure=None, origin="queue", next_url=next_url), "case": case},
    )


def _next_url_from_get(request: HttpRequest, *, default: str) -> str:
    url = request.GET.get("next") or ""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return default


def _panel(
    request: HttpRequest, case: Case, *, failure: Failure | None, origin: str, next_url: str
) -> dict[str, Any]:
    """What the dispatcher's forms for one case need: categories, handlers, triage's prefill."""
    can = _actions_for(request.user, case)
    mine = failure if failure and failure.target == case.number else None
    if not can & {"register", "dispatch", "refuse", "merge"}:
        return {"case": case, "can": can, "failure": mine, "origin": origin, "next_url": next_url}
    primary, co, unresolved = _route_codes(case, cache={})
    suggested = {h.code: h for h in _handlers_quietly([primary or "", *co])}
    local = forms.local_bodies(case)
    effective = case.category or case.suggested_category
    category_code = effective.code if effective else ""
    co_codes = set(co)
    if mine is not None and mine.action in ("dispatch", "register"):
        primary = mine.posted.get("primary", primary)
        co_codes = set(mine.posted.getlist("co"))
        category_code = mine.posted.get("category", category_code)
    return {
        "case": case,
        "can": can,
        "failure": mine,
        "origin": origin,
        "next_url": next_url,
        "categories": list(forms.active_categories().values_list("code", "name")),
        "category_code": category_code,
        "groups": forms.handler_groups(local=local),
        "co_options": forms.common_co_handlers(
            local=local, suggested=[suggested[c] for c in co if c in suggested]
        ),
        "primary_code": primary or "",
        "co_codes": co_codes,
        "unresolved": unresolved,
        "duplicate": case.possible_duplicate_of,
    }


def _handlers_quietly(codes: list[str]) -> list[Any]:
    try:
        return forms.handlers_by_code([c for c in codes if c], field_name="primary")
    except ServiceError:  # a body removed since triage proposed it
        return []


@page(roles=QUEUE_ROLES)
@require_POST
def bulk_dispatch(request: HttpRequest) -> HttpResponse:
    """Dispatch the ticked cases to triage's handlers, each through case_register + case_dispatch
    in its own transaction, and report case by case what was done and what was refused, and why."""
    back = _next_url(request, reverse("cases:queue"))
    numbers = list(dict.fromkeys(n.strip() for n in request.POST.getlist("numbers") if n.strip()))
    if not numbers:
        messages.error(request, "请先勾选要批量派遣的案卷")
        return redirect(back)
    results = []
    cache: dict[str, Any] = {}
    for number in numbers[:BULK_MAX]:
        try:
            case = selectors.case_get(user=request.user, number=number)
            primary, co, unresolved = _route_codes(case, cache=cache)
            if primary is None:
                why = ";".join(unresolved) or "智能分拨没有给出主办单位"
                raise ServiceError("no_route", f"无法自动确定主办单位({why}),请逐件派遣")
            handlers = forms.handlers_by_code([primary, *co], field_name="primary")
            case = services.case_register_and_dispatch(
                actor=request.user, case=case, primary=handlers[0], co_handlers=handlers[1:]
            )
        except ServiceError as exc:
            results.append({"number": number, "ok": False, "message": exc.message})
            continue
        names = "、".join(h.name for h in handlers)
        results.append({"number": number, "ok": True, "message": f"已派遣至 {names}"})
    for number in numbers[BULK_MAX:]:
        results.append(
            {"number": number, "ok": False, "message": f"一次最多批量派遣 {BULK_MAX} 件,本件未处理"}
        )
    request.session["cases_bulk"] = {
        "ok": sum(1 for r in results if r["ok"]),
        "failed": sum(1 for r in results if not r["ok"]),
        "rows": results,
    }
    return redirect(back)


# --- actions on one case ------------------------------------------------------------------------------

CASE_ACTIONS = frozenset({"register", "refuse", "merge", "dispatch", "verify", "rate"})


def _actions_for(user: Any, case: Case) -> set[str]:
    """The case-level forms this person may use now: the workflow table's moves from the case's
    status that their roles allow (assignment steps are offered with the assignment)."""
    roles = roles_of(user=user)
    can = {a for a in allowed_actions(status=case.status) if roles & TRANSITIONS[a].roles}
    can -= {"accept", "return", "report", "reopen"}
    if "rate" in can and "resident" in roles and case.reporter_id != getattr(user, "pk", None):
        can.discard("rate")
    if can & {"verify_pass", "verify_reject"}:
        can.add("verify")
    if case.status == CaseStatus.RECEIVED and roles & DISPATCH_ROLES:
        can.add("dispatch")  # 立案并派遣 in one step
    return can


def _do_case_action(request: HttpRequest, case: Case, action: str) -> str:
    data, user = request.POST, request.user
    if action == "register":
        urgent = forms.flag(data, "urgent") if "urgent_shown" in data else None
        done = services.case_register(actor=user, case=case, category=forms.category(data), urgent=urgent)
        return f"{done.number} 已立案,类别:{done.category.name if done.category else ''}"
    if action == "refuse":
        services.case_refuse(actor=user, case=case, reason=forms.text(data, "reason", max_length=255))
        return f"{case.number} 已不予立案"
    if action == "merge":
        into_number = forms.text(data, "into", max_length=24).upper()
        if not into_number:
            raise forms.FieldError("into", "请填写要合并到的案卷编号")
        try:
            into = selectors.case_get(user=user, number=into_number)
        except NotFound:
            raise forms.FieldError("into", f"案卷 {into_number} 不存在或不在您的管辖范围内") from None
        services.case_merge(actor=user, case=case, into=into)
        return f"{case.number} 已合并到 {into.number}"
    if action == "dispatch":
        parsed = forms.dispatch_input(data)
        done = services.case_register_and_dispatch(
            actor=user,
            case=case,
            primary=parsed.primary,
            co_handlers=parsed.co_handlers,
            category=parsed.category,
            note=parsed.note,
        )
        names = "、".join(h.name for h in [parsed.primary, *parsed.co_handlers])
        return f"{done.number} 已派遣至 {names}"
    if action == "verify":
        verdict = data.get("passed")
        if verdict not in ("0", "1"):
            raise forms.FieldError("passed", "请选择核查结果")
        done = services.case_verify(
            actor=user,
            case=case,
            passed=verdict == "1",
            note=forms.text(data, "note", max_length=2000),
            photos=_photos(request),
        )
        return f"{done.number} 核查通过,已结案" if verdict == "1" else f"{done.number} 核查不通过,已退回返工"
    if action == "rate":
        done = services.case_rate(
            actor=user,
            case=case,
            satisfaction=data.get("satisfaction", ""),
            comment=forms.text(data, "comment", max_length=500),
        )
        if done.status == CaseStatus.REGISTERED:
            return "感谢您的评价。您对处理结果不满意,该诉求已重新交由调度员复核办理"
        return "感谢您的评价"
    raise NotFound("没有这个操作")


@page()
@require_POST
def case_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    if action not in CASE_ACTIONS:
        raise NotFound("没有这个操作")
    case = selectors.case_get(user=request.user, number=number)
    detail = reverse("cases:detail", args=[case.number])
    try:
        message = _do_case_action(request, case, action)
    except ServiceError as exc:
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        failure = _failure(exc, action=action, target=case.number, request=request)
        return _render_origin(request, failure=failure, case=case)
    messages.success(request, message)
    return redirect(_next_url(request, detail))


def _render_origin(request: HttpRequest, *, failure: Failure, case: Case | None) -> HttpResponse:
    """The page a refused form came from, again, with the message beside the form."""
    origin = request.POST.get("origin", "")
    if origin == "queue" and has_queue(request):
        return _render_queue(
            request,
            query=_query_of(_next_url(request, "")),
            failure=failure,
            open_number=case.number if case is not None and failure.action != "decide" else None,
            status=400,
        )
    if origin == "inbox":
        return _render_inbox(request, failure=failure, status=400)
    if origin == "verify":
        return _render_verify_list(request, failure=failure, status=400)
    assert case is not None
    fresh = selectors.case_get(user=request.user, number=case.number)
    return render(request, "cases/detail.html", _detail_context(request, fresh, failure=failure), status=400)


def has_queue(request: HttpRequest) -> bool:
    return bool(roles_of(user=request.user) & QUEUE_ROLES)


@page()
@require_POST
def assignment_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """A handler body's step on its share: accept, return, report, request, resume."""
    assignment = selectors.assignment_get(user=request.user, pk=pk)
    data, user = request.POST, request.user
    number = assignment.case.number
    try:
        if action == "accept":
            services.assignment_accept(actor=user, assignment=assignment)
            message = f"已签收 {number}"
        elif action == "return":
            services.assignment_return(
                actor=user, assignment=assignment, reason=forms.text(data, "reason", max_length=255)
            )
            message = f"已退回 {number},等待调度员重新派遣"
        elif action == "report":
            services.assignment_report(
                actor=user, assignment=assignment, text=forms.text(data, "text"), photos=_photos(request)
            )
            message = f"已反馈 {number} 的办理结果"
        elif action == "request":
            kind = data.get("kind", "")
            hours = forms.hours(data) if kind == RequestKind.EXTENSION else 0.0
            services.assignment_request(
                actor=user,
                assignment=assignment,
                kind=kind,
                reason=forms.text(data, "reason", max_length=500),
                hours=hours,
            )
            label = RequestKind(kind).label if kind in RequestKind.values else ""
            message = f"已提交 {number} 的{label}申请,等待调度员审批"
        elif action == "resume":
            services.assignment_resume(actor=user, assignment=assignment)
            message = f"{number} 已恢复办理"
        else:
            raise NotFound("没有这个操作")
    except ServiceError as exc:
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        failure = _failure(exc, action=action, target=str(assignment.pk), request=request)
        return _render_origin(request, failure=failure, case=assignment.case)
    messages.success(request, message)
    return redirect(_next_url(request, reverse("cases:inbox")))


@page(roles=QUEUE_ROLES)
@require_POST
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A dispatcher approves or refuses an extension or suspension."""
    pending = (
        selectors.pending_requests(user=request.user).filter(pk=pk).select_related("assignment__case").first()
    )
    if pending is None:
        raise NotFound("申请不存在或已审批")
    decision = request.POST.get("decision")
    try:
        if decision not in ("approve", "refuse"):
            raise forms.FieldError("decision", "请选择批准或不批准")
        services.request_decide(
            actor=request.user,
            request=pending,
            approve=decision == "approve",
            note=forms.text(request.POST, "note", max_length=500),
        )
    except ServiceError as exc:
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        failure = _failure(exc, action="decide", target=str(pk), request=request)
        return _render_origin(request, failure=failure, case=pending.assignment.case)
    verdict = "批准" if decision == "approve" else "不批准"
    messages.success(
        request, f"已{verdict} {pending.assignment.case.number} 的{pending.get_kind_display()}申请"
    )
    return redirect(_next_url(request, reverse("cases:queue")))


# --- 3. the handler's inbox ---------------------------------------------------------------------------


def _assignment_row(a: Assignment, *, now: dt.datetime, failure: Failure | None) -> dict[str, Any]:
    pending = getattr(a, "pending_requests", None)
    return {
        "a": a,
        "case": a.case,
        "clock": assignment_clock(a, now=now),
        "pending_request": pending[0] if pending else None,
        "failure": failure
        if failure and failure.target == str(a.pk) and failure.action != "decide"
        else None,
    }


def _render_inbox(
    request: HttpRequest,
    *,
    failure: Failure | None = None,
    status: int = 200,
    template: str = "cases/inbox.html",
) -> HttpResponse:
    now = timezone.now()
    since = live.since_of(request.GET, now=now)
    query = live.without_since(request.GET)
    qs = selectors.handler_inbox(user=request.user).prefetch_related(
        Prefetch(
            "requests",
            queryset=HandlerRequest.objects.filter(state=RequestState.PENDING),
            to_attr="pending_requests",
        )
    )
    paged = Paginator(qs, PER_PAGE).get_page(query.get("page"))
    rows = [_assignment_row(a, now=now, failure=failure) for a in paged.object_list]
    counts = {
        "total": paged.paginator.count,
        "overdue": qs.filter(
            status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED], deadline__lt=now
        ).count(),
        "pending": qs.filter(status=AssignmentStatus.PENDING).count(),
    }
    staff = staff_of(user=request.user)
    here = reverse("cases:inbox") + (f"?{query.urlencode()}" if query else "")
    return render(
        request,
        template,
        {
            "rows": rows,
            "page": paged,
            "page_query": _page_query(query),
            "page_url": reverse("cases:inbox"),
            "list_url": live.with_since(reverse("cases:inbox_list"), query, now=now),
            "refreshed_at": now,
            "new_count": qs.filter(started_at__gt=since).count() if since else 0,
            "counts": counts,
            "body": staff.handler if staff else None,
            "here": here if request.method == "GET" else _next_url(request, reverse("cases:inbox")),
            "max_photos": MAX_PHOTOS,
            "failure": failure,
        },
        status=status,
    )


@page(roles=INBOX_ROLES)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """待办: the body's open shares, most urgent deadline first."""
    return _render_inbox(request)


@page(roles=INBOX_ROLES)
@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    """The inbox's counts and list alone, for the page's 20-second live refresh."""
    return _render_inbox(request, template="cases/_inbox_list.html")


# --- 4. the case page ----------------------------------------------------------------------------------


def _map_config(case: Case) -> dict[str, Any] | None:
    if case.grid is None:
        return None
    point = [case.lon, case.lat] if case.lon is not None and case.lat is not None else None
    return {
        "grid": {
            "type": "Feature",
            "properties": {"name": case.grid.name, "code": case.grid.code},
            "geometry": case.grid.geometry,
        },
        "point": point,
        "number": case.number,
    }


def _detail_context(request: HttpRequest, case: Case, *, failure: Failure | None = None) -> dict[str, Any]:
    user = request.user
    roles = roles_of(user=user)
    staff_view = bool(roles & selectors.STAFF_ROLES)
    now = timezone.now()
    staff = staff_of(user=user)
    assignments = sorted(
        case.assignments.select_related("handler").prefetch_related(
            Prefetch(
                "requests",
                queryset=HandlerRequest.objects.filter(state=RequestState.PENDING),
                to_attr="pending_requests",
            )
        ),
        key=lambda a: (a.role != AssignmentRole.PRIMARY, a.id),
    )
    shares = [
        {**_assignment_row(a, now=now, failure=failure), "mine": False}
        for a in assignments
        if a.status not in (AssignmentStatus.CANCELLED,)
    ]
    for share in shares:
        a = share["a"]
        share["mine"] = (
            staff is not None
            and staff.handler_id == a.handler_id
            and "handler" in roles
            and a.status in OPEN_ASSIGNMENT_STATUSES
        )
    attachments = list(case.attachments.order_by("uploaded_at", "id"))
    stages = dict(AttachmentStage.choices)
    here = reverse("cases:detail", args=[case.number])
    panel = _panel(request, case, failure=failure, origin="detail", next_url=here)
    requests = _request_rows(request, failure=failure, case=case) if roles & QUEUE_ROLES else []
    return {
        "case": case,
        "staff_view": staff_view,
        "phone": reporter_phone(user=user, case=case),
        "shares": shares,
        "photos": [
            {
                "a": f,
                "stage": stages.get(f.stage, f.stage),
                "url": reverse("cases:photo", args=[case.number, f.pk]),
            }
            for f in attachments
        ],
        "timeline": _timeline(case, with_actors=staff_view, masked=not staff_view),
        "suggestion": case.suggestion if staff_view else {},
        "panel": panel,
        "has_actions": bool(panel["can"] - {"verify_pass", "verify_reject"})
        or any(s["mine"] for s in shares)
        or bool(requests),
        "failure": failure,
        "requests": requests,
        "map_config": _map_config(case),
        "satisfaction_choices": Satisfaction.choices,
        "satisfaction_label": _satisfaction_label(case.satisfaction),
        "here": here,
        "max_photos": MAX_PHOTOS,
        "channel_label": Channel(case.channel).label if case.channel in Channel.values else case.channel,
    }


@page()
@require_GET
def detail(request: HttpRequest, number: str) -> HttpResponse:
    """One case: text, place and map, shares with their clocks, timeline, photos, and the forms
    this person may use now. Another township's case is the same 404 as a missing one."""
    case = selectors.case_get(user=request.user, number=number)
    return render(request, "cases/detail.html", _detail_context(request, case))


@page()
@require_GET
def photo(request: HttpRequest, number: str, pk: int) -> HttpResponseBase:
    """A case photo, served only to someone who may see the case (never a public media URL)."""
    case = selectors.case_get(user=request.user, number=number)
    attachment = case.attachments.filter(pk=pk).first()
    if attachment is None:
        raise NotFound("照片不存在")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise NotFound("照片文件已不存在") from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- 5. residents ------------------------------------------------------------------------------------------


@page(roles=RESIDENT_ROLES)
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """我要反映: a resident reports a problem, with photos and the browser's location if they wish."""
    if request.method == "POST":
        try:
            case = intake_request(
                actor=request.user,
                request=_intake_request(request, channel=Channel.APP),
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except ServiceError as exc:
            if isinstance(exc, NotFound | PermissionDenied):
                raise
            failure = _failure(exc, action="report", target="", request=request)
            return render(request, "cases/report.html", _form_context(request, failure=failure), status=400)
        messages.success(request, f"已收到您反映的问题,编号 {case.number}。办理进展会通知您。")
        return redirect("cases:detail", number=case.number)
    context = _form_context(request, failure=None)
    staff = staff_of(user=request.user)
    context["values"] = {
        "reporter_name": staff.name if staff else "",
        "reporter_phone": staff.phone if staff else "",
    }
    return render(request, "cases/report.html", context)


@page(roles=RESIDENT_ROLES)
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的诉求: the resident's own requests and where each stands."""
    qs = selectors.case_list(user=request.user).order_by("-received_at", "-id")
    paged = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"case": c, "satisfaction": _satisfaction_label(c.satisfaction)} for c in paged.object_list]
    return render(
        request,
        "cases/mine.html",
        {"page": paged, "rows": rows, "page_query": "", "page_url": reverse("cases:mine")},
    )


def _satisfaction_label(value: str) -> str:
    return str(Satisfaction(value).label) if value in Satisfaction.values else value


@page(public=True)
@require_http_methods(["GET", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    """Public status lookup by case number + phone. A wrong pair and a missing case get the same
    answer, and both fields are required, so the page cannot be used to find cases."""
    context: dict[str, Any] = {"values": {}, "errors": {}}
    if request.method == "POST":
        number = forms.text(request.POST, "number", max_length=24).upper()
        phone = forms.text(request.POST, "phone", max_length=20).replace(" ", "")
        context["values"] = {"number": number}
        if not number:
            context["errors"]["number"] = "请填写诉求编号"
        if not phone:
            context["errors"]["phone"] = "请填写反映问题时留下的手机号"
        if context["errors"]:
            return render(request, "cases/lookup.html", context, status=400)
        try:
            case = selectors.case_lookup_public(number=number, phone=phone)
        except NotFound as exc:
            context["not_found"] = exc.message
            return render(request, "cases/lookup.html", context, status=404)
        context["case"] = case
        context["shares"] = [
            {"handler": a.handler.name, "role": a.get_role_display(), "status": a.get_status_display()}
            for a in case.assignments.select_related("handler").exclude(status=AssignmentStatus.CANCELLED)
        ]
        context["timeline"] = _timeline(case, with_actors=False, masked=True)
    return render(request, "cases/lookup.html", context)


# --- 6. grid workers: verification ---------------------------------------------------------------------


def _render_verify_list(
    request: HttpRequest, *, failure: Failure | None = None, status: int = 200
) -> HttpResponse:
    staff = staff_of(user=request.user)
    my_grids = set(staff.grid_memberships.values_list("grid_id", flat=True)) if staff else set()
    qs = (
        selectors.case_list(user=request.user)
        .filter(status=CaseStatus.VERIFYING)
        .select_related("grid", "estate")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.filter(role=AssignmentRole.PRIMARY).select_related("handler"),
                to_attr="primaries",
            ),
            "attachments",
        )
        .order_by("updated_at", "id")
    )
    rows = []
    for case in qs[:200]:
        primary = next(iter(getattr(case, "primaries", [])), None)
        rows.append(
            {
                "case": case,
                "mine": case.grid_id in my_grids,
                "handler": primary.handler.name if primary else "",
                "report_text": primary.report_text if primary else "",
                "reported_at": primary.reported_at if primary else None,
                "photos": [
                    reverse("cases:photo", args=[case.number, f.pk])
                    for f in case.attachments.all()
                    if f.stage == AttachmentStage.REPORT
                ],
                "failure": failure if failure and failure.target == case.number else None,
            }
        )
    rows.sort(key=lambda r: not r["mine"])  # my grids first, otherwise oldest report first
    return render(
        request,
        "cases/verify_list.html",
        {"rows": rows, "here": reverse("cases:verify_list"), "max_photos": MAX_PHOTOS, "failure": failure},
        status=status,
    )


@page(roles=VERIFY_LIST_ROLES)
@require_GET
def verify_list(request: HttpRequest) -> HttpResponse:
    """待核查: cases reported done in the worker's grids and village, to check on site."""
    return _render_verify_list(request)


# --- 7. the searchable case list ------------------------------------------------------------------------


@page(roles=LIST_ROLES)
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """案卷查询: every case in the jurisdiction, searchable."""
    filters = forms.CaseFilter.from_query(request.GET, statuses=ALL_STATUSES)
    qs = filters.apply(selectors.case_list(user=request.user)).order_by("-received_at", "-id")
    paged = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {
            "case": c,
            "overdue": c.deadline is not None and c.deadline < now and c.status in OPEN_CASE_STATUSES,
        }
        for c in paged.object_list
    ]
    return render(
        request,
        "cases/list.html",
        {
            "filters": filters,
            "choices": forms.filter_choices(user=request.user, statuses=ALL_STATUSES),
            "page": paged,
            "rows": rows,
            "page_query": _page_query(request.GET),
            "page_url": reverse("cases:list"),
        },
    )


OPEN_CASE_STATUSES = (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.VERIFYING)

"""网格通 pages. Every form works as a plain POST (a redirect with a message); the phone's script
sends the same forms with `Accept: application/json` and gets JSON back, so a record queued
offline goes through exactly the same code as one sent at once."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi.cases import services as case_services
from shanzhi.cases.models import AttachmentStage, CaseStatus
from shanzhi.cases.selectors import case_get
from shanzhi.cases.uploads import MAX_AUDIO, MAX_PHOTOS, check_photos
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.masking import mask_phone
from shanzhi.grid.models import HealthStatus, Household, VisitKind
from shanzhi.grid.phone import selectors, services
from shanzhi.grid.phone.services import PHONE_ROLES
from shanzhi.web.pages import page

PROBLEM = "grid/phone/problem.html"
CARE_LABELS = {
    "elderly_alone": "独居老人",
    "disabled": "残疾人",
    "bedridden": "卧床",
    "left_behind_children": "留守儿童",
    "no_phone": "无手机",
}


def _page(**kwargs: Any) -> Any:
    return page(
        template=PROBLEM,
        roles=PHONE_ROLES,
        wrong_role_message="网格通仅对网格员开放。",
        **kwargs,
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _error(request: HttpRequest, exc: ServiceError, *, back: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    messages.error(request, exc.message)
    return redirect(back)


def _done(request: HttpRequest, data: dict[str, Any], *, created: bool, back: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(data, status=201 if created else 200, json_dumps_params={"ensure_ascii": False})
    messages.success(request, data["message"])
    return redirect(back)


# --- parsing form fields (strings) into the services' types -------------------------------------


def _float(data: Any, name: str, *, label: str, required: bool = False) -> float | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        if required:
            raise ServiceError("invalid_coordinates", f"缺少{label}", status=422)
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ServiceError("invalid_number", f"{label}应为数字,收到“{raw[:20]}”", status=422) from None
    if not math.isfinite(value):
        raise ServiceError("invalid_number", f"{label}应为有限的数字", status=422)
    return value


def _flag(data: Any, name: str) -> bool:
    raw = (data.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "off", "no"):
        return False
    if raw in ("1", "true", "on", "yes"):
        return True
    raise ServiceError("invalid_flag", f"{name} 只能是 true 或 false", status=422)


def _at(data: Any) -> dt.datetime | None:
    raw = (data.get("at") or "").strip()
    if not raw:
        return None
    parsed = parse_datetime(raw)
    if parsed is None:
        raise ServiceError(
            "invalid_time", "时间格式不正确,应为 ISO 8601,例如 2026-05-01T09:30:00+08:00", status=422
        )
    return parsed


def _files(request: HttpRequest, name: str, *, limit: int, label: str) -> list[tuple[str, bytes]]:
    uploads = [f for f in request.FILES.getlist(name) if f.size or f.name]
    if len(uploads) > limit:
        raise ServiceError("too_many_files", f"{label}最多 {limit} 个", status=422)
    return [(f.name or name, f.read()) for f in uploads]


def _new_client_id() -> str:
    return str(uuid.uuid4())


def _common(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"client_id": _new_client_id(), "sw_url": reverse("gridphone:sw"), **extra}


# --- pages ----------------------------------------------------------------------------------------


def _task_url(pk: int) -> str:
    try:
        return reverse("emergency:task", kwargs={"pk": pk})
    except NoReverseMatch:  # the emergency pages are not mounted in this deployment
        return ""


def _warnings_url() -> str:
    try:
        return reverse("emergency:warnings")
    except NoReverseMatch:
        return ""


@_page()
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """今日任务: emergency tasks, cases to verify, care households due a visit, today's check-ins."""
    now = timezone.now()
    tasks = [
        {"task": t, "url": _task_url(t.pk), "overdue": t.due_at < now}
        for t in selectors.open_grid_tasks(user=request.user)
    ]
    due = selectors.care_households_due(user=request.user, now=now)
    checkins = list(selectors.checkins_today(user=request.user, now=now)[:5])
    # The warnings reaching my grids, one tap from here: the site menu stays at 7 flat links for a
    # grid worker, since an 8th would group it and put 网格地图/住户名册 a tap further on the phone.
    warnings_url = _warnings_url()
    return render(
        request,
        "grid/phone/home.html",
        _common(
            request,
            grids=list(selectors.my_grids(user=request.user)),
            tasks=tasks,
            warnings_url=warnings_url,
            warning_count=selectors.active_warning_count(user=request.user) if warnings_url else 0,
            verify_count=selectors.cases_to_verify(user=request.user).count(),
            care_due=[_household_row(h) for h in due[:10]],
            care_due_count=due.count(),
            checkins=checkins,
            checkin_count=selectors.checkins_today(user=request.user, now=now).count(),
            today=timezone.localdate(now),
        ),
    )


@_page()
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    """巡查打卡: the browser's location (or typed coordinates), inside my grid or not."""
    here = reverse("gridphone:checkin")
    if request.method == "POST":
        data = request.POST
        try:
            lon = _float(data, "lon", label="经度", required=True)
            lat = _float(data, "lat", label="纬度", required=True)
            assert lon is not None and lat is not None
            done = services.patrol_checkin_record(
                actor=request.user,
                client_id=data.get("client_id", ""),
                lon=lon,
                lat=lat,
                accuracy_m=_float(data, "accuracy", label="定位精度"),
                at=_at(data),
                note=data.get("note", ""),
                manual=_flag(data, "manual"),
            )
        except ServiceError as exc:
            return _error(request, exc, back=here)
        c = done.obj
        return _done(
            request,
            {
                "id": c.pk,
                "client_id": c.client_id,
                "created": done.created,
                "inside_grid": c.inside_grid,
                "grid": {"code": c.grid.code, "name": c.grid.name} if c.grid else None,
                "at": timezone.localtime(c.at).isoformat(),
                "message": services.checkin_message(c),
            },
            created=done.created,
            back=here,
        )
    return render(
        request,
        "grid/phone/checkin.html",
        _common(
            request,
            grids=list(selectors.my_grids(user=request.user)),
            checkins=list(selectors.checkins_today(user=request.user)[:20]),
        ),
    )


@_page()
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """随手拍: photo, voice note, one tap for the category, the location; becomes a case."""
    here = reverse("gridphone:report")
    if request.method == "POST":
        data = request.POST
        key = request.headers.get("Idempotency-Key") or data.get("client_id", "")
        try:
            done = services.quick_report_submit(
                actor=request.user,
                client_id=key,
                text=data.get("text", ""),
                category_code=(data.get("category") or "").strip() or None,
                lon=_float(data, "lon", label="经度"),
                lat=_float(data, "lat", label="纬度"),
                address=data.get("address", ""),
                urgent=_flag(data, "urgent"),
                photos=_files(request, "photos", limit=MAX_PHOTOS, label="照片"),
                audio=_files(request, "audio", limit=MAX_AUDIO, label="语音"),
            )
        except ServiceError as exc:
            return _error(request, exc, back=here)
        case = done.obj
        return _done(
            request,
            {
                "number": case.number,
                "client_id": key,
                "created": done.created,
                "status": case.get_status_display(),
                "category": case.category.name if case.category else "",
                "message": f"已上报,编号 {case.number}",
            },
            created=done.created,
            back=here,
        )
    return render(
        request,
        "grid/phone/report.html",
        _common(
            request,
            quick=selectors.quick_categories(user=request.user),
            categories=list(selectors.all_categories()),
            max_photos=MAX_PHOTOS,
        ),
    )


def _household_row(h: Household) -> dict[str, Any]:
    flags = [CARE_LABELS[f] for f in Household.CARE_FLAGS if getattr(h, f)]
    last = getattr(h, "last_visit_at", None)
    days = (timezone.now() - last).days if last else None
    return {
        "h": h,
        "flags": flags,
        "last": last,
        "due": bool(flags) and (days is None or days >= selectors.CARE_DAYS),
        "phone": mask_phone(h.phone) if h.phone else "",
        "full_phone": h.phone,
    }


@_page()
@require_GET
def households(request: HttpRequest) -> HttpResponse:
    """入户走访: my grids' households (care-flagged due a visit first) and the visit form.

    One page holds every household and the form, so the page cached on the phone records visits
    offline too; `?h=<code>` opens the form for one household without JavaScript.
    """
    rows = [_household_row(h) for h in selectors.my_households(user=request.user)]
    rows.sort(key=lambda r: (not r["due"], not r["flags"]))
    chosen = None
    code = request.GET.get("h", "")
    if code:
        chosen = _household_row(selectors.household_get(user=request.user, code=code))
        chosen["visits"] = selectors.household_visits(household=chosen["h"])
    return render(
        request,
        "grid/phone/households.html",
        _common(
            request,
            rows=rows,
            chosen=chosen,
            kinds=VisitKind.choices,
            health_choices=HealthStatus.choices,
            care_days=selectors.CARE_DAYS,
        ),
    )


@_page()
@require_POST
def visit(request: HttpRequest) -> HttpResponse:
    """Record a visit or status report (JSON for the phone's queue, a redirect for a plain form)."""
    data = request.POST
    code = (data.get("household") or "").strip()
    back = f"{reverse('gridphone:households')}?h={code}" if code else reverse("gridphone:households")
    try:
        household = selectors.household_get(user=request.user, code=code)
        done = services.household_visit_record(
            actor=request.user,
            household=household,
            client_id=data.get("client_id", ""),
            kind=data.get("kind") or VisitKind.VISIT,
            health=data.get("health") or HealthStatus.NORMAL,
            needs_help=_flag(data, "needs_help"),
            help_note=data.get("help_note", ""),
            supplies_requested=data.get("supplies_requested", ""),
            note=data.get("note", ""),
            at=_at(data),
        )
    except ServiceError as exc:
        return _error(request, exc, back=back)
    v = done.obj
    return _done(
        request,
        {
            "id": v.pk,
            "client_id": v.client_id,
            "created": done.created,
            "household": household.code,
            "message": f"已记录 {household.head_name}户的{v.get_kind_display()}({v.get_health_display()})",
        },
        created=done.created,
        back=back,
    )


@_page()
@require_GET
def verify_list(request: HttpRequest) -> HttpResponse:
    """现场核查: cases reported done in my grids, with the handler's report and photos."""
    rows = []
    for case in selectors.cases_to_verify(user=request.user)[:100]:
        primary = next((a for a in case.assignments.all() if a.role == "primary"), None)
        rows.append(
            {
                "case": case,
                "handler": primary.handler.name if primary else "",
                "report_text": primary.report_text if primary else "",
                "photos": [
                    reverse("cases:photo", args=[case.number, f.pk])
                    for f in case.attachments.all()
                    if f.stage == AttachmentStage.REPORT and f.content_type.startswith("image/")
                ],
            }
        )
    return render(request, "grid/phone/verify.html", _common(request, rows=rows, max_photos=MAX_PHOTOS))


@_page()
@require_POST
def verify(request: HttpRequest, number: str) -> HttpResponse:
    """Pass (closes the case) or reject (back to the handler) with a note and photos on site."""
    here = reverse("gridphone:verify_list")
    case = case_get(user=request.user, number=number)
    try:
        if case.status != CaseStatus.VERIFYING:
            raise ServiceError("not_verifying", f"{case.number} 已不在待核查状态", status=409)
        verdict = request.POST.get("passed")
        if verdict not in ("0", "1"):
            raise ServiceError("verdict_required", "请选择核查结果:通过或不通过", status=422)
        done = case_services.case_verify(
            actor=request.user,
            case=case,
            passed=verdict == "1",
            note=request.POST.get("note", "")[:2000],
            photos=check_photos(files=_files(request, "photos", limit=MAX_PHOTOS, label="照片")),
        )
    except ServiceError as exc:
        return _error(request, exc, back=here)
    message = f"{done.number} 核查通过,已结案" if verdict == "1" else f"{done.number} 核查不通过,已退回返工"
    return _done(request, {"number": done.number, "message": message}, created=False, back=here)


# --- the service worker ---------------------------------------------------------------------------


def _static_digest() -> str:
    """A short version of the phone's script and styles: a new deployment replaces the old cache."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("grid/phone.js", "grid/phone.css", "web/app.css"):
        found = finders.find(name)
        if isinstance(found, str):
            digest.update(Path(found).read_bytes())
    return digest.hexdigest()[:12]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponseBase:
    """Served from /grid/m/ (not /static/) so its scope covers the phone pages."""
    shell = [
        reverse("gridphone:home"),
        reverse("gridphone:checkin"),
        reverse("gridphone:report"),
        reverse("gridphone:households"),
    ]
    response = render(
        request,
        "grid/phone/sw.js",
        {"version": _static_digest(), "shell": shell, "scope": reverse("gridphone:home")},
        content_type="application/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("gridphone:home")
    return response

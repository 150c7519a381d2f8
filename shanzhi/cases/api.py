"""The case API: intake with Idempotency-Key, reads within jurisdiction, one POST per transition."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from shanzhi.cases import selectors, services
from shanzhi.cases.intake import IntakeRequest, intake_request
from shanzhi.cases.models import Category, HandlerRequest
from shanzhi.cases.presenters import assignment_dict, case_dict
from shanzhi.cases.uploads import MAX_PHOTOS, CheckedFile, check_photos
from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.models import Handler

router = Router(tags=["cases"])
work_router = Router(tags=["cases"])


class PhotoIn(Schema):
    filename: str = Field("photo.jpg", max_length=200)
    content_base64: str = Field(..., description="the file's bytes, base64 (JPEG/PNG/WebP, ≤ 10 MB)")


class CaseIn(Schema):
    channel: Literal["hotline", "app", "grid", "sensor", "superior"] = "app"
    text: str = Field(..., max_length=20000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    address: str = Field("", max_length=255)
    reporter_name: str = Field("", max_length=64)
    reporter_phone: str = Field("", max_length=20)
    device: str = Field("", max_length=64)
    urgent: bool = False
    photos: list[PhotoIn] = Field(default_factory=list, max_length=MAX_PHOTOS)


def _decode_photos(photos: list[PhotoIn]) -> list[tuple[str, bytes]]:
    out = []
    for i, photo in enumerate(photos):
        try:
            out.append((photo.filename, base64.b64decode(photo.content_base64, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise ServiceError("photo_encoding", f"第 {i + 1} 张照片不是有效的 base64 编码") from exc
    return out


def _checked(photos: list[PhotoIn]) -> list[CheckedFile]:
    return check_photos(files=_decode_photos(photos))


@router.post("", response={200: dict, 201: dict}, summary="受理一件诉求(支持 Idempotency-Key)")
def create_case(request: HttpRequest, payload: CaseIn) -> Status:
    key = request.headers.get("Idempotency-Key")
    intake = IntakeRequest(
        channel=payload.channel,
        text=payload.text,
        lat=payload.lat,
        lon=payload.lon,
        crs=payload.crs,
        address=payload.address,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        device=payload.device,
        urgent=payload.urgent,
        photos=_decode_photos(payload.photos),
    )
    before = None
    if key:
        from shanzhi.cases.models import IdempotencyRecord

        before = IdempotencyRecord.objects.filter(owner=request.user.get_username(), key=key.strip()).first()
    case = intake_request(actor=request.user, request=intake, idempotency_key=key)
    status = 200 if before is not None else 201
    return Status(status, case_dict(user=request.user, case=case, detail=True))


@router.get("", response=dict, summary="案卷列表(管辖范围内)")
def list_cases(
    request: HttpRequest,
    status: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    if not (1 <= limit <= 500) or offset < 0:
        raise ServiceError("invalid_page", "limit 应在 1–500 之间,offset 不能为负", status=422)
    qs = selectors.case_list(user=request.user)
    if status:
        qs = qs.filter(status__in=status.split(","))
    if category:
        qs = qs.filter(category__code__in=category.split(","))
    if channel:
        qs = qs.filter(channel__in=channel.split(","))
    if q:
        qs = qs.filter(text__icontains=q[:100])
    total = qs.count()
    rows = qs.order_by("-received_at")[offset : offset + limit]
    return {"total": total, "items": [case_dict(user=request.user, case=c) for c in rows]}


@router.get("/queue", response=list[dict], summary="调度员待办队列")
def queue(request: HttpRequest) -> list[dict[str, Any]]:
    return [case_dict(user=request.user, case=c) for c in selectors.dispatcher_queue(user=request.user)[:500]]


@router.get("/{number}", response=dict)
def get_case(request: HttpRequest, number: str) -> dict[str, Any]:
    return case_dict(
        user=request.user, case=selectors.case_get(user=request.user, number=number), detail=True
    )


def _category(code: str | None) -> Category | None:
    if code is None:
        return None
    category = Category.objects.filter(code=code, active=True).first()
    if category is None:
        raise ServiceError("unknown_category", f"未知的诉求类别:{code}", status=422)
    return category


def _handler(code: str) -> Handler:
    handler = Handler.objects.select_related("type", "region").filter(code=code).first()
    if handler is None:
        raise ServiceError("unknown_handler", f"未知的承办单位:{code}", status=422)
    return handler


class RegisterIn(Schema):
    category: str | None = None
    urgent: bool | None = None


class ReasonIn(Schema):
    reason: str = Field(..., max_length=500)


class MergeIn(Schema):
    into: str


class SplitIn(Schema):
    texts: list[str] = Field(..., min_length=1, max_length=10)


class DispatchIn(Schema):
    primary: str
    co_handlers: list[str] = Field(default_factory=list, max_length=10)
    category: str | None = None
    note: str = Field("", max_length=500)


class VerifyIn(Schema):
    passed: bool
    note: str = Field("", max_length=2000)
    photos: list[PhotoIn] = Field(default_factory=list, max_length=MAX_PHOTOS)


class RateIn(Schema):
    satisfaction: Literal["very_satisfied", "satisfied", "basic", "unsatisfied", "very_unsatisfied"]
    comment: str = Field("", max_length=500)


def _done(request: HttpRequest, case: Any) -> dict[str, Any]:
    return case_dict(user=request.user, case=case, detail=True)


@router.post("/{number}/register", response=dict, summary="立案")
def register(request: HttpRequest, number: str, payload: RegisterIn) -> dict[str, Any]:
    case = selectors.case_get(user=request.user, number=number)
    return _done(
        request,
        services.case_register(
            actor=request.user, case=case, category=_category(payload.category), urgent=payload.urgent
        ),
    )


@router.post("/{number}/refuse", response=dict, summary="不予立案")
def refuse(request: HttpRequest, number: str, payload: ReasonIn) -> dict[str, Any]:
    case = selectors.case_get(user=request.user, number=number)
    return _done(request, services.case_refuse(actor=request.user, case=case, reason=payload.reason))


@router.post("/{number}/merge", response=dict, summary="合并到另一案卷")
def merge(request: HttpRequest, number: str, payload: MergeIn) -> dict[str, Any]:
    case = selectors.case_get(user=request.user, number=number)
    into = selectors.case_get(user=request.user, number=payload.into)
    return _done(request, services.case_merge(actor=request.user, case=case, into=into))


@router.post("/{number}/split", response=list[dict], summary="拆分")
def split(request: HttpRequest, number: str, payload: SplitIn) -> list[dict[str, Any]]:
    case = selectors.case_get(user=request.user, number=number)
    children = services.case_split(actor=request.user, case=case, texts=payload.texts)
    return [case_dict(user=request.user, case=c) for c in children]


@router.post("/{number}/dispatch", response=dict, summary="派遣(主办、协办)")
def dispatch(request: HttpRequest, number: str, payload: DispatchIn) -> dict[str, Any]:
    case = selectors.case_get(user=request.user, number=number)
    return _done(
        request,
        services.case_dispatch(
            actor=request.user,
            case=case,
            primary=_handler(payload.primary),
            co_handlers=[_handler(c) for c in payload.co_handlers],
            category=_category(payload.category),
            note=payload.note,
        ),
    )


@router.post("/{number}/verify", response=dict, summary="核查(通过结案 / 不通过返工)")
def verify(request: HttpRequest, number: str, payload: VerifyIn) -> dict[str, Any]:
    case = selectors.case_get(user=request.user, number=number)
    photos = _checked(payload.photos)
    return _done(
        request,
        services.case_verify(
            actor=request.user, case=case, passed=payload.passed, note=payload.note, photos=photos
        ),
    )


@router.post("/{number}/rate", response=dict, summary="评价")
def rate(request: HttpRequest, number: str, payload: RateIn) -> dict[str, Any]:
    case = selectors.case_get(user=request.user, number=number)
    return _done(
        request,
        services.case_rate(
            actor=request.user, case=case, satisfaction=payload.satisfaction, comment=payload.comment
        ),
    )


# --- a handler's work -----------------------------------------------------------------------------


class ReportIn(Schema):
    text: str = Field(..., max_length=20000)
    photos: list[PhotoIn] = Field(default_factory=list, max_length=MAX_PHOTOS)


class RequestIn(Schema):
    kind: Literal["extension", "suspension"]
    reason: str = Field(..., max_length=500)
    hours: float = 0


class DecideIn(Schema):
    approve: bool
    note: str = Field("", max_length=500)


@work_router.get("/assignments", response=list[dict], summary="承办单位待办(本单位)")
def inbox(request: HttpRequest) -> list[dict[str, Any]]:
    out = []
    for a in selectors.handler_inbox(user=request.user)[:500]:
        row = assignment_dict(a)
        row["case"] = case_dict(user=request.user, case=a.case)
        out.append(row)
    return out


def _assignment_action(request: HttpRequest, pk: int, action: Any, **kwargs: Any) -> dict[str, Any]:
    assignment = selectors.assignment_get(user=request.user, pk=pk)
    result = action(actor=request.user, assignment=assignment, **kwargs)
    return (
        assignment_dict(result)
        if not isinstance(result, HandlerRequest)
        else {"id": result.pk, "state": result.state}
    )


@work_router.post("/assignments/{pk}/accept", response=dict, summary="签收")
def accept(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _assignment_action(request, pk, services.assignment_accept)


@work_router.post("/assignments/{pk}/return", response=dict, summary="退回(错派)")
def return_(request: HttpRequest, pk: int, payload: ReasonIn) -> dict[str, Any]:
    return _assignment_action(request, pk, services.assignment_return, reason=payload.reason)


@work_router.post("/assignments/{pk}/report", response=dict, summary="反馈办理结果")
def report(request: HttpRequest, pk: int, payload: ReportIn) -> dict[str, Any]:
    photos = _checked(payload.photos)
    return _assignment_action(request, pk, services.assignment_report, text=payload.text, photos=photos)


@work_router.post("/assignments/{pk}/request", response=dict, summary="申请延期或缓办")
def ask(request: HttpRequest, pk: int, payload: RequestIn) -> dict[str, Any]:
    return _assignment_action(
        request,
        pk,
        services.assignment_request,
        kind=payload.kind,
        reason=payload.reason,
        hours=payload.hours,
    )


@work_router.post("/assignments/{pk}/resume", response=dict, summary="恢复办理(结束缓办)")
def resume(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _assignment_action(request, pk, services.assignment_resume)


@work_router.post("/requests/{pk}/decide", response=dict, summary="审批延期/缓办申请")
def decide(request: HttpRequest, pk: int, payload: DecideIn) -> dict[str, Any]:
    pending = selectors.pending_requests(user=request.user).filter(pk=pk).first()
    if pending is None:
        raise NotFound("申请不存在或已审批")
    decided = services.request_decide(
        actor=request.user, request=pending, approve=payload.approve, note=payload.note
    )
    return {"id": decided.pk, "state": decided.state}

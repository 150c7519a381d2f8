"""The 好差评 API: rate, read within jurisdiction, rectify, appeal and decide, rankings (supervisors
only), and 办不成事 — which anyone may report with a mobile number, no account needed."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.utils import check_csrf

from shanzhi.core.errors import ServiceError
from shanzhi.core.tokens import token_authenticate
from shanzhi.ratings import selectors, services
from shanzhi.ratings.models import BAD_LEVELS, RectificationStatus
from shanzhi.ratings.presenters import appeal_dict, rating_dict, rectification_dict, report_dict
from shanzhi.ratings.registry import registered_types

router = Router(tags=["ratings"])

LevelIn = Literal["very_satisfied", "satisfied", "basic", "unsatisfied", "very_unsatisfied"]
ChannelIn = Literal["window", "app", "sms", "hotline", "kiosk", "web"]


def _page(limit: int, offset: int) -> None:
    if not (1 <= limit <= 500) or offset < 0:
        raise ServiceError("invalid_page", "limit 应在 1–500 之间,offset 不能为负", status=422)


# --- ratings ------------------------------------------------------------------------------------


class RatingIn(Schema):
    object_type: str = Field(..., max_length=32, description="case, application, …")
    object_id: str = Field(..., max_length=64, description="the object's public number")
    level: LevelIn
    comment: str = Field("", max_length=500)
    channel: ChannelIn | None = None
    phone: str = Field("", max_length=20, description="the rater's mobile, for SMS replies by the system")


@router.post("", response={201: dict}, summary="评价一件已办结的事项(每件一次)")
def rate(request: HttpRequest, payload: RatingIn) -> Status:
    rating = services.rating_submit(
        actor=request.user,
        obj_type=payload.object_type,
        obj_id=payload.object_id,
        level=payload.level,
        comment=payload.comment,
        channel=payload.channel or "",
        phone=payload.phone,
    )
    return Status(201, rating_dict(user=request.user, rating=rating))


@router.get("", response=dict, summary="评价列表(管辖范围内)")
def list_ratings(
    request: HttpRequest,
    level: str | None = None,
    bad: bool = False,
    object_type: str | None = None,
    handler: str | None = None,
    month: str | None = None,
    excluded: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    _page(limit, offset)
    qs = selectors.rating_list(user=request.user)
    if level:
        qs = qs.filter(level__in=level.split(","))
    if bad:
        qs = qs.filter(level__in=BAD_LEVELS)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if handler:
        qs = qs.filter(handler__code=handler)
    if month:
        start, end = selectors.month_bounds(selectors.parse_month(month))
        qs = qs.filter(created_at__gte=start, created_at__lt=end)
    if excluded is not None:
        qs = qs.filter(excluded=excluded)
    return {
        "total": qs.count(),
        "items": [rating_dict(user=request.user, rating=r) for r in qs[offset : offset + limit]],
    }


@router.get("/types", response=dict, summary="可评价的事项类型")
def types(request: HttpRequest) -> dict[str, str]:
    return registered_types()


@router.get("/{int:pk}", response=dict, summary="一条评价")
def get_rating(request: HttpRequest, pk: int) -> dict[str, Any]:
    return rating_dict(user=request.user, rating=selectors.rating_get(user=request.user, pk=pk))


class AppealIn(Schema):
    reason: str = Field(..., max_length=2000)


@router.post("/{int:pk}/appeal", response={201: dict}, summary="责任单位对差评提出申诉")
def appeal(request: HttpRequest, pk: int, payload: AppealIn) -> Status:
    rating = selectors.rating_get(user=request.user, pk=pk)
    filed = services.rating_appeal(actor=request.user, rating=rating, reason=payload.reason)
    return Status(201, appeal_dict(user=request.user, appeal=filed))


# --- rectifications -------------------------------------------------------------------------------


@router.get("/rectifications", response=dict, summary="差评整改任务(管辖范围内 / 本单位)")
def rectifications(
    request: HttpRequest,
    status: str | None = None,
    overdue: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    _page(limit, offset)
    qs = selectors.rectification_list(user=request.user)
    if status:
        qs = qs.filter(status__in=status.split(","))
    if overdue:
        late = Q(
            status__in=[RectificationStatus.OPEN, RectificationStatus.CALLED_BACK],
            deadline__lt=timezone.now(),
        )
        qs = qs.filter(late | Q(status=RectificationStatus.OVERDUE))
    return {
        "total": qs.count(),
        "items": [rectification_dict(user=request.user, rect=r) for r in qs[offset : offset + limit]],
    }


@router.get("/rectifications/{int:pk}", response=dict, summary="一项整改任务")
def rectification(request: HttpRequest, pk: int) -> dict[str, Any]:
    rect = selectors.rectification_get(user=request.user, pk=pk)
    return rectification_dict(user=request.user, rect=rect, detail=True)


class CallbackIn(Schema):
    rater_said: str = Field(..., max_length=2000, description="what the rater said on the call")
    called_at: dt.datetime | None = None


@router.post("/rectifications/{int:pk}/callback", response=dict, summary="登记回访")
def callback(request: HttpRequest, pk: int, payload: CallbackIn) -> dict[str, Any]:
    rect = selectors.rectification_get(user=request.user, pk=pk)
    done = services.rectification_callback(
        actor=request.user, rectification=rect, rater_said=payload.rater_said, called_at=payload.called_at
    )
    return rectification_dict(user=request.user, rect=done, detail=True)


class FixIn(Schema):
    result: str = Field(..., max_length=2000)


@router.post("/rectifications/{int:pk}/fix", response=dict, summary="登记整改结果(告知评价人)")
def fix(request: HttpRequest, pk: int, payload: FixIn) -> dict[str, Any]:
    rect = selectors.rectification_get(user=request.user, pk=pk)
    done = services.rectification_fix(actor=request.user, rectification=rect, result=payload.result)
    return rectification_dict(user=request.user, rect=done, detail=True)


# --- appeals ------------------------------------------------------------------------------------


@router.get("/appeals", response=dict, summary="差评申诉")
def appeals(
    request: HttpRequest, status: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    _page(limit, offset)
    qs = selectors.appeal_list(user=request.user)
    if status:
        qs = qs.filter(status__in=status.split(","))
    return {
        "total": qs.count(),
        "items": [appeal_dict(user=request.user, appeal=a) for a in qs[offset : offset + limit]],
    }


class AppealDecideIn(Schema):
    uphold: bool
    note: str = Field(..., max_length=2000)


@router.post("/appeals/{int:pk}/decide", response=dict, summary="督查人员裁定申诉")
def decide(request: HttpRequest, pk: int, payload: AppealDecideIn) -> dict[str, Any]:
    pending = selectors.appeal_get(user=request.user, pk=pk)
    decided = services.appeal_decide(
        actor=request.user, appeal=pending, uphold=payload.uphold, note=payload.note
    )
    return appeal_dict(user=request.user, appeal=decided)


# --- rankings -----------------------------------------------------------------------------------


@router.get("/rankings", response=dict, summary="月度满意度排名(仅督查人员)")
def rankings(request: HttpRequest, month: str | None = None) -> dict[str, Any]:
    selectors.require_supervisor(user=request.user)
    when = selectors.parse_month(month) if month else selectors.previous_month(timezone.localdate())
    ranking = selectors.staff_ranking(user=request.user, month=when)
    return {
        "month": f"{ranking.month:%Y-%m}",
        "min_rated": ranking.min_rated,
        "bottom_percent": ranking.bottom_percent,
        "ranked": ranking.ranked,
        "bottom_size": ranking.bottom_size,
        "items": [
            {
                "staff_id": r.staff_id,
                "name": r.name,
                "handler": r.handler,
                "region": r.region,
                "count": r.count,
                "good": r.good,
                "satisfaction": r.percent,
                "ranked": r.ranked,
                "position": r.position,
                "flag": r.flag,
                "flag_label": r.flag_label,
            }
            for r in ranking.rows
        ],
    }


# --- 办不成事 --------------------------------------------------------------------------------------


class CannotGetDoneIn(Schema):
    what: str = Field(
        ..., max_length=2000, description="what the resident tried to get done, what went wrong"
    )
    where: str = Field("", max_length=200)
    phone: str = Field("", max_length=20)
    name: str = Field("", max_length=64)
    region: str = Field("", max_length=12, description="township (or village) division code")
    channel: ChannelIn = "web"


def _reporter(request: HttpRequest) -> Any:
    """A bearer token's user, or the signed-in session user when the form carries its CSRF token;
    otherwise the report is anonymous (and needs a mobile number)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return token_authenticate(plain=header[7:].strip())
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and check_csrf(request) is None:
        return user
    return None


@router.post(
    "/cannot-get-done", auth=None, response={201: dict}, summary="反映“办不成事”(无需登录,须留手机号)"
)
def report(request: HttpRequest, payload: CannotGetDoneIn) -> Status:
    created = services.cannot_get_done_report(
        actor=_reporter(request),
        what=payload.what,
        where=payload.where,
        phone=payload.phone,
        name=payload.name,
        region_code=payload.region,
        channel=payload.channel,
    )
    return Status(
        201,
        {
            "number": created.number,
            "respond_by": created.respond_by,
            "resolve_by": created.resolve_by,
            "message": "已受理,工作人员将在 1 个工作日内与您联系",
        },
    )


@router.get("/cannot-get-done", response=dict, summary="“办不成事”督查队列(仅督查人员)")
def report_queue(
    request: HttpRequest, status: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    _page(limit, offset)
    qs = selectors.cannot_get_done_list(user=request.user)
    if status:
        qs = qs.filter(status__in=status.split(","))
    return {
        "total": qs.count(),
        "items": [report_dict(user=request.user, report=r) for r in qs[offset : offset + limit]],
    }


@router.get("/cannot-get-done/{int:pk}", response=dict, summary="一件“办不成事”反映")
def report_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    found = selectors.cannot_get_done_get(user=request.user, pk=pk)
    return report_dict(user=request.user, report=found, detail=True)


class AnswerIn(Schema):
    text: str = Field(..., max_length=2000)


@router.post("/cannot-get-done/{int:pk}/respond", response=dict, summary="登记响应")
def respond(request: HttpRequest, pk: int, payload: AnswerIn) -> dict[str, Any]:
    found = selectors.cannot_get_done_get(user=request.user, pk=pk)
    done = services.cannot_get_done_respond(actor=request.user, report=found, response=payload.text)
    return report_dict(user=request.user, report=done, detail=True)


@router.post("/cannot-get-done/{int:pk}/resolve", response=dict, summary="登记解决结果")
def resolve(request: HttpRequest, pk: int, payload: AnswerIn) -> dict[str, Any]:
    found = selectors.cannot_get_done_get(user=request.user, pk=pk)
    done = services.cannot_get_done_resolve(actor=request.user, report=found, resolution=payload.text)
    return report_dict(user=request.user, report=done, detail=True)

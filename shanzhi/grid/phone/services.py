"""Writes from the grid worker's phone: patrol check-ins, household visits and quick reports.

Each record carries a `client_id` made on the phone when the worker pressed the button. A phone
on a weak connection may send the same record again (a timeout after the server had answered,
a queue flushed twice); the server stores it once — per worker by `client_id` for check-ins and
visits, and through the cases' Idempotency-Key for reports — and answers the retry with the first
record.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.cases.intake import IntakeRequest, intake_request
from shanzhi.cases.models import Case, Category, Channel, IdempotencyRecord
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Role, Staff
from shanzhi.core.selectors import has_role, staff_of
from shanzhi.grid.locate import locate_point
from shanzhi.grid.models import (
    Grid,
    GridWorker,
    HealthStatus,
    Household,
    HouseholdVisit,
    PatrolCheckin,
    VisitKind,
)

PHONE_ROLES = frozenset({Role.GRIDWORKER})
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{7,63}$")
# A record queued offline keeps the time it was made; older than this it is refused, not stored.
MAX_AGE = dt.timedelta(days=7)
MAX_CLOCK_AHEAD = dt.timedelta(minutes=10)
MAX_ACCURACY_M = 100_000.0


@dataclass(frozen=True)
class Recorded:
    """What a phone write answers: the row, and whether this request created it (False on a retry)."""

    obj: Any
    created: bool


# --- checks ------------------------------------------------------------------------------------


def _worker(actor: Any, *, what: str) -> Staff:
    staff = staff_of(user=actor)
    if staff is None or not has_role(user=actor, roles=PHONE_ROLES):
        raise PermissionDenied(f"只有网格员可以{what}")
    return staff


def _client_id(value: Any) -> str:
    if not isinstance(value, str) or not CLIENT_ID_RE.match(value.strip()):
        raise ServiceError(
            "invalid_client_id", "client_id 应为 8–64 位字母、数字或连字符(如手机生成的 UUID)", status=422
        )
    return value.strip()


def _number(value: Any, *, code: str, message: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ServiceError(code, message, status=422)
    return float(value)


def _when(at: dt.datetime | None, *, now: dt.datetime) -> dt.datetime:
    if at is None:
        return now
    if not isinstance(at, dt.datetime) or timezone.is_naive(at):
        raise ServiceError("invalid_time", "时间须带时区,例如 2026-05-01T09:30:00+08:00", status=422)
    if at > now + MAX_CLOCK_AHEAD:
        raise ServiceError("invalid_time", "时间晚于当前时间,请检查手机时钟", status=422)
    if at < now - MAX_AGE:
        raise ServiceError("record_too_old", "该记录是 7 天以前的,已过期,不再接收", status=422)
    return at


def _text(value: Any, *, label: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise ServiceError("invalid_text", f"{label}应为文字", status=422)
    value = value.strip()
    if "\x00" in value:
        raise ServiceError("invalid_character", f"{label}含有不允许的控制字符", status=422)
    if len(value) > max_length:
        raise ServiceError("text_too_long", f"{label}不能超过 {max_length} 字", status=422)
    return value


# --- patrol check-in ---------------------------------------------------------------------------


def patrol_checkin_record(
    *,
    actor: Any,
    client_id: str,
    lon: float,
    lat: float,
    accuracy_m: float | None = None,
    at: dt.datetime | None = None,
    note: str = "",
    manual: bool = False,
) -> Recorded:
    """巡查打卡: where the worker is, and whether that is inside one of their grids.

    A point outside every grid (or the county) is still a check-in, marked not inside; bad
    coordinates are refused and nothing is written. The same `client_id` again returns the first.
    """
    staff = _worker(actor, what="巡查打卡")
    client_id = _client_id(client_id)
    previous = PatrolCheckin.objects.filter(staff=staff, client_id=client_id).first()
    if previous is not None:
        return Recorded(previous, created=False)
    lon = _number(lon, code="invalid_coordinates", message="经纬度必须是有限的数字")
    lat = _number(lat, code="invalid_coordinates", message="经纬度必须是有限的数字")
    location = locate_point(lon=lon, lat=lat)  # refuses out-of-range points
    if accuracy_m is not None:
        accuracy_m = _number(accuracy_m, code="invalid_accuracy", message="定位精度必须是数字")
        if not 0 <= accuracy_m <= MAX_ACCURACY_M:
            raise ServiceError("invalid_accuracy", "定位精度应在 0–100000 米之间", status=422)
    if not isinstance(manual, bool):
        raise ServiceError("invalid_manual", "manual 应为 true 或 false", status=422)
    note = _text(note, label="备注", max_length=255)
    now = timezone.now()
    at = _when(at, now=now)
    mine = set(GridWorker.objects.filter(staff=staff).values_list("grid_id", flat=True))
    grid = Grid.objects.filter(pk=location.grid_id).first() if location.grid_id else None
    try:
        with transaction.atomic():
            checkin = PatrolCheckin.objects.create(
                staff=staff,
                grid=grid,
                lon=lon,
                lat=lat,
                accuracy_m=accuracy_m,
                manual=manual,
                at=at,
                inside_grid=grid is not None and grid.pk in mine,
                note=note,
                client_id=client_id,
            )
            audit_append(
                actor=actor,
                action="grid.checkin.record",
                obj=checkin,
                state={
                    "staff": staff.user.get_username(),
                    "grid": grid.code if grid else None,
                    "inside_grid": checkin.inside_grid,
                    "lon": round(lon, 6),
                    "lat": round(lat, 6),
                    "accuracy_m": accuracy_m,
                    "manual": manual,
                    "at": at.isoformat(),
                    "client_id": client_id,
                },
            )
    except IntegrityError:
        # The same check-in arrived twice at once: the loser answers with the winner's row.
        winner = PatrolCheckin.objects.filter(staff=staff, client_id=client_id).first()
        if winner is None:
            raise
        return Recorded(winner, created=False)
    return Recorded(checkin, created=True)


def checkin_message(checkin: PatrolCheckin) -> str:
    if checkin.inside_grid and checkin.grid is not None:
        return f"打卡成功:您在 {checkin.grid.name} 内"
    if checkin.grid is not None:
        return f"已打卡,但该位置在 {checkin.grid.name},不是您负责的网格"
    return "已打卡,但该位置不在您负责的网格内"


# --- household visits --------------------------------------------------------------------------


def household_visit_record(
    *,
    actor: Any,
    household: Household,
    client_id: str,
    kind: str = VisitKind.VISIT,
    health: str = HealthStatus.NORMAL,
    needs_help: bool = False,
    help_note: str = "",
    supplies_requested: str = "",
    note: str = "",
    at: dt.datetime | None = None,
) -> Recorded:
    """入户走访 / 状况报告 for a household of one of the worker's grids (another grid's is a 404)."""
    staff = _worker(actor, what="记录入户走访")
    if not GridWorker.objects.filter(staff=staff, grid_id=household.grid_id).exists():
        raise NotFound("该户不存在或不在您负责的网格内")
    client_id = _client_id(client_id)
    previous = HouseholdVisit.objects.filter(staff=staff, client_id=client_id).first()
    if previous is not None:
        if previous.household_id != household.pk:
            raise ServiceError(
                "client_id_reused", "该 client_id 已用于另一户的走访记录,请重新生成", status=409
            )
        return Recorded(previous, created=False)
    if not household.active:
        raise ServiceError("household_inactive", "该户已不在册,不能记录走访", status=409)
    if kind not in VisitKind.values:
        raise ServiceError("invalid_kind", "类型只能是入户走访(visit)或状况报告(status_report)", status=422)
    if health not in HealthStatus.values:
        labels = "、".join(f"{label}({value})" for value, label in HealthStatus.choices)
        raise ServiceError("invalid_health", f"健康状况只能是:{labels}", status=422)
    if not isinstance(needs_help, bool):
        raise ServiceError("invalid_needs_help", "needs_help 应为 true 或 false", status=422)
    help_note = _text(help_note, label="需要的帮助", max_length=255)
    supplies_requested = _text(supplies_requested, label="需要的物资", max_length=255)
    note = _text(note, label="备注", max_length=500)
    if needs_help and not (help_note or supplies_requested):
        raise ServiceError("help_note_required", "勾选了需要帮助,请写明需要什么帮助或物资", status=422)
    at = _when(at, now=timezone.now())
    try:
        with transaction.atomic():
            visit = HouseholdVisit.objects.create(
                household=household,
                staff=staff,
                at=at,
                kind=kind,
                health=health,
                needs_help=needs_help,
                help_note=help_note,
                supplies_requested=supplies_requested,
                note=note,
                client_id=client_id,
            )
            audit_append(
                actor=actor,
                action="grid.household_visit.record",
                obj=visit,
                state={
                    "household": household.code,
                    "staff": staff.user.get_username(),
                    "kind": kind,
                    "health": health,
                    "needs_help": needs_help,
                    "help_note": help_note,
                    "supplies_requested": supplies_requested,
                    "at": at.isoformat(),
                    "client_id": client_id,
                },
            )
    except IntegrityError:
        winner = HouseholdVisit.objects.filter(staff=staff, client_id=client_id).first()
        if winner is None:
            raise
        return Recorded(winner, created=False)
    return Recorded(visit, created=True)


# --- quick report (随手拍) -----------------------------------------------------------------------


def quick_report_submit(
    *,
    actor: Any,
    client_id: str,
    text: str = "",
    category_code: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    address: str = "",
    urgent: bool = False,
    photos: list[tuple[str, bytes]] | None = None,
    audio: list[tuple[str, bytes]] | None = None,
) -> Recorded:
    """随手拍: a grid worker's report becomes a case through the cases' intake (channel 网格员上报).

    `client_id` is the request's Idempotency-Key, so a report queued offline and sent twice is one
    case. With no text, a one-tap category and the photo or voice note speak for themselves.
    """
    _worker(actor, what="随手拍上报")
    client_id = _client_id(client_id)
    text = _text(text, label="问题描述", max_length=4000)
    if category_code == "":
        category_code = None
    if not text:
        if category_code is None:
            raise ServiceError("text_required", "请选择问题类别或写几句描述", status=422)
        category = Category.objects.filter(code=category_code, active=True).first()
        if category is None:
            raise ServiceError("unknown_category", f"未知的诉求类别:{category_code}", status=422)
        evidence = "、".join(w for w, items in (("照片", photos), ("语音", audio)) if items)
        text = f"网格员现场发现:{category.name}" + (f"(详见{evidence})" if evidence else "")
    owner = actor.get_username()
    known = IdempotencyRecord.objects.filter(owner=owner, key=client_id).exists()
    case: Case = intake_request(
        actor=actor,
        request=IntakeRequest(
            channel=Channel.GRID,
            text=text,
            lon=lon,
            lat=lat,
            address=_text(address, label="地址", max_length=255),
            urgent=urgent,
            photos=list(photos or []),
            audio=list(audio or []),
            category_code=category_code,
        ),
        idempotency_key=client_id,
    )
    return Recorded(case, created=not known)

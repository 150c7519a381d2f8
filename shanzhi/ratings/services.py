"""Every change in 好差评: rate, rectify a bad rating (call back, fix), appeal and decide, report
and answer 办不成事, and the sweeps that mark overdue work. Each runs in one transaction with an
audit entry for every governed record it changes; messages are queued in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Region
from shanzhi.core.selectors import jurisdiction_root, region_county, roles_of, staff_of
from shanzhi.core.validators import refuse_nul, validate_mobile
from shanzhi.core.workcal import add_working_days
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.services import message_send
from shanzhi.ratings import people
from shanzhi.ratings.models import (
    OPEN_RECTIFICATION,
    Appeal,
    AppealStatus,
    CannotGetDoneReport,
    Level,
    Rating,
    RatingChannel,
    Rectification,
    RectificationStatus,
    ReportStatus,
)
from shanzhi.ratings.registry import adapter_for
from shanzhi.ratings.selectors import SUPERVISE_ROLES, UNIT_ROLES, rating_list, rectification_list

RECTIFY_WORKING_DAYS = 15
RESPOND_WORKING_DAYS = 1
RESOLVE_WORKING_DAYS = 5
REPORTS_PER_PHONE_PER_DAY = 5
MAX_COMMENT = 500
MAX_TEXT = 2000
LEVEL_TEXT = "非常满意、满意、基本满意、不满意、非常不满意"
BATCH = 500


# --- helpers ------------------------------------------------------------------------------------


def _authenticated(actor: Any) -> bool:
    return actor is not None and bool(getattr(actor, "is_authenticated", False))


def _text(value: Any, *, code: str, label: str, max_length: int, required: bool) -> str:
    """Trimmed text; short fields on one line, long ones keep their line breaks. A NUL is refused
    (422 invalid_character) as in every other app; it used to be dropped, storing what was not typed."""
    text = refuse_nul(value, label=label)
    text = " ".join(text.split()) if max_length <= 200 else text.strip()
    if required and not text:
        raise ServiceError(code, f"请填写{label}")
    if len(text) > max_length:
        raise ServiceError(code, f"{label}不能超过 {max_length} 个字")
    return text


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _in_region(actor: Any, region: Region) -> bool:
    root = jurisdiction_root(user=actor)
    return root is not None and region.path.startswith(root.path)


def _is_unit(actor: Any, handler_id: int | None) -> bool:
    staff = staff_of(user=actor)
    return (
        handler_id is not None
        and staff is not None
        and staff.handler_id == handler_id
        and bool(roles_of(user=actor) & UNIT_ROLES)
    )


def _is_supervisor_over(actor: Any, region: Region) -> bool:
    return bool(roles_of(user=actor) & SUPERVISE_ROLES) and _in_region(actor, region)


def _default_channel(actor: Any) -> str:
    if not _authenticated(actor):
        return RatingChannel.SMS
    roles = roles_of(user=actor)
    if "operator" in roles:
        return RatingChannel.HOTLINE
    if "clerk" in roles:
        return RatingChannel.WINDOW
    return RatingChannel.APP


def _tell(users: Any, *, kind: str, context: dict[str, Any], obj: Any) -> None:
    for user in users:
        message_send(kind=kind, channel=MessageChannel.IN_APP, context=context, recipient=user, obj=obj)


def _tell_person(*, user: Any, phone: str, kind: str, context: dict[str, Any], obj: Any) -> None:
    """A resident: in the app when they have an account, and by SMS when we have their phone."""
    if user is not None:
        message_send(kind=kind, channel=MessageChannel.IN_APP, context=context, recipient=user, obj=obj)
    if phone:
        message_send(kind=kind, channel=MessageChannel.SMS, context=context, phone=phone, obj=obj)


def rating_state(rating: Rating) -> dict[str, Any]:
    return {
        "object_type": rating.object_type,
        "object_id": rating.object_id,
        "region": rating.region.code,
        "handler": rating.handler.code if rating.handler else None,
        "staff": rating.staff_id,
        "level": rating.level,
        "comment": rating.comment,
        "channel": rating.channel,
        "rater": rating.rater_id,
        "has_phone": bool(rating.rater_phone),
        "excluded": rating.excluded,
        "excluded_reason": rating.excluded_reason,
    }


def rectification_state(rect: Rectification) -> dict[str, Any]:
    return {
        "rating": rect.rating_id,
        "handler": rect.handler.code if rect.handler else None,
        "status": rect.status,
        "deadline": rect.deadline,
        "called_back_at": rect.called_back_at,
        "rater_said": rect.rater_said,
        "fixed_at": rect.fixed_at,
        "result": rect.result,
        "overdue_at": rect.overdue_at,
    }


# --- rating -------------------------------------------------------------------------------------


def rating_submit(
    *,
    actor: Any,
    obj_type: str,
    obj_id: str,
    level: str,
    comment: str = "",
    channel: str = "",
    phone: str = "",
) -> Rating:
    """Rate a finished object once, on the five levels of GB/T 39734.

    The adapter for `obj_type` decides who may rate (a resident their own case, an operator on a
    reporter's behalf, the system for an SMS reply from `phone`). A second rating is a 409; so
    is rating an unfinished object. A bad rating opens a rectification for the responsible unit.
    """
    if level not in Level.values:
        raise ServiceError("invalid_level", f"评价等级应为:{LEVEL_TEXT}")
    comment = _text(comment, code="invalid_comment", label="评价内容", max_length=MAX_COMMENT, required=False)
    channel = channel or _default_channel(actor)
    if channel not in RatingChannel.values:
        raise ServiceError("invalid_channel", "评价渠道应为窗口、移动端、短信、热线、自助终端或网站")
    if phone:
        phone = validate_mobile(phone)
    if actor is not None and not _authenticated(actor):
        raise NotFound("评价对象不存在或不在您的管辖范围内")
    adapter = adapter_for(obj_type)
    actor_user = actor
    with transaction.atomic():
        obj = adapter.find(ref=str(obj_id).strip(), for_update=True)
        if obj is None:
            raise NotFound("评价对象不存在或不在您的管辖范围内")
        rater = adapter.rater(actor=actor_user, obj=obj, phone=phone)
        ref = adapter.ref(obj)
        if Rating.objects.filter(object_type=obj_type, object_id=ref).exists():
            raise ServiceError("already_rated", f"该{adapter.label}已经评价过,每件只能评价一次", status=409)
        adapter.check_ratable(obj)
        now = timezone.now()
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    object_type=obj_type,
                    object_id=ref,
                    object_title=adapter.title(obj)[:200],
                    region=adapter.region(obj),
                    handler=adapter.handler(obj),
                    staff=adapter.staff(obj),
                    level=level,
                    comment=comment,
                    channel=channel,
                    rater=rater.user,
                    rater_phone=rater.phone or phone,
                    entered_by=actor_user if actor_user is not None and actor_user != rater.user else None,
                    created_at=now,
                )
        except IntegrityError as exc:  # a simultaneous first rating won the race
            raise ServiceError(
                "already_rated", f"该{adapter.label}已经评价过,每件只能评价一次", status=409
            ) from exc
        audit_append(actor=actor_user, action="rating.submit", obj=rating, state=rating_state(rating))
        adapter.on_rated(actor=actor_user, obj=obj, level=level, comment=comment)
        if rating.is_bad:
            _rectification_open(rating, actor=actor_user, now=now)
    return rating


def _rectification_open(rating: Rating, *, actor: Any, now: dt.datetime) -> Rectification:
    rect = Rectification.objects.create(
        rating=rating,
        region=rating.region,
        handler=rating.handler,
        opened_at=now,
        deadline=add_working_days(start=now, days=RECTIFY_WORKING_DAYS),
    )
    audit_append(actor=actor, action="rectification.open", obj=rect, state=rectification_state(rect))
    context = {
        "object": rating.object_title,
        "level": rating.get_level_display(),
        "deadline": _when(rect.deadline),
        "comment": rating.comment or "(未填写)",
    }
    recipients = {u.pk: u for u in people.unit_users(handler=rating.handler)}
    recipients.update({u.pk: u for u in people.supervisors_over(region=rating.region)})
    _tell(recipients.values(), kind="rating.rectification_opened", context=context, obj=rect)
    return rect


# --- rectification ------------------------------------------------------------------------------


def _lock_rectification(rect: Rectification, *, actor: Any) -> Rectification:
    locked = Rectification.objects.select_for_update().filter(pk=rect.pk).first()
    if locked is None:
        raise NotFound("整改任务不存在")
    if actor is None:
        return locked
    if _is_unit(actor, locked.handler_id) or _is_supervisor_over(actor, locked.region):
        return locked
    if rectification_list(user=actor).filter(pk=locked.pk).exists():
        raise PermissionDenied("只有责任单位或督查人员可以办理整改")
    raise NotFound("整改任务不存在或不在您的管辖范围内")


def rectification_callback(
    *, actor: Any, rectification: Rectification, rater_said: str, called_at: dt.datetime | None = None
) -> Rectification:
    """回访: record who called the rater back, when, and what the rater said."""
    rater_said = _text(
        rater_said,
        code="invalid_callback",
        label="回访情况(评价人的意见)",
        max_length=MAX_TEXT,
        required=True,
    )
    with transaction.atomic():
        rect = _lock_rectification(rectification, actor=actor)
        if rect.status not in (RectificationStatus.OPEN, RectificationStatus.OVERDUE) or rect.called_back_at:
            raise ServiceError(
                "illegal_transition",
                f"整改任务当前为“{rect.get_status_display()}”,不能再登记回访",
                status=409,
            )
        now = timezone.now()
        called_at = called_at or now
        if timezone.is_naive(called_at):
            raise ServiceError("invalid_time", "回访时间须带时区")
        if called_at > now + dt.timedelta(minutes=5):
            raise ServiceError("invalid_time", "回访时间不能晚于现在")
        if called_at < rect.opened_at:
            raise ServiceError("invalid_time", "回访时间不能早于收到差评的时间")
        rect.called_back_at = called_at
        rect.called_back_by = actor if _authenticated(actor) else None
        rect.rater_said = rater_said
        if rect.status == RectificationStatus.OPEN:
            rect.status = RectificationStatus.CALLED_BACK
        rect.save()
        audit_append(actor=actor, action="rectification.callback", obj=rect, state=rectification_state(rect))
    return rect


def rectification_fix(*, actor: Any, rectification: Rectification, result: str) -> Rectification:
    """整改完成: record the result; the rater is told it in the app and by SMS."""
    result = _text(result, code="invalid_result", label="整改结果", max_length=MAX_TEXT, required=True)
    with transaction.atomic():
        rect = _lock_rectification(rectification, actor=actor)
        if rect.status not in (RectificationStatus.CALLED_BACK, RectificationStatus.OVERDUE):
            if rect.status == RectificationStatus.OPEN:
                raise ServiceError(
                    "callback_first", "请先回访评价人并登记回访情况,再填写整改结果", status=409
                )
            raise ServiceError(
                "illegal_transition",
                f"整改任务当前为“{rect.get_status_display()}”,不能再填写整改结果",
                status=409,
            )
        if rect.called_back_at is None:
            raise ServiceError("callback_first", "请先回访评价人并登记回访情况,再填写整改结果", status=409)
        rect.status = RectificationStatus.FIXED
        rect.fixed_at = timezone.now()
        rect.fixed_by = actor if _authenticated(actor) else None
        rect.result = result
        rect.save()
        audit_append(actor=actor, action="rectification.fix", obj=rect, state=rectification_state(rect))
        rating = rect.rating
        _tell_person(
            user=rating.rater,
            phone=rating.rater_phone,
            kind="rating.rectified",
            context={"object": rating.object_title, "result": result},
            obj=rect,
        )
    return rect


def _mark_overdue(pk: int, *, now: dt.datetime) -> bool:
    with transaction.atomic():
        rect = (
            Rectification.objects.select_for_update()
            .filter(
                pk=pk,
                status__in=(RectificationStatus.OPEN, RectificationStatus.CALLED_BACK),
                deadline__lt=now,
            )
            .first()
        )
        if rect is None:  # fixed meanwhile, or another sweeper got there first
            return False
        rect.status = RectificationStatus.OVERDUE
        rect.overdue_at = now
        rect.save(update_fields=["status", "overdue_at"])
        audit_append(actor=None, action="rectification.overdue", obj=rect, state=rectification_state(rect))
        recipients = {u.pk: u for u in people.unit_users(handler=rect.handler)}
        recipients.update({u.pk: u for u in people.supervisors_over(region=rect.region)})
        context = {
            "object": rect.rating.object_title,
            "deadline": _when(rect.deadline),
            "handler": rect.handler.name if rect.handler else "(未指定)",
        }
        _tell(recipients.values(), kind="rating.rectification_overdue", context=context, obj=rect)
    return True


def rectification_sweep(*, now: dt.datetime | None = None) -> int:
    """Mark every open rectification past its deadline overdue; running it twice changes nothing."""
    now = now or timezone.now()
    due = Rectification.objects.filter(
        status__in=(RectificationStatus.OPEN, RectificationStatus.CALLED_BACK), deadline__lt=now
    ).order_by("deadline", "pk")
    fired = 0
    while True:
        batch = list(due.values_list("pk", flat=True)[:BATCH])
        fired += sum(_mark_overdue(pk, now=now) for pk in batch)
        if len(batch) < BATCH:
            return fired


# --- appeals ------------------------------------------------------------------------------------


def rating_appeal(*, actor: Any, rating: Rating, reason: str) -> Appeal:
    """申诉: the responsible unit says a bad rating is malicious; a supervisor decides."""
    reason = _text(reason, code="invalid_reason", label="申诉理由", max_length=MAX_TEXT, required=True)
    with transaction.atomic():
        locked = Rating.objects.select_for_update().filter(pk=rating.pk).first()
        if locked is None:
            raise NotFound("评价不存在")
        if actor is not None and not (_is_unit(actor, locked.handler_id) or "admin" in roles_of(user=actor)):
            if rating_list(user=actor).filter(pk=locked.pk).exists():
                raise PermissionDenied("只有责任单位可以对差评提出申诉")
            raise NotFound("评价不存在或不在您的管辖范围内")
        if not locked.is_bad:
            raise ServiceError("not_bad", "只有“不满意”“非常不满意”的评价可以申诉", status=409)
        if Appeal.objects.filter(rating=locked).exists():
            raise ServiceError("already_appealed", "该评价已经申诉过,每条评价只能申诉一次", status=409)
        appeal = Appeal.objects.create(
            rating=locked,
            region=locked.region,
            reason=reason,
            filed_by=actor if _authenticated(actor) else None,
            filed_at=timezone.now(),
        )
        audit_append(
            actor=actor,
            action="appeal.file",
            obj=appeal,
            state={"rating": locked.pk, "reason": reason, "status": appeal.status},
        )
        context = {
            "object": locked.object_title,
            "level": locked.get_level_display(),
            "handler": locked.handler.name if locked.handler else "责任单位",
            "reason": reason,
        }
        _tell(
            people.supervisors_over(region=locked.region),
            kind="rating.appeal_filed",
            context=context,
            obj=appeal,
        )
    return appeal


def appeal_decide(*, actor: Any, appeal: Appeal, uphold: bool, note: str) -> Appeal:
    """裁定: upheld → the rating is marked and left out of rankings, its rectification withdrawn;
    refused → the rating stands and the rectification goes on."""
    note = _text(note, code="invalid_note", label="裁定意见", max_length=MAX_TEXT, required=True)
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().filter(pk=appeal.pk).first()
        if locked is None:
            raise NotFound("申诉不存在")
        if actor is not None:
            if not _in_region(actor, locked.region):
                raise NotFound("申诉不存在或不在您的管辖范围内")
            if not roles_of(user=actor) & SUPERVISE_ROLES:
                raise PermissionDenied("只有督查人员可以裁定申诉")
            if locked.filed_by_id == actor.pk:
                raise PermissionDenied("不能裁定自己提出的申诉")
        if locked.status != AppealStatus.PENDING:
            raise ServiceError(
                "already_decided", f"该申诉已裁定为“{locked.get_status_display()}”", status=409
            )
        now = timezone.now()
        locked.status = AppealStatus.UPHELD if uphold else AppealStatus.REFUSED
        locked.decided_by = actor if _authenticated(actor) else None
        locked.decided_at = now
        locked.decision_note = note
        locked.save()
        rating = Rating.objects.select_for_update().get(pk=locked.rating_id)
        withdrawn = False
        if uphold:
            rating.excluded = True
            rating.excluded_reason = f"申诉成立:{note}"[:500]
            rating.save(update_fields=["excluded", "excluded_reason"])
            withdrawn = bool(
                Rectification.objects.filter(rating=rating, status__in=OPEN_RECTIFICATION).update(
                    status=RectificationStatus.WITHDRAWN
                )
            )
        audit_append(
            actor=actor,
            action="appeal.decide",
            obj=locked,
            state={
                "rating": rating.pk,
                "status": locked.status,
                "note": note,
                "rating_excluded": rating.excluded,
                "rectification_withdrawn": withdrawn,
            },
        )
        decision = "成立,该评价已标记为恶意差评,不计入满意度排名" if uphold else "不成立,请继续完成整改"
        _tell(
            people.unit_users(handler=rating.handler),
            kind="rating.appeal_decided",
            context={"object": rating.object_title, "decision": decision, "note": f"裁定意见:{note}"},
            obj=locked,
        )
    return locked


# --- 办不成事 --------------------------------------------------------------------------------------


def cannot_get_done_state(report: CannotGetDoneReport) -> dict[str, Any]:
    return {
        "number": report.number,
        "region": report.region.code,
        "channel": report.channel,
        "what": report.what,
        "where": report.where,
        "has_phone": bool(report.contact_phone),
        "status": report.status,
        "respond_by": report.respond_by,
        "resolve_by": report.resolve_by,
        "responded_at": report.responded_at,
        "response": report.response,
        "resolved_at": report.resolved_at,
        "resolution": report.resolution,
    }


def _report_region(*, actor: Any, region_code: str) -> Region:
    # The form's township code: a NUL in it failed the lookup on PostgreSQL (a 500).
    code = refuse_nul(region_code, label="所在乡镇(街道)").strip()
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ServiceError("invalid_region", "请选择您所在的乡镇(街道)")
        return region
    staff = staff_of(user=actor) if _authenticated(actor) else None
    region = staff.region if staff is not None else region_county()
    if region is None:
        raise ServiceError("invalid_region", "系统尚未设置行政区域")
    return region


def cannot_get_done_report(
    *,
    actor: Any,
    what: str,
    where: str = "",
    phone: str = "",
    name: str = "",
    region_code: str = "",
    channel: str = RatingChannel.WEB,
) -> CannotGetDoneReport:
    """“办不成事”反映, from a resident or anyone with a mobile number: straight to the supervisors
    over the place, with 1 working day to respond and 5 to resolve."""
    what = _text(what, code="invalid_what", label="想办的事和遇到的问题", max_length=MAX_TEXT, required=True)
    where = _text(where, code="invalid_where", label="办事地点", max_length=200, required=False)
    name = _text(name, code="invalid_name", label="联系人", max_length=64, required=False)
    if channel not in RatingChannel.values:
        raise ServiceError("invalid_channel", "反映渠道应为窗口、移动端、短信、热线、自助终端或网站")
    user = actor if _authenticated(actor) else None
    if phone.strip():
        phone = validate_mobile(phone)
    elif user is not None:
        staff = staff_of(user=user)
        phone = staff.phone if staff is not None else ""
    else:
        raise ServiceError("phone_required", "请留下手机号,方便工作人员与您联系")
    region = _report_region(actor=user, region_code=region_code)
    now = timezone.now()
    with transaction.atomic():
        if phone:
            recent = CannotGetDoneReport.objects.filter(
                contact_phone=phone, created_at__gte=now - dt.timedelta(days=1)
            ).count()
            if recent >= REPORTS_PER_PHONE_PER_DAY:
                raise ServiceError(
                    "too_many_reports",
                    f"同一手机号一天内最多反映 {REPORTS_PER_PHONE_PER_DAY} 次,工作人员会尽快联系您",
                    status=429,
                )
        report = CannotGetDoneReport.objects.create(
            number=uuid.uuid4().hex[:20],  # replaced below, once the row has its id
            what=what,
            where=where,
            region=region,
            contact_name=name,
            contact_phone=phone,
            channel=channel,
            reporter=user,
            created_at=now,
            respond_by=add_working_days(start=now, days=RESPOND_WORKING_DAYS),
            resolve_by=add_working_days(start=now, days=RESOLVE_WORKING_DAYS),
        )
        report.number = f"BC{timezone.localdate(now):%Y%m%d}{report.pk:06d}"
        report.save(update_fields=["number"])
        audit_append(
            actor=user, action="cannot_get_done.report", obj=report, state=cannot_get_done_state(report)
        )
        context = {
            "number": report.number,
            "where": where or region.name,
            "what": what[:100],
            "respond_by": _when(report.respond_by),
        }
        _tell(
            people.supervisors_over(region=region), kind="rating.cannot_get_done", context=context, obj=report
        )
        _tell_person(
            user=user, phone=phone, kind="rating.cannot_get_done_received", context=context, obj=report
        )
    return report


def _lock_report(report: CannotGetDoneReport, *, actor: Any) -> CannotGetDoneReport:
    locked = CannotGetDoneReport.objects.select_for_update().filter(pk=report.pk).first()
    if locked is None:
        raise NotFound("反映不存在")
    if actor is not None and not _is_supervisor_over(actor, locked.region):
        raise NotFound("反映不存在或不在您的管辖范围内")
    return locked


def cannot_get_done_respond(*, actor: Any, report: CannotGetDoneReport, response: str) -> CannotGetDoneReport:
    """响应: the supervisor has contacted the resident and says what happens next."""
    response = _text(response, code="invalid_response", label="响应情况", max_length=MAX_TEXT, required=True)
    with transaction.atomic():
        locked = _lock_report(report, actor=actor)
        if locked.status != ReportStatus.OPEN:
            raise ServiceError(
                "illegal_transition",
                f"该反映当前为“{locked.get_status_display()}”,不能再登记响应",
                status=409,
            )
        locked.status = ReportStatus.RESPONDED
        locked.responded_at = timezone.now()
        locked.responded_by = actor if _authenticated(actor) else None
        locked.response = response
        locked.save()
        audit_append(
            actor=actor, action="cannot_get_done.respond", obj=locked, state=cannot_get_done_state(locked)
        )
        _tell_person(
            user=locked.reporter,
            phone=locked.contact_phone,
            kind="rating.cannot_get_done_answered",
            context={"number": locked.number, "step": "已有工作人员响应", "text": response},
            obj=locked,
        )
    return locked


def cannot_get_done_resolve(
    *, actor: Any, report: CannotGetDoneReport, resolution: str
) -> CannotGetDoneReport:
    """解决: what was done so the resident could get it done; an open report is answered with it too."""
    resolution = _text(
        resolution, code="invalid_resolution", label="解决结果", max_length=MAX_TEXT, required=True
    )
    with transaction.atomic():
        locked = _lock_report(report, actor=actor)
        if locked.status == ReportStatus.RESOLVED:
            raise ServiceError("illegal_transition", "该反映已经解决", status=409)
        now = timezone.now()
        if locked.responded_at is None:
            locked.responded_at = now
            locked.responded_by = actor if _authenticated(actor) else None
            locked.response = resolution
        locked.status = ReportStatus.RESOLVED
        locked.resolved_at = now
        locked.resolved_by = actor if _authenticated(actor) else None
        locked.resolution = resolution
        locked.save()
        audit_append(
            actor=actor, action="cannot_get_done.resolve", obj=locked, state=cannot_get_done_state(locked)
        )
        _tell_person(
            user=locked.reporter,
            phone=locked.contact_phone,
            kind="rating.cannot_get_done_answered",
            context={"number": locked.number, "step": "已办结", "text": resolution},
            obj=locked,
        )
    return locked


# step, threshold column, column recording that the step fired, statuses it applies to, label
REPORT_LADDER = [
    ("respond", "respond_by", "respond_escalated_at", (ReportStatus.OPEN,), "超过 1 个工作日未响应"),
    (
        "resolve",
        "resolve_by",
        "resolve_escalated_at",
        (ReportStatus.OPEN, ReportStatus.RESPONDED),
        "超过 5 个工作日未解决",
    ),
]


@dataclass
class ReportSweep:
    respond: int = 0
    resolve: int = 0

    def total(self) -> int:
        return self.respond + self.resolve


def _escalate(
    pk: int, *, step: str, threshold: str, done_field: str, statuses: Any, label: str, now: dt.datetime
) -> bool:
    with transaction.atomic():
        report = (
            CannotGetDoneReport.objects.select_for_update()
            .filter(pk=pk, status__in=statuses, **{f"{threshold}__lt": now, f"{done_field}__isnull": True})
            .first()
        )
        if report is None:
            return False
        setattr(report, done_field, now)
        report.save(update_fields=[done_field])
        audit_append(
            actor=None,
            action=f"cannot_get_done.escalate_{step}",
            obj=report,
            state={**cannot_get_done_state(report), "escalated": step},
        )
        recipients = {u.pk: u for u in people.supervisors_over(region=report.region)}
        recipients.update({u.pk: u for u in people.leaders_over(region=report.region)})
        if step == "resolve":
            recipients.update({u.pk: u for u in people.county_oversight()})
        context = {
            "number": report.number,
            "step": label,
            "due": _when(getattr(report, threshold)),
            "what": report.what[:100],
        }
        _tell(recipients.values(), kind="rating.cannot_get_done_escalated", context=context, obj=report)
    return True


def cannot_get_done_sweep(*, now: dt.datetime | None = None) -> ReportSweep:
    """Escalate reports past their response or resolution time; each step fires once per report."""
    now = now or timezone.now()
    result = ReportSweep()
    for step, threshold, done_field, statuses, label in REPORT_LADDER:
        due = CannotGetDoneReport.objects.filter(
            status__in=statuses, **{f"{threshold}__lt": now, f"{done_field}__isnull": True}
        ).order_by(threshold, "pk")
        fired = 0
        while True:
            batch = list(due.values_list("pk", flat=True)[:BATCH])
            fired += sum(
                _escalate(
                    pk,
                    step=step,
                    threshold=threshold,
                    done_field=done_field,
                    statuses=statuses,
                    label=label,
                    now=now,
                )
                for pk in batch
            )
            if len(batch) < BATCH:
                break
        setattr(result, step, fired)
    return result

"""帮办代办 beyond the application itself (which is application_create with channel `assisted`
and the resident's consent): booking a home visit for a resident who cannot come, and recording
that it took place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Region, Staff
from shanzhi.core.selectors import has_role, jurisdiction_root
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.services import message_queue
from shanzhi.onewindow.applications import clean_name, clean_phone, refuse_nul
from shanzhi.onewindow.models import ServiceItem
from shanzhi.onewindow.models_applications import Application, HomeVisit, ProxyReason, VisitStatus

ASSIST_ROLES = frozenset({"clerk", "gridworker", "admin"})
MAX_AHEAD = dt.timedelta(days=60)


def home_visit_state(v: HomeVisit) -> dict[str, Any]:
    return {
        "region": v.region.code,
        "reason": v.reason,
        "visit_date": v.visit_date,
        "staff": v.staff_id,
        "item": v.item.code if v.item_id and v.item else None,
        "status": v.status,
        "application": v.application_id,
    }


def _in_area(actor: Any, region: Region) -> None:
    if actor is None:
        return
    root = jurisdiction_root(user=actor)
    if root is None or not region.path.startswith(root.path):
        raise NotFound("该村(社区)不在您的管辖范围内")


def home_visit_book(
    *,
    actor: Any,
    region: Region,
    resident_name: str,
    resident_phone: str,
    reason: str,
    address: str,
    visit_date: dt.date,
    staff: Staff,
    item: ServiceItem | None = None,
    note: str = "",
) -> HomeVisit:
    """Book a visit: who is visited where and when, by whom, for what."""
    if actor is not None and not has_role(user=actor, roles=ASSIST_ROLES):
        raise PermissionDenied("您的角色不能预约上门帮办")
    name, phone = clean_name(resident_name), clean_phone(resident_phone)
    address = " ".join(refuse_nul(address, label="上门地址").split())
    note = " ".join(refuse_nul(note, label="备注").split())
    today = timezone.localdate()
    errors = []
    if reason not in ProxyReason.values:
        errors.append("请选择代办原因")
    if not address or len(address) > 200:
        errors.append("请填写上门地址(不超过 200 字)")
    if visit_date < today or visit_date > today + MAX_AHEAD:
        errors.append("上门日期应在今天起 60 天之内")
    if len(note) > 200:
        errors.append("备注不超过 200 字")
    if errors:
        raise ServiceError("invalid_visit", ";".join(errors), status=422)
    _in_area(actor, region)
    if not staff.user.is_active or not region.path.startswith(staff.region.path):
        raise ServiceError("invalid_staff", "上门人员须为该村(社区)或其上级的工作人员", status=422)
    with transaction.atomic():
        visit = HomeVisit.objects.create(
            region=region,
            resident_name=name,
            resident_phone=phone,
            reason=reason,
            address=address,
            visit_date=visit_date,
            staff=staff,
            item=item,
            note=note,
            booked_by=actor,
            created_at=timezone.now(),
        )
        audit_append(actor=actor, action="home_visit.book", obj=visit, state=home_visit_state(visit))
        what = f"办理“{item.name}”" if item is not None else "帮办代办"
        message_queue(
            channel=MessageChannel.SMS,
            kind="application.home_visit",
            body=f"已为您预约 {visit_date:%Y年%m月%d日} 上门{what},工作人员:{staff.name}。",
            phone=phone,
            obj=visit,
        )
        message_queue(
            channel=MessageChannel.IN_APP,
            kind="application.home_visit",
            body=f"上门帮办:{visit_date:%m月%d日} {region.name} {address},{name},{what}",
            recipient=staff.user,
            obj=visit,
        )
    return visit


def home_visit_done(*, actor: Any, visit: HomeVisit, application: Application | None = None) -> HomeVisit:
    if actor is not None and not has_role(user=actor, roles=ASSIST_ROLES):
        raise PermissionDenied("您的角色不能登记上门帮办")
    with transaction.atomic():
        locked = HomeVisit.objects.select_for_update().select_related("region").filter(pk=visit.pk).first()
        if locked is None:
            raise NotFound("上门预约不存在")
        _in_area(actor, locked.region)
        if locked.status != VisitStatus.BOOKED:
            raise ServiceError(
                "illegal_transition", f"该预约当前为“{locked.get_status_display()}”", status=409
            )
        locked.status = VisitStatus.DONE
        locked.done_at = timezone.now()
        locked.application = application
        locked.save()
        audit_append(actor=actor, action="home_visit.done", obj=locked, state=home_visit_state(locked))
    return locked

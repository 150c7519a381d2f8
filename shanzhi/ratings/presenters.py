"""Ratings, rectifications, appeals and reports as JSON-ready dicts, phones masked unless the viewer
must call the person (the responsible unit and supervisors, on one record's detail)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from shanzhi.core.masking import mask_phone
from shanzhi.core.selectors import jurisdiction_root, roles_of, staff_of
from shanzhi.ratings.models import (
    OPEN_RECTIFICATION,
    Appeal,
    CannotGetDoneReport,
    Rating,
    Rectification,
    RectificationStatus,
    ReportStatus,
)
from shanzhi.ratings.selectors import SUPERVISE_ROLES, UNIT_ROLES


def _region(region: Any) -> dict[str, str] | None:
    return {"code": region.code, "name": region.name} if region is not None else None


def _over(user: Any, region: Any) -> bool:
    root = jurisdiction_root(user=user)
    return root is not None and region is not None and str(region.path).startswith(root.path)


def may_call(*, user: Any, handler_id: int | None, region: Any) -> bool:
    """The responsible unit's staff and the supervisors over the place see the full phone."""
    roles = roles_of(user=user)
    staff = staff_of(user=user)
    if handler_id is not None and staff is not None and staff.handler_id == handler_id and roles & UNIT_ROLES:
        return True
    return bool(roles & SUPERVISE_ROLES) and _over(user, region)


def rating_dict(*, user: Any, rating: Rating) -> dict[str, Any]:
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    rect = getattr(rating, "rectification", None)
    appeal = getattr(rating, "appeal", None)
    return {
        "id": rating.pk,
        "object_type": rating.object_type,
        "object_id": rating.object_id,
        "object_title": rating.object_title,
        "region": _region(rating.region),
        "handler": {"code": rating.handler.code, "name": rating.handler.name} if rating.handler else None,
        "staff": {"id": rating.staff_id, "name": rating.staff.name} if rating.staff else None,
        "level": rating.level,
        "level_label": rating.get_level_display(),
        "comment": rating.comment,
        "channel": rating.channel,
        "rater": rating.rater.get_username() if rating.rater else None,
        "rater_phone": mask_phone(rating.rater_phone),
        "created_at": rating.created_at,
        "excluded": rating.excluded,
        "excluded_reason": rating.excluded_reason,
        "rectification": {"id": rect.pk, "status": rect.status, "deadline": rect.deadline} if rect else None,
        "appeal": {"id": appeal.pk, "status": appeal.status} if appeal else None,
    }


def rectification_overdue(rect: Rectification) -> bool:
    """Marked overdue by the sweep, or past the deadline before the sweep got to it."""
    if rect.status == RectificationStatus.OVERDUE:
        return True
    return rect.status in OPEN_RECTIFICATION and timezone.now() > rect.deadline


def rectification_dict(*, user: Any, rect: Rectification, detail: bool = False) -> dict[str, Any]:
    rating = rect.rating
    phone = rating.rater_phone
    full = detail and may_call(user=user, handler_id=rect.handler_id, region=rect.region)
    return {
        "id": rect.pk,
        "rating": rating_dict(user=user, rating=rating),
        "handler": {"code": rect.handler.code, "name": rect.handler.name} if rect.handler else None,
        "status": rect.status,
        "status_label": rect.get_status_display(),
        "opened_at": rect.opened_at,
        "deadline": rect.deadline,
        "overdue": rectification_overdue(rect),
        "called_back_at": rect.called_back_at,
        "called_back_by": rect.called_back_by.get_username() if rect.called_back_by else None,
        "rater_said": rect.rater_said,
        "fixed_at": rect.fixed_at,
        "fixed_late": rect.fixed_late,
        "result": rect.result,
        "rater_phone": phone if full else mask_phone(phone),
    }


def appeal_dict(*, user: Any, appeal: Appeal) -> dict[str, Any]:
    return {
        "id": appeal.pk,
        "rating": rating_dict(user=user, rating=appeal.rating),
        "reason": appeal.reason,
        "filed_by": appeal.filed_by.get_username() if appeal.filed_by else None,
        "filed_at": appeal.filed_at,
        "status": appeal.status,
        "status_label": appeal.get_status_display(),
        "decided_by": appeal.decided_by.get_username() if appeal.decided_by else None,
        "decided_at": appeal.decided_at,
        "decision_note": appeal.decision_note,
    }


def report_overdue(report: CannotGetDoneReport) -> str:
    """ "respond" / "resolve" when that clock has run out, else ""."""
    now = timezone.now()
    if report.status == ReportStatus.OPEN and now > report.respond_by:
        return "respond"
    if report.status != ReportStatus.RESOLVED and now > report.resolve_by:
        return "resolve"
    return ""


def report_dict(*, user: Any, report: CannotGetDoneReport, detail: bool = False) -> dict[str, Any]:
    full = detail and may_call(user=user, handler_id=None, region=report.region)
    return {
        "id": report.pk,
        "number": report.number,
        "what": report.what,
        "where": report.where,
        "region": _region(report.region),
        "contact_name": report.contact_name,
        "contact_phone": report.contact_phone if full else mask_phone(report.contact_phone),
        "channel": report.channel,
        "created_at": report.created_at,
        "status": report.status,
        "status_label": report.get_status_display(),
        "respond_by": report.respond_by,
        "resolve_by": report.resolve_by,
        "overdue": report_overdue(report),
        "responded_at": report.responded_at,
        "response": report.response,
        "resolved_at": report.resolved_at,
        "resolution": report.resolution,
        "escalated": [
            step
            for step, at in (
                ("respond", report.respond_escalated_at),
                ("resolve", report.resolve_escalated_at),
            )
            if at is not None
        ],
    }

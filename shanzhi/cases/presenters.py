"""How a case is shown to a given person: personal data masked unless their role needs it."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from shanzhi.cases.models import Assignment, Case
from shanzhi.cases.workflow import allowed_actions
from shanzhi.core.masking import mask_phone
from shanzhi.core.selectors import roles_of

# Roles that call the reporter back see the full number; everyone else sees it masked.
SEES_PHONE = frozenset({"operator", "dispatcher", "handler"})


def sees_phone(*, user: Any, case: Case) -> bool:
    return bool(roles_of(user=user) & SEES_PHONE) or (
        case.reporter_id is not None and case.reporter_id == user.pk
    )


def reporter_phone(*, user: Any, case: Case) -> str:
    return case.reporter_phone if sees_phone(user=user, case=case) else mask_phone(case.reporter_phone)


def remaining_hours(*, deadline: Any) -> float | None:
    if deadline is None:
        return None
    return round((deadline - timezone.now()).total_seconds() / 3600, 2)


def assignment_dict(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "handler": a.handler.code,
        "handler_name": a.handler.name,
        "role": a.role,
        "status": a.status,
        "status_label": a.get_status_display(),
        "clock_unit": a.clock_unit,
        "sla_hours": a.sla_hours,
        "started_at": a.started_at,
        "deadline": a.deadline,
        "remaining_hours": remaining_hours(deadline=a.deadline),
        "accepted_at": a.accepted_at,
        "reported_at": a.reported_at,
        "report_text": a.report_text,
        "return_reason": a.return_reason,
        "rework_count": a.rework_count,
        "on_time": a.on_time,
    }


def case_dict(*, user: Any, case: Case, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": case.number,
        "status": case.status,
        "status_label": case.get_status_display(),
        "channel": case.channel,
        "text": case.text,
        "address": case.address,
        "lat": case.lat,
        "lon": case.lon,
        "category": case.category.code if case.category else None,
        "category_name": case.category.name if case.category else None,
        "suggested_category": case.suggested_category.code if case.suggested_category else None,
        "suggestion_confidence": case.suggestion_confidence,
        "region": case.region.code if case.region else None,
        "region_name": case.region.name if case.region else None,
        "township": case.township.code if case.township else None,
        "grid": case.grid.code if case.grid else None,
        "urgent": case.urgent,
        "reporter_name": case.reporter_name,
        "reporter_phone": reporter_phone(user=user, case=case),
        "received_at": case.received_at,
        "deadline": case.deadline,
        "closed_at": case.closed_at,
        "satisfaction": case.satisfaction,
        "possible_duplicate_of": case.possible_duplicate_of.number if case.possible_duplicate_of else None,
        "merged_into": case.merged_into.number if case.merged_into else None,
    }
    if detail:
        data["suggestion"] = case.suggestion
        data["actions"] = allowed_actions(status=case.status)
        data["assignments"] = [assignment_dict(a) for a in case.assignments.select_related("handler")]
        data["timeline"] = [
            {"at": e.at, "actor": e.actor, "action": e.action, "note": e.note} for e in case.timeline.all()
        ]
        data["attachments"] = [
            {"stage": f.stage, "content_type": f.content_type, "size": f.size, "sha256": f.sha256}
            for f in case.attachments.all()
        ]
    return data

"""Applications as the API and the pages show them, with personal data masked for viewers who do
not need it, and the actions this viewer may take now."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from shanzhi.core.selectors import has_role, roles_of, staff_of
from shanzhi.onewindow.application_selectors import applicant_view
from shanzhi.onewindow.models import Channel, MaterialForm
from shanzhi.onewindow.models_applications import (
    CLOCK_STATUSES,
    FILE_STATUSES,
    RATABLE_STATUSES,
    Application,
    ApplicationStatus,
    LineStatus,
)
from shanzhi.onewindow.workflow import TRANSITIONS, allowed_actions, status_label

EVENT_LABELS = {
    "create": "建立申请",
    "upload": "上传材料",
    "paper": "核验纸质材料",
    "wait": "等待前置事项",
    "rate": "评价",
    "warning": "临期预警",
    "escalation": "超期督办",
    "county": "县级督办",
    **{action: t.label for action, t in TRANSITIONS.items()},
}


PRIVATE_EVENTS = frozenset({"create", "upload", "paper", "warning", "escalation", "county"})


def _iso(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def viewer_actions(*, user: Any, app: Application) -> list[str]:
    """The transitions this viewer may take now (what the page offers; the services decide)."""
    roles = roles_of(user=user)
    staff = staff_of(user=user)
    own = app.applicant_user_id is not None and app.applicant_user_id == getattr(user, "pk", None)
    out = []
    mine = staff is not None and staff.handler_id is not None and staff.handler_id == app.department_id
    intake = bool(roles & {"clerk", "admin"})
    missing = app.lines.filter(status=LineStatus.NEEDED).exists()
    for action in allowed_actions(status=app.status):
        # Offered only when the material check passes: until then the page lists what is missing.
        if action in ("submit", "accept", "correct") and missing:
            continue
        # At the window the clerk accepts straight away; 提交 is for the resident, the kiosk, the helper.
        if action == "submit" and intake and app.channel == "window":
            continue
        t = TRANSITIONS[action]
        if not roles & t.roles:
            continue
        back_office = action in ("start_review", "approve", "refuse", "request_correction")
        if back_office and "admin" not in roles and not mine:
            continue
        if action == "request_correction" and app.correction_requested_at is not None:
            continue
        if action == "not_accept" and (app.notified_at is not None or not missing):
            continue
        if action in ("submit", "correct") and roles <= {"resident"} and not own:
            continue
        # The department accepts online applications routed to it; bundles and drafts are the window's.
        if (
            action in ("accept", "not_accept")
            and not intake
            and (not mine or app.status == ApplicationStatus.DRAFT)
        ):
            continue
        if action == "finish" and not intake and not mine:
            continue
        out.append(action)
    return out


def can_upload(*, user: Any, app: Application) -> bool:
    if app.status not in FILE_STATUSES:
        return False
    roles = roles_of(user=user)
    if roles & {"clerk", "gridworker", "admin"}:
        return True
    return "resident" in roles and app.applicant_user_id == getattr(user, "pk", None)


def line_dicts(*, app: Application, file_url: bool = True) -> list[dict[str, Any]]:
    files: dict[int, list[Any]] = {}
    for f in app.files.all():
        files.setdefault(f.line_id, []).append(f)
    rows = []
    for line in app.lines.order_by("order"):
        rows.append(
            {
                "key": line.key,
                "name": line.name,
                "form": line.form,
                "form_label": str(MaterialForm(line.form).label)
                if line.form in MaterialForm.values
                else line.form,
                "copies": line.copies,
                "condition": line.condition,
                "status": line.status,
                "status_label": line.get_status_display(),
                "source": line.source,
                "missing": line.status == LineStatus.NEEDED,
                "files": [
                    {
                        "id": f.pk,
                        "name": f.original_name,
                        "content_type": f.content_type,
                        "size": f.size,
                        "stage": f.stage,
                        "url": reverse("onewindow:application_file", args=[app.number, f.pk])
                        if file_url
                        else "",
                    }
                    for f in files.get(line.pk, [])
                ],
            }
        )
    return rows


def application_dict(*, user: Any, app: Application, detail: bool = False) -> dict[str, Any]:
    now = timezone.now()
    data: dict[str, Any] = {
        "number": app.number,
        "title": app.title,
        "status": app.status,
        "status_label": status_label(app.status),
        "item": {"code": app.item.code, "name": app.item.name} if app.item_id and app.item else None,
        "bundle": {"code": app.bundle.code, "name": app.bundle.name}
        if app.bundle_id and app.bundle
        else None,
        "parent": app.parent.number if app.parent_id and app.parent else None,
        "channel": app.channel,
        "channel_label": str(Channel(app.channel).label) if app.channel in Channel.values else app.channel,
        "applicant": applicant_view(user=user, app=app),
        "region": {"code": app.region.code, "name": app.region.name},
        "department": {"code": app.department.code, "name": app.department.name}
        if app.department_id and app.department
        else None,
        "created_at": _iso(app.created_at),
        "submitted_at": _iso(app.submitted_at),
        "accepted_at": _iso(app.accepted_at),
        "promised_days": app.promised_days,
        "deadline": _iso(app.deadline),
        "overdue": bool(app.status in CLOCK_STATUSES and app.deadline and now > app.deadline),
        "decided_at": _iso(app.decided_at),
        "decision": app.decision,
        "refuse_reason": app.refuse_reason,
        "finished_at": _iso(app.finished_at),
        "url": reverse("onewindow:application", args=[app.number]),
    }
    if not detail:
        return data
    data.update(
        {
            "answers": app.answers,
            "form": app.form_data,
            "missing_notice": app.missing_notice,
            "notified_at": _iso(app.notified_at),
            "correction_items": app.correction_items,
            "correction_requested_at": _iso(app.correction_requested_at),
            "corrected_at": _iso(app.corrected_at),
            "materials": line_dicts(app=app),
            "parts": [
                application_dict(user=user, app=p)
                for p in app.children.select_related("item", "department", "region").order_by("number")
            ],
            "events": [
                {"at": _iso(e.at), "action": e.action, "actor": e.actor, "note": e.note}
                for e in app.events.order_by("at", "id")
            ],
            "actions": viewer_actions(user=user, app=app),
            "can_upload": can_upload(user=user, app=app),
            "receipt_url": reverse("onewindow:receipt", args=[app.number]) if app.accepted_at else None,
            "notice_url": reverse("onewindow:missing_notice", args=[app.number]) if app.notified_at else None,
            "correction_url": reverse("onewindow:correction_notice", args=[app.number])
            if app.correction_requested_at
            else None,
            "satisfaction": app.satisfaction,
            "ratable": app.status in RATABLE_STATUSES and not app.satisfaction,
            "consent": _consent(app),
        }
    )
    return data


def _consent(app: Application) -> dict[str, Any] | None:
    consent = getattr(app, "consent", None) if app.channel == Channel.ASSISTED else None
    if consent is None:
        return None
    return {
        "reason": consent.get_reason_display(),
        "consenter_name": consent.consenter_name,
        "relation": consent.relation,
        "method": consent.get_method_display(),
        "witness": consent.witness,
        "consented_at": _iso(consent.consented_at),
    }


def masked_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def public_status(app: Application) -> dict[str, Any]:
    """What the public lookup shows: enough to follow the application, nothing more."""
    return {
        "number": app.number,
        "title": app.title,
        "applicant": masked_name(app.applicant_name),
        "status": app.status,
        "status_label": status_label(app.status),
        "accepted_at": _iso(app.accepted_at),
        "deadline": _iso(app.deadline),
        "overdue": bool(app.status in CLOCK_STATUSES and app.deadline and timezone.now() > app.deadline),
        "decision": app.decision,
        "refuse_reason": app.refuse_reason,
        "missing": [m["name"] for m in app.missing_notice]
        if app.status == ApplicationStatus.NOT_ACCEPTED
        else [],
        "correction_items": app.correction_items
        if app.status == ApplicationStatus.CORRECTION_REQUESTED
        else [],
        "parts": [
            {
                "number": p.number,
                "title": p.title,
                "status": p.status,
                "status_label": status_label(p.status),
                "refuse_reason": p.refuse_reason,
            }
            for p in (app.children.select_related("item").order_by("number") if app.is_bundle else [])
        ],
        "events": [
            {
                "at": _iso(e.at),
                "at_text": timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"),
                "action": e.action,
                "label": EVENT_LABELS.get(e.action, e.action),
                # Staff-side details (file names, who was told) stay with the staff.
                "note": "" if e.action in PRIVATE_EVENTS else e.note,
            }
            for e in app.events.order_by("at", "id")
        ],
        "ratable": app.status in RATABLE_STATUSES and not app.satisfaction,
        "satisfaction": app.satisfaction,
    }


def is_staff_viewer(user: Any) -> bool:
    return has_role(user=user, roles={"clerk", "approver", "supervisor", "leader", "gridworker", "admin"})

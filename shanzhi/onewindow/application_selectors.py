"""Reads of applications, each through the viewer's jurisdiction.

- a resident sees the applications they made (or that were made for their account);
- a window clerk, supervisor, leader or grid worker sees those whose region lies in their subtree;
- a back-office approver sees those routed to their department (within their subtree);
- a self-service terminal (kiosk) sees only what it took itself in the last hour, so a passer-by
  cannot page through earlier residents' applications by guessing numbers;
- anyone else sees nothing. Outside that is a 404, the same as a missing number.
Personal data (ID number, phone) is shown in full only to the applicant, the clerks over the
application's region, the approvers of its department and administrators.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from shanzhi.core.errors import NotFound
from shanzhi.core.masking import mask_id_number, mask_phone
from shanzhi.core.selectors import jurisdiction_root, roles_of, staff_of
from shanzhi.onewindow.models import Channel
from shanzhi.onewindow.models_applications import (
    CLOCK_STATUSES,
    Application,
    ApplicationStatus,
    HomeVisit,
)

AREA_ROLES = frozenset({"clerk", "supervisor", "leader", "gridworker", "admin"})
FULL_DATA_ROLES = frozenset({"clerk", "admin"})
KIOSK_RECALL = dt.timedelta(hours=1)


def _base() -> QuerySet[Application]:
    return Application.objects.select_related("item__department", "bundle", "region", "department", "parent")


def visibility(*, user: Any) -> Q | None:
    """The filter of what `user` may see; None for nothing."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    roles = roles_of(user=user)
    root = jurisdiction_root(user=user)
    q = Q(pk__in=[])
    seen = False
    if "resident" in roles:
        q |= Q(applicant_user=user)
        seen = True
    if root is not None and roles & AREA_ROLES:
        q |= Q(region__path__startswith=root.path)
        seen = True
    staff = staff_of(user=user)
    if root is not None and "approver" in roles and staff is not None and staff.handler_id:
        # Drafts stay with whoever is writing them; the back office sees what was handed in.
        q |= Q(department_id=staff.handler_id, region__path__startswith=root.path) & ~Q(
            status=ApplicationStatus.DRAFT
        )
        seen = True
    if "kiosk" in roles:
        q |= Q(channel=Channel.KIOSK, created_by=user, created_at__gte=timezone.now() - KIOSK_RECALL)
        seen = True
    return q if seen else None


def application_list(*, user: Any) -> QuerySet[Application]:
    q = visibility(user=user)
    return _base().none() if q is None else _base().filter(q)


def application_get(*, user: Any, number: str) -> Application:
    # No number holds a NUL, and PostgreSQL refuses one in a query (a 500): missing, like any other.
    number = str(number).strip()[:24]
    app = None if "\x00" in number else application_list(user=user).filter(number=number).first()
    if app is None:
        raise NotFound("办件不存在或不在您的管辖范围内")
    return app


def can_see(*, user: Any, app: Application) -> bool:
    return application_list(user=user).filter(pk=app.pk).exists()


def sees_personal_data(*, user: Any, app: Application) -> bool:
    """The applicant, clerks and administrators over its region, and its department's approvers."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if app.applicant_user_id == user.pk:
        return True
    roles = roles_of(user=user)
    root = jurisdiction_root(user=user)
    if root is None or not app.region.path.startswith(root.path):
        return False
    if roles & FULL_DATA_ROLES:
        return True
    staff = staff_of(user=user)
    return "approver" in roles and staff is not None and staff.handler_id == app.department_id


def applicant_view(*, user: Any, app: Application) -> dict[str, str]:
    """Name, ID number and phone as this viewer may see them."""
    full = sees_personal_data(user=user, app=app)
    return {
        "name": app.applicant_name,
        "id_number": app.applicant_id_number if full else mask_id_number(app.applicant_id_number),
        "phone": app.applicant_phone if full else mask_phone(app.applicant_phone),
    }


def my_applications(*, user: Any) -> QuerySet[Application]:
    if user is None or not getattr(user, "is_authenticated", False):
        return _base().none()
    return _base().filter(applicant_user=user, parent__isnull=True).order_by("-created_at", "-id")


def back_office_queue(*, user: Any) -> QuerySet[Application]:
    """What the approver's department has to do, the most urgent first."""
    staff = staff_of(user=user)
    if staff is None or not staff.handler_id or not roles_of(user=user) & {"approver", "admin"}:
        return _base().none()
    return (
        application_list(user=user)
        .filter(
            department_id=staff.handler_id,
            status__in=[
                ApplicationStatus.ACCEPTED,
                ApplicationStatus.IN_REVIEW,
                ApplicationStatus.CORRECTION_REQUESTED,
                ApplicationStatus.SUBMITTED,
            ],
        )
        .order_by("deadline", "created_at")
    )


def clerk_pending(*, user: Any) -> QuerySet[Application]:
    """Intake work in the clerk's area: submitted online or at a kiosk and waiting for 受理,
    told what is missing, approved and waiting to be handed over; drafts they started."""
    return (
        application_list(user=user)
        .filter(parent__isnull=True)
        .filter(
            Q(
                status__in=[
                    ApplicationStatus.SUBMITTED,
                    ApplicationStatus.NOT_ACCEPTED,
                    ApplicationStatus.APPROVED,
                ]
            )
            | Q(status=ApplicationStatus.DRAFT, created_by=user)
        )
        .order_by("created_at")
    )


def overdue_list(*, user: Any, now: dt.datetime | None = None) -> QuerySet[Application]:
    """Open applications past their promised deadline, the longest overdue first."""
    now = now or timezone.now()
    return (
        application_list(user=user).filter(status__in=CLOCK_STATUSES, deadline__lt=now).order_by("deadline")
    )


def status_lookup(*, number: str, phone: str) -> Application:
    """The public status lookup: the number and the applicant's phone must both match; a wrong
    phone looks exactly like a wrong number."""
    number = str(number or "").strip().upper()[:24]
    phone = "".join(ch for ch in str(phone or "") if ch.isdigit())[-11:]
    if "\x00" in number:  # PostgreSQL refuses NUL in a query; no number holds one
        raise NotFound("没有找到该办件,请核对受理编号和手机号")
    # Only what the public answer shows: the title's item or bundle (a lean join for a hot path).
    app = (
        Application.objects.select_related("item", "bundle")
        .filter(number=number)
        .exclude(status=ApplicationStatus.DRAFT)
        .first()
    )
    if app is None or not phone or app.applicant_phone != phone:
        raise NotFound("没有找到该办件,请核对受理编号和手机号")
    return app


def channel_items(*, channel: str, theme: str = "") -> list[Any]:
    """Active catalogue items offered on a channel (e.g. the kiosk's), by theme, in catalogue order.
    Channels are a JSON list, filtered here: SQLite has no JSON containment lookup."""
    from shanzhi.onewindow.models import ServiceItem

    items = ServiceItem.objects.filter(active=True).order_by("theme", "code")
    if theme:
        items = items.filter(theme=theme)
    return [i for i in items.only("code", "name", "theme", "channels") if channel in i.channels]


def home_visit_list(*, user: Any) -> QuerySet[HomeVisit]:
    root = jurisdiction_root(user=user)
    if root is None or not roles_of(user=user) & (AREA_ROLES | {"handler"}):
        return HomeVisit.objects.none()
    return HomeVisit.objects.select_related("region", "staff", "item").filter(
        region__path__startswith=root.path
    )

"""Who is told about an application: the applicant (SMS to the phone, and in the app when they
have an account), the department's back office, and the supervisors over the place."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from shanzhi.core.models import Handler, Region
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.services import message_queue
from shanzhi.onewindow.models_applications import Application


def _users() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True)


def department_staff(*, handler: Handler, roles: set[str]) -> list[Any]:
    return list(
        _users().filter(staff__handler=handler, staff__roles__role__in=roles).distinct().order_by("username")
    )


def supervisors_over(*, region: Region, county_only: bool = False) -> list[Any]:
    """Supervisors whose region is the application's region or one above it."""
    ancestors = [code for code in region.path.strip("/").split("/") if code]
    if county_only:
        ancestors = ancestors[:1]
    return list(
        _users()
        .filter(staff__region__code__in=ancestors, staff__roles__role__in=["supervisor"])
        .distinct()
        .order_by("username")
    )


def tell_applicant(app: Application, *, kind: str, body: str) -> None:
    """Inside the caller's transaction; the SMS leaves once it commits."""
    message_queue(channel=MessageChannel.SMS, kind=kind, body=body, phone=app.applicant_phone, obj=app)
    if app.applicant_user_id:
        message_queue(
            channel=MessageChannel.IN_APP, kind=kind, body=body, recipient=app.applicant_user, obj=app
        )


def tell_users(users: list[Any], *, app: Application, kind: str, body: str) -> list[str]:
    seen: dict[int, Any] = {}
    for user in users:
        seen.setdefault(user.pk, user)
    for user in seen.values():
        message_queue(channel=MessageChannel.IN_APP, kind=kind, body=body, recipient=user, obj=app)
    return [u.get_username() for u in seen.values()]


def tell_back_office(app: Application, *, kind: str, body: str) -> list[str]:
    if app.department is None:
        return []
    users = department_staff(handler=app.department, roles={"approver"})
    return tell_users(users, app=app, kind=kind, body=body)

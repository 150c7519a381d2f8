"""Reads of cases, always within the actor's jurisdiction; residents see only their own."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from shanzhi.cases.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Case,
    CaseStatus,
    Category,
    HandlerRequest,
    RequestState,
)
from shanzhi.core.errors import NotFound
from shanzhi.core.selectors import in_jurisdiction, roles_of, staff_of

STAFF_ROLES = frozenset(
    {
        "operator",
        "dispatcher",
        "handler",
        "gridworker",
        "clerk",
        "approver",
        "supervisor",
        "leader",
        "admin",
        "auditor",
    }
)


def case_list(*, user: Any) -> QuerySet[Case]:
    qs = Case.objects.select_related("category", "region", "township", "grid")
    roles = roles_of(user=user)
    if not roles & STAFF_ROLES:
        return qs.filter(reporter=user) if user.is_authenticated else qs.none()
    visible = in_jurisdiction(qs, user=user)
    staff = staff_of(user=user)
    if staff is not None and staff.handler_id is not None:
        # A body also sees what was dispatched to it, wherever the case is (e.g. a property company).
        visible = qs.filter(
            Q(pk__in=visible.values("pk")) | Q(assignments__handler_id=staff.handler_id)
        ).distinct()
    return visible


def case_get(*, user: Any, number: str) -> Case:
    case = case_list(user=user).filter(number=number).first()
    if case is None:
        raise NotFound("案卷不存在或不在您的管辖范围内")
    return case


def case_lookup_public(*, number: str, phone: str) -> Case:
    """Status lookup by case number + the reporter's phone, for residents without an account."""
    case = (
        Case.objects.select_related("category")
        .filter(number=number.strip(), reporter_phone=phone.strip())
        .first()
    )
    if case is None or not phone.strip():
        raise NotFound("未找到该编号与手机号对应的诉求,请核对后重试")
    return case


def dispatcher_queue(*, user: Any) -> QuerySet[Case]:
    """What waits for a dispatcher: received and registered cases, overdue-first then oldest."""
    return (
        case_list(user=user)
        .filter(status__in=[CaseStatus.RECEIVED, CaseStatus.REGISTERED])
        .order_by("received_at")
    )


def handler_inbox(*, user: Any) -> QuerySet[Assignment]:
    """Open assignments of the user's body, most urgent deadline first."""
    staff = staff_of(user=user)
    if staff is None or staff.handler_id is None:
        return Assignment.objects.none()
    return (
        Assignment.objects.filter(handler_id=staff.handler_id, status__in=OPEN_ASSIGNMENT_STATUSES)
        .select_related("case", "case__category", "handler")
        .order_by("deadline")
    )


def assignment_get(*, user: Any, pk: int) -> Assignment:
    staff = staff_of(user=user)
    qs = Assignment.objects.select_related("case", "handler")
    if "admin" in roles_of(user=user):
        qs = qs.filter(case__in=case_list(user=user))
    elif staff is not None and staff.handler_id is not None:
        qs = qs.filter(handler_id=staff.handler_id)
    else:
        qs = qs.none()
    assignment = qs.filter(pk=pk).first()
    if assignment is None:
        raise NotFound("派遣不存在或不是派给您所在单位的")
    return assignment


def pending_requests(*, user: Any) -> QuerySet[HandlerRequest]:
    return HandlerRequest.objects.filter(
        state=RequestState.PENDING, assignment__case__in=case_list(user=user)
    ).select_related("assignment__case", "assignment__handler")


def overdue_assignments(*, user: Any) -> QuerySet[Assignment]:
    return Assignment.objects.filter(
        case__in=case_list(user=user),
        status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED],
        deadline__lt=timezone.now(),
    ).select_related("case", "handler")


def categories() -> QuerySet[Category]:
    return (
        Category.objects.filter(active=True).prefetch_related("co_handlers").select_related("primary_handler")
    )

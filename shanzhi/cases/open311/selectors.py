"""Reads for the public GeoReport endpoints.

These are not filtered by jurisdiction: Open311's GET side is public by design and shows every
case of the county, through presenters that leave out the reporter and mask what is personal.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from shanzhi.cases.models import Assignment, AssignmentRole, AssignmentStatus, Case, CaseStatus, Category
from shanzhi.cases.open311.models import Open311Client, Open311Request
from shanzhi.cases.open311.params import CLOSED, OPEN, RequestQuery
from shanzhi.core.errors import ServiceError

CLOSED_STATUSES = (CaseStatus.CLOSED, CaseStatus.EVALUATED, CaseStatus.REFUSED, CaseStatus.MERGED)
MAX_RESULTS = 1000


def not_found(message: str) -> ServiceError:
    return ServiceError("not_found", message, status=404)


def service_list() -> QuerySet[Category]:
    return Category.objects.filter(active=True).order_by("code")


def service_get(*, code: str) -> Category:
    category = service_list().filter(code=code).first()
    if category is None:
        raise not_found(f"没有代码为 {code} 的服务类别(unknown service_code)")
    return category


def _requests() -> QuerySet[Case]:
    # The body that answers for a case: its current primary assignment (a returned or cancelled
    # one no longer does). Newest first, so presenters take the first.
    primaries = Prefetch(
        "assignments",
        queryset=Assignment.objects.filter(role=AssignmentRole.PRIMARY)
        .exclude(status__in=[AssignmentStatus.CANCELLED, AssignmentStatus.RETURNED])
        .select_related("handler")
        .order_by("-id"),
        to_attr="open311_primaries",
    )
    return Case.objects.select_related(
        "category", "suggested_category", "open311__service", "merged_into"
    ).prefetch_related(primaries)


def _service_in(codes: list[str]) -> Q:
    """The service a case is shown under: the registered category, else the one the Open311
    client chose, else triage's suggestion (the order of presenters.case_service)."""
    return (
        Q(category__code__in=codes)
        | Q(category__isnull=True, open311__service__code__in=codes)
        | Q(category__isnull=True, open311__isnull=True, suggested_category__code__in=codes)
    )


def request_search(*, query: RequestQuery) -> list[Case]:
    qs = _requests()
    if query.numbers:
        qs = qs.filter(number__in=query.numbers)  # the spec: ids override every other filter
    else:
        qs = qs.filter(received_at__gte=query.start, received_at__lte=query.end)
        if query.service_codes:
            qs = qs.filter(_service_in(query.service_codes))
        statuses = set(query.statuses)
        if statuses == {OPEN}:
            qs = qs.exclude(status__in=CLOSED_STATUSES)
        elif statuses == {CLOSED}:
            qs = qs.filter(status__in=CLOSED_STATUSES)
    return list(qs.order_by("-received_at", "-id")[:MAX_RESULTS])


def request_get(*, number: str) -> Case:
    case = _requests().filter(number=number).first()
    if case is None:
        raise not_found(f"没有编号为 {number} 的诉求(unknown service_request_id)")
    return case


def token_get(*, token: str) -> Open311Request:
    link = Open311Request.objects.select_related("case").filter(token=token).first()
    if link is None:
        raise not_found("没有这个 token(unknown token)")
    return link


def client_list() -> QuerySet[Open311Client]:
    return Open311Client.objects.all()

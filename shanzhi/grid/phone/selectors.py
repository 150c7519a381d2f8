"""Reads for the grid worker's phone: their grids, households, check-ins, and what waits for them.

Everything is limited to the grids the worker serves (GridWorker rows), which is narrower than
their region: a household of another grid in the same village is not theirs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from shanzhi.cases import selectors as case_selectors
from shanzhi.cases.models import Case, CaseStatus, Category, Channel
from shanzhi.core.errors import NotFound
from shanzhi.core.models import Staff
from shanzhi.core.selectors import staff_of
from shanzhi.grid.models import Grid, GridWorker, Household, HouseholdVisit, PatrolCheckin

CARE_DAYS = 30
# Shown as one-tap buttons when the worker's area has too little history to rank categories.
DEFAULT_CATEGORY_CODES = ("0101", "1301", "0601", "0604", "0301", "0602", "0701", "1202")
CATEGORY_BUTTONS = 6


def _staff(user: Any) -> Staff | None:
    return staff_of(user=user)


def my_grid_ids(*, user: Any) -> list[int]:
    staff = _staff(user)
    if staff is None:
        return []
    return list(GridWorker.objects.filter(staff=staff).values_list("grid_id", flat=True))


def my_grids(*, user: Any) -> QuerySet[Grid]:
    return Grid.objects.filter(pk__in=my_grid_ids(user=user)).select_related("village").order_by("code")


def _care_q() -> Q:
    q = Q()
    for flag in Household.CARE_FLAGS:
        q |= Q(**{flag: True})
    return q


def my_households(*, user: Any) -> QuerySet[Household]:
    """Active households of my grids, each with `last_visit_at` (None when never visited)."""
    last = HouseholdVisit.objects.filter(household=OuterRef("pk")).order_by("-at").values("at")[:1]
    return (
        Household.objects.filter(grid_id__in=my_grid_ids(user=user), active=True)
        .select_related("grid")
        .annotate(last_visit_at=Subquery(last))
        .order_by("grid__code", "code")
    )


def household_get(*, user: Any, code: str) -> Household:
    """One household of my grids; another grid's (or a missing one) is the same 404."""
    household = (
        Household.objects.filter(grid_id__in=my_grid_ids(user=user), code=code).select_related("grid").first()
    )
    if household is None:
        raise NotFound("该户不存在或不在您负责的网格内")
    return household


def care_households_due(
    *, user: Any, days: int = CARE_DAYS, now: dt.datetime | None = None
) -> QuerySet[Household]:
    """Care-flagged households of my grids with no visit in the last `days` days, longest first."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    return (
        my_households(user=user)
        .filter(_care_q())
        .exclude(visits__at__gte=since)
        .order_by(F("last_visit_at").asc(nulls_first=True), "code")
    )


def household_visits(*, household: Household, limit: int = 5) -> list[HouseholdVisit]:
    return list(household.visits.select_related("staff").order_by("-at", "-id")[:limit])


def checkins_today(*, user: Any, now: dt.datetime | None = None) -> QuerySet[PatrolCheckin]:
    staff = _staff(user)
    if staff is None:
        return PatrolCheckin.objects.none()
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        PatrolCheckin.objects.filter(staff=staff, at__gte=midnight)
        .select_related("grid")
        .order_by("-at", "-id")
    )


def cases_to_verify(*, user: Any) -> QuerySet[Case]:
    """Cases reported done in my grids, waiting for my check on site, oldest report first."""
    return (
        case_selectors.case_list(user=user)
        .filter(status=CaseStatus.VERIFYING, grid_id__in=my_grid_ids(user=user))
        .prefetch_related("attachments", "assignments__handler")
        .order_by("updated_at", "id")
    )


def quick_categories(*, user: Any, limit: int = CATEGORY_BUTTONS) -> list[Category]:
    """The categories grid workers report most in my area (last 180 days), then the defaults."""
    since = timezone.now() - dt.timedelta(days=180)
    ranked = (
        case_selectors.case_list(user=user)
        .filter(channel=Channel.GRID, received_at__gte=since, category__active=True)
        .values("category_id")
        .annotate(n=Count("id"))
        .order_by("-n", "category_id")[:limit]
    )
    ids = [row["category_id"] for row in ranked]
    chosen = {c.pk: c for c in Category.objects.filter(pk__in=ids)}
    out = [chosen[i] for i in ids if i in chosen]
    if len(out) < limit:
        defaults = {c.code: c for c in Category.objects.filter(code__in=DEFAULT_CATEGORY_CODES, active=True)}
        for code in DEFAULT_CATEGORY_CODES:
            if len(out) >= limit:
                break
            category = defaults.get(code)
            if category is not None and category not in out:
                out.append(category)
    return out


def all_categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True).order_by("code")


def open_grid_tasks(*, user: Any) -> list[Any]:
    """Open emergency tasks of my grids (the emergency app's selector), soonest due first."""
    from shanzhi.emergency.selectors import grid_tasks_open

    return list(grid_tasks_open(user=user)[:20])


def active_warning_count(*, user: Any) -> int:
    """Warnings in force that reach the grids I serve (the emergency app's selector)."""
    from shanzhi.emergency.models_warnings import WarningState
    from shanzhi.emergency.warning_selectors import warning_list

    return warning_list(user=user, state=WarningState.ACTIVE).count()

"""Who is told: the staff of a handler body, the dispatchers over a place, the verifiers, the leaders."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from shanzhi.cases.models import Case
from shanzhi.core.models import Handler, Region, Role


def _users(q: Q) -> QuerySet[Any]:
    return get_user_model().objects.filter(q, is_active=True).distinct().order_by("username")


def _ancestor_paths(region: Region | None) -> list[str]:
    """The paths of a region and of every region above it ("a/", "a/b/", "a/b/c/")."""
    if region is None:
        return []
    parts = region.path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def handler_staff(*, handler: Handler) -> QuerySet[Any]:
    return _users(Q(staff__handler=handler, staff__roles__role=Role.HANDLER))


def dispatchers_for(*, case: Case) -> QuerySet[Any]:
    """Dispatchers whose jurisdiction holds the case's place."""
    return _users(Q(staff__roles__role=Role.DISPATCHER, staff__region__path__in=_ancestor_paths(case.region)))


def verifiers_for(*, case: Case) -> QuerySet[Any]:
    """The grid workers of the case's grid, else its village's grid workers, else the dispatchers."""
    if case.grid_id:
        workers = _users(Q(staff__grid_memberships__grid_id=case.grid_id))
        if workers.exists():
            return workers
    if case.region_id:
        workers = _users(Q(staff__roles__role=Role.GRIDWORKER, staff__region=case.region))
        if workers.exists():
            return workers
    return dispatchers_for(case=case)


def leaders_for(*, handler: Handler) -> QuerySet[Any]:
    """The handler body's leaders: leaders on its staff, else the leaders of its region."""
    own = _users(Q(staff__handler=handler, staff__roles__role=Role.LEADER))
    if own.exists():
        return own
    return _users(Q(staff__region=handler.region, staff__roles__role=Role.LEADER))


def county_supervisors() -> QuerySet[Any]:
    return _users(Q(staff__roles__role=Role.SUPERVISOR, staff__region__parent__isnull=True))

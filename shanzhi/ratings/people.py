"""Who is told: the responsible unit's staff, and the supervisors and leaders over a place."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from shanzhi.core.models import Handler, Region, Role


def _users(q: Q) -> QuerySet[Any]:
    return get_user_model().objects.filter(q, is_active=True).distinct().order_by("username")


def ancestor_paths(region: Region) -> list[str]:
    """The paths of a region and of every region above it."""
    parts = region.path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def unit_users(*, handler: Handler | None) -> QuerySet[Any]:
    """The staff who act for a body on ratings: its handlers and its leaders."""
    if handler is None:
        return get_user_model().objects.none()
    return _users(Q(staff__handler=handler, staff__roles__role__in=[Role.HANDLER, Role.LEADER]))


def supervisors_over(*, region: Region) -> QuerySet[Any]:
    """Supervisors whose jurisdiction holds the place (the township's and the county's)."""
    return _users(Q(staff__roles__role=Role.SUPERVISOR, staff__region__path__in=ancestor_paths(region)))


def leaders_over(*, region: Region) -> QuerySet[Any]:
    """Leaders of the place's own bodies' regions, without the county: the first rung of 督办."""
    paths = ancestor_paths(region)[1:] or ancestor_paths(region)
    return _users(Q(staff__roles__role=Role.LEADER, staff__region__path__in=paths))


def county_oversight() -> QuerySet[Any]:
    """The county's supervisors and the county government's leaders (not a department's): the top
    rung."""
    county = Q(staff__region__parent__isnull=True)
    return _users(
        (county & Q(staff__roles__role=Role.SUPERVISOR))
        | (county & Q(staff__roles__role=Role.LEADER, staff__handler__isnull=True))
    )

"""Reads about the org tree, and the one jurisdiction filter every other read goes through."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, QuerySet

from shanzhi.core.errors import NotFound
from shanzhi.core.models import Handler, Region, Role, Staff

M = TypeVar("M", bound=Model)
User = AbstractBaseUser | AnonymousUser


def staff_of(*, user: Any) -> Staff | None:
    """The Staff row of a user, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, "_shanzhi_staff"):
        cached: Staff | None = user._shanzhi_staff
        return cached
    staff = Staff.objects.select_related("region", "handler").filter(user=user).first()
    user._shanzhi_staff = staff
    return staff


def roles_of(*, user: Any) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    cached: set[str] | None = getattr(user, "_shanzhi_roles", None)
    if cached is not None:
        return cached
    roles: set[str] = {r for r in Staff.objects.filter(user=user).values_list("roles__role", flat=True) if r}
    if getattr(user, "is_superuser", False):
        roles.add(Role.ADMIN)
    user._shanzhi_roles = roles
    return roles


def has_role(*, user: Any, roles: set[str] | frozenset[str]) -> bool:
    return bool(roles_of(user=user) & set(roles))


def jurisdiction_root(*, user: Any) -> Region | None:
    """The region whose subtree the user may see; None means nothing."""
    staff = staff_of(user=user)
    if staff is not None:
        return staff.region
    if getattr(user, "is_superuser", False):
        return Region.objects.filter(parent__isnull=True).order_by("id").first()
    return None


def in_jurisdiction(qs: QuerySet[M], *, user: Any, region_field: str = "region") -> QuerySet[M]:
    """Restrict `qs` to rows whose `region_field` lies in the user's subtree.

    Every list and detail read of governed data goes through here. `region_field` is the
    lookup path to a Region (e.g. "village__region" for a grid's village).
    """
    root = jurisdiction_root(user=user)
    if root is None:
        return qs.none()
    if region_field == "":
        return qs.filter(path__startswith=root.path)
    return qs.filter(**{f"{region_field}__path__startswith": root.path})


def get_in_jurisdiction(qs: QuerySet[M], *, user: Any, region_field: str = "region", **lookup: Any) -> M:
    """One row inside the user's jurisdiction, or NotFound (a 404, never a 403)."""
    obj = in_jurisdiction(qs, user=user, region_field=region_field).filter(**lookup).first()
    if obj is None:
        raise NotFound()
    return obj


def region_list(*, user: Any) -> QuerySet[Region]:
    return in_jurisdiction(Region.objects.all(), user=user, region_field="")


def region_get(*, user: Any, code: str) -> Region:
    return get_in_jurisdiction(Region.objects.all(), user=user, region_field="", code=code)


def region_county() -> Region | None:
    return Region.objects.filter(parent__isnull=True).order_by("id").first()


def handler_list(*, user: Any) -> QuerySet[Handler]:
    return in_jurisdiction(Handler.objects.select_related("type", "region"), user=user)

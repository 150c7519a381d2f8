"""Reads of households: only the grid's own workers and their superiors see them.

"Own workers" are the staff with a `GridWorker` row on the household's grid. "Superiors" are
staff with a supervising role whose region is the grid's village or one of its ancestors.
Anyone else — a grid worker of the next grid, another township's leader, a handler — gets 404.
Phone numbers are whole only for the grid's own workers (they ring the household); everyone
else, on every page and export, sees them masked.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.masking import mask_phone
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role, jurisdiction_root, region_get, staff_of
from shanzhi.grid.models import Grid, GridWorker, Household

# Roles that supervise grid workers and so see (and may correct) the households under them.
SUPERIOR_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER})
CARE_LABELS = {
    "elderly_alone": "独居老人",
    "disabled": "残疾人",
    "bedridden": "卧床",
    "left_behind_children": "留守儿童",
    "no_phone": "无手机",
}


def own_grid_ids(*, user: Any) -> set[int]:
    """The grids the user works in as a grid worker (cached on the user for the request)."""
    cached: set[int] | None = getattr(user, "_shanzhi_own_grids", None)
    if cached is not None:
        return cached
    staff = staff_of(user=user)
    ids: set[int] = set()
    if staff is not None:
        ids = set(GridWorker.objects.filter(staff=staff).values_list("grid_id", flat=True))
    if user is not None and getattr(user, "is_authenticated", False):
        user._shanzhi_own_grids = ids
    return ids


def superior_path(*, user: Any) -> str | None:
    """The region path under which the user supervises households, or None."""
    if not has_role(user=user, roles=SUPERIOR_ROLES):
        return None
    root = jurisdiction_root(user=user)
    return root.path if root is not None else None


def visible_filter(*, user: Any) -> Q | None:
    """A filter on Household for what the user may see; None means nothing."""
    q: Q | None = None
    own = own_grid_ids(user=user)
    if own:
        q = Q(grid_id__in=sorted(own))
    path = superior_path(user=user)
    if path is not None:
        by_region = Q(village__path__startswith=path)
        q = by_region if q is None else q | by_region
    return q


def households_visible(*, user: Any, active: bool | None = True) -> QuerySet[Household]:
    qs = Household.objects.select_related("grid", "village__parent")
    if active is not None:
        qs = qs.filter(active=active)
    q = visible_filter(user=user)
    return qs.none() if q is None else qs.filter(q)


def can_see_household(*, user: Any, grid: Grid) -> bool:
    if grid.pk in own_grid_ids(user=user):
        return True
    path = superior_path(user=user)
    return path is not None and grid.village.path.startswith(path)


def phone_visible(*, user: Any, household: Household) -> bool:
    return household.grid_id in own_grid_ids(user=user)


def household_phone(*, user: Any, household: Household) -> str:
    """The number as this user may read it: whole for the grid's own workers, masked otherwise."""
    if phone_visible(user=user, household=household):
        return household.phone
    return mask_phone(household.phone)


def household_list(
    *,
    user: Any,
    grid_code: str | None = None,
    village_code: str | None = None,
    care: str | None = None,
    search: str | None = None,
    active: bool | None = True,
) -> QuerySet[Household]:
    """Households the user may see, filtered by grid, village/township, care flag and text."""
    qs = households_visible(user=user, active=active)
    if grid_code:
        qs = qs.filter(grid__code=grid_code.strip())
    if village_code:
        region = region_get(user=user, code=village_code.strip())
        qs = qs.filter(village__path__startswith=region.path)
    if care:
        if care == "any":
            any_flag = Q()
            for flag in Household.CARE_FLAGS:
                any_flag |= Q(**{flag: True})
            qs = qs.filter(any_flag)
        elif care in Household.CARE_FLAGS:
            qs = qs.filter(**{care: True})
        else:
            raise ServiceError("invalid_care_flag", "关爱类别不正确", status=422)
    if search:
        text = search.strip()[:64]
        qs = qs.filter(Q(address__icontains=text) | Q(head_name__icontains=text) | Q(code__icontains=text))
    return qs.order_by("code")


def household_get(*, user: Any, code: str, active: bool | None = None) -> Household:
    """One household (active or not, unless asked) the user may see; else NotFound (404)."""
    household = households_visible(user=user, active=active).filter(code=code).first()
    if household is None:
        raise NotFound()
    return household


def care_labels(household: Household) -> list[str]:
    return [label for flag, label in CARE_LABELS.items() if getattr(household, flag)]


def household_dict(*, user: Any, household: Household) -> dict[str, Any]:
    """The fields pages, the API and exports show (phone already masked as the user must see it)."""
    village = household.village
    township = village.parent
    return {
        "code": household.code,
        "grid": household.grid.code,
        "grid_name": household.grid.name,
        "village": village.name,
        "village_code": village.code,
        "township": township.name if township else "",
        "address": household.address,
        "head_name": household.head_name,
        "lon": household.lon,
        "lat": household.lat,
        "members": household.members,
        "phone": household_phone(user=user, household=household),
        "phone_masked": not phone_visible(user=user, household=household),
        **{flag: getattr(household, flag) for flag in Household.CARE_FLAGS},
        "care": care_labels(household),
        "note": household.note,
        "active": household.active,
    }

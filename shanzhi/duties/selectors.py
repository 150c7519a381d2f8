"""Reads of duty lists, always through the jurisdiction filter, and the version diff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import HandlerType, Region, RegionLevel, Role
from shanzhi.core.selectors import get_in_jurisdiction, has_role, in_jurisdiction, staff_of
from shanzhi.duties.items import ItemFields, field_label, field_order, fields_of, township_warn_items
from shanzhi.duties.models import AssistItem, Duty, DutyList, DutyListKind, DutyListStatus, DutyType


def duty_list_list(
    *,
    user: Any,
    year: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    region_code: str | None = None,
) -> QuerySet[DutyList]:
    """Lists in the user's jurisdiction with their item counts, newest first within a region."""
    qs = in_jurisdiction(DutyList.objects.select_related("region", "based_on"), user=user)
    if year is not None:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if region_code:
        qs = qs.filter(region__code=region_code)
    # Explicit order: Meta.ordering is dropped from GROUP BY queries.
    return qs.annotate(
        duty_count=Count("duties", distinct=True), assist_count=Count("assist_items", distinct=True)
    ).order_by("region__path", "-year", "-version")


def duty_list_get(*, user: Any, pk: int) -> DutyList:
    """One list in the user's jurisdiction, or NotFound."""
    return get_in_jurisdiction(
        DutyList.objects.select_related("region", "based_on", "published_by", "created_by"), user=user, pk=pk
    )


def duty_list_items(*, duty_list: DutyList) -> list[Duty] | list[AssistItem]:
    if duty_list.kind == DutyListKind.VILLAGE_ASSIST:
        return list(duty_list.assist_items.order_by("position", "id"))
    return list(duty_list.duties.order_by("position", "id"))


def duty_list_item_count(*, duty_list: DutyList) -> int:
    if duty_list.kind == DutyListKind.VILLAGE_ASSIST:
        return duty_list.assist_items.count()
    return duty_list.duties.count()


def duty_list_published(*, region: Region, year: int) -> DutyList | None:
    """The published list in force for a region and year (no user: used by checks on behalf of the system)."""
    return DutyList.objects.filter(region=region, year=year, status=DutyListStatus.PUBLISHED).first()


def duty_list_versions(*, duty_list: DutyList) -> QuerySet[DutyList]:
    """Every version of the same region's list, newest first (the caller already passed jurisdiction)."""
    return DutyList.objects.filter(region_id=duty_list.region_id).order_by("-year", "-version")


def duty_list_over_warning(*, duty_list: DutyList, count: int) -> bool:
    return duty_list.kind == DutyListKind.TOWNSHIP and count > township_warn_items()


def can_edit_region(*, user: Any, region: Region) -> bool:
    """Admins, and leaders of a township or the county, may edit the lists in their subtree.

    `user=None` is the system (demo loader, scheduled work). Village leaders only read: their
    assist list is set from above, which is the point of it.
    """
    if user is None:
        return True
    staff = staff_of(user=user)
    root_path = staff.region.path if staff else None
    if root_path is None:
        if not getattr(user, "is_superuser", False):
            return False
        root_path = ""
    if not region.path.startswith(root_path):
        return False
    if has_role(user=user, roles={Role.ADMIN}):
        return True
    return (
        staff is not None
        and staff.region.level in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP)
        and has_role(user=user, roles={Role.LEADER})
    )


def editable_regions(*, user: Any) -> QuerySet[Region]:
    """Townships and villages whose lists the user may edit (for the "new list" form)."""
    qs = in_jurisdiction(Region.objects.all(), user=user, region_field="").exclude(level=RegionLevel.COUNTY)
    if has_role(user=user, roles={Role.ADMIN}):
        return qs
    staff = staff_of(user=user)
    if (
        staff is not None
        and staff.region.level in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP)
        and has_role(user=user, roles={Role.LEADER})
    ):
        return qs
    return qs.none()


def handler_type_names() -> dict[str, str]:
    """Handler type code → Chinese name, to show "urban_mgmt" as 县城市管理和综合行政执法局."""
    return dict(HandlerType.objects.values_list("code", "name_zh"))


# ---- diff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class ItemChange:
    code: str
    name: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class DutyListDiff:
    old: DutyList
    new: DutyList
    added: tuple[ItemFields, ...]
    removed: tuple[ItemFields, ...]
    changed: tuple[ItemChange, ...]
    unchanged: int

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def display_value(field: str, value: Any) -> str:
    if field == "category_codes":
        return "、".join(value)
    if field == "type":
        return str(DutyType(value).label) if value in DutyType.values else str(value)
    return str(value)


def duty_list_diff(*, old: DutyList, new: DutyList) -> DutyListDiff:
    """Items matched by code: added in `new`, removed from `old`, changed field by field.

    Both lists must be of the same kind (duties are not comparable with assist items); the
    caller fetched both through the jurisdiction filter.
    """
    if old.kind != new.kind:
        raise ServiceError("not_comparable", "乡镇履职事项清单与村级协助事项清单不能相互比较")
    old_items = {i.code: fields_of(i) for i in duty_list_items(duty_list=old)}
    new_items = {i.code: fields_of(i) for i in duty_list_items(duty_list=new)}
    added = tuple(v for k, v in new_items.items() if k not in old_items)
    removed = tuple(v for k, v in old_items.items() if k not in new_items)
    changed: list[ItemChange] = []
    unchanged = 0
    for code, after in new_items.items():
        before = old_items.get(code)
        if before is None:
            continue
        changes = tuple(
            FieldChange(
                field=f,
                label=field_label(f),
                old=display_value(f, getattr(before, f)),
                new=display_value(f, getattr(after, f)),
            )
            for f in field_order(new.kind)
            if f != "code" and getattr(before, f) != getattr(after, f)
        )
        if changes:
            changed.append(ItemChange(code=code, name=after.name, changes=changes))
        else:
            unchanged += 1
    return DutyListDiff(
        old=old, new=new, added=added, removed=removed, changed=tuple(changed), unchanged=unchanged
    )

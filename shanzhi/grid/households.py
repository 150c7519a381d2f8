"""Writes to households: create, update, deactivate. Each is one transaction, checks the actor's
rights on the household's grid and writes one audit entry.

Who may write: the grid's own workers, and staff with a supervising role (admin, leader,
supervisor, dispatcher) whose region is the grid's village or above. The point must lie in the
county and in the household's grid; without a grid the point decides it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import shapely
from django.db import IntegrityError, transaction

from shanzhi.audit.services import audit_append, audit_append_many
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.validators import validate_mobile
from shanzhi.grid.coords import CRS_CHOICES, to_wgs84
from shanzhi.grid.geometry import from_stored
from shanzhi.grid.household_selectors import can_see_household, own_grid_ids, superior_path
from shanzhi.grid.locate import IN_GRID, IndexCache, default_cache
from shanzhi.grid.models import Grid, Household

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,31}$")
MAX_MEMBERS = 99
# A point this close to its grid's edge (≈ 1 m) counts as inside: surveyed points sit on walls.
EDGE_TOLERANCE_DEG = 1e-5


def _bad(code: str, message: str, **details: Any) -> ServiceError:
    return ServiceError(code, message, details=details or None, status=422)


def household_state(h: Household) -> dict[str, Any]:
    return {
        "code": h.code,
        "grid": h.grid.code,
        "village": h.village.code,
        "address": h.address,
        "head_name": h.head_name,
        "lon": h.lon,
        "lat": h.lat,
        "members": h.members,
        "phone": h.phone,
        **{flag: getattr(h, flag) for flag in Household.CARE_FLAGS},
        "note": h.note,
        "active": h.active,
    }


# --- checks -----------------------------------------------------------------------------------


def check_write(*, actor: Any, grid: Grid) -> None:
    """`actor=None` is the system. A household the actor cannot see is NotFound (404)."""
    if actor is None:
        return
    if grid.pk in own_grid_ids(user=actor):
        return
    path = superior_path(user=actor)
    if path is not None and grid.village.path.startswith(path):
        return
    if can_see_household(user=actor, grid=grid):
        raise PermissionDenied("您没有修改该网格住户信息的权限")
    raise NotFound()


def clean_text(value: Any, *, label: str, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _bad("invalid_field", f"{label}应为文字", field=label)
    text = value.strip()
    if "\x00" in text:
        raise _bad("invalid_field", f"{label}含有非法字符", field=label)
    if required and not text:
        raise _bad("invalid_field", f"{label}不能为空", field=label)
    if len(text) > max_length:
        raise _bad("invalid_field", f"{label}不能超过 {max_length} 个字", field=label)
    return text


def clean_members(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MEMBERS:
        raise _bad("invalid_members", f"人口数应为 1~{MAX_MEMBERS} 的整数")
    return value


def clean_phone(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if not isinstance(value, str):
        raise _bad("invalid_mobile", "手机号应为 11 位数字,以 13–19 开头")
    try:
        return validate_mobile(value)
    except ServiceError as exc:
        raise _bad("invalid_mobile", exc.message) from exc


def clean_code(value: Any) -> str:
    if not isinstance(value, str) or not CODE_RE.match(value.strip()):
        raise _bad("invalid_household_code", "户编号只能包含字母、数字和短横线,不超过 32 位")
    return value.strip()


def clean_point(lon: Any, lat: Any, *, crs: str = "wgs84") -> tuple[float, float]:
    for value in (lon, lat):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _bad("invalid_coordinates", "经纬度必须是有限的数字")
    if not -180.0 <= lon <= 180.0 or not -90.0 <= lat <= 90.0:
        raise _bad("invalid_coordinates", "经纬度超出范围:经度须在 −180~180,纬度须在 −90~90")
    if crs not in CRS_CHOICES:
        raise _bad("invalid_crs", "坐标系只能是 wgs84、gcj02 或 bd09")
    x, y = to_wgs84(float(lon), float(lat), crs=crs)
    return float(x), float(y)


def point_in_grid(grid: Grid, lon: float, lat: float) -> bool:
    if not (
        grid.min_lon - EDGE_TOLERANCE_DEG <= lon <= grid.max_lon + EDGE_TOLERANCE_DEG
        and grid.min_lat - EDGE_TOLERANCE_DEG <= lat <= grid.max_lat + EDGE_TOLERANCE_DEG
    ):
        return False
    geom = from_stored(grid.geometry)
    return bool(shapely.dwithin(geom, shapely.Point(lon, lat), EDGE_TOLERANCE_DEG))


def grid_for_point(*, lon: float, lat: float, grid: Grid | None, cache: IndexCache | None = None) -> Grid:
    """The household's grid: `grid` if the point lies in it, else the grid the point lies in."""
    location = (cache or default_cache).get().locate(lon, lat)
    if not location.inside:
        raise _bad("point_outside_county", "该位置不在本县范围内,请核对经纬度", lon=lon, lat=lat)
    if grid is not None:
        if not grid.active:
            raise _bad("grid_inactive", f"网格 {grid.code} 已停用")
        if not point_in_grid(grid, lon, lat):
            raise _bad(
                "point_outside_grid",
                f"该位置不在网格 {grid.code}({grid.name})内,请核对经纬度或网格",
                grid=grid.code,
            )
        return grid
    if location.code != IN_GRID or location.grid_id is None:
        raise _bad("point_in_no_grid", "该位置尚未划入任何网格,请核对经纬度或指定网格")
    return Grid.objects.select_related("village").get(pk=location.grid_id)


def grid_by_code(code: str) -> Grid:
    grid = Grid.objects.select_related("village").filter(code=(code or "").strip()).first()
    if grid is None:
        raise _bad("unknown_grid", f"网格编码 {str(code)[:32]} 不存在")
    return grid


def next_code(grid: Grid) -> str:
    """The grid's next free "<grid code>-NNNN" (callers hold the grid row lock)."""
    prefix = f"{grid.code}-"
    numbers = [
        int(tail)
        for tail in (
            c[len(prefix) :]
            for c in Household.objects.filter(code__startswith=prefix).values_list("code", flat=True)
        )
        if tail.isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def _care(flags: dict[str, Any] | None) -> dict[str, bool]:
    flags = flags or {}
    unknown = set(flags) - set(Household.CARE_FLAGS)
    if unknown:
        raise _bad("invalid_care_flag", f"未知的关爱类别:{'、'.join(sorted(unknown))[:80]}")
    for flag, value in flags.items():
        if not isinstance(value, bool):
            raise _bad("invalid_care_flag", f"关爱类别 {flag} 应为是/否")
    return dict(flags)


# --- services ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdInput:
    """One household as a form, the API or an import row gives it (not yet validated)."""

    address: Any
    head_name: Any
    lon: Any
    lat: Any
    grid_code: str | None = None
    code: str | None = None
    members: Any = 1
    phone: Any = ""
    care: dict[str, Any] | None = None
    note: Any = ""
    crs: str = "wgs84"


def household_build(
    *, data: HouseholdInput, cache: IndexCache | None = None, grids: dict[str, Grid] | None = None
) -> Household:
    """A validated, unsaved Household (no rights check, no code when none was given)."""
    lon, lat = clean_point(data.lon, data.lat, crs=data.crs)
    grid: Grid | None = None
    if data.grid_code:
        grid = grids.get(data.grid_code.strip()) if grids is not None else None
        if grid is None:
            grid = grid_by_code(data.grid_code)
    grid = grid_for_point(lon=lon, lat=lat, grid=grid, cache=cache)
    phone = clean_phone(data.phone)
    care = _care(data.care)
    if not phone:
        care["no_phone"] = True
    return Household(
        code=clean_code(data.code) if data.code else "",
        grid=grid,
        village=grid.village,
        address=clean_text(data.address, label="地址", max_length=255),
        head_name=clean_text(data.head_name, label="户主姓名", max_length=64),
        lon=lon,
        lat=lat,
        members=clean_members(data.members),
        phone=phone,
        note=clean_text(data.note, label="备注", max_length=255, required=False),
        **care,
    )


@transaction.atomic
def household_create(*, actor: Any, data: HouseholdInput, cache: IndexCache | None = None) -> Household:
    household = household_build(data=data, cache=cache)
    check_write(actor=actor, grid=household.grid)
    # Serialise code numbering (no key lock: an intake's deferred FK check on the grid must pass).
    Grid.objects.select_for_update(no_key=True).filter(pk=household.grid_id).first()
    if not household.code:
        household.code = next_code(household.grid)
    elif Household.objects.filter(code=household.code).exists():
        raise _bad("duplicate_household_code", f"户编号 {household.code} 已存在")
    household.save(force_insert=True)
    audit_append(actor=actor, action="grid.household.create", obj=household, state=household_state(household))
    return household


BATCH = 2_000


def _assign_codes(households: list[Household]) -> None:
    """Households without a code get their grid's next free "<grid code>-NNNN", in list order."""
    pending = [h for h in households if not h.code]
    if not pending:
        return
    taken = [h.code for h in households if h.code]
    next_of: dict[str, int] = {}
    for grid_code in sorted({h.grid.code for h in pending}):
        prefix = f"{grid_code}-"
        existing = Household.objects.filter(code__startswith=prefix).values_list("code", flat=True)
        tails = [c[len(prefix) :] for c in [*existing, *taken] if c.startswith(prefix)]
        next_of[grid_code] = max((int(t) for t in tails if t.isdigit()), default=0) + 1
    for h in pending:
        h.code = f"{h.grid.code}-{next_of[h.grid.code]:04d}"
        next_of[h.grid.code] += 1


@transaction.atomic
def household_create_many(
    *, actor: Any, households: list[Household], action: str = "grid.household.import"
) -> list[Household]:
    """Insert already-validated households (imports, demo) in batches, audited with one
    `audit_append_many`. Callers checked rights and codes; a code taken meanwhile refuses all."""
    grid_ids = sorted({h.grid_id for h in households})
    list(
        Grid.objects.select_for_update(no_key=True).filter(pk__in=grid_ids).values_list("pk", flat=True)
    )  # number in turn
    _assign_codes(households)
    try:
        with transaction.atomic():
            for start in range(0, len(households), BATCH):
                Household.objects.bulk_create(households[start : start + BATCH])
    except IntegrityError as exc:
        raise ServiceError("import_conflict", "导入期间户编号被占用,请重新导入", status=409) from exc
    audit_append_many(actor=actor, items=[(action, h, household_state(h)) for h in households])
    return households


_UNCHANGED: Any = object()


@transaction.atomic
def household_update(
    *,
    actor: Any,
    household: Household,
    address: Any = _UNCHANGED,
    head_name: Any = _UNCHANGED,
    lon: Any = _UNCHANGED,
    lat: Any = _UNCHANGED,
    crs: str = "wgs84",
    grid_code: Any = _UNCHANGED,
    members: Any = _UNCHANGED,
    phone: Any = _UNCHANGED,
    care: dict[str, Any] | None = None,
    note: Any = _UNCHANGED,
    cache: IndexCache | None = None,
) -> Household:
    """Change the given fields; a new point or grid is checked like on create.

    The actor needs rights on the old grid and, when it moves, on the new one.
    """
    household = (
        Household.objects.select_for_update().select_related("grid__village", "village").get(pk=household.pk)
    )
    check_write(actor=actor, grid=household.grid)
    if address is not _UNCHANGED:
        household.address = clean_text(address, label="地址", max_length=255)
    if head_name is not _UNCHANGED:
        household.head_name = clean_text(head_name, label="户主姓名", max_length=64)
    if members is not _UNCHANGED:
        household.members = clean_members(members)
    if note is not _UNCHANGED:
        household.note = clean_text(note, label="备注", max_length=255, required=False)
    if phone is not _UNCHANGED:
        household.phone = clean_phone(phone)
    for flag, value in _care(care).items():
        setattr(household, flag, value)
    if not household.phone:
        household.no_phone = True
    moved = lon is not _UNCHANGED or lat is not _UNCHANGED
    if moved:
        household.lon, household.lat = clean_point(
            household.lon if lon is _UNCHANGED else lon,
            household.lat if lat is _UNCHANGED else lat,
            crs=crs,
        )
    if moved or grid_code is not _UNCHANGED:
        wanted = grid_by_code(grid_code) if grid_code not in (_UNCHANGED, None, "") else None
        if wanted is None and not moved:
            wanted = household.grid
        grid = grid_for_point(lon=household.lon, lat=household.lat, grid=wanted, cache=cache)
        if grid.pk != household.grid_id:
            check_write(actor=actor, grid=grid)
        household.grid = grid
        household.village = grid.village
    household.save()
    audit_append(actor=actor, action="grid.household.update", obj=household, state=household_state(household))
    return household


@transaction.atomic
def household_deactivate(*, actor: Any, household: Household, reason: str = "") -> Household:
    """Take a household off the register (moved away, house demolished); it is kept for history."""
    household = (
        Household.objects.select_for_update().select_related("grid__village", "village").get(pk=household.pk)
    )
    check_write(actor=actor, grid=household.grid)
    if not household.active:
        raise ServiceError("household_inactive", "该户已不在册", status=409)
    reason = clean_text(reason, label="原因", max_length=200, required=False)
    household.active = False
    if reason:
        household.note = "；".join(filter(None, [household.note, f"注销:{reason}"]))[:255]
    household.save(update_fields=["active", "note", "updated_at"])
    audit_append(
        actor=actor, action="grid.household.deactivate", obj=household, state=household_state(household)
    )
    return household

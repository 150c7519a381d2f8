"""Writes to grids, grid workers and region shapes. Each runs in one transaction, checks the
actor's rights, writes one audit entry and bumps the grid index version (so every process
rebuilds its point → grid index on its next lookup).

Geometry writers lock the version row first: that serialises them, so the overlap check
cannot be raced by a concurrent writer on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Region, RegionLevel, Role, Staff
from shanzhi.core.selectors import has_role, jurisdiction_root
from shanzhi.grid.geometry import (
    Polygonal,
    area_m2,
    centroid,
    from_stored,
    overlap_tolerance_m2,
    parse_geometry,
    to_geojson,
)
from shanzhi.grid.models import Grid, GridIndexVersion, GridWorker, RegionShape

GRID_CODE_RE = re.compile(r"^(\d{12})-(\d{2,3})$")
# Drawing and importing grid boundaries is a back-office job; staffing grids is also a leader's.
GEOMETRY_ROLES = frozenset({Role.ADMIN})
WORKER_ROLES = frozenset({Role.ADMIN, Role.LEADER})


@dataclass(frozen=True)
class GridSpec:
    code: str
    name: str
    village: Region
    geometry: Any  # GeoJSON geometry (dict or text)


@dataclass(frozen=True)
class WorkerSpec:
    grid_code: str
    staff: Staff
    is_leader: bool = False


@dataclass(frozen=True)
class ImportSummary:
    shapes: int
    grids: int
    workers: int


# --- checks shared by the services -------------------------------------------------------------


def _check_rights(*, actor: Any, roles: frozenset[str], region: Region, what: str) -> None:
    """`actor=None` is the system (commands, demo); anyone else needs a role and the region."""
    if actor is None:
        return
    if not has_role(user=actor, roles=roles):
        raise PermissionDenied(f"您没有{what}的权限")
    root = jurisdiction_root(user=actor)
    if root is None or not region.path.startswith(root.path):
        raise NotFound()


def _bump_index_version() -> GridIndexVersion:
    """Lock the version row (serialising geometry writers) and give it a new version."""
    row = GridIndexVersion.objects.select_for_update().filter(pk=1).first()
    if row is None:  # a database flushed by a test run; migrations create it otherwise
        row = GridIndexVersion.objects.create(pk=1)
    row.version += 1
    row.token = uuid.uuid4().hex
    row.changed_at = timezone.now()
    row.save(update_fields=["version", "token", "changed_at"])
    return row


def _check_grid_code(*, code: str, village: Region) -> str:
    code = (code or "").strip()
    match = GRID_CODE_RE.match(code)
    if match is None or match.group(1) != village.code:
        raise ServiceError(
            "invalid_grid_code", f"网格编码应为“村/社区代码-序号”,如 {village.code}-01", status=422
        )
    return code


def _check_village(village: Region) -> None:
    if village.level != RegionLevel.VILLAGE:
        raise ServiceError("invalid_village", "网格必须属于一个村或社区", status=422)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ServiceError("invalid_name", "网格名称不能为空,且不超过 64 个字", status=422)
    return name


def _county_code(region: Region) -> str:
    return region.path.split("/", 1)[0]


def _county_geometry(region: Region) -> Polygonal | None:
    shape = RegionShape.objects.filter(region__code=_county_code(region)).first()
    return from_stored(shape.geometry) if shape is not None else None


def _check_inside(geom: Polygonal, county: Polygonal | None, *, area: float) -> None:
    if county is None:  # no boundary loaded yet: nothing to check against
        return
    spill = area_m2(geom.difference(county), lat0=geom.centroid.y)
    if spill > overlap_tolerance_m2(area):
        raise ServiceError(
            "outside_county",
            f"网格超出县域边界约 {spill:,.0f} 平方米,请检查坐标",
            details={"outside_m2": round(spill, 1)},
            status=422,
        )


def _check_no_overlap(geom: Polygonal, *, area: float, exclude_id: int | None = None) -> None:
    minx, miny, maxx, maxy = geom.bounds
    candidates = Grid.objects.filter(
        active=True, min_lon__lte=maxx, max_lon__gte=minx, min_lat__lte=maxy, max_lat__gte=miny
    ).only("id", "code", "geometry")
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    shapely.prepare(geom)
    overlaps = []
    for other in candidates:
        other_geom = from_stored(other.geometry)
        if not geom.intersects(other_geom):
            continue
        shared = area_m2(geom.intersection(other_geom), lat0=geom.centroid.y)
        if shared > overlap_tolerance_m2(area):
            overlaps.append({"grid": other.code, "overlap_m2": round(shared, 1)})
    if overlaps:
        first = overlaps[0]
        raise ServiceError(
            "grid_overlap",
            f"网格与已有网格 {first['grid']} 重叠约 {first['overlap_m2']:,.0f} 平方米,网格之间不能重叠",
            details=overlaps,
            status=422,
        )


def _geometry_fields(geom: Polygonal) -> dict[str, Any]:
    lon, lat = centroid(geom)
    minx, miny, maxx, maxy = geom.bounds
    return {
        "geometry": to_geojson(geom),
        "centroid_lon": lon,
        "centroid_lat": lat,
        "min_lon": minx,
        "min_lat": miny,
        "max_lon": maxx,
        "max_lat": maxy,
        "area_m2": area_m2(geom),
    }


def _geometry_digest(geometry: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(geometry, separators=(",", ":")).encode()).hexdigest()


def _grid_state(grid: Grid) -> dict[str, Any]:
    return {
        "code": grid.code,
        "name": grid.name,
        "village": grid.village.code,
        "active": grid.active,
        "geometry": grid.geometry,
    }


# --- grids ----------------------------------------------------------------------------------------


def grid_create(*, actor: Any, code: str, name: str, village: Region, geometry: Any) -> Grid:
    """Add a grid to a village. Its polygon must be valid, inside the county and overlap no grid."""
    _check_village(village)
    code = _check_grid_code(code=code, village=village)
    name = _check_name(name)
    _check_rights(actor=actor, roles=GEOMETRY_ROLES, region=village, what="划定网格")
    geom = parse_geometry(geometry)
    area = area_m2(geom)
    with transaction.atomic():
        _bump_index_version()
        if Grid.objects.filter(code=code).exists():
            raise ServiceError("duplicate_code", f"网格编码 {code} 已存在", status=409)
        _check_inside(geom, _county_geometry(village), area=area)
        _check_no_overlap(geom, area=area)
        grid = Grid.objects.create(code=code, name=name, village=village, **_geometry_fields(geom))
        audit_append(actor=actor, action="grid.create", obj=grid, state=_grid_state(grid))
    return grid


def grid_update_geometry(*, actor: Any, grid: Grid, geometry: Any) -> Grid:
    """Redraw a grid's boundary, under the same rules as creating it."""
    _check_rights(actor=actor, roles=GEOMETRY_ROLES, region=grid.village, what="修改网格范围")
    geom = parse_geometry(geometry)
    area = area_m2(geom)
    with transaction.atomic():
        _bump_index_version()
        _check_inside(geom, _county_geometry(grid.village), area=area)
        _check_no_overlap(geom, area=area, exclude_id=grid.pk)
        fields = _geometry_fields(geom)
        for key, value in fields.items():
            setattr(grid, key, value)
        grid.save(update_fields=[*fields, "updated_at"])
        audit_append(actor=actor, action="grid.update_geometry", obj=grid, state=_grid_state(grid))
    return grid


# --- grid workers ---------------------------------------------------------------------------------


def _check_worker(*, grid: Grid, staff: Staff) -> None:
    if not staff.roles.filter(role=Role.GRIDWORKER).exists():
        raise ServiceError("not_a_grid_worker", f"{staff.name} 没有网格员角色,不能分配到网格", status=422)
    if not grid.village.path.startswith(staff.region.path):
        raise ServiceError(
            "worker_outside_region",
            f"{staff.name} 所属区域({staff.region.name})不包含网格 {grid.code}",
            status=422,
        )


def grid_worker_assign(
    *, actor: Any, grid: Grid, staff: Staff, is_leader: bool = False, since: dt.date | None = None
) -> GridWorker:
    """Make `staff` a worker of `grid`. A new head (`is_leader`) replaces the previous one."""
    _check_rights(actor=actor, roles=WORKER_ROLES, region=grid.village, what="调整网格员")
    _check_worker(grid=grid, staff=staff)
    since = since or timezone.localdate()
    with transaction.atomic():
        if GridWorker.objects.filter(grid=grid, staff=staff).exists():
            raise ServiceError("already_assigned", f"{staff.name} 已是网格 {grid.code} 的网格员", status=409)
        demoted = []
        if is_leader:
            demoted = list(
                GridWorker.objects.filter(grid=grid, is_leader=True).values_list(
                    "staff__user__username", flat=True
                )
            )
            GridWorker.objects.filter(grid=grid, is_leader=True).update(is_leader=False)
        member = GridWorker.objects.create(grid=grid, staff=staff, is_leader=is_leader, since=since)
        audit_append(
            actor=actor,
            action="grid_worker.assign",
            obj=member,
            state={
                "grid": grid.code,
                "staff": staff.user.get_username(),
                "is_leader": is_leader,
                "since": since.isoformat(),
                "demoted": demoted,
            },
        )
    return member


def grid_worker_remove(*, actor: Any, grid: Grid, staff: Staff) -> None:
    _check_rights(actor=actor, roles=WORKER_ROLES, region=grid.village, what="调整网格员")
    with transaction.atomic():
        member = GridWorker.objects.filter(grid=grid, staff=staff).first()
        if member is None:
            raise NotFound(f"{staff.name} 不是网格 {grid.code} 的网格员")
        audit_append(
            actor=actor,
            action="grid_worker.remove",
            obj=member,
            state={"grid": grid.code, "staff": staff.user.get_username()},
        )
        member.delete()


# --- region shapes and bulk import ----------------------------------------------------------------


def region_shape_set(*, actor: Any, region: Region, geometry: Any) -> RegionShape:
    """Set the boundary of a county, township or village (replaces any previous one)."""
    _check_rights(actor=actor, roles=GEOMETRY_ROLES, region=region, what="设置区域边界")
    geom = parse_geometry(geometry)
    with transaction.atomic():
        _bump_index_version()
        if region.level != RegionLevel.COUNTY:
            _check_inside(geom, _county_geometry(region), area=area_m2(geom))
        fields = _geometry_fields(geom)
        shape, _ = RegionShape.objects.update_or_create(
            region=region,
            defaults={k: fields[k] for k in ("geometry", "centroid_lon", "centroid_lat", "area_m2")},
        )
        audit_append(
            actor=actor,
            action="region_shape.set",
            obj=shape,
            state={"region": region.code, "geometry": shape.geometry},
        )
    return shape


def grid_import(
    *,
    actor: Any,
    shapes: Mapping[Region, Any],
    grids: Sequence[GridSpec],
    workers: Sequence[WorkerSpec] = (),
) -> ImportSummary:
    """Load many region shapes, grids and grid memberships at once, with one audit entry.

    Everything is checked before anything is written: each geometry as in `grid_create`, codes
    unique, grids not overlapping each other or existing grids, and inside the county shape
    (given here or stored). One bad row refuses the whole import, naming the row.
    """
    county = next((r for r in shapes if r.level == RegionLevel.COUNTY), None)
    root = county or (grids[0].village if grids else None) or next(iter(shapes), None)
    if root is None:
        return ImportSummary(0, 0, 0)
    _check_rights(actor=actor, roles=GEOMETRY_ROLES, region=root, what="导入网格")

    parsed_shapes = {}
    for region, geometry in shapes.items():
        try:
            parsed_shapes[region] = parse_geometry(geometry)
        except ServiceError as exc:
            raise ServiceError(
                exc.code, f"区域 {region.code}:{exc.message}", details=exc.details, status=exc.status
            ) from exc
    parsed: list[tuple[str, str, Region, Polygonal]] = []
    seen: set[str] = set()
    for row, spec in enumerate(grids, start=1):
        try:
            _check_village(spec.village)
            code = _check_grid_code(code=spec.code, village=spec.village)
            name = _check_name(spec.name)
            geom = parse_geometry(spec.geometry)
        except ServiceError as exc:
            raise ServiceError(
                exc.code,
                f"第 {row} 个网格({spec.code}):{exc.message}",
                details={"row": row, "code": spec.code},
                status=exc.status,
            ) from exc
        if code in seen:
            raise ServiceError("duplicate_code", f"第 {row} 个网格:编码 {code} 重复", status=409)
        seen.add(code)
        parsed.append((code, name, spec.village, geom))
    grid_codes = {code for code, *_ in parsed}
    for spec_w in workers:
        if spec_w.grid_code not in grid_codes:
            raise ServiceError(
                "unknown_grid",
                f"网格员 {spec_w.staff.name} 的网格 {spec_w.grid_code} 不在本次导入中",
                status=422,
            )

    with transaction.atomic():
        version = _bump_index_version()
        clash = sorted(Grid.objects.filter(code__in=grid_codes).values_list("code", flat=True))
        if clash:
            raise ServiceError("duplicate_code", f"网格编码已存在:{'、'.join(clash[:5])}", status=409)
        county_geom = parsed_shapes.get(county) if county else None
        if county_geom is None and parsed:
            county_geom = _county_geometry(parsed[0][2])
        _check_batch_geometry(parsed, county_geom)

        for region, geom in parsed_shapes.items():
            fields = _geometry_fields(geom)
            RegionShape.objects.update_or_create(
                region=region,
                defaults={k: fields[k] for k in ("geometry", "centroid_lon", "centroid_lat", "area_m2")},
            )
        created = Grid.objects.bulk_create(
            [
                Grid(code=code, name=name, village=village, **_geometry_fields(geom))
                for code, name, village, geom in parsed
            ]
        )
        by_code = {g.code: g for g in Grid.objects.filter(code__in=grid_codes)}
        members = []
        for spec_w in workers:
            grid = by_code[spec_w.grid_code]
            _check_worker(grid=grid, staff=spec_w.staff)
            members.append(GridWorker(grid=grid, staff=spec_w.staff, is_leader=spec_w.is_leader))
        GridWorker.objects.bulk_create(members)
        summary = ImportSummary(shapes=len(parsed_shapes), grids=len(created), workers=len(members))
        audit_append(
            actor=actor,
            action="grid.import",
            object_type="grid.import",
            object_id=str(version.version),
            state={
                "shapes": sorted(r.code for r in parsed_shapes),
                "grids": {code: _geometry_digest(by_code[code].geometry) for code in sorted(grid_codes)},
                "workers": sorted([w.grid_code, w.staff.user.get_username(), w.is_leader] for w in workers),
            },
        )
    return summary


def _check_batch_geometry(
    parsed: Sequence[tuple[str, str, Region, Polygonal]], county: Polygonal | None
) -> None:
    """Overlaps among the new grids and with active stored ones, and spill outside the county,
    computed with one STRtree and vectorised intersections."""
    if not parsed:
        return
    new = np.array([geom for *_, geom in parsed], dtype=object)
    existing = list(Grid.objects.filter(active=True).only("code", "geometry"))
    stored = np.array([from_stored(g.geometry) for g in existing], dtype=object)
    codes = [code for code, *_ in parsed] + [g.code for g in existing]
    everything = np.concatenate([new, stored]) if len(stored) else new
    lat0 = float(np.mean([g.centroid.y for g in new]))
    to_m2 = area_m2(shapely.box(0, lat0, 1, lat0 + 1e-6), lat0=lat0) / 1e-6  # m² per degree²
    areas = shapely.area(new) * to_m2
    tolerance = np.array([overlap_tolerance_m2(a) for a in areas])
    left, right = shapely.STRtree(everything).query(new, predicate="intersects")
    keep = left != right
    left, right = left[keep], right[keep]
    if len(left):
        shared = shapely.area(shapely.intersection(new[left], everything[right])) * to_m2
        bad = np.nonzero(shared > tolerance[left])[0]
        if len(bad):
            i = bad[0]
            raise ServiceError(
                "grid_overlap",
                f"网格 {codes[left[i]]} 与网格 {codes[right[i]]} 重叠约 {shared[i]:,.0f} 平方米",
                details=[
                    {
                        "grid": codes[left[j]],
                        "other": codes[right[j]],
                        "overlap_m2": round(float(shared[j]), 1),
                    }
                    for j in bad[:20]
                ],
                status=422,
            )
    if county is not None:
        spill = shapely.area(shapely.difference(new, county)) * to_m2
        bad = np.nonzero(spill > tolerance)[0]
        if len(bad):
            i = bad[0]
            raise ServiceError(
                "outside_county",
                f"网格 {codes[i]} 超出县域边界约 {spill[i]:,.0f} 平方米",
                details={"grid": codes[i], "outside_m2": round(float(spill[i]), 1)},
                status=422,
            )

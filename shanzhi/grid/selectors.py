"""Reads of grids, always through the caller's jurisdiction (a grid's region is its village)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.models import Region, RegionLevel
from shanzhi.core.selectors import get_in_jurisdiction, in_jurisdiction, jurisdiction_root, region_get
from shanzhi.grid.locate import OUTSIDE_USER, IndexCache, Location, locate_point
from shanzhi.grid.models import Grid, GridWorker, RegionShape

# Colour-blind-safe palette (Okabe–Ito, then Tol's muted); townships take colours in code order.
TOWNSHIP_COLOURS = [
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
]


def grid_list(
    *, user: Any, village_code: str | None = None, township_code: str | None = None
) -> QuerySet[Grid]:
    """Active grids in the user's jurisdiction, with `worker_count`; optionally one village/township."""
    qs = in_jurisdiction(
        Grid.objects.filter(active=True)
        .select_related("village__parent")
        .annotate(worker_count=Count("workers")),
        user=user,
        region_field="village",
    )
    if village_code:
        village = region_get(user=user, code=village_code)
        if village.level != RegionLevel.VILLAGE:
            raise ServiceError("invalid_village", "village 参数应为村/社区代码", status=422)
        qs = qs.filter(village=village)
    if township_code:
        township = region_get(user=user, code=township_code)
        qs = qs.filter(village__path__startswith=township.path)
    return qs.order_by("code")


def grid_get(*, user: Any, code: str) -> Grid:
    """One grid (active or not) in the user's jurisdiction, with `worker_count`; else NotFound."""
    return get_in_jurisdiction(
        Grid.objects.select_related("village__parent").annotate(worker_count=Count("workers")),
        user=user,
        region_field="village",
        code=code,
    )


def grid_workers(*, grid: Grid) -> QuerySet[GridWorker]:
    return grid.workers.select_related("staff__user", "staff__region").order_by("-is_leader", "staff__name")


def grid_locate(
    *, user: Any, lon: float, lat: float, crs: str = "wgs84", cache: IndexCache | None = None
) -> Location:
    """Point → grid for this user: a point in another township is "outside your jurisdiction"."""
    location = locate_point(lon=lon, lat=lat, crs=crs, cache=cache)
    if not location.inside:
        return location
    root = jurisdiction_root(user=user)
    if root is None or not location.path.startswith(root.path):
        return OUTSIDE_USER
    return location


def township_colours(*, county: Region | None) -> dict[str, str]:
    """A stable colour per township code (the same for every user)."""
    if county is None:
        return {}
    codes = (
        Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP)
        .order_by("code")
        .values_list("code", flat=True)
    )
    return {code: TOWNSHIP_COLOURS[i % len(TOWNSHIP_COLOURS)] for i, code in enumerate(codes)}


def townships_in_view(*, user: Any) -> QuerySet[Region]:
    return in_jurisdiction(
        Region.objects.filter(level=RegionLevel.TOWNSHIP), user=user, region_field=""
    ).order_by("code")


def region_shape_get(*, user: Any, code: str) -> RegionShape:
    region = region_get(user=user, code=code)
    shape = RegionShape.objects.filter(region=region).first()
    if shape is None:
        raise NotFound("该区域尚未设置边界")
    return shape


def grid_feature(grid: Grid) -> dict[str, Any]:
    """A GeoJSON Feature for one grid (needs `village__parent` loaded and `worker_count` annotated)."""
    village = grid.village
    township = village.parent
    return {
        "type": "Feature",
        "id": grid.code,
        "geometry": grid.geometry,
        "properties": {
            "code": grid.code,
            "name": grid.name,
            "village": village.name,
            "village_code": village.code,
            "township": township.name if township else "",
            "township_code": township.code if township else "",
            "workers": int(getattr(grid, "worker_count", 0)),
            "area_m2": round(grid.area_m2, 1),
            "centroid": [grid.centroid_lon, grid.centroid_lat],
            "active": grid.active,
        },
    }


def grid_feature_collection(grids: QuerySet[Grid]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [grid_feature(g) for g in grids]}

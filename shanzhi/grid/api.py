"""Grid API at /api/v1/grids: GeoJSON of the caller's grids, one grid, and point → grid."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from shanzhi.core.masking import mask_phone
from shanzhi.core.selectors import has_role
from shanzhi.grid import selectors

router = Router(tags=["grid"])

Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="经度")]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="纬度")]
# Roles that phone grid workers as part of their job see the full number.
FULL_PHONE_ROLES = frozenset({"admin", "dispatcher", "leader"})


class GridProperties(Schema):
    code: str
    name: str
    village: str
    village_code: str
    township: str
    township_code: str
    workers: int
    area_m2: float
    centroid: list[float]
    active: bool


class WorkerOut(Schema):
    name: str
    is_leader: bool
    since: str
    phone: str


class GridDetailProperties(GridProperties):
    worker_list: list[WorkerOut]


class Feature(Schema):
    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any]
    properties: GridProperties


class DetailFeature(Feature):
    properties: GridDetailProperties


class FeatureCollection(Schema):
    type: Literal["FeatureCollection"]
    features: list[Feature]


class PlaceOut(Schema):
    code: str
    name: str


class LocateOut(Schema):
    inside: bool
    code: str
    message: str
    grid: PlaceOut | None = None
    village: PlaceOut | None = None
    township: PlaceOut | None = None


class LocateQuery(Schema):
    lon: Lon
    lat: Lat
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"


@router.get("", response=FeatureCollection, url_name="grid_list", summary="本辖区网格(GeoJSON)")
def grid_list(
    request: HttpRequest, village: str | None = None, township: str | None = None
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the active grids in the caller's jurisdiction."""
    grids = selectors.grid_list(user=request.user, village_code=village, township_code=township)
    return selectors.grid_feature_collection(grids)


@router.get("/locate", response=LocateOut, url_name="grid_locate", summary="坐标定位到网格")
def grid_locate(request: HttpRequest, q: Query[LocateQuery]) -> dict[str, Any]:
    """Which grid, village and township a point lies in. `crs` is wgs84 (default), gcj02 or bd09.

    A point outside the caller's jurisdiction answers `inside: false, code: "outside_jurisdiction"`.
    """
    return selectors.grid_locate(user=request.user, lon=q.lon, lat=q.lat, crs=q.crs).as_dict()


@router.get("/{code}", response=DetailFeature, url_name="grid_detail", summary="单个网格(GeoJSON Feature)")
def grid_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    grid = selectors.grid_get(user=request.user, code=code)
    feature = selectors.grid_feature(grid)
    full = has_role(user=request.user, roles=FULL_PHONE_ROLES)
    feature["properties"]["worker_list"] = [
        {
            "name": m.staff.name,
            "is_leader": m.is_leader,
            "since": m.since.isoformat(),
            "phone": m.staff.phone if full else mask_phone(m.staff.phone),
        }
        for m in selectors.grid_workers(grid=grid)
    ]
    return feature

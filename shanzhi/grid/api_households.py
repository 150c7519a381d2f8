"""Household API at /api/v1/grid: list, get, create, update, deactivate households, and
resolve an area (GeoJSON, circles, division or grid codes) to the grids and households it reaches.

Reads go through the household selectors (own grid's workers and their superiors; others 404);
phones are masked except for the grid's own workers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from shanzhi.core.errors import PermissionDenied
from shanzhi.core.selectors import has_role
from shanzhi.grid import household_selectors as hs
from shanzhi.grid.api import Lat, Lon
from shanzhi.grid.areas import Area, Circle, area_from_geojson, area_resolve
from shanzhi.grid.households import HouseholdInput, household_create, household_deactivate, household_update
from shanzhi.grid.models import Grid

router = Router(tags=["grid-households"])

CareFlag = Literal["elderly_alone", "disabled", "bedridden", "left_behind_children", "no_phone", "any"]
MAX_PAGE = 500


class HouseholdOut(Schema):
    code: str
    grid: str
    grid_name: str
    village: str
    village_code: str
    township: str
    address: str
    head_name: str
    lon: float
    lat: float
    members: int
    phone: str
    phone_masked: bool
    elderly_alone: bool
    disabled: bool
    bedridden: bool
    left_behind_children: bool
    no_phone: bool
    care: list[str]
    note: str
    active: bool


class HouseholdPage(Schema):
    count: int
    items: list[HouseholdOut]


class HouseholdQuery(Schema):
    grid: str | None = None
    village: str | None = Field(None, description="村/社区或乡镇的区划代码")
    care: CareFlag | None = None
    q: str | None = Field(None, max_length=64)
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0)


class CareIn(Schema):
    elderly_alone: bool | None = None
    disabled: bool | None = None
    bedridden: bool | None = None
    left_behind_children: bool | None = None
    no_phone: bool | None = None

    def flags(self) -> dict[str, bool]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class HouseholdIn(Schema):
    address: str = Field(max_length=255)
    head_name: str = Field(max_length=64)
    lon: Lon
    lat: Lat
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    grid: str | None = Field(None, description="网格编码;不填则按坐标确定")
    code: str | None = Field(None, max_length=32, description="户编号;不填则自动编号")
    members: int = Field(1, ge=1, le=99)
    phone: str = Field("", max_length=20)
    care: CareIn = CareIn()
    note: str = Field("", max_length=255)


class HouseholdPatch(Schema):
    address: str | None = Field(None, max_length=255)
    head_name: str | None = Field(None, max_length=64)
    lon: Lon | None = None
    lat: Lat | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    grid: str | None = None
    members: int | None = Field(None, ge=1, le=99)
    phone: str | None = Field(None, max_length=20)
    care: CareIn | None = None
    note: str | None = Field(None, max_length=255)


class DeactivateIn(Schema):
    reason: str = Field("", max_length=200)


class CircleIn(Schema):
    lon: Lon
    lat: Lat
    radius_m: Annotated[float, Field(allow_inf_nan=False, description="半径(米),须大于 0")]


class ResolveIn(Schema):
    geojson: dict[str, Any] | None = Field(
        None, description="Polygon、MultiPolygon、Feature 或 FeatureCollection"
    )
    circles: list[CircleIn] = Field(default_factory=list, max_length=500)
    region_codes: list[Annotated[str, Field(max_length=12)]] = Field(default_factory=list, max_length=500)
    grid_codes: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=500)
    ids: bool = Field(True, description="是否返回网格与住户的 id 列表")


class ResolveOut(Schema):
    grids: int
    households: int
    grid_ids: list[int] | None = None
    grid_codes: list[str] | None = None
    household_ids: list[int] | None = None


def _out(request: HttpRequest, household: Any) -> dict[str, Any]:
    return hs.household_dict(user=request.user, household=household)


@router.get("/households", response=HouseholdPage, url_name="household_list", summary="住户列表")
def household_list(request: HttpRequest, q: Query[HouseholdQuery]) -> dict[str, Any]:
    qs = hs.household_list(
        user=request.user, grid_code=q.grid, village_code=q.village, care=q.care, search=q.q
    )
    items = list(qs[q.offset : q.offset + q.limit])
    return {"count": qs.count(), "items": [_out(request, h) for h in items]}


@router.get("/households/{code}", response=HouseholdOut, url_name="household_detail", summary="单个住户")
def household_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return _out(request, hs.household_get(user=request.user, code=code))


@router.post("/households", response={201: HouseholdOut}, url_name="household_create", summary="新增住户")
def household_add(request: HttpRequest, data: HouseholdIn) -> Status:
    household = household_create(
        actor=request.user,
        data=HouseholdInput(
            address=data.address,
            head_name=data.head_name,
            lon=data.lon,
            lat=data.lat,
            crs=data.crs,
            grid_code=data.grid,
            code=data.code,
            members=data.members,
            phone=data.phone,
            care=data.care.flags(),
            note=data.note,
        ),
    )
    return Status(201, _out(request, household))


@router.patch("/households/{code}", response=HouseholdOut, url_name="household_update", summary="修改住户")
def household_change(request: HttpRequest, code: str, data: HouseholdPatch) -> dict[str, Any]:
    household = hs.household_get(user=request.user, code=code, active=True)
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "address": data.address,
            "head_name": data.head_name,
            "lon": data.lon,
            "lat": data.lat,
            "grid_code": data.grid,
            "members": data.members,
            "phone": data.phone,
            "note": data.note,
        }.items()
        if v is not None
    }
    updated = household_update(
        actor=request.user,
        household=household,
        crs=data.crs,
        care=data.care.flags() if data.care else None,
        **changes,
    )
    return _out(request, updated)


@router.post(
    "/households/{code}/deactivate",
    response=HouseholdOut,
    url_name="household_deactivate",
    summary="注销住户",
)
def household_remove(request: HttpRequest, code: str, data: DeactivateIn) -> dict[str, Any]:
    household = hs.household_get(user=request.user, code=code, active=True)
    return _out(request, household_deactivate(actor=request.user, household=household, reason=data.reason))


@router.post(
    "/areas/resolve", response=ResolveOut, url_name="area_resolve", summary="区域 → 受影响网格与住户"
)
def areas_resolve(request: HttpRequest, data: ResolveIn) -> dict[str, Any]:
    """Which grids and households an area reaches, within the caller's jurisdiction.

    The area is the union of `geojson`, `circles`, `region_codes` and `grid_codes`. Refusals:
    `area_invalid` (malformed, fewer than four points, not closed, self-intersecting, radius ≤ 0,
    unknown codes) and `area_outside_county`, both 422 with a Chinese message.
    """
    if not has_role(user=request.user, roles=hs.SUPERIOR_ROLES):
        raise PermissionDenied("仅领导、调度、督查和管理员可以圈定区域")
    base = area_from_geojson(data=data.geojson) if data.geojson is not None else Area()
    area = Area(
        polygons=base.polygons,
        circles=(*base.circles, *(Circle(lon=c.lon, lat=c.lat, radius_m=c.radius_m) for c in data.circles)),
        region_codes=tuple(dict.fromkeys((*base.region_codes, *data.region_codes))),
        grid_codes=tuple(dict.fromkeys((*base.grid_codes, *data.grid_codes))),
    )
    targets = area_resolve(area=area, user=request.user)
    out: dict[str, Any] = targets.counts()
    if data.ids:
        out["grid_ids"] = targets.grid_ids
        out["grid_codes"] = list(
            Grid.objects.filter(pk__in=targets.grid_ids).order_by("code").values_list("code", flat=True)
        )
        out["household_ids"] = targets.household_ids
    return out

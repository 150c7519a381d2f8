"""Pages: the grid map of the user's jurisdiction (with point → grid) and one grid's page."""

from __future__ import annotations

import math

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.masking import mask_phone
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role, region_county
from shanzhi.grid import selectors
from shanzhi.grid.api import FULL_PHONE_ROLES
from shanzhi.grid.coords import CRS_CHOICES

# Everyone who works in the platform; residents reach their grid worker through their home page.
MAP_ROLES = frozenset(set(Role.values) - {Role.RESIDENT, Role.KIOSK})  # staff at a desk, not walk-up users
CRS_LABELS = {"wgs84": "WGS-84(GPS 原始坐标)", "gcj02": "GCJ-02(高德、腾讯地图)", "bd09": "BD-09(百度地图)"}


def _require_map_role(request: HttpRequest) -> None:
    if not has_role(user=request.user, roles=MAP_ROLES):
        raise PermissionDenied("网格地图仅对工作人员开放")


def _parse_float(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@login_required
def grid_map(request: HttpRequest) -> HttpResponse:
    """The map; with ?lon=&lat= it also answers "which grid?" without JavaScript."""
    _require_map_role(request)
    colours = selectors.township_colours(county=region_county())
    townships = [
        {"code": t.code, "name": t.name, "colour": colours.get(t.code, "#999999")}
        for t in selectors.townships_in_view(user=request.user)
    ]
    grids = selectors.grid_list(user=request.user)
    form = {
        "lon": request.GET.get("lon", ""),
        "lat": request.GET.get("lat", ""),
        "crs": request.GET.get("crs", "wgs84"),
    }
    located = error = None
    if form["lon"] or form["lat"]:
        lon, lat = _parse_float(form["lon"]), _parse_float(form["lat"])
        if lon is None or lat is None:
            error = "请输入数字形式的经度和纬度,例如 119.82 和 28.35"
        else:
            try:
                located = selectors.grid_locate(user=request.user, lon=lon, lat=lat, crs=form["crs"])
            except ServiceError as exc:
                error = exc.message
    config = {
        "featuresUrl": reverse("api:grid_list"),
        "locateUrl": reverse("api:grid_locate"),
        "detailUrl": reverse("grid:detail", args=["CODE"]),
        "colours": colours,
        "highlight": located.grid.code if located and located.grid else None,
    }
    return render(
        request,
        "grid/map.html",
        {
            "townships": townships,
            "grids": grids,
            "form": form,
            "crs_choices": CRS_CHOICES,
            "crs_labels": CRS_LABELS,
            "located": located,
            "error": error,
            "map_config": config,
        },
    )


@login_required
def grid_detail(request: HttpRequest, code: str) -> HttpResponse:
    _require_map_role(request)
    try:
        grid = selectors.grid_get(user=request.user, code=code)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    full_phone = has_role(user=request.user, roles=FULL_PHONE_ROLES)
    workers = [
        {
            "name": m.staff.name,
            "is_leader": m.is_leader,
            "since": m.since,
            "region": m.staff.region.name,
            "phone": m.staff.phone if full_phone else mask_phone(m.staff.phone),
        }
        for m in selectors.grid_workers(grid=grid)
    ]
    colours = selectors.township_colours(county=region_county())
    township = grid.village.parent
    config = {
        # The grid among its village's grids, highlighted.
        "featuresUrl": f"{reverse('api:grid_list')}?village={grid.village.code}",
        "colours": colours,
        "highlight": grid.code,
    }
    return render(
        request,
        "grid/detail.html",
        {
            "grid": grid,
            "township": township,
            "workers": workers,
            "map_config": config,
            "area_km2": grid.area_m2 / 1_000_000,
        },
    )

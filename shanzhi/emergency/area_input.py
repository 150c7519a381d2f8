"""The four ways a person gives an incident's area (drawn polygon, GeoJSON file, circle, list of
grids/villages), turned into one `Area`. Shared by the declare page and the API."""

from __future__ import annotations

import json
import math
from typing import Any

from shanzhi.core.errors import ServiceError
from shanzhi.emergency.models import AreaKind
from shanzhi.grid.areas import Area, Circle, area_from_geojson, polygon_from_coords

MAX_GEOJSON_BYTES = 2 * 1024 * 1024
GRID_PREFIX, REGION_PREFIX = "g:", "r:"


def _bad(message: str) -> ServiceError:
    return ServiceError("area_invalid", message, status=422)


def _number(value: Any, label: str) -> float:
    if isinstance(value, bool):
        raise _bad(f"{label}应为数字")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError) as exc:
        raise _bad(f"{label}应为数字") from exc
    if not math.isfinite(number):
        raise _bad(f"{label}应为有限的数字")
    return number


def area_from_polygon_text(text: Any) -> Area:
    """JSON text or list of [lon, lat] vertices; an open ring is closed (a drawn shape rarely is)."""
    if isinstance(text, str):
        try:
            coords = json.loads(text) if text.strip() else []
        except ValueError as exc:
            raise _bad("绘制的范围不是有效的坐标列表") from exc
    else:
        coords = text
    if not isinstance(coords, list) or len(coords) < 3:
        raise _bad("请在地图上至少点选 3 个顶点围成范围")
    if coords[0] != coords[-1]:
        coords = [*coords, coords[0]]
    return Area(polygons=(polygon_from_coords(coords=coords),))


def area_from_circle(lon: Any, lat: Any, radius_m: Any) -> Area:
    circle = Circle(
        lon=_number(lon, "圆心经度"), lat=_number(lat, "圆心纬度"), radius_m=_number(radius_m, "半径")
    )
    if not -180 <= circle.lon <= 180 or not -90 <= circle.lat <= 90:
        raise _bad("圆心坐标超出范围")
    if circle.radius_m <= 0:
        raise _bad("半径必须大于 0 米")
    return Area(circles=(circle,))


def area_from_codes(values: list[str]) -> Area:
    """Selected options: "g:<grid code>" for a grid, "r:<division code>" for a whole village."""
    grids, regions = [], []
    for value in values:
        if not isinstance(value, str):
            raise _bad("网格/村社区的选择不正确")
        if value.startswith(GRID_PREFIX):
            grids.append(value[len(GRID_PREFIX) :])
        elif value.startswith(REGION_PREFIX):
            regions.append(value[len(REGION_PREFIX) :])
        else:
            raise _bad(f"无法识别的选择:{value[:40]}")
    if not grids and not regions:
        raise _bad("请至少选择一个网格或村/社区")
    return Area(grid_codes=tuple(dict.fromkeys(grids)), region_codes=tuple(dict.fromkeys(regions)))


def area_from_upload(data: bytes) -> Area:
    if len(data) > MAX_GEOJSON_BYTES:
        raise _bad("GeoJSON 文件不超过 2 MB")
    if not data.strip():
        raise _bad("上传的 GeoJSON 文件是空的")
    return area_from_geojson(data=data)


def area_from_input(*, kind: str, data: dict[str, Any], upload: bytes | None = None) -> Area:
    """One Area from a form's or request's fields for the chosen `kind`."""
    if kind == AreaKind.GRIDS:
        values = data.get("targets") or []
        if isinstance(values, str):
            values = [values]
        return area_from_codes(list(values))
    if kind == AreaKind.POLYGON:
        return area_from_polygon_text(data.get("polygon", ""))
    if kind == AreaKind.CIRCLE:
        return area_from_circle(data.get("lon"), data.get("lat"), data.get("radius_m"))
    if kind == AreaKind.GEOJSON:
        if upload is None:
            geo = data.get("geojson")
            if geo is None:
                raise _bad("请上传 GeoJSON 文件")
            return area_from_geojson(data=geo)
        return area_from_upload(upload)
    raise _bad("请选择范围方式:地图绘制、上传 GeoJSON、圆形或网格/村社区列表")

"""GeoJSON polygons in and out: strict validation with Chinese errors, areas in square metres.

Grids and region shapes are stored as RFC 7946 geometry objects (WGS-84 lon/lat) in a JSON
column, so no GIS extension is needed on either database. Shapely does the geometry.
"""

from __future__ import annotations

import json
import math
from typing import Any, TypeAlias

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from shanzhi.core.errors import ServiceError

MAX_VERTICES = 20_000
EARTH_RADIUS_M = 6371008.8
# Overlaps and spill-over smaller than this are rounding noise at shared edges, not real errors.
OVERLAP_TOLERANCE_M2 = 5.0
OVERLAP_TOLERANCE_RATIO = 1e-4

Polygonal: TypeAlias = shapely.Polygon | shapely.MultiPolygon


def _bad(code: str, message: str, **details: Any) -> ServiceError:
    return ServiceError(code, message, details=details or None, status=422)


def _position(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise _bad("invalid_geojson", f"{where} 的坐标应为 [经度, 纬度]", at=where)
    lon, lat = value[0], value[1]
    for number in (lon, lat):
        # bool is an int in Python; JSON true/false are not coordinates.
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise _bad("invalid_geojson", f"{where} 的坐标必须是有限的数字", at=where)
    if not -180.0 <= lon <= 180.0 or not -90.0 <= lat <= 90.0:
        raise _bad(
            "coordinates_out_of_range", f"{where} 的坐标超出范围:经度须在 −180~180,纬度须在 −90~90", at=where
        )
    return float(lon), float(lat)


def _ring(value: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(value, list):
        raise _bad("invalid_geojson", f"{where} 应为坐标数组", at=where)
    if len(value) < 4:
        raise _bad("ring_too_short", f"{where} 至少需要 4 个坐标点(首尾相同)", at=where)
    ring = [_position(p, f"{where}第 {i + 1} 点") for i, p in enumerate(value)]
    if ring[0] != ring[-1]:
        raise _bad("ring_not_closed", f"{where} 没有闭合:首尾坐标必须相同", at=where)
    if len(set(ring)) < 3:
        raise _bad("ring_too_short", f"{where} 至少需要 3 个不同的坐标点", at=where)
    return ring


def _polygon(value: Any, where: str) -> shapely.Polygon:
    if not isinstance(value, list) or not value:
        raise _bad("invalid_geojson", f"{where} 应为至少包含一个环的数组", at=where)
    rings = [_ring(r, f"{where}{'外环' if i == 0 else f'第 {i} 个内环'}") for i, r in enumerate(value)]
    return shapely.Polygon(rings[0], rings[1:])


def parse_geometry(value: Any) -> Polygonal:
    """A validated Polygon or MultiPolygon from a GeoJSON geometry (dict or JSON text).

    Refuses, with a Chinese message and a stable code: non-JSON, other types, open rings,
    rings of fewer than 4 points, non-numeric or out-of-range coordinates, self-intersections
    and other invalid shapes (OGC validity as GEOS checks it), and empty area.
    """
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad("invalid_geojson", "几何数据不是有效的 JSON") from exc
    if not isinstance(value, dict):
        raise _bad("invalid_geojson", "几何数据应为 GeoJSON 几何对象(含 type 与 coordinates)")
    kind = value.get("type")
    coordinates = value.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise _bad("invalid_geometry_type", "几何类型必须是 Polygon 或 MultiPolygon", type=str(kind)[:40])
    if not isinstance(coordinates, list) or not coordinates:
        raise _bad("invalid_geojson", "coordinates 应为非空数组")
    vertices = _count_positions(coordinates)
    if vertices > MAX_VERTICES:
        raise _bad("too_many_vertices", f"顶点过多(最多 {MAX_VERTICES} 个)", vertices=vertices)
    geom: Polygonal
    if kind == "Polygon":
        geom = _polygon(coordinates, "多边形")
    else:
        geom = shapely.MultiPolygon([_polygon(p, f"第 {i + 1} 个多边形") for i, p in enumerate(coordinates)])
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise _bad("invalid_polygon", f"多边形无效(自相交、环重叠等):{reason}", reason=reason)
    if geom.area <= 0:
        raise _bad("empty_polygon", "多边形面积为零")
    return geom


def _count_positions(value: Any, depth: int = 0) -> int:
    if depth > 4 or not isinstance(value, list):
        return 0
    if value and not isinstance(value[0], list):
        return 1
    return sum(_count_positions(v, depth + 1) for v in value)


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """RFC 7946 geometry: exterior rings counter-clockwise, holes clockwise, 2-D only."""
    oriented = shapely.orient_polygons(shapely.force_2d(geom), exterior_cw=False)
    mapping = json.loads(shapely.to_geojson(oriented))
    return {"type": mapping["type"], "coordinates": mapping["coordinates"]}


def from_stored(value: dict[str, Any]) -> Polygonal:
    """A geometry read back from the database (already validated when written)."""
    return shapely.from_geojson(json.dumps(value))


def _project(geom: BaseGeometry, *, lat0: float) -> BaseGeometry:
    """Local equirectangular metres around `lat0`: accurate to ~0.1 % over a county."""
    kx = math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    ky = math.radians(1.0) * EARTH_RADIUS_M
    return shapely.transform(geom, lambda xy: xy * np.array([kx, ky]))


def area_m2(geom: BaseGeometry, *, lat0: float | None = None) -> float:
    if geom.is_empty:
        return 0.0
    if lat0 is None:
        lat0 = geom.centroid.y
    return float(_project(geom, lat0=lat0).area)


def overlap_tolerance_m2(area: float) -> float:
    return OVERLAP_TOLERANCE_M2 + OVERLAP_TOLERANCE_RATIO * area


def centroid(geom: BaseGeometry) -> tuple[float, float]:
    """A point for labels: the centroid, or a point surely inside when the centroid falls outside."""
    point = geom.centroid
    if not geom.contains(point):
        point = geom.point_on_surface()
    return float(point.x), float(point.y)

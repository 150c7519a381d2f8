"""Areas (polygons, circles, division codes, grid codes) → the grids and households they reach.

Incidents, CAP warnings and the resolve API all describe "where" with an `Area` and ask
`area_resolve` for its `Targets`. Everything is WGS-84 lon/lat. No GIS extension is needed:
the database pre-filters households on their (lon, lat) bounding box, and Shapely decides
point in polygon for the candidates in one vectorised call; circles use the haversine distance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import shapely
from django.db import connections
from django.db.models import Q, QuerySet

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Region
from shanzhi.core.selectors import jurisdiction_root
from shanzhi.grid.geometry import EARTH_RADIUS_M, parse_geometry, to_geojson
from shanzhi.grid.locate import GridIndex, IndexCache, default_cache
from shanzhi.grid.models import Grid, Household

Polygonal: TypeAlias = shapely.Polygon | shapely.MultiPolygon

# A county is some tens of kilometres across; anything larger is a typo (km for m) or not ours.
MAX_RADIUS_M = 200_000.0
MAX_PARTS = 500  # polygons, circles, region codes and grid codes, each
MAX_TOTAL_VERTICES = 100_000
CIRCLE_SEGMENTS = 64
_M_PER_DEG = math.radians(1.0) * EARTH_RADIUS_M


def _invalid(message: str, **details: Any) -> ServiceError:
    return ServiceError("area_invalid", message, details=details or None, status=422)


@dataclass(frozen=True)
class Circle:
    """WGS-84 centre, radius in metres (> 0)."""

    lon: float
    lat: float
    radius_m: float

    def polygon(self, *, segments: int = CIRCLE_SEGMENTS, outer: bool = False) -> shapely.Polygon:
        """The circle as a polygon in lon/lat (local equirectangular metres around the centre).

        `outer=True` gives the circumscribed polygon, which contains the whole circle (for
        candidate searches); the default inscribed one is for drawing.
        """
        r = self.radius_m / math.cos(math.pi / segments) if outer else self.radius_m
        theta = np.linspace(0.0, 2.0 * math.pi, segments, endpoint=False)
        kx = _M_PER_DEG * max(math.cos(math.radians(self.lat)), 1e-6)
        xs = self.lon + r * np.cos(theta) / kx
        ys = self.lat + r * np.sin(theta) / _M_PER_DEG
        return shapely.Polygon(np.column_stack([xs, ys]))

    def bbox(self) -> tuple[float, float, float, float]:
        """Degrees that surely contain the circle (min_lon, min_lat, max_lon, max_lat)."""
        dlat = self.radius_m / _M_PER_DEG * 1.001
        dlon = dlat / max(math.cos(math.radians(min(abs(self.lat) + dlat, 89.9))), 1e-6)
        return (self.lon - dlon, self.lat - dlat, self.lon + dlon, self.lat + dlat)


@dataclass(frozen=True)
class Area:
    """The union of its parts; WGS-84 lon/lat throughout."""

    polygons: tuple[Polygonal, ...] = ()
    circles: tuple[Circle, ...] = ()
    region_codes: tuple[str, ...] = ()  # 12-digit division codes: county/township/village
    grid_codes: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.polygons or self.circles or self.region_codes or self.grid_codes)

    def geojson(self) -> dict[str, Any]:
        """A FeatureCollection for maps and storage; `area_from_geojson` reads it back.

        Circles are drawn as polygons and keep their centre and radius in the properties;
        codes are features without geometry (`kind` "region" or "grid").
        """
        features: list[dict[str, Any]] = []
        for p in self.polygons:
            features.append({"type": "Feature", "geometry": to_geojson(p), "properties": {"kind": "polygon"}})
        for c in self.circles:
            features.append(
                {
                    "type": "Feature",
                    "geometry": to_geojson(c.polygon()),
                    "properties": {"kind": "circle", "center": [c.lon, c.lat], "radius_m": c.radius_m},
                }
            )
        for code in self.region_codes:
            features.append(
                {"type": "Feature", "geometry": None, "properties": {"kind": "region", "code": code}}
            )
        for code in self.grid_codes:
            features.append(
                {"type": "Feature", "geometry": None, "properties": {"kind": "grid", "code": code}}
            )
        return {"type": "FeatureCollection", "features": features}


@dataclass
class Targets:
    grid_ids: list[int] = field(default_factory=list)
    household_ids: list[int] = field(default_factory=list)  # active households only

    @property
    def grid_count(self) -> int:
        return len(self.grid_ids)

    @property
    def household_count(self) -> int:
        return len(self.household_ids)

    def counts(self) -> dict[str, int]:
        return {"grids": self.grid_count, "households": self.household_count}


# --- building areas ---------------------------------------------------------------------------


def _coordinate(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _invalid(f"{where}必须是有限的数字", at=where)
    return float(value)


def _lon_lat(lon: Any, lat: Any, where: str) -> tuple[float, float]:
    x, y = _coordinate(lon, f"{where}的经度"), _coordinate(lat, f"{where}的纬度")
    if not -180.0 <= x <= 180.0 or not -90.0 <= y <= 90.0:
        raise _invalid(f"{where}的坐标超出范围:经度须在 −180~180,纬度须在 −90~90", at=where)
    return x, y


def polygon_from_coords(*, coords: list[tuple[float, float]]) -> shapely.Polygon:
    """A valid polygon from (lon, lat) pairs: at least four points, first = last, no self-crossing."""
    if not isinstance(coords, list | tuple):
        raise _invalid("多边形坐标应为 [经度, 纬度] 的列表")
    if len(coords) < 4:
        raise _invalid("多边形至少需要 4 个坐标点(首尾相同)", points=len(coords))
    if len(coords) > MAX_TOTAL_VERTICES:
        raise _invalid(f"多边形顶点过多(最多 {MAX_TOTAL_VERTICES} 个)", points=len(coords))
    ring: list[tuple[float, float]] = []
    for i, pair in enumerate(coords):
        if not isinstance(pair, list | tuple) or len(pair) not in (2, 3):
            raise _invalid(f"第 {i + 1} 个坐标应为 [经度, 纬度]", at=i + 1)
        ring.append(_lon_lat(pair[0], pair[1], f"第 {i + 1} 个坐标"))
    if ring[0] != ring[-1]:
        raise _invalid("多边形没有闭合:首尾坐标必须相同")
    if len(set(ring)) < 3:
        raise _invalid("多边形至少需要 3 个不同的坐标点")
    polygon = shapely.Polygon(ring)
    _check_polygon(polygon, "多边形")
    return polygon


def _check_polygon(geom: Any, where: str) -> None:
    if not isinstance(geom, shapely.Polygon | shapely.MultiPolygon) or geom.is_empty:
        raise _invalid(f"{where}应为非空的 Polygon 或 MultiPolygon")
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise _invalid(f"{where}无效(自相交、环重叠等):{reason}", reason=reason)
    if geom.area <= 0:
        raise _invalid(f"{where}面积为零")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise _invalid(f"{where}的坐标超出范围:经度须在 −180~180,纬度须在 −90~90")


def _geometry(value: Any, where: str) -> Polygonal:
    try:
        return parse_geometry(value)
    except ServiceError as exc:
        raise _invalid(f"{where}:{exc.message}", reason=exc.code) from exc


def _radius(value: Any, where: str) -> float:
    radius = _coordinate(value, f"{where}的半径")
    if radius <= 0:
        raise _invalid(f"{where}的半径必须大于 0 米", radius_m=radius)
    if radius > MAX_RADIUS_M:
        raise _invalid(f"{where}的半径过大(最多 {MAX_RADIUS_M / 1000:.0f} 公里)", radius_m=radius)
    return radius


class _Parts:
    def __init__(self) -> None:
        self.polygons: list[Polygonal] = []
        self.circles: list[Circle] = []
        self.regions: list[str] = []
        self.grids: list[str] = []

    def area(self) -> Area:
        return Area(
            polygons=tuple(self.polygons),
            circles=tuple(self.circles),
            region_codes=tuple(dict.fromkeys(self.regions)),
            grid_codes=tuple(dict.fromkeys(self.grids)),
        )


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{where}缺少代码(properties.code)")
    return value.strip()


def _feature(value: Any, where: str, parts: _Parts) -> None:
    if not isinstance(value, dict) or value.get("type") != "Feature":
        raise _invalid(f"{where}应为 GeoJSON Feature")
    props = value.get("properties") or {}
    if not isinstance(props, dict):
        raise _invalid(f"{where}的 properties 应为对象")
    geometry = value.get("geometry")
    kind = props.get("kind")
    if kind == "region":
        parts.regions.append(_code(props.get("code"), where))
        return
    if kind == "grid":
        parts.grids.append(_code(props.get("code"), where))
        return
    radius = props.get("radius_m", props.get("radius"))
    if kind == "circle" or (
        radius is not None and isinstance(geometry, dict) and geometry.get("type") == "Point"
    ):
        center = props.get("center")
        if center is None and isinstance(geometry, dict) and geometry.get("type") == "Point":
            center = geometry.get("coordinates")
        if not isinstance(center, list | tuple) or len(center) not in (2, 3):
            raise _invalid(f"{where}:圆形区域需要圆心 [经度, 纬度]")
        lon, lat = _lon_lat(center[0], center[1], f"{where}圆心")
        parts.circles.append(Circle(lon=lon, lat=lat, radius_m=_radius(radius, where)))
        return
    if geometry is None:
        raise _invalid(f"{where}没有几何数据")
    _geometry_into(geometry, where, parts)


def _geometry_into(value: Any, where: str, parts: _Parts) -> None:
    if not isinstance(value, dict):
        raise _invalid(f"{where}应为 GeoJSON 对象")
    kind = value.get("type")
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, list) or not members:
            raise _invalid(f"{where}:GeometryCollection 应包含至少一个几何对象")
        for i, member in enumerate(members):
            _geometry_into(member, f"{where}第 {i + 1} 个几何对象", parts)
        return
    if kind not in ("Polygon", "MultiPolygon"):
        raise _invalid(
            f"{where}:不支持的几何类型 {str(kind)[:40]},区域只能是 Polygon、MultiPolygon 或带半径的圆形",
            type=str(kind)[:40],
        )
    parts.polygons.append(_geometry(value, where))


def area_from_geojson(*, data: Any) -> Area:
    """An Area from GeoJSON (dict, or JSON text): Polygon, MultiPolygon, GeometryCollection,
    Feature or FeatureCollection. A Feature with a Point and `radius_m` is a circle; our own
    `Area.geojson()` output reads back unchanged. Anything else is `area_invalid`, in Chinese."""
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _invalid("GeoJSON 必须是 UTF-8 编码的文本") from exc
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise _invalid("不是有效的 JSON 文本") from exc
    if not isinstance(data, dict):
        raise _invalid("区域应为 GeoJSON 对象(Polygon、MultiPolygon、Feature 或 FeatureCollection)")
    parts = _Parts()
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise _invalid("FeatureCollection 应包含至少一个 Feature")
        if len(features) > 4 * MAX_PARTS:
            raise _invalid(f"要素过多(最多 {4 * MAX_PARTS} 个)", features=len(features))
        for i, feature in enumerate(features):
            _feature(feature, f"第 {i + 1} 个要素", parts)
    elif kind == "Feature":
        _feature(data, "要素", parts)
    elif kind in ("Polygon", "MultiPolygon", "GeometryCollection"):
        _geometry_into(data, "区域", parts)
    else:
        raise _invalid(
            f"不支持的 GeoJSON 类型 {str(kind)[:40]},"
            "应为 Polygon、MultiPolygon、Feature 或 FeatureCollection",
            type=str(kind)[:40],
        )
    return parts.area()


# --- checking ---------------------------------------------------------------------------------


def _check_shape(area: Area) -> None:
    if area.is_empty:
        raise _invalid("区域为空:请给出多边形、圆形、区划代码或网格编码")
    for name, items in (
        ("多边形", area.polygons),
        ("圆形", area.circles),
        ("区划代码", area.region_codes),
        ("网格编码", area.grid_codes),
    ):
        if len(items) > MAX_PARTS:
            raise _invalid(f"{name}过多(最多 {MAX_PARTS} 个)", count=len(items))
    vertices = sum(int(shapely.get_num_coordinates(p)) for p in area.polygons)
    if vertices > MAX_TOTAL_VERTICES:
        raise _invalid(f"顶点过多(最多 {MAX_TOTAL_VERTICES} 个)", vertices=vertices)
    for i, polygon in enumerate(area.polygons):
        _check_polygon(polygon, f"第 {i + 1} 个多边形")
    for i, circle in enumerate(area.circles):
        where = f"第 {i + 1} 个圆形区域"
        _lon_lat(circle.lon, circle.lat, f"{where}圆心")
        _radius(circle.radius_m, where)


def _regions(area: Area) -> list[Region]:
    if not area.region_codes:
        return []
    bad = [
        c
        for c in area.region_codes
        if not (isinstance(c, str) and len(c) == 12 and c.isascii() and c.isdigit())
    ]
    if bad:
        raise _invalid("区划代码应为 12 位数字", codes=[str(c)[:20] for c in bad[:20]])
    found = {r.code: r for r in Region.objects.filter(code__in=area.region_codes)}
    unknown = [c for c in area.region_codes if c not in found]
    if unknown:
        raise _invalid(f"未知的区划代码:{'、'.join(unknown[:10])}", codes=unknown[:50])
    return [found[c] for c in area.region_codes]


def _grids(area: Area) -> list[tuple[int, str]]:
    """(id, village path) of the named grids; unknown or retired codes are an error."""
    if not area.grid_codes:
        return []
    rows = {
        code: (pk, path)
        for pk, code, path in Grid.objects.filter(code__in=area.grid_codes, active=True).values_list(
            "id", "code", "village__path"
        )
    }
    unknown = [c for c in area.grid_codes if c not in rows]
    if unknown:
        raise _invalid(
            f"未知或已停用的网格编码:{'、'.join(str(c)[:32] for c in unknown[:10])}", codes=unknown[:50]
        )
    return [rows[c] for c in area.grid_codes]


def _geometric_parts(area: Area) -> list[Any]:
    return [*area.polygons, *(c.polygon(outer=True) for c in area.circles)]


def _touches_county(index: GridIndex, geoms: list[Any]) -> bool:
    for geom in geoms:
        if index.county is not None:
            if index.county.intersects(geom):
                return True
            continue
        if len(index.tree.query(geom, predicate="intersects")) or len(
            index.village_tree.query(geom, predicate="intersects")
        ):
            return True
    return False


def area_check(*, area: Area, cache: IndexCache | None = None) -> None:
    """Refuse an area that is malformed (`area_invalid`) or lies wholly outside the county
    (`area_outside_county`). Codes must name existing regions and active grids."""
    _check_shape(area)
    regions = _regions(area)
    grids = _grids(area)
    geoms = _geometric_parts(area)
    if regions or grids or not geoms:
        return  # codes found in the database are the county's own
    if not _touches_county((cache or default_cache).get(), geoms):
        raise ServiceError("area_outside_county", "该区域不在本县范围内,没有覆盖任何网格或村社区", status=422)


# --- resolving --------------------------------------------------------------------------------


def _haversine_m(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], c: Circle
) -> npt.NDArray[np.float64]:
    p1, p2 = math.radians(c.lat), np.radians(lat)
    dp, dl = p2 - p1, np.radians(lon - c.lon)
    h = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return result


def _local_metres(geom: Any, c: Circle) -> Any:
    kx = _M_PER_DEG * math.cos(math.radians(c.lat))
    origin = np.array([c.lon, c.lat])
    scale = np.array([kx, _M_PER_DEG])
    return shapely.transform(geom, lambda xy: (xy - origin) * scale)


def _grid_ids_geometric(index: GridIndex, area: Area, root_path: str) -> set[int]:
    hits: set[int] = set()
    for polygon in area.polygons:
        hits.update(index.tree.query(polygon, predicate="intersects").tolist())
    for c in area.circles:
        candidates = index.tree.query(c.polygon(outer=True), predicate="intersects")
        if not len(candidates):
            continue
        # Exact enough: the distance from the centre to each candidate in local metres.
        local = _local_metres(index.geometries[candidates], c)
        near = shapely.distance(shapely.Point(0.0, 0.0), local) <= c.radius_m
        hits.update(candidates[near].tolist())
    locations = [index.locations[i] for i in hits]
    return {loc.grid_id for loc in locations if loc.grid_id and loc.path.startswith(root_path)}


def _fetch_columns(db: str, sql: str, params: Any) -> tuple[Any, Any, Any]:
    """(id, lon, lat) arrays for a three-column query.

    On PostgreSQL (psycopg 3) the rows come back as three arrays in binary, one row in all:
    turning ~100k rows into Python tuples is most of the cost otherwise.
    """
    connection = connections[db]
    if connection.vendor == "postgresql":  # psycopg 3 is the only PostgreSQL driver installed
        import psycopg

        connection.ensure_connection()
        wrapped = f"SELECT array_agg(id), array_agg(lon), array_agg(lat) FROM ({sql}) AS candidates"  # noqa: S608
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(wrapped, params, binary=True)
            row = cursor.fetchone()
        if row is None or row[0] is None:
            empty = np.empty(0)
            return empty.astype(np.int64), empty, empty
        return (
            np.asarray(row[0], dtype=np.int64),
            np.asarray(row[1], dtype=np.float64),
            np.asarray(row[2], dtype=np.float64),
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        empty = np.empty(0)
        return empty.astype(np.int64), empty, empty
    data = np.array(rows, dtype=np.float64)
    return data[:, 0].astype(np.int64), data[:, 1], data[:, 2]


def _candidates(qs: QuerySet[Household], bbox: tuple[float, float, float, float]) -> tuple[Any, Any, Any]:
    """(id, lon, lat) arrays of the households in the bounding box: the database filters, a plain
    cursor fetches (no model or ordering overhead on ~100k rows)."""
    minx, miny, maxx, maxy = bbox
    query = (
        qs.filter(lon__gte=minx, lon__lte=maxx, lat__gte=miny, lat__lte=maxy)
        .order_by()
        .values_list("id", "lon", "lat")
    )
    sql, params = query.query.sql_with_params()
    return _fetch_columns(query.db, sql, params)


def _household_ids_geometric(qs: QuerySet[Household], area: Area) -> set[int]:
    ids: set[int] = set()
    if area.polygons:
        union = shapely.union_all(list(area.polygons)) if len(area.polygons) > 1 else area.polygons[0]
        shapely.prepare(union)
        pk, x, y = _candidates(qs, union.bounds)
        if len(pk):
            ids.update(pk[shapely.intersects_xy(union, x, y)].tolist())
    for c in area.circles:
        pk, x, y = _candidates(qs, c.bbox())
        if len(pk):
            ids.update(pk[_haversine_m(x, y, c) <= c.radius_m].tolist())
    return ids


def _path_filter(paths: Iterable[str], field_name: str) -> Q:
    q = Q()
    for path in paths:
        q |= Q(**{f"{field_name}__path__startswith": path})
    return q


def area_resolve(*, area: Area, user: Any | None = None, cache: IndexCache | None = None) -> Targets:
    """The active grids the area touches and the active households inside it, sorted by id.

    Polygons: grids that intersect, households whose point lies inside or on the edge.
    Circles: by great-circle distance. Region codes: everything under the region's path.
    Grid codes: those grids and their households. With `user`, only their jurisdiction.
    """
    area_check(area=area, cache=cache)
    root_path = household_path = ""
    if user is not None:
        root = jurisdiction_root(user=user)
        if root is None:
            return Targets()
        root_path = root.path
        # A county-level user sees the whole tree: no join to regions over ~100k rows.
        household_path = root_path if root.parent_id is not None else ""
    index = (cache or default_cache).get()

    grid_ids = _grid_ids_geometric(index, area, root_path)
    regions = _regions(area)
    named = _grids(area)
    households = Household.objects.filter(active=True)
    if household_path:
        # The villages' ids, not a join to regions: a short IN list both databases plan well.
        villages = list(Region.objects.filter(path__startswith=household_path).values_list("id", flat=True))
        households = households.filter(village_id__in=villages)
    household_ids = _household_ids_geometric(households, area) if (area.polygons or area.circles) else set()

    if regions:
        paths = [r.path for r in regions]
        grids = Grid.objects.filter(_path_filter(paths, "village"), active=True)
        if root_path:
            grids = grids.filter(village__path__startswith=root_path)
        grid_ids.update(grids.values_list("id", flat=True))
        household_ids.update(households.filter(_path_filter(paths, "village")).values_list("id", flat=True))
    if named:
        named_ids = [pk for pk, path in named if path.startswith(root_path)]
        grid_ids.update(named_ids)
        household_ids.update(households.filter(grid_id__in=named_ids).values_list("id", flat=True))
    return Targets(grid_ids=sorted(grid_ids), household_ids=sorted(household_ids))

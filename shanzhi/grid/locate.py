"""Point → grid → village → township, with a Shapely 2 STRtree over the active grids.

Each process keeps its own index in an `IndexCache`. Nothing relies on that cache being shared
or current: before answering, the cache reads the one-row `GridIndexVersion` (a primary-key
lookup) and rebuilds if another process — or this one — has changed grids since. Every grid
service bumps that row in its own transaction.

Coordinates are WGS-84 unless `crs` says "gcj02" or "bd09"; those are converted first. A point
outside the county is an answer ("outside_jurisdiction"), not an error.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from django.db import connection

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Region, RegionLevel
from shanzhi.grid.coords import CRS_CHOICES, to_wgs84
from shanzhi.grid.models import Grid, GridIndexVersion, RegionShape

Stamp = tuple[int, str]

IN_GRID = "in_grid"
NO_GRID = "no_grid"
OUTSIDE = "outside_jurisdiction"


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a point lies. `inside` is False only outside the county (or the caller's area).

    `code` is "in_grid", "no_grid" (inside the county but in no grid: village/township are
    filled from region shapes when known) or "outside_jurisdiction".
    """

    inside: bool
    code: str
    message: str = ""
    grid: Place | None = None
    grid_id: int | None = None
    village: Place | None = None
    township: Place | None = None
    path: str = field(default="", repr=False)  # region path of the deepest known region

    def as_dict(self) -> dict[str, Any]:
        if not self.inside:
            return {"inside": False, "code": self.code, "message": self.message}
        return {
            "inside": True,
            "code": self.code,
            "message": self.message,
            "grid": self.grid.as_dict() if self.grid else None,
            "village": self.village.as_dict() if self.village else None,
            "township": self.township.as_dict() if self.township else None,
        }


OUTSIDE_COUNTY = Location(inside=False, code=OUTSIDE, message="该位置不在本县管辖范围内")
OUTSIDE_USER = Location(inside=False, code=OUTSIDE, message="该位置不在您的管辖范围内")


@dataclass(frozen=True)
class GridIndex:
    """An immutable snapshot: the grids' tree and the answer for each grid, built once."""

    stamp: Stamp
    geometries: npt.NDArray[Any]
    locations: list[Location]  # same order as `geometries`; sorted by grid code for stable ties
    tree: shapely.STRtree
    county: Any  # prepared county boundary, or None
    county_location: Location  # inside the county, in no grid and no village shape
    village_geometries: npt.NDArray[Any]
    village_locations: list[Location]
    village_tree: shapely.STRtree
    build_seconds: float

    @property
    def size(self) -> int:
        return len(self.locations)

    def locate(self, lon: float, lat: float) -> Location:
        point = shapely.Point(lon, lat)
        hits = self.tree.query(point, predicate="intersects")
        if len(hits):
            # On a shared edge both grids match; the lower code wins, the same in every process.
            return self.locations[int(hits.min())]
        return self._outside_grids(point)

    def _outside_grids(self, point: Any) -> Location:
        if self.county is not None and not self.county.intersects(point):
            return OUTSIDE_COUNTY
        hits = self.village_tree.query(point, predicate="intersects")
        if len(hits):
            return self.village_locations[int(hits.min())]
        if self.county is None:
            return OUTSIDE_COUNTY
        return self.county_location

    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> list[Location]:
        """Vectorised: one STRtree query for all points, ties resolved as in `locate`."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        points = shapely.points(x, y)
        n = len(points)
        best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        if self.size:
            src, dst = self.tree.query(points, predicate="intersects")
            np.minimum.at(best, src, dst)
        found = best != np.iinfo(np.int64).max
        out: list[Location] = [OUTSIDE_COUNTY] * n
        for i in np.nonzero(found)[0].tolist():
            out[i] = self.locations[best[i]]
        missing = np.nonzero(~found)[0]
        if len(missing):
            rest = points[missing]
            if self.county is not None:
                in_county = shapely.intersects(self.county, rest)
                missing, rest = missing[in_county], rest[in_county]
                for i in missing.tolist():
                    out[i] = self.county_location
            if len(self.village_locations) and len(missing):
                vbest = np.full(len(missing), np.iinfo(np.int64).max, dtype=np.int64)
                vsrc, vdst = self.village_tree.query(rest, predicate="intersects")
                np.minimum.at(vbest, vsrc, vdst)
                for k in np.nonzero(vbest != np.iinfo(np.int64).max)[0].tolist():
                    out[int(missing[k])] = self.village_locations[vbest[k]]
        return out


def _no_grid(*, village: Place | None, township: Place | None, path: str) -> Location:
    return Location(
        inside=True,
        code=NO_GRID,
        message="该位置在本县范围内,但尚未划入网格",
        village=village,
        township=township,
        path=path,
    )


def current_stamp() -> Stamp:
    """The grid index version, read with one primary-key query (no ORM overhead)."""
    table = connection.ops.quote_name(GridIndexVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version, token FROM {table} WHERE id = 1")  # noqa: S608 - fixed table name
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "")


def _geometries(values: Sequence[dict[str, Any]]) -> npt.NDArray[Any]:
    if not values:
        return np.array([], dtype=object)
    return shapely.from_geojson([json.dumps(v) for v in values])


def build_index(*, stamp: Stamp | None = None) -> GridIndex:
    """Read the active grids and region shapes and build a fresh index.

    The stamp is read *before* the data: if a write lands in between, the index holds newer
    data under an older stamp and is simply rebuilt on the next lookup, never the reverse.
    """
    started = time.perf_counter()
    if stamp is None:
        stamp = current_stamp()
    grids = list(
        Grid.objects.filter(active=True)
        .select_related("village__parent")
        .order_by("code")
        .only(
            "id",
            "code",
            "name",
            "geometry",
            "village__code",
            "village__name",
            "village__path",
            "village__parent__code",
            "village__parent__name",
        )
    )
    locations = []
    for g in grids:
        town = g.village.parent
        locations.append(
            Location(
                inside=True,
                code=IN_GRID,
                grid=Place(g.code, g.name),
                grid_id=g.pk,
                village=Place(g.village.code, g.village.name),
                township=Place(town.code, town.name) if town else None,
                path=g.village.path,
            )
        )
    geometries = _geometries([g.geometry for g in grids])

    shapes = list(
        RegionShape.objects.select_related("region__parent")
        .filter(region__level__in=[RegionLevel.COUNTY, RegionLevel.VILLAGE])
        .order_by("region__code")
    )
    county = None
    county_location = _no_grid(village=None, township=None, path="")
    village_shapes, village_locations = [], []
    for shape in shapes:
        region: Region = shape.region
        if region.level == RegionLevel.COUNTY:
            county = shapely.from_geojson(json.dumps(shape.geometry))
            shapely.prepare(county)
            county_location = _no_grid(village=None, township=None, path=region.path)
        else:
            town = region.parent
            village_shapes.append(shape.geometry)
            village_locations.append(
                _no_grid(
                    village=Place(region.code, region.name),
                    township=Place(town.code, town.name) if town else None,
                    path=region.path,
                )
            )
    village_geometries = _geometries(village_shapes)
    return GridIndex(
        stamp=stamp,
        geometries=geometries,
        locations=locations,
        tree=shapely.STRtree(geometries),
        county=county,
        county_location=county_location,
        village_geometries=village_geometries,
        village_locations=village_locations,
        village_tree=shapely.STRtree(village_geometries),
        build_seconds=time.perf_counter() - started,
    )


class IndexCache:
    """One process's index, revalidated against the stored version on every use.

    A module-level instance serves the process; tests create their own to play "another process".
    """

    def __init__(self) -> None:
        self._index: GridIndex | None = None
        self._lock = threading.Lock()
        self.builds = 0

    def clear(self) -> None:
        self._index = None

    def get(self) -> GridIndex:
        stamp = current_stamp()
        index = self._index
        if index is not None and index.stamp == stamp:
            return index
        with self._lock:  # one build per process when many threads miss at once
            index = self._index
            if index is None or index.stamp != stamp:
                index = build_index(stamp=stamp)
                self._index = index
                self.builds += 1
        return index


default_cache = IndexCache()


def _check_point(lon: float, lat: float) -> None:
    for value in (lon, lat):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ServiceError("invalid_coordinates", "经纬度必须是有限的数字", status=422)
    if not -180.0 <= lon <= 180.0 or not -90.0 <= lat <= 90.0:
        raise ServiceError(
            "invalid_coordinates", "经纬度超出范围:经度须在 −180~180,纬度须在 −90~90", status=422
        )


def _check_crs(crs: str) -> None:
    if crs not in CRS_CHOICES:
        raise ServiceError("invalid_crs", "坐标系只能是 wgs84、gcj02 或 bd09", status=422)


def locate_point(*, lon: float, lat: float, crs: str = "wgs84", cache: IndexCache | None = None) -> Location:
    """Which grid, village and township a point lies in; never raises for a point outside."""
    _check_point(lon, lat)
    _check_crs(crs)
    x, y = to_wgs84(float(lon), float(lat), crs=crs)
    return (cache or default_cache).get().locate(x, y)


def locate_points(
    *, lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str = "wgs84", cache: IndexCache | None = None
) -> list[Location]:
    """Many points at once (e.g. 100k households); non-finite or out-of-range points are outside."""
    _check_crs(crs)
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ServiceError("invalid_coordinates", "经度与纬度数组的长度必须相同", status=422)
    valid = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    x, y = np.where(valid, x, np.nan), np.where(valid, y, np.nan)
    x, y = to_wgs84(x, y, crs=crs)
    return (cache or default_cache).get().locate_many(x, y)

"""The area a CAP alert covers, as a `shanzhi.grid.areas.Area` (union of every info's areas).

Geocodes shaped like Chinese division codes (6, 9 or 12 digits) are region codes. A provincial
feed lists many counties, so only codes this county knows are kept; a code of a province or
prefecture the county lies in stands for the whole county. Other geocodes (FIPS, UGC, …) and
circles of radius 0 (a point reaches no household) carry no target.
"""

from __future__ import annotations

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Region
from shanzhi.core.selectors import region_county
from shanzhi.emergency.cap.model import Alert, CapArea
from shanzhi.grid.areas import Area, Circle, Polygonal, polygon_from_coords

# Geocode names this platform writes into the alerts it issues: a division code, a grid code.
REGION_VALUE_NAME = "GB/T 2260"
GRID_VALUE_NAME = "SHANZHI-GRID"

# Significant digits of a division code by level: province, prefecture, county, township.
_LEVEL_DIGITS = (2, 4, 6, 9)


def _covers_county(code: str, county_code: str) -> bool:
    """True when `code` is the county itself or one of its ancestors (province, prefecture)."""
    return any(code == county_code[:n] + "0" * (12 - n) for n in _LEVEL_DIGITS[:3])


def region_codes_known(codes: list[str]) -> tuple[str, ...]:
    """Of 12-digit division codes, those the county's region tree holds (ancestors → county)."""
    county = region_county()
    if county is None or not codes:
        return ()
    out: list[str] = []
    for code in codes:
        if _covers_county(code, county.code):
            out.append(county.code)
    rest = [c for c in codes if not _covers_county(c, county.code)]
    if rest:
        known = set(Region.objects.filter(code__in=rest).values_list("code", flat=True))
        out.extend(c for c in rest if c in known)
    return tuple(dict.fromkeys(out))


def _polygons(area: CapArea) -> list[Polygonal]:
    return [polygon_from_coords(coords=list(p.points)) for p in area.polygons]


def alert_area(alert: Alert) -> Area:
    """The targetable area of every <area> of every <info>; raises `area_missing` when the alert
    names no polygon, circle or division code at all (nothing to reach)."""
    polygons: list[Polygonal] = []
    circles: list[Circle] = []
    codes: list[str] = []
    grid_codes: list[str] = []
    for area in alert.areas:
        polygons.extend(_polygons(area))
        circles.extend(
            Circle(lon=c.lon, lat=c.lat, radius_m=c.radius_km * 1000.0)
            for c in area.circles
            if c.radius_km > 0
        )
        codes.extend(area.division_codes())
        grid_codes.extend(g.value.strip() for g in area.geocodes if g.value_name == GRID_VALUE_NAME)
    if not (polygons or circles or codes or grid_codes):
        described = "、".join(a.description for a in alert.areas if a.description)[:200]
        raise ServiceError(
            "area_missing",
            "预警没有给出可定位的范围(多边形、圆形或行政区划代码),无法确定影响的网格和住户"
            + (f";范围描述为“{described}”" if described else ""),
            status=422,
        )
    known = region_codes_known(codes)
    if not (polygons or circles or grid_codes) and not known:
        raise ServiceError(
            "area_outside_county",
            "预警的行政区划代码都不属于本县,该预警不在本县范围内",
            details={"codes": codes[:50]},
            status=422,
        )
    return Area(
        polygons=tuple(polygons),
        circles=tuple(circles),
        region_codes=known,
        grid_codes=tuple(dict.fromkeys(grid_codes)),
    )
